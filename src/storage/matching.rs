//! Queries on staff feedback about need/offer matches.

use diesel::prelude::*;

use super::schema::match_feedback;
use super::{AnyConnection, now};

/// Records one staff member's verdict on a pair, replacing an earlier one.
pub fn set_feedback(
    conn: &mut AnyConnection,
    need_id: i64,
    offer_id: i64,
    staff_id: i64,
    verdict: &str,
) -> QueryResult<()> {
    diesel::delete(
        match_feedback::table.filter(
            match_feedback::need_id
                .eq(need_id)
                .and(match_feedback::offer_id.eq(offer_id))
                .and(match_feedback::staff_user_id.eq(staff_id)),
        ),
    )
    .execute(conn)?;
    diesel::insert_into(match_feedback::table)
        .values((
            match_feedback::need_id.eq(need_id),
            match_feedback::offer_id.eq(offer_id),
            match_feedback::staff_user_id.eq(staff_id),
            match_feedback::verdict.eq(verdict),
            match_feedback::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// (need id, offer id, verdict) rows about one need or one offer.
pub fn feedback_for(
    conn: &mut AnyConnection,
    need_id: Option<i64>,
    offer_id: Option<i64>,
) -> QueryResult<Vec<(i64, i64, String)>> {
    let mut q = match_feedback::table
        .select((
            match_feedback::need_id,
            match_feedback::offer_id,
            match_feedback::verdict,
        ))
        .into_boxed();
    if let Some(n) = need_id {
        q = q.filter(match_feedback::need_id.eq(n));
    }
    if let Some(o) = offer_id {
        q = q.filter(match_feedback::offer_id.eq(o));
    }
    q.load(conn)
}
