//! The index change log: one row per change of searchable text, written in the same
//! transaction as the change, so the search index can always catch up with the database.

use diesel::prelude::*;

use super::schema::index_changes;
use super::{AnyConnection, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocType {
    Need,
    Offer,
    Proposal,
}

impl DocType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Need => "need",
            Self::Offer => "offer",
            Self::Proposal => "proposal",
        }
    }
}

pub fn record(conn: &mut AnyConnection, doc_type: DocType, doc_id: i64) -> QueryResult<()> {
    diesel::insert_into(index_changes::table)
        .values((
            index_changes::doc_type.eq(doc_type.as_str()),
            index_changes::doc_id.eq(doc_id),
            index_changes::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One recorded change.
#[derive(Debug, Clone, Queryable)]
pub struct Change {
    pub id: i64,
    pub doc_type: String,
    pub doc_id: i64,
    pub created_at: chrono::NaiveDateTime,
}

/// Changes after `after_id`, oldest first.
pub fn pending(conn: &mut AnyConnection, after_id: i64, limit: i64) -> QueryResult<Vec<Change>> {
    index_changes::table
        .filter(index_changes::id.gt(after_id))
        .order(index_changes::id)
        .limit(limit)
        .select((
            index_changes::id,
            index_changes::doc_type,
            index_changes::doc_id,
            index_changes::created_at,
        ))
        .load(conn)
}

/// The newest change id, 0 when none.
pub fn max_id(conn: &mut AnyConnection) -> QueryResult<i64> {
    index_changes::table
        .select(diesel::dsl::max(index_changes::id))
        .first::<Option<i64>>(conn)
        .map(|m| m.unwrap_or(0))
}

/// How many changes wait after `after_id`.
pub fn backlog(conn: &mut AnyConnection, after_id: i64) -> QueryResult<i64> {
    index_changes::table
        .filter(index_changes::id.gt(after_id))
        .count()
        .get_result(conn)
}

/// Deletes the changes recorded before `before`; returns the newest id deleted (0 when
/// none was), which every index must have passed or be rebuilt.
pub fn prune_before(conn: &mut AnyConnection, before: chrono::NaiveDateTime) -> QueryResult<i64> {
    let through = index_changes::table
        .filter(index_changes::created_at.lt(before))
        .select(diesel::dsl::max(index_changes::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    if through > 0 {
        diesel::delete(index_changes::table.filter(index_changes::id.le(through))).execute(conn)?;
    }
    Ok(through)
}
