//! Search and matching.

use actix_web::{HttpResponse, get, put, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::ids::{NeedId, OfferId};
use crate::domain::search::matches::{self, FeedbackInput, MatchQuery, NeedMatch, OfferMatch};
use crate::domain::search::query::{self, SearchPage, SearchQuery};
use crate::web::state::{AppState, run, run_search};

/// Full-text search over public needs and active offers (and the caller's own
/// municipality's internal needs for staff), with snippets, facets and cursor pages.
/// Query syntax: words (all should match), "quoted phrases", -exclusions.
#[utoipa::path(tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchPage), (status = "4XX", body = Problem)))]
#[get("/search")]
pub async fn search(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<SearchQuery>,
) -> ApiResult<web::Json<SearchPage>> {
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            query::search(db, engine, &actor, q.into_inner())
        })
        .await?,
    ))
}

/// Active offers that fit a need, best first, each with the terms that matched.
#[utoipa::path(tag = "search", params(("id" = i64, Path, description = "need id"), MatchQuery),
    responses((status = 200, body = Vec<OfferMatch>), (status = "4XX", body = Problem)))]
#[get("/needs/{id}/matches")]
pub async fn offers_for_need(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<NeedId>,
    q: web::Query<MatchQuery>,
) -> ApiResult<web::Json<Vec<OfferMatch>>> {
    let id = id.into_inner();
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            matches::offers_for_need(db, engine, &actor, id, q.into_inner())
        })
        .await?,
    ))
}

/// Open public needs that fit an offer, best first, each with the terms that matched.
#[utoipa::path(tag = "search", params(("id" = i64, Path, description = "offer id"), MatchQuery),
    responses((status = 200, body = Vec<NeedMatch>), (status = "4XX", body = Problem)))]
#[get("/offers/{id}/matches")]
pub async fn needs_for_offer(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<OfferId>,
    q: web::Query<MatchQuery>,
) -> ApiResult<web::Json<Vec<NeedMatch>>> {
    let id = id.into_inner();
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            matches::needs_for_offer(db, engine, &actor, id, q.into_inner())
        })
        .await?,
    ))
}

/// Mark a suggested offer for a need as `good` or `not_relevant` (staff of the need's
/// municipality); later matches use it.
#[utoipa::path(tag = "search", params(("id" = i64, Path, description = "need id"), ("offer_id" = i64, Path, description = "offer id")),
    request_body = FeedbackInput, security(("api_key" = [])), responses((status = 204), (status = "4XX", body = Problem)))]
#[put("/needs/{id}/matches/{offer_id}/feedback")]
pub async fn match_feedback(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(NeedId, OfferId)>,
    body: web::Json<FeedbackInput>,
) -> ApiResult<HttpResponse> {
    let (need, offer) = path.into_inner();
    run(&state, move |db| {
        matches::feedback(db, &actor, need, offer, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
