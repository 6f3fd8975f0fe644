//! The `weekly_report_runs` table: one row per municipality and reported week, inserted
//! in the transaction that queues that week's report mails, holding the figures the
//! report gave (JSON), so the next week's report compares with them.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text, Timestamp};

use super::schema::weekly_report_runs as w;
use super::{AnyConnection, now};

/// Whether the week's report of municipality `m` was made (by any process).
pub fn exists(conn: &mut AnyConnection, m: i64, week_start: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        w::table.filter(w::municipality_id.eq(m).and(w::week_start.eq(week_start))),
    ))
    .get_result(conn)
}

/// Claims the week for municipality `m` with its figures; false when another run has
/// it. `ON CONFLICT DO NOTHING` rather than catching the unique violation: on
/// PostgreSQL a second run waits for the first to commit and then inserts nothing,
/// without aborting its transaction.
pub fn claim(
    conn: &mut AnyConnection,
    m: i64,
    week_start: NaiveDate,
    figures: &str,
    recipients: i32,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO weekly_report_runs (municipality_id, week_start, figures, recipients, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (municipality_id, week_start) DO NOTHING",
    )
    .bind::<BigInt, _>(m)
    .bind::<Date, _>(week_start)
    .bind::<Text, _>(figures)
    .bind::<Integer, _>(recipients)
    .bind::<Timestamp, _>(now())
    .execute(conn)
    .map(|n| n == 1)
}

/// The figures a week's report of municipality `m` gave, if it was made.
pub fn figures(
    conn: &mut AnyConnection,
    m: i64,
    week_start: NaiveDate,
) -> QueryResult<Option<String>> {
    w::table
        .filter(w::municipality_id.eq(m).and(w::week_start.eq(week_start)))
        .select(w::figures)
        .first(conn)
        .optional()
}
