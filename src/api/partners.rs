//! Partner registration and profiles.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::problem::{ApiResult, Problem};
use super::state::{AppState, run, source};
use crate::domain::actor::Actor;
use crate::domain::ids::PartnerId;
use crate::domain::partners::{self, PartnerView, RegisterPartner, Registered, UpdatePartner};
use crate::domain::throttle;

/// Register a partner. The response carries the first API key, shown only this once.
/// At most 5 registrations an hour per source address (429 with `Retry-After`).
#[utoipa::path(tag = "partners", request_body = RegisterPartner,
    responses((status = 201, body = Registered), (status = 429, body = Problem, description = "too many registrations from this address", headers(("Retry-After" = u64, description = "seconds to wait"))), (status = "4XX", body = Problem)))]
#[post("/partners")]
pub async fn register_partner(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterPartner>,
) -> ApiResult<HttpResponse> {
    throttle::registration(&state.guards, &source(&req))?;
    let r = run(&state, move |db| partners::register(db, body.into_inner())).await?;
    Ok(HttpResponse::Created().json(r))
}

/// The calling partner's own profile.
#[utoipa::path(tag = "partners", security(("api_key" = [])),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[get("/partners/me")]
pub async fn get_own_partner(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<web::Json<PartnerView>> {
    let id = actor.require_partner()?;
    Ok(web::Json(
        run(&state, move |db| partners::get(db, &actor, id)).await?,
    ))
}

/// Change the calling partner's profile; absent fields stay as they are.
#[utoipa::path(tag = "partners", request_body = UpdatePartner, security(("api_key" = [])),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[patch("/partners/me")]
pub async fn update_own_partner(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<UpdatePartner>,
) -> ApiResult<web::Json<PartnerView>> {
    Ok(web::Json(
        run(&state, move |db| {
            partners::update_own(db, &actor, body.into_inner())
        })
        .await?,
    ))
}

/// A partner's public profile; contact details only for the partner itself and staff.
#[utoipa::path(tag = "partners", params(("id" = i64, Path, description = "partner id")),
    responses((status = 200, body = PartnerView), (status = "4XX", body = Problem)))]
#[get("/partners/{id}")]
pub async fn get_partner(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<i64>,
) -> ApiResult<web::Json<PartnerView>> {
    let id = PartnerId(id.into_inner());
    Ok(web::Json(
        run(&state, move |db| partners::get(db, &actor, id)).await?,
    ))
}
