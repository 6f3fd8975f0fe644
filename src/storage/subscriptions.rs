//! The `subscriptions` table: which delivery a staff user or partner chose for one kind
//! of notice. No row means the kind's default; the words are `notifications`' to parse.

use diesel::prelude::*;

use super::schema::subscriptions;
use super::{AnyConnection, now};

/// Whose choices: a staff user's or a partner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscriber {
    Staff(i64),
    Partner(i64),
}

/// The stored delivery for `kind`, if one was chosen.
pub fn delivery(
    conn: &mut AnyConnection,
    who: Subscriber,
    kind: &str,
) -> QueryResult<Option<String>> {
    match who {
        Subscriber::Staff(id) => subscriptions::table
            .filter(
                subscriptions::staff_user_id
                    .eq(id)
                    .and(subscriptions::kind.eq(kind)),
            )
            .select(subscriptions::delivery)
            .first(conn)
            .optional(),
        Subscriber::Partner(id) => subscriptions::table
            .filter(
                subscriptions::partner_id
                    .eq(id)
                    .and(subscriptions::kind.eq(kind)),
            )
            .select(subscriptions::delivery)
            .first(conn)
            .optional(),
    }
}

/// Replaces the stored delivery for `kind`.
pub fn set(
    conn: &mut AnyConnection,
    who: Subscriber,
    kind: &str,
    delivery: &str,
) -> QueryResult<()> {
    match who {
        Subscriber::Staff(id) => {
            diesel::delete(
                subscriptions::table.filter(
                    subscriptions::staff_user_id
                        .eq(id)
                        .and(subscriptions::kind.eq(kind)),
                ),
            )
            .execute(conn)?;
            diesel::insert_into(subscriptions::table)
                .values((
                    subscriptions::staff_user_id.eq(id),
                    subscriptions::kind.eq(kind),
                    subscriptions::delivery.eq(delivery),
                    subscriptions::updated_at.eq(now()),
                ))
                .execute(conn)?;
        }
        Subscriber::Partner(id) => {
            diesel::delete(
                subscriptions::table.filter(
                    subscriptions::partner_id
                        .eq(id)
                        .and(subscriptions::kind.eq(kind)),
                ),
            )
            .execute(conn)?;
            diesel::insert_into(subscriptions::table)
                .values((
                    subscriptions::partner_id.eq(id),
                    subscriptions::kind.eq(kind),
                    subscriptions::delivery.eq(delivery),
                    subscriptions::updated_at.eq(now()),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
