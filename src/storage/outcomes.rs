//! Queries on outcome reports (アウトカム) of adopted proposals and their indicators.
//! Reports are only ever added (a later report supersedes nothing; each covers its own
//! period), so there is no update or delete here.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::AnyConnection;
use super::models::{NewOutcomeIndicator, NewOutcomeReport, OutcomeIndicatorRow, OutcomeReportRow};
use super::schema::{outcome_indicators as oi, outcome_reports as orp, proposals as p};

/// Inserts a report with its indicators (in their order); returns the report's row.
pub fn insert(
    conn: &mut AnyConnection,
    new: &NewOutcomeReport,
    indicators: &[NewOutcomeIndicator],
) -> QueryResult<OutcomeReportRow> {
    let id: i64 = diesel::insert_into(orp::table)
        .values(new)
        .returning(orp::id)
        .get_result(conn)?;
    for i in indicators {
        diesel::insert_into(oi::table)
            .values(NewOutcomeIndicator {
                report_id: id,
                seq: i.seq,
                name: i.name,
                unit: i.unit,
                before_value: i.before_value,
                after_value: i.after_value,
            })
            .execute(conn)?;
    }
    orp::table
        .find(id)
        .select(OutcomeReportRow::as_select())
        .first(conn)
}

/// The reports of these proposals, oldest report date first (then by id).
pub fn reports_of(
    conn: &mut AnyConnection,
    proposal_ids: &[i64],
) -> QueryResult<Vec<OutcomeReportRow>> {
    let mut out = Vec::new();
    // Chunks keep the IN list within every backend's parameter limit.
    for chunk in proposal_ids.chunks(500) {
        out.extend(
            orp::table
                .filter(orp::proposal_id.eq_any(chunk))
                .select(OutcomeReportRow::as_select())
                .order((orp::proposal_id, orp::reported_on, orp::id))
                .load(conn)?,
        );
    }
    Ok(out)
}

/// The indicators of these reports, in each report's order.
pub fn indicators_of(
    conn: &mut AnyConnection,
    report_ids: &[i64],
) -> QueryResult<Vec<OutcomeIndicatorRow>> {
    let mut out = Vec::new();
    for chunk in report_ids.chunks(500) {
        out.extend(
            oi::table
                .filter(oi::report_id.eq_any(chunk))
                .select(OutcomeIndicatorRow::as_select())
                .order((oi::report_id, oi::seq))
                .load(conn)?,
        );
    }
    Ok(out)
}

/// (proposal id, 効果額) of every report of the municipality's proposals dated in
/// `from..until` (until exclusive).
pub fn reported_between(
    conn: &mut AnyConnection,
    municipality_id: i64,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<(i64, Option<i64>)>> {
    orp::table
        .inner_join(p::table)
        .filter(p::municipality_id.eq(municipality_id))
        .filter(orp::reported_on.ge(from).and(orp::reported_on.lt(until)))
        .select((orp::proposal_id, orp::effect_yen))
        .load(conn)
}

/// Ids of the partner's proposals in `state` whose proposer consented to publication
/// and that carry at least one report, newest first.
pub fn consented_with_reports_of_partner(
    conn: &mut AnyConnection,
    partner_id: i64,
    state: &str,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    p::table
        .filter(p::partner_id.eq(partner_id))
        .filter(p::state.eq(state))
        .filter(p::consented_publication_at.is_not_null())
        .filter(diesel::dsl::exists(
            orp::table.filter(orp::proposal_id.eq(p::id)),
        ))
        .select(p::id)
        .order(p::id.desc())
        .limit(limit)
        .load(conn)
}
