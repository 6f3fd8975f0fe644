//! What can go wrong below the domain, in words the domain can map to its own errors
//! without knowing diesel or r2d2: storage is the only module that names them.

/// The error type of every query function: diesel's, named here so that callers above
/// storage convert it through [`StorageError`] without importing diesel.
pub use diesel::result::Error as QueryError;

/// A failure of the database, classified.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row asked for does not exist.
    #[error("no such row")]
    NotFound,
    /// A row with the same unique value already exists.
    #[error("a row with the same unique value already exists")]
    Duplicate,
    /// PostgreSQL could not serialise the transaction; retrying may succeed.
    #[error("the database was busy")]
    Busy,
    /// No connection could be had from the pool.
    #[error("the database is not reachable")]
    Unreachable,
    /// Anything else: a bug or a broken database, logged, never shown.
    #[error(transparent)]
    Other(anyhow::Error),
}

impl StorageError {
    pub fn other(e: impl Into<anyhow::Error>) -> Self {
        Self::Other(e.into())
    }
}

impl From<QueryError> for StorageError {
    fn from(e: QueryError) -> Self {
        use diesel::result::DatabaseErrorKind as K;
        match e {
            QueryError::NotFound => Self::NotFound,
            QueryError::DatabaseError(K::UniqueViolation, _) => Self::Duplicate,
            QueryError::DatabaseError(K::SerializationFailure, _) => Self::Busy,
            other => Self::Other(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StorageError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        log::error!("database pool: {e}");
        Self::Unreachable
    }
}

/// Whether a query failed on a unique constraint (for callers that treat "already
/// there" as an answer rather than an error).
pub fn is_duplicate(e: &QueryError) -> bool {
    matches!(
        e,
        QueryError::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
