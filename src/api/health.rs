//! Liveness and readiness probes, and the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use super::problem::{ApiResult, Problem};
use super::state::{AppState, run};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
    pub search: SearchReadiness,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchReadiness {
    /// `morphological` (IPADIC + bigrams) or `bigram_only` (no dictionary found).
    pub analysis: &'static str,
    pub message: String,
    pub documents: u64,
    /// Changes saved but not yet in the index.
    pub backlog: i64,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The service can serve requests: the database answers; also says how search runs
/// (with the Japanese dictionary, or bigrams alone) and how far the index lags.
#[utoipa::path(tag = "health", responses((status = 200, body = Readiness), (status = 503, body = Problem)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Readiness>> {
    let database = state.db.target().backend_name();
    let engine = state.search.clone();
    let checkpoint = engine.checkpoint()?;
    let backlog = run(&state, move |db| {
        db.ping()?;
        db.read(|c| Ok(crate::storage::index_log::backlog(c, checkpoint)?))
    })
    .await
    .map_err(|e| {
        log::warn!("readiness: database check failed: {e}");
        crate::domain::error::AppError::Unavailable(format!(
            "the {database} database does not answer"
        ))
    })?;
    let search = SearchReadiness {
        analysis: if engine.bigram_only() {
            "bigram_only"
        } else {
            "morphological"
        },
        message: engine.analyzers.status().message.clone(),
        documents: engine.index.num_docs(),
        backlog,
    };
    Ok(web::Json(Readiness {
        status: "ready",
        database,
        search,
    }))
}

/// This document.
#[utoipa::path(tag = "health", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.as_str().to_owned())
}
