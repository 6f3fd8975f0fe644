//! The domain: what kyoso does, apart from HTTP and from SQL. The API and the console
//! both call these functions; each takes the caller (`Actor`), checks permissions and
//! input, and writes in one transaction.

pub mod actor;
pub mod api_keys;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod console_auth;
pub mod csv;
pub mod demo_records;
pub mod desk;
pub mod email_verification;
pub mod error;
pub mod health;
pub mod housekeeping;
pub mod inbox_filters;
pub mod invitations;
pub mod municipalities;
pub mod need_freshness;
pub mod needs;
pub mod notifications;
pub mod offers;
pub mod opendata;
pub mod outbox_admin;
pub mod outcomes;
pub mod pagination;
pub mod partners;
pub mod proposals;
pub mod reply_templates;
pub mod search;
pub mod sources;
pub mod staff;
pub mod throttle;
pub mod validate;

// The value types live in `crate::values` (below storage and mail, which need them
// too); re-exported here so the domain's many `super::vocab` paths stay as they are.
pub use crate::values::{codes, ids, vocab};

/// The database handle every domain function takes and the clock it stores times
/// with: the layers above name them here, not in `storage`.
pub use crate::storage::{Db, now};

/// The service's public URL (for links in pages and mails), as configured at start.
pub fn public_url() -> &'static str {
    crate::mail::links::base()
}

/// A stored UTC time as an API instant (RFC 3339 with `Z`).
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// For partial updates: tells an absent field (`None`) from an explicit `null`
/// (`Some(None)`).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
