//! The `match_alerts` table: each (need, offer) pair that was alerted, so a pair is
//! alerted at most once.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::{AnyConnection, now};

/// Records the pair; true when it was new. `ON CONFLICT DO NOTHING` is spelled the same
/// on both backends.
pub fn first_time(conn: &mut AnyConnection, need: i64, offer: i64) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO match_alerts (need_id, offer_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(need)
    .bind::<BigInt, _>(offer)
    .bind::<Timestamp, _>(now())
    .execute(conn)
    .map(|n| n == 1)
}
