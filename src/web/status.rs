//! The HTTP status of each domain error and the `Retry-After` of a refusal: the API's
//! problem documents and the console's error pages answer with the same status.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;

use crate::domain::error::AppError;

/// The status each domain error is sent with.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

/// The `Retry-After` value (seconds) a refusal for too many requests carries.
pub fn retry_after(e: &AppError) -> Option<HeaderValue> {
    match e {
        AppError::RateLimited { retry_after_secs } => Some(HeaderValue::from(*retry_after_secs)),
        _ => None,
    }
}
