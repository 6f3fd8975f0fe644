//! Queries on staff users.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::{NewStaffUser, StaffChanges, StaffUserRow};
use super::schema::staff_users;

pub fn insert(conn: &mut AnyConnection, new: &NewStaffUser) -> QueryResult<StaffUserRow> {
    diesel::insert_into(staff_users::table)
        .values(new)
        .returning(staff_users::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            staff_users::table
                .find(id)
                .select(StaffUserRow::as_select())
                .first(conn)
        })
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<StaffUserRow>> {
    staff_users::table
        .find(id)
        .select(StaffUserRow::as_select())
        .first(conn)
        .optional()
}

/// Staff of one municipality, or every staff user when `municipality` is `None`.
pub fn list(conn: &mut AnyConnection, municipality: Option<i64>) -> QueryResult<Vec<StaffUserRow>> {
    let mut q = staff_users::table
        .select(StaffUserRow::as_select())
        .order(staff_users::id)
        .into_boxed();
    if let Some(m) = municipality {
        q = q.filter(staff_users::municipality_id.eq(m));
    }
    q.load(conn)
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    changes: &StaffChanges,
) -> QueryResult<StaffUserRow> {
    diesel::update(staff_users::table.find(id))
        .set(changes)
        .execute(conn)?;
    staff_users::table
        .find(id)
        .select(StaffUserRow::as_select())
        .first(conn)
}

/// Sets or clears "must choose a new password at next sign-in".
pub fn set_must_change_password(conn: &mut AnyConnection, id: i64, value: bool) -> QueryResult<()> {
    diesel::update(staff_users::table.find(id))
        .set(staff_users::must_change_password.eq(value))
        .execute(conn)
        .map(drop)
}

/// Turns the console's keyboard shortcuts on or off for this user.
pub fn set_keyboard_shortcuts(conn: &mut AnyConnection, id: i64, on: bool) -> QueryResult<usize> {
    diesel::update(staff_users::table.find(id))
        .set(staff_users::keyboard_shortcuts.eq(on))
        .execute(conn)
}

/// The staff user's mail language (`ja` or `en`).
pub fn locale_of(conn: &mut AnyConnection, id: i64) -> QueryResult<String> {
    staff_users::table
        .find(id)
        .select(staff_users::locale)
        .first(conn)
}

pub fn set_locale(conn: &mut AnyConnection, id: i64, locale: &str) -> QueryResult<()> {
    diesel::update(staff_users::table.find(id))
        .set(staff_users::locale.eq(locale))
        .execute(conn)
        .map(|_| ())
}

/// Locks the staff user's row until the transaction ends (for per-account caps).
pub fn lock(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    diesel::update(staff_users::table.find(id))
        .set(staff_users::id.eq(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// Staff users by id (unknown ids are left out).
pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<StaffUserRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    staff_users::table
        .filter(staff_users::id.eq_any(ids))
        .select(StaffUserRow::as_select())
        .load(conn)
}

/// (id, display name) of the given staff users.
pub fn names_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    staff_users::table
        .filter(staff_users::id.eq_any(ids))
        .select((staff_users::id, staff_users::display_name))
        .load(conn)
}

/// Active staff who may own a proposal of `municipality_id`: its desk staff and admins,
/// and the staff of `department_id` (the lead department), by name.
pub fn assignable(
    conn: &mut AnyConnection,
    municipality_id: i64,
    department_id: Option<i64>,
) -> QueryResult<Vec<StaffUserRow>> {
    let desk = staff_users::role.eq_any(["desk", "admin"]);
    let mut q = staff_users::table
        .filter(staff_users::municipality_id.eq(municipality_id))
        .filter(staff_users::status.eq("active"))
        .select(StaffUserRow::as_select())
        .order((staff_users::display_name, staff_users::id))
        .into_boxed();
    q = match department_id {
        Some(d) => q.filter(
            desk.or(staff_users::role
                .eq("department")
                .and(staff_users::department_id.eq(d))),
        ),
        None => q.filter(desk),
    };
    q.load(conn)
}
