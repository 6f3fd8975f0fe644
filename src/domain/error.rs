//! The one error type of the domain, with the closed set of stable codes clients see.
//! Causes of internal errors are logged once where they are rendered, never shown.

use serde::Serialize;

use crate::storage::{QueryError, StorageError};

/// The stable machine codes; their spelling is part of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Conflict,
    Invalid,
    Forbidden,
    Unauthenticated,
    RateLimited,
    Unavailable,
    Internal,
    /// An upload whose content is not of an accepted type (415).
    UnsupportedMediaType,
    /// An upload larger than its route accepts (413).
    PayloadTooLarge,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
            Self::Forbidden => "forbidden",
            Self::Unauthenticated => "unauthenticated",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
        }
    }
}

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer-like path of the field, e.g. `title` or `regions/2`.
    pub field: String,
    /// Stable code: `required`, `too_long`, `too_short`, `format`, `check_digit`,
    /// `unknown_value`, `not_found`, `control_characters`, `duplicate`, `too_many`
    /// (a per-account cap), `invalid`, `used`, `expired` (one-time links).
    pub code: &'static str,
    pub message: String,
    /// The same in Japanese where the check says more than its code can (a limit, a
    /// rule): the console shows it; the API's problem documents keep to `message`.
    #[serde(skip)]
    pub message_ja: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
            message_ja: None,
        }
    }

    pub fn ja(mut self, message_ja: impl Into<String>) -> Self {
        self.message_ja = Some(message_ja.into());
        self
    }
}

/// What a person is told about a conflict: English (the API's `detail`) and, where it
/// has been written, Japanese (what the console shows).
#[derive(Debug, Clone)]
pub struct Message {
    pub en: String,
    pub ja: Option<String>,
}

impl Message {
    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Self {
        Message {
            en: en.into(),
            ja: Some(ja.into()),
        }
    }
}

impl From<&str> for Message {
    fn from(en: &str) -> Self {
        Message {
            en: en.into(),
            ja: None,
        }
    }
}

impl From<String> for Message {
    fn from(en: String) -> Self {
        Message { en, ja: None }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(Message),
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Unavailable(String),
    /// Too many requests of this kind from this source or for this account: try again
    /// after this many seconds.
    #[error("too many requests; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// The content of an upload is not of a type kyoso accepts (decided from the bytes).
    #[error("{0}")]
    UnsupportedMediaType(Message),
    /// An upload is larger than the route accepts.
    #[error("{0}")]
    PayloadTooLarge(Message),
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Invalid(_) | Self::BadRequest(_) => ErrorCode::Invalid,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
        }
    }

    pub fn field(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }

    /// [`AppError::field`] with the Japanese the console shows.
    pub fn field_ja(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
        message_ja: impl Into<String>,
    ) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message).ja(message_ja)])
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound("record"),
            StorageError::Duplicate => {
                Self::Conflict("a record with the same unique value already exists".into())
            }
            StorageError::Busy => {
                Self::Unavailable("the database was busy; retry the request".into())
            }
            StorageError::Unreachable => Self::Unavailable("the database is not reachable".into()),
            StorageError::Other(e) => Self::Internal(e),
        }
    }
}

impl From<crate::values::vocab::UnknownWord> for AppError {
    fn from(e: crate::values::vocab::UnknownWord) -> Self {
        Self::Internal(e.into())
    }
}

/// Query functions return storage's query error; it is classified by storage.
impl From<QueryError> for AppError {
    fn from(e: QueryError) -> Self {
        StorageError::from(e).into()
    }
}

pub type AppResult<T> = Result<T, AppError>;
