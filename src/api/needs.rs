//! Needs: create, read, update, publish, close, list.

use actix_web::{HttpResponse, get, patch, post, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::ids::NeedId;
use crate::domain::needs::{self, NeedQuery, NeedView, NewNeedInput, UpdateNeedInput};
use crate::domain::pagination::Page;
use crate::domain::vocab::NeedStatus;
use crate::web::state::{AppState, run};

/// Needs the caller may see, newest first: public ones for everyone, internal and draft
/// ones for their municipality's staff.
#[utoipa::path(tag = "needs", params(NeedQuery),
    responses((status = 200, body = Page<NeedView>), (status = "4XX", body = Problem)))]
#[get("/needs")]
pub async fn list_needs(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<NeedQuery>,
) -> ApiResult<web::Json<Page<NeedView>>> {
    Ok(web::Json(
        run(&state, move |db| needs::list(db, &actor, q.into_inner())).await?,
    ))
}

/// Create a need (staff of the municipality).
#[utoipa::path(tag = "needs", request_body = NewNeedInput, security(("api_key" = [])),
    responses((status = 201, body = NeedView), (status = "4XX", body = Problem)))]
#[post("/needs")]
pub async fn create_need(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewNeedInput>,
) -> ApiResult<HttpResponse> {
    let n = run(&state, move |db| {
        needs::create(db, &actor, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(n))
}

#[utoipa::path(tag = "needs", params(("id" = i64, Path, description = "need id")),
    responses((status = 200, body = NeedView), (status = "4XX", body = Problem)))]
#[get("/needs/{id}")]
pub async fn get_need(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<NeedId>,
) -> ApiResult<web::Json<NeedView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| needs::get(db, &actor, id)).await?,
    ))
}

#[utoipa::path(tag = "needs", params(("id" = i64, Path, description = "need id")), request_body = UpdateNeedInput,
    security(("api_key" = [])), responses((status = 200, body = NeedView), (status = "4XX", body = Problem)))]
#[patch("/needs/{id}")]
pub async fn update_need(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<NeedId>,
    body: web::Json<UpdateNeedInput>,
) -> ApiResult<web::Json<NeedView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            needs::update(db, &actor, id, body.into_inner())
        })
        .await?,
    ))
}

/// Open a need for proposals.
#[utoipa::path(tag = "needs", params(("id" = i64, Path, description = "need id")), security(("api_key" = [])),
    responses((status = 200, body = NeedView), (status = "4XX", body = Problem)))]
#[post("/needs/{id}/publish")]
pub async fn publish_need(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<NeedId>,
) -> ApiResult<web::Json<NeedView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            needs::set_status(db, &actor, id, NeedStatus::Open)
        })
        .await?,
    ))
}

/// Close a need: it leaves the board of open needs.
#[utoipa::path(tag = "needs", params(("id" = i64, Path, description = "need id")), security(("api_key" = [])),
    responses((status = 200, body = NeedView), (status = "4XX", body = Problem)))]
#[post("/needs/{id}/close")]
pub async fn close_need(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<NeedId>,
) -> ApiResult<web::Json<NeedView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            needs::set_status(db, &actor, id, NeedStatus::Closed)
        })
        .await?,
    ))
}
