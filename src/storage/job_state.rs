//! Small named values kept by background jobs (checkpoints, the mail signing key).

use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::schema::job_state;
use super::{AnyConnection, now};

pub fn get(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<String>> {
    job_state::table
        .find(name)
        .select(job_state::value)
        .first(conn)
        .optional()
}

/// Sets a value, creating or replacing it.
pub fn set(conn: &mut AnyConnection, name: &str, value: &str) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO job_state (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind::<Text, _>(name)
    .bind::<Text, _>(value)
    .bind::<Timestamp, _>(now())
    .execute(conn)?;
    Ok(())
}

/// Raises a numeric value to `value` (creating it), never lowering it, also when
/// several processes do this at once.
pub fn raise(conn: &mut AnyConnection, name: &str, value: i64) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO job_state (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET \
         value = CASE WHEN CAST(excluded.value AS BIGINT) > CAST(job_state.value AS BIGINT) \
                 THEN excluded.value ELSE job_state.value END, \
         updated_at = excluded.updated_at",
    )
    .bind::<Text, _>(name)
    .bind::<Text, _>(value.to_string())
    .bind::<Timestamp, _>(now())
    .execute(conn)?;
    Ok(())
}

/// Sets a value only if none exists yet; returns the value in force.
pub fn get_or_init(conn: &mut AnyConnection, name: &str, value: &str) -> QueryResult<String> {
    diesel::sql_query("INSERT INTO job_state (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
        .bind::<Text, _>(name)
        .bind::<Text, _>(value)
        .bind::<Timestamp, _>(now())
        .execute(conn)?;
    job_state::table
        .find(name)
        .select(job_state::value)
        .first(conn)
}
