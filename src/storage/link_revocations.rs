//! The `link_revocations` table: per recipient, the time before which their signed
//! links (unsubscribe) are void.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::link_revocations;

/// Seconds since the epoch before which links of the recipient are void; `None` when
/// they never voided any. `recipient_type` is `staff` or `partner`.
pub fn not_before(
    conn: &mut AnyConnection,
    recipient_type: &str,
    recipient_id: i64,
) -> QueryResult<Option<i64>> {
    link_revocations::table
        .find((recipient_type, recipient_id))
        .select(link_revocations::not_before_unix)
        .first::<i64>(conn)
        .optional()
}

/// Voids the recipient's links issued before `not_before_unix`.
pub fn set(
    conn: &mut AnyConnection,
    recipient_type: &str,
    recipient_id: i64,
    not_before_unix: i64,
) -> QueryResult<()> {
    diesel::delete(link_revocations::table.find((recipient_type, recipient_id))).execute(conn)?;
    diesel::insert_into(link_revocations::table)
        .values((
            link_revocations::recipient_type.eq(recipient_type),
            link_revocations::recipient_id.eq(recipient_id),
            link_revocations::not_before_unix.eq(not_before_unix),
        ))
        .execute(conn)
        .map(|_| ())
}
