//! The caller's own API keys, and "who am I".

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;

use super::auth::Source;
use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::api_keys::{self, IssuedKey, KeyInfo};
use crate::domain::audit::with_source;
use crate::domain::ids::ApiKeyId;
use crate::domain::staff::{self, Me};
use crate::web::state::{AppState, run};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub label: String,
}

/// The caller's keys, by prefix; secrets are never listed.
#[utoipa::path(tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = Vec<KeyInfo>), (status = "4XX", body = Problem)))]
#[get("/keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<web::Json<Vec<KeyInfo>>> {
    Ok(web::Json(
        run(&state, move |db| api_keys::list(db, &actor)).await?,
    ))
}

/// Create another key for the caller; the secret is shown once.
#[utoipa::path(tag = "keys", request_body = NewKey, security(("api_key" = [])),
    responses((status = 201, body = IssuedKey), (status = "4XX", body = Problem)))]
#[post("/keys")]
pub async fn create_key(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    body: web::Json<NewKey>,
) -> ApiResult<HttpResponse> {
    let k = run(&state, move |db| {
        with_source(&source.0, || api_keys::create(db, &actor, &body.label))
    })
    .await?;
    Ok(HttpResponse::Created().json(k))
}

/// Revoke one of the caller's keys; it stops working at once.
#[utoipa::path(tag = "keys", params(("id" = i64, Path, description = "key id")), security(("api_key" = [])),
    responses((status = 204), (status = "4XX", body = Problem)))]
#[delete("/keys/{id}")]
pub async fn revoke_key(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    id: web::Path<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    run(&state, move |db| {
        with_source(&source.0, || api_keys::revoke(db, &actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who the caller is.
#[utoipa::path(tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = Me), (status = "4XX", body = Problem)))]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, actor: Actor) -> ApiResult<web::Json<Me>> {
    Ok(web::Json(
        run(&state, move |db| staff::me(db, &actor)).await?,
    ))
}
