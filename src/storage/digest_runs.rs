//! The `digest_runs` table: one row per digest period, claimed before the period's
//! digests are composed, so two processes never send one period twice.

use diesel::prelude::*;

use super::error::is_duplicate;
use super::schema::digest_runs;
use super::{AnyConnection, now};

/// Claims the period; false when a run already claimed it. On PostgreSQL the unique
/// violation also aborts the transaction, so its commit fails: callers treat that
/// failure as "claimed by another run" too.
pub fn claim(conn: &mut AnyConnection, period_key: &str) -> QueryResult<bool> {
    let inserted = diesel::insert_into(digest_runs::table)
        .values((
            digest_runs::period_key.eq(period_key),
            digest_runs::started_at.eq(now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Records that the period's run finished and how many recipients it mailed.
pub fn finish(conn: &mut AnyConnection, period_key: &str, recipients: i32) -> QueryResult<()> {
    diesel::update(digest_runs::table.find(period_key))
        .set((
            digest_runs::finished_at.eq(now()),
            digest_runs::recipients.eq(recipients),
        ))
        .execute(conn)
        .map(|_| ())
}
