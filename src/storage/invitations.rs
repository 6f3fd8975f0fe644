//! Queries on staff invitations: one-time links, stored as the SHA-256 hash of a token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::staff_invitations;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_invitations)]
pub struct InvitationRow {
    pub id: i64,
    pub staff_user_id: i64,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    token_hash: &str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(staff_invitations::table)
        .values((
            staff_invitations::staff_user_id.eq(staff_user_id),
            staff_invitations::token_hash.eq(token_hash),
            staff_invitations::created_at.eq(created_at),
            staff_invitations::expires_at.eq(expires_at),
        ))
        .returning(staff_invitations::id)
        .get_result(conn)
}

pub fn by_hash(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<InvitationRow>> {
    staff_invitations::table
        .filter(staff_invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Marks an invitation used, if it still is unused; returns whether this call did. The
/// condition in the UPDATE makes two parallel uses of one link end with one winner.
pub fn mark_used(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        staff_invitations::table
            .find(id)
            .filter(staff_invitations::used_at.is_null()),
    )
    .set(staff_invitations::used_at.eq(Some(at)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Ends every unused invitation of a user (a password was set another way, or a new
/// invitation replaces them).
pub fn expire_of_staff(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        staff_invitations::table
            .filter(staff_invitations::staff_user_id.eq(staff_user_id))
            .filter(staff_invitations::used_at.is_null()),
    )
    .set(staff_invitations::used_at.eq(Some(at)))
    .execute(conn)
}
