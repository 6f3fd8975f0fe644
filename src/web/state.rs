//! What every handler of the API and the console shares: the database, the search
//! engine, the liveness of the process's background jobs and the serialised OpenAPI
//! document; and `run`, which moves blocking domain work off the async workers.

use actix_web::web;
use std::sync::Arc;

use crate::domain::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::health::JobBoard;
use crate::domain::search::SearchEngine;

pub struct AppState {
    pub db: Db,
    pub search: SearchEngine,
    /// The background jobs this process runs, for `/readyz`.
    pub jobs: JobBoard,
    pub openapi_json: Arc<String>,
    /// (path template, methods) of every documented route, for 405 answers.
    pub route_methods: Arc<Vec<(String, Vec<String>)>>,
    /// This process's abuse limits: login throttle, password-hash gate, write limits.
    pub guards: Arc<crate::domain::throttle::Guards>,
}

/// The address a request came from, for per-source limits and the audit log: the TCP
/// peer, or the client a trusted proxy names in `X-Forwarded-For`
/// (`KYOSO_TRUSTED_PROXIES`; see `domain::sources`).
pub fn source(req: &actix_web::HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let client = match req.app_data::<web::Data<AppState>>() {
        Some(state) if !state.guards.limits.trusted_proxies.is_empty() => {
            let forwarded: Vec<&str> = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .collect();
            state.guards.limits.trusted_proxies.client(peer, &forwarded)
        }
        _ => peer,
    };
    client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Runs a domain call that also needs the search engine.
pub async fn run_search<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&Db, &SearchEngine) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let (db, search) = (state.db.clone(), state.search.clone());
    web::block(move || f(&db, &search))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// Runs a domain call (which does blocking database work) on actix's blocking pool.
pub async fn run<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&Db) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let db = state.db.clone();
    web::block(move || f(&db))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}
