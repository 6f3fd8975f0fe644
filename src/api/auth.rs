//! The caller of an API request: no `Authorization` header means anonymous; a bearer
//! key must be valid, or the request is refused (never silently downgraded).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

use super::problem::ApiError;
use crate::domain::actor::Actor;
use crate::domain::api_keys;
use crate::domain::error::AppError;
use crate::web::state::AppState;

/// The address an audited request came from, as the audit log records it: the TCP
/// peer. Forwarded headers are not trusted (any client can send them).
pub struct Source(pub String);

impl FromRequest for Source {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Source, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Source(crate::web::source(req))))
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Actor, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let value = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("application state missing")))?;
            let key = match value {
                None => return Ok(Actor::Anonymous),
                Some(Err(_)) => return Err(AppError::Unauthenticated.into()),
                Some(Ok(v)) => match v.split_once(' ') {
                    Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => {
                        key.trim().to_owned()
                    }
                    _ => return Err(AppError::Unauthenticated.into()),
                },
            };
            Ok(crate::web::state::run(&state, move |db| api_keys::authenticate(db, &key)).await?)
        })
    }
}
