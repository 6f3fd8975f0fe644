//! Errors of index operations. User input errors are [`crate::query::QueryError`],
//! kept apart because the service shows those to people and these only logs.

use crate::query::QueryError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The person's query or cursor cannot be used (show the message).
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index marker: {0}")]
    Marker(#[from] serde_json::Error),
    #[error("search index schema does not match: {0}")]
    SchemaMismatch(String),
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl From<tantivy::directory::error::OpenDirectoryError> for Error {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Error::Tantivy(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
