//! Queries on API keys.

use diesel::prelude::*;

use super::models::{ApiKeyRow, NewApiKey};
use super::schema::api_keys;
use super::{AnyConnection, now};

pub fn insert(conn: &mut AnyConnection, new: &NewApiKey) -> QueryResult<ApiKeyRow> {
    diesel::insert_into(api_keys::table)
        .values(new)
        .returning(api_keys::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            api_keys::table
                .find(id)
                .select(ApiKeyRow::as_select())
                .first(conn)
        })
}

pub fn by_prefix(conn: &mut AnyConnection, prefix: &str) -> QueryResult<Option<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

/// The keys of one owner, newest first.
pub fn list(
    conn: &mut AnyConnection,
    partner: Option<i64>,
    staff: Option<i64>,
) -> QueryResult<Vec<ApiKeyRow>> {
    let mut q = api_keys::table
        .select(ApiKeyRow::as_select())
        .order(api_keys::id.desc())
        .into_boxed();
    q = match (partner, staff) {
        (Some(p), _) => q.filter(api_keys::partner_id.eq(p)),
        (None, Some(s)) => q.filter(api_keys::staff_user_id.eq(s)),
        (None, None) => return Ok(vec![]),
    };
    q.load(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ApiKeyRow>> {
    api_keys::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

pub fn revoke(conn: &mut AnyConnection, id: i64) -> QueryResult<()> {
    diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

pub fn touch(conn: &mut AnyConnection, id: i64) -> QueryResult<()> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::last_used_at.eq(now()))
        .execute(conn)?;
    Ok(())
}

/// Revokes every live key of a staff user; returns how many were revoked.
pub fn revoke_of_staff(conn: &mut AnyConnection, staff_user_id: i64) -> QueryResult<usize> {
    diesel::update(
        api_keys::table
            .filter(api_keys::staff_user_id.eq(staff_user_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now()))
    .execute(conn)
}
