//! RFC 9457 problem details: every 4xx and 5xx the API sends is `application/problem+json`
//! with a stable `code`. Domain errors map here; errors actix raises itself (bad JSON,
//! wrong content type, oversized bodies, unknown routes and methods) are rewritten into
//! the same shape by `catch_all`.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::error::{AppError, ErrorCode, FieldError};
use crate::web::status::{retry_after, status_of};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:kyoso:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code: not_found, conflict, invalid, forbidden, unauthenticated,
    /// rate_limited, unavailable, internal, unsupported_media_type (an upload's content is
    /// not an accepted type), payload_too_large (an upload over its limit).
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            type_: format!("urn:kyoso:problem:{}", code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.as_str(),
            errors: vec![],
        }
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = HttpResponse::build(status);
        r.insert_header((header::CONTENT_TYPE, CONTENT_TYPE));
        if status == StatusCode::UNAUTHORIZED {
            r.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"kyoso\""));
        }
        r.body(serde_json::to_string(self).unwrap_or_default())
    }
}

/// The problem document for a domain error. Internal causes are logged here, once, and
/// never sent.
pub fn problem_of(e: &AppError) -> Problem {
    let status = status_of(e);
    let detail = match e {
        AppError::Internal(cause) => {
            log::error!("internal error: {cause:#}");
            "something went wrong on our side; the request was not applied".to_owned()
        }
        AppError::Invalid(errors) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            format!("some fields are invalid: {}", fields.join(", "))
        }
        AppError::Unauthenticated => {
            "send a valid API key as `Authorization: Bearer <key>`".to_owned()
        }
        other => other.to_string(),
    };
    let mut p = Problem::new(status, e.code(), detail);
    if let AppError::Invalid(errors) = e {
        p.errors = errors.clone();
    }
    p
}

/// Wraps `AppError` so actix can render it.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = problem_of(&self.0).response();
        if let Some(secs) = retry_after(&self.0) {
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A problem for a status actix produced on its own, e.g. a 404 for an unknown route.
pub fn generic(status: StatusCode, detail: impl Into<String>) -> Problem {
    let code = match status.as_u16() {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 | 405 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::Unavailable,
        400..=499 => ErrorCode::Invalid,
        _ => ErrorCode::Internal,
    };
    Problem::new(status, code, detail)
}

/// Middleware hook: any error response that is not yet a problem document becomes one,
/// keeping its status and, where actix gave one, its message.
pub fn catch_all<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    // The staff console under /admin renders its own HTML error pages, and a public
    // page meant for people (an unsubscribe link that no longer works, a used
    // verification link) is kept as the handler wrote it.
    let is_page = res.response().error().is_none()
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_page || res.request().path().starts_with("/admin") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = match res.response().error() {
        Some(e) if status.is_client_error() => e.to_string(),
        _ => match status {
            StatusCode::NOT_FOUND => "no such resource".to_owned(),
            StatusCode::METHOD_NOT_ALLOWED => {
                "this method is not allowed on this resource".to_owned()
            }
            s => s.canonical_reason().unwrap_or("error").to_owned(),
        },
    };
    if let (true, Some(e)) = (status.is_server_error(), res.response().error()) {
        log::error!("{} {}: {e}", res.request().method(), res.request().path());
    }
    let problem = generic(status, detail);
    let (req, res) = res.into_parts();
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut new = problem.response();
    if let Some(allow) = allow {
        new.headers_mut().insert(header::ALLOW, allow);
    }
    new.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    let res = ServiceResponse::new(req, new.map_into_boxed_body()).map_into_right_body::<B>();
    Ok(ErrorHandlerResponse::Response(res))
}
