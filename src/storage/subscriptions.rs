//! The `subscriptions` table: which delivery a staff user or partner chose for one kind
//! of notice. No row means the kind's default; the words are `notifications`' to parse.

use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use super::schema::subscriptions;
use super::{AnyConnection, now};

/// Whose choices: a staff user's or a partner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscriber {
    Staff(i64),
    Partner(i64),
}

type Backend = <AnyConnection as diesel::Connection>::Backend;

/// The row of `who` for `kind`, as a filter.
fn row_of(
    who: Subscriber,
    kind: &str,
) -> Box<dyn BoxableExpression<subscriptions::table, Backend, SqlType = Nullable<Bool>> + '_> {
    match who {
        Subscriber::Staff(id) => Box::new(
            subscriptions::staff_user_id
                .eq(id)
                .and(subscriptions::kind.eq(kind)),
        ),
        Subscriber::Partner(id) => Box::new(
            subscriptions::partner_id
                .eq(id)
                .and(subscriptions::kind.eq(kind)),
        ),
    }
}

/// The stored delivery for `kind`, if one was chosen.
pub fn delivery(
    conn: &mut AnyConnection,
    who: Subscriber,
    kind: &str,
) -> QueryResult<Option<String>> {
    subscriptions::table
        .filter(row_of(who, kind))
        .select(subscriptions::delivery)
        .first(conn)
        .optional()
}

/// Replaces the stored delivery for `kind`.
pub fn set(
    conn: &mut AnyConnection,
    who: Subscriber,
    kind: &str,
    delivery: &str,
) -> QueryResult<()> {
    diesel::delete(subscriptions::table.filter(row_of(who, kind))).execute(conn)?;
    let (staff, partner) = match who {
        Subscriber::Staff(id) => (Some(id), None),
        Subscriber::Partner(id) => (None, Some(id)),
    };
    diesel::insert_into(subscriptions::table)
        .values((
            subscriptions::staff_user_id.eq(staff),
            subscriptions::partner_id.eq(partner),
            subscriptions::kind.eq(kind),
            subscriptions::delivery.eq(delivery),
            subscriptions::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}
