//! Queries on proposals, their departments, events, receipt counters and the desk's
//! routing rules.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};

use super::AnyConnection;
use super::models::{NewProposal, NewProposalEvent, ProposalEventRow, ProposalRow, RoutingRuleRow};
use super::schema::{
    idempotency_keys, proposal_departments as pd, proposal_duplicate_links as links,
    proposal_events, proposals, routing_rules,
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
            proposals::assignee_id.eq(p.assignee_id),
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

/// Unroutes a proposal: no department, lead or related, owns it any more (所管外).
pub fn clear_departments(conn: &mut AnyConnection, proposal_id: i64) -> QueryResult<()> {
    diesel::delete(pd::table.filter(pd::proposal_id.eq(proposal_id))).execute(conn)?;
    Ok(())
}

/// A proposal of a municipality by its receipt number (year and sequence).
pub fn by_receipt(
    conn: &mut AnyConnection,
    municipality_id: i64,
    year: i32,
    seq: i32,
) -> QueryResult<Option<ProposalRow>> {
    proposals::table
        .filter(proposals::municipality_id.eq(municipality_id))
        .filter(proposals::receipt_year.eq(year))
        .filter(proposals::receipt_seq.eq(seq))
        .select(ProposalRow::as_select())
        .first(conn)
        .optional()
}

/// The original a proposal was closed as a duplicate of (重複), if any.
pub fn duplicate_of(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<i64>> {
    links::table
        .find(id)
        .select(links::duplicate_of_id)
        .first::<Option<i64>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Records the original of a duplicate.
pub fn set_duplicate_of(conn: &mut AnyConnection, id: i64, original: i64) -> QueryResult<()> {
    diesel::update(links::table.find(id))
        .set(links::duplicate_of_id.eq(Some(original)))
        .execute(conn)?;
    Ok(())
}

/// The proposals closed as duplicates of `original`, oldest first.
pub fn duplicates_of(conn: &mut AnyConnection, original: i64) -> QueryResult<Vec<ProposalRow>> {
    let ids: Vec<i64> = links::table
        .filter(links::duplicate_of_id.eq(original))
        .select(links::id)
        .order(links::id)
        .load(conn)?;
    proposals::table
        .filter(proposals::id.eq_any(ids))
        .select(ProposalRow::as_select())
        .order(proposals::id)
        .load(conn)
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
/// Events of `kinds` on municipality `m`'s proposals made in `[from, to)`, with the
/// time their proposal was received, in id order (the weekly report's routings and
/// decisions).
pub fn events_between(
    conn: &mut AnyConnection,
    m: i64,
    kinds: &[&str],
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> QueryResult<Vec<(ProposalEventRow, chrono::NaiveDateTime)>> {
    proposal_events::table
        .inner_join(proposals::table)
        .filter(proposals::municipality_id.eq(m))
        .filter(proposal_events::kind.eq_any(kinds.to_vec()))
        .filter(proposal_events::created_at.ge(from))
        .filter(proposal_events::created_at.lt(to))
        .select((ProposalEventRow::as_select(), proposals::received_at))
        .order(proposal_events::id)
        .load(conn)
}

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
    /// Only proposals answering this need.
    pub need_id: Option<i64>,
    pub states: Option<Vec<String>>,
    pub channel: Option<String>,
    pub policy_field: Option<String>,
    pub unassigned: bool,
    /// Only proposals this staff user owns (担当者) …
    pub assignee: Option<i64>,
    /// … or only proposals nobody owns.
    pub no_assignee: bool,
    /// Only open proposals whose clocks are paused (資料待ち).
    pub paused: bool,
    pub received_from: Option<chrono::NaiveDateTime>,
    pub received_to: Option<chrono::NaiveDateTime>,
    /// A text search: proposals matching any of its parts.
    pub text: Option<TextMatch>,
    /// Only proposals with a running clock due before this date (期限超過): open, not
    /// paused, and the department's answer (while routed and unanswered), the first
    /// answer (while unanswered) or the decision due before it. Answered by the
    /// generated column `next_due_on`, the SQL twin of
    /// `domain::desk::deadlines::running_clocks`, through an index led by the
    /// municipality.
    pub overdue_before: Option<chrono::NaiveDate>,
    pub before_id: Option<i64>,
    pub order: ListOrder,
    /// Rows skipped before the first one returned (page numbers; 0 with a cursor).
    pub offset: i64,
    pub limit: i64,
}

/// What a text search matches: ids the search index found for the words, a receipt
/// number (year and sequence, or the sequence of any year) and a part of the
/// submitter's name or organisation (not in the index: the index holds the text only).
#[derive(Debug, Default, Clone)]
pub struct TextMatch {
    pub ids: Vec<i64>,
    pub receipt_year: Option<i32>,
    pub receipt_seq: Option<i32>,
    /// Already lower-cased; matched as a substring.
    pub submitter: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// The order of a list. Every order ends with the id, so pages never overlap or skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// Newest first by id (the API's cursor order).
    #[default]
    IdDesc,
    Received(Direction),
    /// By the first answer's due date (初回回答期限); proposals without one last.
    ProposerDue(Direction),
    /// By the department's due date (所管課の回答期限); proposals without one last.
    DepartmentDue(Direction),
    /// By the state's place in the workflow (受付済 … 取下げ).
    State(Direction),
    /// By the lead department's name; unassigned last.
    Department(Direction),
    /// By the first running clock's due date, then the id: the order of the index
    /// `(municipality_id, next_due_on, id)`, so that the deadlines' pre-selection reads
    /// only the index range it needs, whatever plan PostgreSQL caches.
    NextDue,
}

type Backend = <AnyConnection as diesel::Connection>::Backend;
type Boxed<'a> = proposals::BoxedQuery<'a, Backend>;
type Condition<'a> =
    Box<dyn BoxableExpression<proposals::table, Backend, SqlType = diesel::sql_types::Bool> + 'a>;

/// `LIKE` pattern for a substring, with the wildcards of the text escaped.
fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn text_condition<'a>(t: &TextMatch) -> Condition<'a> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let mut c: Condition<'a> = Box::new(proposals::id.eq_any(t.ids.clone()));
    if let Some(seq) = t.receipt_seq {
        c = match t.receipt_year {
            Some(y) => Box::new(
                c.or(proposals::receipt_seq
                    .eq(seq)
                    .and(proposals::receipt_year.eq(y))),
            ),
            None => Box::new(c.or(proposals::receipt_seq.eq(seq))),
        };
    }
    if let Some(s) = &t.submitter {
        let pattern = contains_pattern(s);
        // lower() folds ASCII on SQLite and all letters on PostgreSQL; Japanese has no
        // case. The same text on both backends.
        c = Box::new(
            c.or(sql::<Bool>("(lower(submitter_name) LIKE ")
                .bind::<Text, _>(pattern.clone())
                .sql(" ESCAPE '\\' OR lower(coalesce(submitter_org, '')) LIKE ")
                .bind::<Text, _>(pattern)
                .sql(" ESCAPE '\\')")),
        );
    }
    c
}

/// The filters of `f` on a boxed query (no order, no page).
fn filtered<'a>(f: &ProposalFilter) -> Boxed<'a> {
    let mut q = proposals::table.into_boxed();
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
    if let Some(n) = f.need_id {
        q = q.filter(proposals::need_id.eq(n));
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
    if let Some(a) = f.assignee {
        q = q.filter(proposals::assignee_id.eq(a));
    }
    if f.no_assignee {
        q = q.filter(proposals::assignee_id.is_null());
    }
    if f.paused {
        q = q.filter(
            proposals::paused_at
                .is_not_null()
                .and(proposals::state.eq_any(vec!["received", "routed", "in_dialogue"])),
        );
    }
    if let Some(t) = f.received_from {
        q = q.filter(proposals::received_at.ge(t));
    }
    if let Some(t) = f.received_to {
        q = q.filter(proposals::received_at.lt(t));
    }
    if let Some(t) = &f.text {
        q = q.filter(text_condition(t));
    }
    if let Some(before) = f.overdue_before {
        // `next_due_on` is a generated column (migration 2026-12-08-150000): the first
        // running clock's due date, NULL when no clock runs. Not in `schema::proposals`,
        // which diesel caps at 32 columns.
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("proposals.next_due_on < ")
                .bind::<diesel::sql_types::Date, _>(before),
        );
    }
    if let Some(b) = f.before_id {
        q = q.filter(proposals::id.lt(b));
    }
    q
}

/// Orders a boxed query. Nullable keys sort their NULLs last on both backends (by
/// `IS NULL` first), which PostgreSQL and SQLite would otherwise place differently.
fn ordered<'a>(q: Boxed<'a>, order: ListOrder) -> Boxed<'a> {
    use Direction::{Asc, Desc};
    use diesel::dsl::sql;
    use diesel::sql_types::{Integer, Nullable, Text};
    match order {
        ListOrder::IdDesc => q.order(proposals::id.desc()),
        ListOrder::Received(Asc) => q.order((proposals::received_at.asc(), proposals::id.asc())),
        ListOrder::Received(Desc) => q.order((proposals::received_at.desc(), proposals::id.desc())),
        ListOrder::ProposerDue(d) => {
            let q = q.order(proposals::proposer_due_on.is_null());
            match d {
                Asc => q.then_order_by((proposals::proposer_due_on.asc(), proposals::id.asc())),
                Desc => q.then_order_by((proposals::proposer_due_on.desc(), proposals::id.desc())),
            }
        }
        ListOrder::DepartmentDue(d) => {
            let q = q.order(proposals::department_due_on.is_null());
            match d {
                Asc => q.then_order_by((proposals::department_due_on.asc(), proposals::id.asc())),
                Desc => {
                    q.then_order_by((proposals::department_due_on.desc(), proposals::id.desc()))
                }
            }
        }
        ListOrder::State(d) => {
            // The workflow's order, not the codes' alphabet.
            let rank = || {
                sql::<Integer>(
                    "(CASE proposals.state WHEN 'received' THEN 0 WHEN 'routed' THEN 1 \
                     WHEN 'in_dialogue' THEN 2 WHEN 'adopted' THEN 3 WHEN 'declined' THEN 4 \
                     ELSE 5 END)",
                )
            };
            match d {
                Asc => q.order((rank().asc(), proposals::id.asc())),
                Desc => q.order((rank().desc(), proposals::id.desc())),
            }
        }
        ListOrder::NextDue => q.order((
            sql::<Nullable<diesel::sql_types::Date>>("proposals.next_due_on").asc(),
            proposals::id.asc(),
        )),
        ListOrder::Department(d) => {
            let name = || {
                sql::<Nullable<Text>>(
                    "(SELECT departments.name FROM departments \
                     WHERE departments.id = proposals.primary_department_id)",
                )
            };
            let q = q.order(proposals::primary_department_id.is_null());
            match d {
                Asc => q.then_order_by((name().asc(), proposals::id.asc())),
                Desc => q.then_order_by((name().desc(), proposals::id.desc())),
            }
        }
    }
}

pub fn list(conn: &mut AnyConnection, f: &ProposalFilter) -> QueryResult<Vec<ProposalRow>> {
    let mut q = ordered(filtered(f), f.order)
        .select(ProposalRow::as_select())
        .limit(f.limit);
    if f.offset > 0 {
        q = q.offset(f.offset);
    }
    q.load(conn)
}

/// How many proposals the filter matches (its order and page aside).
pub fn count_filtered(conn: &mut AnyConnection, f: &ProposalFilter) -> QueryResult<i64> {
    filtered(f).count().get_result(conn)
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
