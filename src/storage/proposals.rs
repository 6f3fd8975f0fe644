//! Queries on proposals, their departments, events, receipt counters and the desk's
//! routing rules.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};

use super::AnyConnection;
use super::models::{NewProposal, NewProposalEvent, ProposalEventRow, ProposalRow, RoutingRuleRow};
use super::schema::{
    idempotency_keys, proposal_departments as pd, proposal_events, proposals, routing_rules,
};

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = Integer)]
    last_seq: i32,
}

/// The next receipt number of a municipality and year. One statement that both creates
/// and increments the counter; it runs inside the proposal's transaction, so a rollback
/// gives the number back (no gaps) and the row lock orders concurrent submissions (no
/// duplicates). The SQL is the same on both backends (SQLite ≥ 3.35 has RETURNING).
pub fn next_receipt_seq(
    conn: &mut AnyConnection,
    municipality_id: i64,
    year: i32,
) -> QueryResult<i32> {
    diesel::sql_query(
        "INSERT INTO receipt_counters (municipality_id, year, last_seq) VALUES ($1, $2, 1) \
         ON CONFLICT (municipality_id, year) DO UPDATE SET last_seq = receipt_counters.last_seq + 1 \
         RETURNING last_seq",
    )
    .bind::<BigInt, _>(municipality_id)
    .bind::<Integer, _>(year)
    .get_result::<Seq>(conn)
    .map(|s| s.last_seq)
}

pub fn insert(conn: &mut AnyConnection, new: &NewProposal) -> QueryResult<ProposalRow> {
    diesel::insert_into(proposals::table)
        .values(new)
        .returning(proposals::id)
        .get_result::<i64>(conn)
        .and_then(|id| find(conn, id)?.ok_or(diesel::result::Error::NotFound))
}

/// Takes the proposal's row lock for the rest of the transaction and says whether the
/// row exists. A no-op update locks the row on both backends without backend-specific
/// SQL: on PostgreSQL a second workflow action on the same proposal waits here until
/// the first commits and then reads its result (READ COMMITTED re-reads the row); on
/// SQLite writers are already serialised by `BEGIN IMMEDIATE`. Call it before `find`
/// in any transaction that loads a proposal in order to save it.
pub fn lock(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    diesel::update(proposals::table.find(id))
        .set(proposals::id.eq(id))
        .execute(conn)
        .map(|n| n > 0)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ProposalRow>> {
    proposals::table
        .find(id)
        .select(ProposalRow::as_select())
        .first(conn)
        .optional()
}

/// The proposal an earlier request with this Idempotency-Key created, with that
/// request's hash.
pub fn by_idempotency_key(
    conn: &mut AnyConnection,
    partner_id: i64,
    key: &str,
) -> QueryResult<Option<(ProposalRow, String)>> {
    let found: Option<(i64, String)> = idempotency_keys::table
        .filter(
            idempotency_keys::partner_id
                .eq(partner_id)
                .and(idempotency_keys::key.eq(key)),
        )
        .select((
            idempotency_keys::proposal_id,
            idempotency_keys::request_hash,
        ))
        .first(conn)
        .optional()?;
    match found {
        Some((id, hash)) => Ok(find(conn, id)?.map(|p| (p, hash))),
        None => Ok(None),
    }
}

pub fn remember_idempotency_key(
    conn: &mut AnyConnection,
    partner_id: i64,
    key: &str,
    hash: &str,
    proposal_id: i64,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::partner_id.eq(partner_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::proposal_id.eq(proposal_id),
            idempotency_keys::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Saves every mutable column of a proposal row.
pub fn save(conn: &mut AnyConnection, p: &ProposalRow) -> QueryResult<()> {
    diesel::update(proposals::table.find(p.id))
        .set((
            proposals::state.eq(&p.state),
            proposals::policy_field.eq(&p.policy_field),
            proposals::primary_department_id.eq(p.primary_department_id),
            proposals::decline_reason_code.eq(&p.decline_reason_code),
            proposals::decline_reason_text.eq(&p.decline_reason_text),
            proposals::department_due_on.eq(p.department_due_on),
            proposals::proposer_due_on.eq(p.proposer_due_on),
            proposals::decision_due_on.eq(p.decision_due_on),
            proposals::paused_at.eq(p.paused_at),
            proposals::routed_at.eq(p.routed_at),
            proposals::first_response_at.eq(p.first_response_at),
            proposals::decided_at.eq(p.decided_at),
            proposals::updated_at.eq(p.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the departments a proposal is routed to; the first is the primary.
pub fn set_departments(
    conn: &mut AnyConnection,
    proposal_id: i64,
    primary: i64,
    others: &[i64],
) -> QueryResult<()> {
    diesel::delete(pd::table.filter(pd::proposal_id.eq(proposal_id))).execute(conn)?;
    diesel::insert_into(pd::table)
        .values((
            pd::proposal_id.eq(proposal_id),
            pd::department_id.eq(primary),
            pd::is_primary.eq(true),
        ))
        .execute(conn)?;
    for d in others.iter().filter(|d| **d != primary) {
        diesel::insert_into(pd::table)
            .values((
                pd::proposal_id.eq(proposal_id),
                pd::department_id.eq(*d),
                pd::is_primary.eq(false),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// (proposal id, department id, primary) for the given proposals.
pub fn departments_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, i64, bool)>> {
    pd::table
        .filter(pd::proposal_id.eq_any(ids))
        .select((pd::proposal_id, pd::department_id, pd::is_primary))
        .order((pd::proposal_id, pd::is_primary.desc(), pd::department_id))
        .load(conn)
}

/// Appends an event; returns its id.
pub fn add_event(conn: &mut AnyConnection, e: &NewProposalEvent) -> QueryResult<i64> {
    diesel::insert_into(proposal_events::table)
        .values(e)
        .returning(proposal_events::id)
        .get_result(conn)
}

/// Events of a proposal in order; internal ones only when asked.
pub fn events(
    conn: &mut AnyConnection,
    proposal_id: i64,
    with_internal: bool,
) -> QueryResult<Vec<ProposalEventRow>> {
    let mut q = proposal_events::table
        .filter(proposal_events::proposal_id.eq(proposal_id))
        .select(ProposalEventRow::as_select())
        .order(proposal_events::id)
        .into_boxed();
    if !with_internal {
        q = q.filter(proposal_events::internal.eq(false));
    }
    q.load(conn)
}

/// Events of many proposals (for statistics), in order.
pub fn events_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<ProposalEventRow>> {
    proposal_events::table
        .filter(proposal_events::proposal_id.eq_any(ids))
        .select(ProposalEventRow::as_select())
        .order(proposal_events::id)
        .load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct ProposalFilter {
    /// Restrict to one municipality (staff) …
    pub municipality_id: Option<i64>,
    /// … or to one partner's own proposals.
    pub partner_id: Option<i64>,
    /// Only proposals routed to this department (primary or other).
    pub routed_to: Option<i64>,
    pub states: Option<Vec<String>>,
    pub channel: Option<String>,
    pub policy_field: Option<String>,
    pub unassigned: bool,
    pub received_from: Option<chrono::NaiveDateTime>,
    pub received_to: Option<chrono::NaiveDateTime>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut AnyConnection, f: &ProposalFilter) -> QueryResult<Vec<ProposalRow>> {
    let mut q = proposals::table
        .select(ProposalRow::as_select())
        .order(proposals::id.desc())
        .limit(f.limit)
        .into_boxed();
    if let Some(m) = f.municipality_id {
        q = q.filter(proposals::municipality_id.eq(m));
    }
    if let Some(p) = f.partner_id {
        q = q.filter(proposals::partner_id.eq(p));
    }
    if let Some(d) = f.routed_to {
        q = q.filter(
            proposals::id.eq_any(
                pd::table
                    .filter(pd::department_id.eq(d))
                    .select(pd::proposal_id),
            ),
        );
    }
    if let Some(s) = &f.states {
        q = q.filter(proposals::state.eq_any(s.clone()));
    }
    if let Some(c) = &f.channel {
        q = q.filter(proposals::channel.eq(c.clone()));
    }
    if let Some(p) = &f.policy_field {
        q = q.filter(proposals::policy_field.eq(p.clone()));
    }
    if f.unassigned {
        q = q.filter(proposals::primary_department_id.is_null());
    }
    if let Some(t) = f.received_from {
        q = q.filter(proposals::received_at.ge(t));
    }
    if let Some(t) = f.received_to {
        q = q.filter(proposals::received_at.lt(t));
    }
    if let Some(b) = f.before_id {
        q = q.filter(proposals::id.lt(b));
    }
    q.load(conn)
}

pub fn rules_of(
    conn: &mut AnyConnection,
    municipality_id: i64,
) -> QueryResult<Vec<RoutingRuleRow>> {
    routing_rules::table
        .filter(routing_rules::municipality_id.eq(municipality_id))
        .select(RoutingRuleRow::as_select())
        .order(routing_rules::id)
        .load(conn)
}

pub fn insert_rule(
    conn: &mut AnyConnection,
    municipality_id: i64,
    department_id: i64,
    policy_field: Option<&str>,
    keyword: Option<&str>,
) -> QueryResult<RoutingRuleRow> {
    diesel::insert_into(routing_rules::table)
        .values((
            routing_rules::municipality_id.eq(municipality_id),
            routing_rules::department_id.eq(department_id),
            routing_rules::policy_field.eq(policy_field),
            routing_rules::keyword.eq(keyword),
            routing_rules::created_at.eq(super::now()),
        ))
        .returning(routing_rules::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            routing_rules::table
                .find(id)
                .select(RoutingRuleRow::as_select())
                .first(conn)
        })
}

pub fn delete_rule(conn: &mut AnyConnection, municipality_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(
        routing_rules::table.filter(
            routing_rules::id
                .eq(id)
                .and(routing_rules::municipality_id.eq(municipality_id)),
        ),
    )
    .execute(conn)
}

/// Ids after `after`, ascending, for walking the whole table.
pub fn ids_after(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<i64>> {
    proposals::table
        .filter(proposals::id.gt(after))
        .order(proposals::id)
        .limit(limit)
        .select(proposals::id)
        .load(conn)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    proposals::table.count().get_result(conn)
}
