//! Queries of the staff console: login sessions and the password and lockout columns of
//! staff users.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::models::StaffUserRow;
use super::schema::{console_sessions, staff_users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = console_sessions)]
pub struct SessionRow {
    pub id: i64,
    pub token_hash: String,
    pub staff_user_id: i64,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = console_sessions)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub staff_user_id: i64,
    pub csrf_token: &'a str,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, new: &NewSession) -> QueryResult<()> {
    diesel::insert_into(console_sessions::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// A session by its token hash, with its staff user.
pub fn find(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<(SessionRow, StaffUserRow)>> {
    console_sessions::table
        .inner_join(staff_users::table)
        .filter(console_sessions::token_hash.eq(token_hash))
        .select((SessionRow::as_select(), StaffUserRow::as_select()))
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(console_sessions::table.find(id))
        .set(console_sessions::last_seen_at.eq(at))
        .execute(conn)
        .map(drop)
}

pub fn delete(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(console_sessions::table.filter(console_sessions::token_hash.eq(token_hash)))
        .execute(conn)
}

pub fn delete_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(console_sessions::table.find(id)).execute(conn)
}

/// Ends every session of a staff user (after a password change).
pub fn delete_of_staff(conn: &mut AnyConnection, staff_user_id: i64) -> QueryResult<usize> {
    diesel::delete(
        console_sessions::table.filter(console_sessions::staff_user_id.eq(staff_user_id)),
    )
    .execute(conn)
}

/// Ends every session of a staff user but the one with `keep_hash`.
pub fn delete_of_staff_except(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    keep_hash: &str,
) -> QueryResult<usize> {
    diesel::delete(
        console_sessions::table
            .filter(console_sessions::staff_user_id.eq(staff_user_id))
            .filter(console_sessions::token_hash.ne(keep_hash)),
    )
    .execute(conn)
}

/// Removes sessions past their absolute expiry or idle since before `idle_before`.
pub fn delete_expired(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    idle_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        console_sessions::table.filter(
            console_sessions::expires_at
                .le(now)
                .or(console_sessions::last_seen_at.lt(idle_before)),
        ),
    )
    .execute(conn)
}

pub fn staff_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<StaffUserRow>> {
    staff_users::table
        .filter(staff_users::email.eq(email))
        .select(StaffUserRow::as_select())
        .first(conn)
        .optional()
}

pub fn set_password_hash(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    hash: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(staff_users::table.find(staff_user_id))
        .set((
            staff_users::password_hash.eq(Some(hash)),
            staff_users::failed_logins.eq(0),
            staff_users::locked_until.eq(None::<NaiveDateTime>),
            staff_users::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Stores the failed-login count and the lock, if any.
pub fn set_login_failures(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    failed_logins: i32,
    locked_until: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(staff_users::table.find(staff_user_id))
        .set((
            staff_users::failed_logins.eq(failed_logins),
            staff_users::locked_until.eq(locked_until),
        ))
        .execute(conn)
        .map(drop)
}

/// Counts one failed login atomically (`failed_logins + 1` in the UPDATE itself, so
/// parallel attempts never lose an increment) unless the account is locked at `at`.
/// Returns the new count, or `None` when the account was locked (nothing counted).
/// On PostgreSQL a parallel transaction that locked the row first is waited for and
/// its lock seen; SQLite has one writer at a time.
pub fn count_failure(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    diesel::update(
        staff_users::table.find(staff_user_id).filter(
            staff_users::locked_until
                .is_null()
                .or(staff_users::locked_until.le(at)),
        ),
    )
    .set(staff_users::failed_logins.eq(staff_users::failed_logins + 1))
    .returning(staff_users::failed_logins)
    .get_result(conn)
    .optional()
}

/// Locks logins to the account until `until` (the count stays).
pub fn lock_logins(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    until: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(staff_users::table.find(staff_user_id))
        .set(staff_users::locked_until.eq(Some(until)))
        .execute(conn)
        .map(drop)
}

/// After a right password: clears the count and any lock, but only if the account is
/// not locked at `at` — unless `override_lock` (a browser the owner logged in from).
/// Returns whether the login may go ahead.
pub fn clear_failures(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    at: NaiveDateTime,
    override_lock: bool,
) -> QueryResult<bool> {
    let reset = (
        staff_users::failed_logins.eq(0),
        staff_users::locked_until.eq(None::<NaiveDateTime>),
    );
    let n = if override_lock {
        diesel::update(staff_users::table.find(staff_user_id))
            .set(reset)
            .execute(conn)?
    } else {
        diesel::update(
            staff_users::table.find(staff_user_id).filter(
                staff_users::locked_until
                    .is_null()
                    .or(staff_users::locked_until.le(at)),
            ),
        )
        .set(reset)
        .execute(conn)?
    };
    Ok(n == 1)
}
