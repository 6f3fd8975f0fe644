//! Liveness and readiness probes, and the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use super::problem::{ApiResult, Problem};
use crate::domain::error::AppError;
use crate::domain::health::{self, JobReport};
use crate::domain::search::INSTALL_DICTIONARY;
use crate::web::state::{AppState, run};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    /// True while the service runs with reduced quality (see `Readiness::degraded`).
    pub degraded: bool,
    /// `morphological` (IPADIC + bigrams) or `bigram_only` (no dictionary found).
    pub search_analysis: &'static str,
}

/// `status` is `ready` whenever the service can serve, also when degraded: a node
/// without the Japanese dictionary answers every request (search ranks less precisely),
/// and taking it out of a load balancer for that would only move its load onto the
/// other nodes. So the probe stays 200 and the body says what is reduced and the fix.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    /// True while the service runs with reduced quality; `warnings` says why.
    pub degraded: bool,
    /// `morphological` (IPADIC + bigrams) or `bigram_only` (no dictionary found).
    pub search_analysis: &'static str,
    /// For people: each reduced function and the command that restores it.
    pub warnings: Vec<String>,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
    pub search: SearchReadiness,
    /// The background jobs of this process.
    pub jobs: Vec<JobReport>,
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
pub async fn healthz(state: web::Data<AppState>) -> web::Json<Health> {
    web::Json(Health {
        status: "ok",
        degraded: state.search.bigram_only(),
        search_analysis: state.search.analysis_name(),
    })
}

/// How long the readiness probe waits for the database: a database that does not
/// answer within this is as good as unreachable for the requests behind the probe.
const DATABASE_CHECK: std::time::Duration = std::time::Duration::from_secs(3);

/// The service can serve requests: the database answers and every background job of
/// this process (index follower, mail sender, scheduler) runs. Also says how search
/// runs (with the Japanese dictionary, or bigrams alone), how far the index lags and
/// each job's heartbeat. Otherwise 503, naming everything that is wrong.
#[utoipa::path(tag = "health", responses((status = 200, body = Readiness), (status = 503, body = Problem)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<web::Json<Readiness>> {
    let database = health::database_name(&state.db);
    let engine = state.search.clone();
    let checkpoint = engine.checkpoint()?;
    let jobs = state.jobs.report();
    let mut trouble: Vec<String> = jobs.iter().filter_map(|j| j.trouble()).collect();
    // Said first and without waiting for the database: a load balancer must take a
    // stopping node out at its next check.
    if state.jobs.draining() {
        return Err(AppError::Unavailable("not ready: shutting down".to_owned()).into());
    }
    let check = run(&state, move |db| health::database_backlog(db, checkpoint));
    let backlog = match actix_web::rt::time::timeout(DATABASE_CHECK, check).await {
        Ok(Ok(n)) => Some(n),
        Ok(Err(e)) => {
            log::warn!("readiness: database check failed: {e}");
            None
        }
        Err(_) => {
            log::warn!("readiness: the database did not answer within {DATABASE_CHECK:?}");
            None
        }
    };
    if backlog.is_none() {
        trouble.insert(0, format!("the {database} database is unreachable"));
    }
    let Some(backlog) = backlog.filter(|_| trouble.is_empty()) else {
        return Err(AppError::Unavailable(format!("not ready: {}", trouble.join("; "))).into());
    };
    let mut warnings = vec![];
    if engine.bigram_only() {
        warnings.push(format!(
            "search quality is reduced: no Japanese dictionary (MeCab IPADIC), so text is \
             analysed in bigrams only; install it with `{INSTALL_DICTIONARY}` and restart kyoso"
        ));
    }
    let search = SearchReadiness {
        analysis: engine.analysis_name(),
        message: engine.analyzers.status().message.clone(),
        documents: engine.index.num_docs(),
        backlog,
    };
    Ok(web::Json(Readiness {
        status: "ready",
        degraded: !warnings.is_empty(),
        search_analysis: engine.analysis_name(),
        warnings,
        database,
        search,
        jobs,
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
