//! Storage: the one schema, row types and the queries of each aggregate, for SQLite and
//! PostgreSQL through one connection type. The domain calls these; handlers never do.

pub mod api_keys;
pub mod attachments;
pub mod audit;
pub mod connection;
pub mod demo_records;
pub mod digest_runs;
pub mod error;
pub mod inbox_filters;
pub mod index_log;
pub mod index_signal;
pub mod invitations;
pub mod job_state;
pub mod link_revocations;
pub mod match_alerts;
pub mod matching;
pub mod models;
pub mod municipalities;
pub mod needs;
pub mod offers;
pub mod outcomes;
pub mod partners;
pub mod proposals;
pub mod reply_templates;
pub mod saved_searches;
pub mod schema;
pub mod sessions;
pub mod sql_log;
pub mod staff;
pub mod subscriptions;
pub mod weekly_reports;

pub use connection::{AnyConnection, Db};
pub use error::{QueryError, StorageError};

/// The current time as stored: UTC, truncated to microseconds (PostgreSQL's precision) so
/// both backends give back exactly what was written.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}
