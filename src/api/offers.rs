//! Offers: create, read, update, archive, list.

use actix_web::{HttpResponse, get, patch, post, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::ids::OfferId;
use crate::domain::offers::{self, NewOfferInput, OfferQuery, OfferView, UpdateOfferInput};
use crate::domain::pagination::Page;
use crate::web::state::{AppState, run};

/// Active offers (archived ones for their owner and staff), newest first.
#[utoipa::path(tag = "offers", params(OfferQuery),
    responses((status = 200, body = Page<OfferView>), (status = "4XX", body = Problem)))]
#[get("/offers")]
pub async fn list_offers(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<OfferQuery>,
) -> ApiResult<web::Json<Page<OfferView>>> {
    Ok(web::Json(
        run(&state, move |db| offers::list(db, &actor, q.into_inner())).await?,
    ))
}

/// Publish an offer (partners).
#[utoipa::path(tag = "offers", request_body = NewOfferInput, security(("api_key" = [])),
    responses((status = 201, body = OfferView), (status = "4XX", body = Problem)))]
#[post("/offers")]
pub async fn create_offer(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewOfferInput>,
) -> ApiResult<HttpResponse> {
    let o = run(&state, move |db| {
        offers::create(db, &actor, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(o))
}

#[utoipa::path(tag = "offers", params(("id" = i64, Path, description = "offer id")),
    responses((status = 200, body = OfferView), (status = "4XX", body = Problem)))]
#[get("/offers/{id}")]
pub async fn get_offer(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<OfferId>,
) -> ApiResult<web::Json<OfferView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| offers::get(db, &actor, id)).await?,
    ))
}

/// Change one of the caller's offers; absent fields stay as they are.
#[utoipa::path(tag = "offers", params(("id" = i64, Path, description = "offer id")), request_body = UpdateOfferInput,
    security(("api_key" = [])), responses((status = 200, body = OfferView), (status = "4XX", body = Problem)))]
#[patch("/offers/{id}")]
pub async fn update_offer(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<OfferId>,
    body: web::Json<UpdateOfferInput>,
) -> ApiResult<web::Json<OfferView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            offers::update(db, &actor, id, body.into_inner())
        })
        .await?,
    ))
}

/// Take one of the caller's offers off the board.
#[utoipa::path(tag = "offers", params(("id" = i64, Path, description = "offer id")), security(("api_key" = [])),
    responses((status = 200, body = OfferView), (status = "4XX", body = Problem)))]
#[post("/offers/{id}/archive")]
pub async fn archive_offer(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<OfferId>,
) -> ApiResult<web::Json<OfferView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| offers::archive(db, &actor, id)).await?,
    ))
}
