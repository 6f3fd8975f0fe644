//! The `saved_searches` table: a query with its filters (as JSON the domain writes),
//! owned by one staff user or one partner, and when it last ran.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::saved_searches;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_searches)]
pub struct SavedSearchRow {
    pub id: i64,
    pub staff_user_id: Option<i64>,
    pub partner_id: Option<i64>,
    pub name: String,
    pub query: String,
    pub filters_json: String,
    pub last_checked_at: chrono::NaiveDateTime,
}

/// A saved search to insert; exactly one of the owners is set.
pub struct NewSavedSearch<'a> {
    pub staff_user_id: Option<i64>,
    pub partner_id: Option<i64>,
    pub name: &'a str,
    pub query: &'a str,
    pub filters_json: &'a str,
    pub at: chrono::NaiveDateTime,
}

/// How many saved searches one owner keeps.
pub fn count_of(
    conn: &mut AnyConnection,
    staff_user_id: Option<i64>,
    partner_id: Option<i64>,
) -> QueryResult<i64> {
    match (staff_user_id, partner_id) {
        (Some(s), _) => saved_searches::table
            .filter(saved_searches::staff_user_id.eq(s))
            .count()
            .get_result(conn),
        (None, Some(p)) => saved_searches::table
            .filter(saved_searches::partner_id.eq(p))
            .count()
            .get_result(conn),
        (None, None) => Ok(0),
    }
}

pub fn insert(conn: &mut AnyConnection, new: &NewSavedSearch) -> QueryResult<SavedSearchRow> {
    let id: i64 = diesel::insert_into(saved_searches::table)
        .values((
            saved_searches::staff_user_id.eq(new.staff_user_id),
            saved_searches::partner_id.eq(new.partner_id),
            saved_searches::name.eq(new.name),
            saved_searches::query.eq(new.query),
            saved_searches::filters_json.eq(new.filters_json),
            saved_searches::last_checked_at.eq(new.at),
            saved_searches::created_at.eq(new.at),
        ))
        .returning(saved_searches::id)
        .get_result(conn)?;
    saved_searches::table
        .find(id)
        .select(SavedSearchRow::as_select())
        .first(conn)
}

/// One owner's saved searches, oldest first.
pub fn list_of(
    conn: &mut AnyConnection,
    staff_user_id: Option<i64>,
    partner_id: Option<i64>,
) -> QueryResult<Vec<SavedSearchRow>> {
    match (staff_user_id, partner_id) {
        (Some(s), _) => saved_searches::table
            .filter(saved_searches::staff_user_id.eq(s))
            .select(SavedSearchRow::as_select())
            .order(saved_searches::id)
            .load(conn),
        (_, Some(p)) => saved_searches::table
            .filter(saved_searches::partner_id.eq(p))
            .select(SavedSearchRow::as_select())
            .order(saved_searches::id)
            .load(conn),
        _ => Ok(vec![]),
    }
}

/// Every saved search, oldest first.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<SavedSearchRow>> {
    saved_searches::table
        .select(SavedSearchRow::as_select())
        .order(saved_searches::id)
        .load(conn)
}

/// Deletes saved search `id` if one of the owners holds it; returns how many went.
pub fn delete_owned(
    conn: &mut AnyConnection,
    id: i64,
    staff_user_id: Option<i64>,
    partner_id: Option<i64>,
) -> QueryResult<usize> {
    diesel::delete(
        saved_searches::table.filter(
            saved_searches::id.eq(id).and(
                saved_searches::staff_user_id
                    .eq(staff_user_id)
                    .or(saved_searches::partner_id.eq(partner_id)),
            ),
        ),
    )
    .execute(conn)
}

/// Moves the search's checkpoint from `from` to `at`; false when it is no longer at
/// `from` (another run, on this or another node, took the period first). On
/// PostgreSQL a concurrent run's update waits for the first to commit and then finds
/// the row changed; SQLite serialises the writes.
pub fn advance_checked(
    conn: &mut AnyConnection,
    id: i64,
    from: chrono::NaiveDateTime,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        saved_searches::table
            .find(id)
            .filter(saved_searches::last_checked_at.eq(from)),
    )
    .set(saved_searches::last_checked_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}
