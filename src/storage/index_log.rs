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
