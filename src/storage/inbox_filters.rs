//! The `inbox_filters` table: saved inbox filters (保存した絞り込み), each a name and
//! the inbox's query string, owned by one staff user. Every query names the owner, so
//! one user's filters are never read or deleted through another's.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::inbox_filters as f;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = f)]
pub struct InboxFilterRow {
    pub id: i64,
    pub staff_user_id: i64,
    pub name: String,
    pub query: String,
    pub created_at: chrono::NaiveDateTime,
}

/// One user's filters, by name.
pub fn list_of(conn: &mut AnyConnection, staff_user_id: i64) -> QueryResult<Vec<InboxFilterRow>> {
    f::table
        .filter(f::staff_user_id.eq(staff_user_id))
        .select(InboxFilterRow::as_select())
        .order((f::name, f::id))
        .load(conn)
}

pub fn count_of(conn: &mut AnyConnection, staff_user_id: i64) -> QueryResult<i64> {
    f::table
        .filter(f::staff_user_id.eq(staff_user_id))
        .count()
        .get_result(conn)
}

/// The user's filter called `name`, if any.
pub fn find_named(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    name: &str,
) -> QueryResult<Option<InboxFilterRow>> {
    f::table
        .filter(f::staff_user_id.eq(staff_user_id).and(f::name.eq(name)))
        .select(InboxFilterRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    name: &str,
    query: &str,
) -> QueryResult<InboxFilterRow> {
    let id: i64 = diesel::insert_into(f::table)
        .values((
            f::staff_user_id.eq(staff_user_id),
            f::name.eq(name),
            f::query.eq(query),
            f::created_at.eq(super::now()),
        ))
        .returning(f::id)
        .get_result(conn)?;
    f::table
        .find(id)
        .select(InboxFilterRow::as_select())
        .first(conn)
}

/// Replaces the query of the user's filter `id`; the rows changed (0 or 1).
pub fn set_query(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    id: i64,
    query: &str,
) -> QueryResult<usize> {
    diesel::update(f::table.filter(f::id.eq(id).and(f::staff_user_id.eq(staff_user_id))))
        .set(f::query.eq(query))
        .execute(conn)
}

/// Deletes the user's filter `id`; the rows deleted (0 when it is not theirs).
pub fn delete_owned(conn: &mut AnyConnection, staff_user_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(f::table.filter(f::id.eq(id).and(f::staff_user_id.eq(staff_user_id))))
        .execute(conn)
}
