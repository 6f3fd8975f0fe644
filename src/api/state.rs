//! What every handler shares: the database handle and the serialised OpenAPI document;
//! and `run`, which moves blocking domain work off the async workers.

use actix_web::web;
use std::sync::Arc;

use crate::domain::error::{AppError, AppResult};
use crate::storage::Db;

pub struct AppState {
    pub db: Db,
    pub openapi_json: Arc<String>,
    /// (path template, methods) of every documented route, for 405 answers.
    pub route_methods: Arc<Vec<(String, Vec<String>)>>,
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
