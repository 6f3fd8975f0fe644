//! Housekeeping: deleting what kyoso needs only for a while. The index change log is
//! kept for `INDEX_LOG_RETENTION_DAYS`, long enough for every node's index to have
//! applied it; the id it was pruned through is recorded, and an index that had not got
//! that far (a node down for longer) is rebuilt from the database instead of silently
//! missing changes. Delivered mails are deleted after the configured retention, since
//! their bodies hold personal data. Run hourly by the scheduler; safe on several nodes.

use chrono::{NaiveDateTime, TimeDelta};

use super::error::AppResult;
use crate::mail::outbox;
use crate::storage::{Db, index_log, job_state};

pub const INDEX_LOG_RETENTION_DAYS: i64 = 7;
/// The `job_state` entry holding the newest pruned change id.
pub const PRUNED_THROUGH: &str = "index_log_pruned_through";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub index_changes_through: i64,
    pub mails: usize,
}

/// Prunes the index change log and the delivered mails, in one transaction.
pub fn run(db: &Db, mail_retention_days: u32, at: NaiveDateTime) -> AppResult<Pruned> {
    db.write(|conn| {
        let through =
            index_log::prune_before(conn, at - TimeDelta::days(INDEX_LOG_RETENTION_DAYS))?;
        if through > 0 {
            job_state::raise(conn, PRUNED_THROUGH, through)?;
        }
        let mails =
            outbox::prune_delivered(conn, at - TimeDelta::days(i64::from(mail_retention_days)))?;
        Ok(Pruned {
            index_changes_through: through,
            mails,
        })
    })
}

pub(crate) fn pruned_through_in(conn: &mut crate::storage::AnyConnection) -> AppResult<i64> {
    Ok(job_state::get(conn, PRUNED_THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The newest change id that no longer exists in the log (0 when nothing was pruned).
pub fn pruned_through(db: &Db) -> AppResult<i64> {
    db.read(pruned_through_in)
}
