//! Queries on proposal attachments: their metadata (`proposal_attachments`) and, in a
//! table of their own, their bytes (`proposal_attachment_blobs`), so that lists and
//! counts never read a file.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::{AttachmentRow, NewAttachment};
use super::schema::{proposal_attachment_blobs as blobs, proposal_attachments as pa};

/// Inserts the metadata and the bytes of one file; returns the new row.
pub fn insert(
    conn: &mut AnyConnection,
    new: &NewAttachment,
    bytes: &[u8],
) -> QueryResult<AttachmentRow> {
    let id: i64 = diesel::insert_into(pa::table)
        .values(new)
        .returning(pa::id)
        .get_result(conn)?;
    diesel::insert_into(blobs::table)
        .values((blobs::attachment_id.eq(id), blobs::bytes.eq(bytes)))
        .execute(conn)?;
    pa::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
}

/// How many files a proposal carries.
pub fn count_for(conn: &mut AnyConnection, proposal_id: i64) -> QueryResult<i64> {
    pa::table
        .filter(pa::proposal_id.eq(proposal_id))
        .count()
        .get_result(conn)
}

/// The metadata of a proposal's files, oldest first.
pub fn list_for(conn: &mut AnyConnection, proposal_id: i64) -> QueryResult<Vec<AttachmentRow>> {
    pa::table
        .filter(pa::proposal_id.eq(proposal_id))
        .select(AttachmentRow::as_select())
        .order(pa::id)
        .load(conn)
}

/// One file of one proposal: the metadata only when `attachment_id` belongs to it.
pub fn find(
    conn: &mut AnyConnection,
    proposal_id: i64,
    attachment_id: i64,
) -> QueryResult<Option<AttachmentRow>> {
    pa::table
        .filter(
            pa::id
                .eq(attachment_id)
                .and(pa::proposal_id.eq(proposal_id)),
        )
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()
}

/// The bytes of a file.
pub fn bytes(conn: &mut AnyConnection, attachment_id: i64) -> QueryResult<Option<Vec<u8>>> {
    blobs::table
        .find(attachment_id)
        .select(blobs::bytes)
        .first(conn)
        .optional()
}
