//! The proposal's life after intake: routing to departments, notes, replies, state
//! changes, pauses and extensions. The allowed transitions are in `next_states`, the one
//! place that decides them; every action writes an event to the audit trail in the same
//! transaction as the change.

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Access, ProposalView, load, local_date, views};
use crate::domain::actor::Actor;
use crate::domain::calendar::{add_business_days, business_days_between};
use crate::domain::error::{AppError, AppResult, Message};
use crate::domain::ids::ProposalId;
use crate::domain::notifications;
use crate::domain::validate::Check;
use crate::domain::vocab::{DeclineReason, EventKind, ProposalState, Role};
use crate::mail::links;
use crate::storage::models::{NewProposalEvent, ProposalRow};
use crate::storage::{self, AnyConnection, Db, now};

/// The states a proposal may move to from `from`.
pub fn next_states(from: ProposalState) -> &'static [ProposalState] {
    use ProposalState::*;
    match from {
        Received => &[Routed, Declined, Withdrawn],
        Routed => &[InDialogue, Adopted, Declined, Withdrawn],
        InDialogue => &[Adopted, Declined, Withdrawn],
        Adopted | Declined | Withdrawn => &[],
    }
}

fn check_transition(from: ProposalState, to: ProposalState) -> AppResult<()> {
    if next_states(from).contains(&to) {
        return Ok(());
    }
    let allowed: Vec<&str> = next_states(from).iter().map(|s| s.as_str()).collect();
    let allowed_ja: Vec<&str> = next_states(from).iter().map(|s| s.label_ja()).collect();
    Err(AppError::Conflict(if allowed.is_empty() {
        Message::new(
            format!(
                "the proposal is {} ({}), a final state; it cannot become {}",
                from.as_str(),
                from.label_ja(),
                to.as_str()
            ),
            format!(
                "この提案は「{}」で完了しているため、「{}」にはできません。",
                from.label_ja(),
                to.label_ja()
            ),
        )
    } else {
        Message::new(
            format!(
                "a proposal that is {} cannot become {}; it can become: {}",
                from.as_str(),
                to.as_str(),
                allowed.join(", ")
            ),
            format!(
                "「{}」の提案は「{}」にできません。変更できる状態：{}",
                from.label_ja(),
                to.label_ja(),
                allowed_ja.join("、")
            ),
        )
    }))
}

/// Business days the department has to answer the desk after routing: the proposer's
/// target less two days for the desk to reply, but at least two.
fn department_days(first_response_days: i32) -> u32 {
    first_response_days.saturating_sub(2).max(2).unsigned_abs()
}

pub(super) struct Event<'a> {
    pub(super) kind: EventKind,
    pub(super) from: Option<ProposalState>,
    pub(super) to: Option<ProposalState>,
    pub(super) department: Option<i64>,
    pub(super) body: Option<&'a str>,
    pub(super) internal: bool,
}

impl<'a> Event<'a> {
    /// An event that records only a text (a note, a reply, a pause …).
    pub(super) fn text(kind: EventKind, body: &'a str, internal: bool) -> Self {
        Event {
            kind,
            from: None,
            to: None,
            department: None,
            body: Some(body),
            internal,
        }
    }
}

/// Appends an event to the audit trail; returns its id.
pub(super) fn log_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    proposal: i64,
    e: Event,
) -> AppResult<i64> {
    Ok(storage::proposals::add_event(
        conn,
        &NewProposalEvent {
            proposal_id: proposal,
            kind: e.kind.as_str(),
            actor_staff_id: actor.staff().map(|s| s.id.0),
            actor_partner_id: actor.partner().map(|p| p.0),
            from_state: e.from.map(ProposalState::as_str),
            to_state: e.to.map(ProposalState::as_str),
            department_id: e.department,
            body: e.body,
            internal: e.internal,
            created_at: now(),
        },
    )?)
}

/// Runs `f` on a proposal the caller may act on with one of `allowed` accesses, saves it
/// and returns the caller's view. The proposal's row is locked before it is read, so
/// parallel actions on one proposal run one after the other, each on the state the
/// previous one left: of two final transitions only the first succeeds, and a route and
/// a reply sent at once both keep their effect.
pub(super) fn act<R>(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    allowed: &[Access],
    f: impl FnOnce(&mut AnyConnection, &mut ProposalRow) -> AppResult<R>,
) -> AppResult<ProposalView> {
    db.write(|conn| {
        let (p, access) = act_on(conn, actor, id, allowed, f)?;
        views(conn, vec![p], access, true)?
            .pop()
            .ok_or(AppError::NotFound("proposal"))
    })
}

/// [`act`] inside a transaction the caller owns (bulk actions run many in one): locks,
/// loads and checks the proposal, runs `f` and saves the row; returns it with the
/// caller's access.
pub(super) fn act_on<R>(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: ProposalId,
    allowed: &[Access],
    f: impl FnOnce(&mut AnyConnection, &mut ProposalRow) -> AppResult<R>,
) -> AppResult<(ProposalRow, Access)> {
    storage::proposals::lock(conn, id.0)?;
    let (mut p, access) = load(conn, actor, id)?;
    if !allowed.contains(&access) {
        return Err(AppError::Forbidden(match access {
            Access::Proposer => "the proposer cannot do this",
            Access::Department => "only the desk can do this",
            Access::Desk => "the desk cannot do this",
        }));
    }
    f(conn, &mut p)?;
    p.updated_at = now();
    storage::proposals::save(conn, &p)?;
    Ok((p, access))
}

pub(super) fn body_text(c: &mut Check, field: &str, v: &str) -> String {
    c.text(field, v, 10_000, false)
}

impl TextInput {
    /// The body, checked as every text of the audit trail is.
    fn checked(&self) -> AppResult<String> {
        let mut c = Check::new();
        let body = body_text(&mut c, "body", &self.body);
        c.finish()?;
        Ok(body)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    pub primary_department_id: i64,
    #[serde(default)]
    pub other_department_ids: Vec<i64>,
    /// Why this department (internal).
    pub note: Option<String>,
}

/// Routes a proposal to its primary department (and others); routing again re-routes.
pub fn route(db: &Db, actor: &Actor, id: ProposalId, input: RouteInput) -> AppResult<ProposalView> {
    let note = route_note(&input)?;
    act(db, actor, id, ROUTE_ACCESS, |conn, p| {
        route_step(conn, actor, p, &input, note.as_deref())
    })
}

/// Who may route: the desk.
pub(super) const ROUTE_ACCESS: &[Access] = &[Access::Desk];

/// The routing note, checked as every text of the audit trail is; `None` when blank.
pub(super) fn route_note(input: &RouteInput) -> AppResult<Option<String>> {
    let mut c = Check::new();
    let note = input
        .note
        .as_deref()
        .map(|n| body_text(&mut c, "note", n))
        .filter(|n| !n.is_empty());
    c.finish()?;
    Ok(note)
}

/// Routing one locked proposal: the departments, the department's clock, the event and
/// the routing notice, all in the caller's transaction.
pub(super) fn route_step(
    conn: &mut AnyConnection,
    actor: &Actor,
    p: &mut ProposalRow,
    input: &RouteInput,
    note: Option<&str>,
) -> AppResult<()> {
    let from = ProposalState::from_db(&p.state)?;
    if !matches!(
        from,
        ProposalState::Received | ProposalState::Routed | ProposalState::InDialogue
    ) {
        return Err(AppError::Conflict(Message::new(
            format!("a proposal that is {} cannot be routed", from.as_str()),
            format!("「{}」の提案は回付できません。", from.label_ja()),
        )));
    }
    let mut ids = vec![input.primary_department_id];
    ids.extend(input.other_department_ids.iter().copied());
    for (i, d) in ids.iter().enumerate() {
        let ok = storage::municipalities::department(conn, *d)?
            .is_some_and(|row| row.municipality_id == p.municipality_id);
        if !ok {
            let field = if i == 0 {
                "primary_department_id".to_owned()
            } else {
                format!("other_department_ids/{}", i - 1)
            };
            return Err(AppError::field(
                field,
                "not_found",
                "no such department in this municipality",
            ));
        }
    }
    let first = p.primary_department_id.is_none();
    let dropped = super::assign::clear_if_not_lead(conn, p, input.primary_department_id)?;
    // A department named twice is routed to once (the table's key would refuse it).
    let mut others = input.other_department_ids.clone();
    others.sort_unstable();
    others.dedup();
    storage::proposals::set_departments(conn, p.id, input.primary_department_id, &others)?;
    let m = storage::municipalities::by_id(conn, p.municipality_id)?;
    let today = local_date(now());
    p.primary_department_id = Some(input.primary_department_id);
    p.department_due_on = Some(add_business_days(
        today,
        department_days(m.first_response_days),
    ));
    let to = if from == ProposalState::Received {
        ProposalState::Routed
    } else {
        from
    };
    if first {
        p.routed_at = Some(now());
    }
    p.state = to.as_str().to_owned();
    let kind = if first {
        EventKind::Routed
    } else {
        EventKind::Rerouted
    };
    let event = log_event(
        conn,
        actor,
        p.id,
        Event {
            kind,
            from: Some(from),
            to: Some(to),
            department: Some(input.primary_department_id),
            body: note,
            internal: true,
        },
    )?;
    if let Some(name) = dropped {
        super::assign::log_dropped(conn, actor, p, &name, "主管課の変更により")?;
    }
    notifications::proposals::routed(
        conn,
        p,
        input.primary_department_id,
        &others,
        note,
        links::base(),
        event,
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    pub body: String,
}

/// An internal note: staff only, never shown to the proposer.
pub fn add_note(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    input: TextInput,
) -> AppResult<ProposalView> {
    let body = input.checked()?;
    act(
        db,
        actor,
        id,
        &[Access::Desk, Access::Department],
        |conn, p| log_event(conn, actor, p.id, Event::text(EventKind::Note, &body, true)),
    )
}

/// A message to the proposer; the first one stops the first-response clock.
pub fn reply(db: &Db, actor: &Actor, id: ProposalId, input: TextInput) -> AppResult<ProposalView> {
    let body = input.checked()?;
    act(
        db,
        actor,
        id,
        &[Access::Desk, Access::Department],
        |conn, p| {
            if p.first_response_at.is_none() {
                p.first_response_at = Some(now());
            }
            let event = log_event(
                conn,
                actor,
                p.id,
                Event::text(EventKind::Reply, &body, false),
            )?;
            notifications::proposals::reply(conn, p, &body, event)
        },
    )
}

/// A message from the proposer to the desk.
pub fn message_from_proposer(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    input: TextInput,
) -> AppResult<ProposalView> {
    let body = input.checked()?;
    act(db, actor, id, &[Access::Proposer], |conn, p| {
        log_event(
            conn,
            actor,
            p.id,
            Event::text(EventKind::Message, &body, false),
        )
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// `in_dialogue`, `adopted`, `declined` or `withdrawn`.
    pub to: String,
    /// Required to decline: out_of_scope, promotion_only, duplicate, not_feasible_now, no_budget, other.
    pub reason_code: Option<String>,
    /// Required to decline: the reasons, sent to the proposer.
    pub reason: Option<String>,
    /// Anything else, shown to the proposer with the change.
    pub note: Option<String>,
}

/// A checked change of state: the words parsed, the texts cleaned. Made only by
/// `TransitionInput::parse`, at the edge.
#[derive(Debug, Clone)]
pub struct Transition {
    to: ProposalState,
    reason_code: Option<DeclineReason>,
    reason: Option<String>,
    note: Option<String>,
}

impl Transition {
    /// The state it moves to.
    pub fn to(&self) -> ProposalState {
        self.to
    }

    /// Declining as a duplicate (`duplicates`): the reasons are kyoso's own sentence to
    /// the proposer, the note the staff's (checked by the caller).
    pub(super) fn duplicate(reason: String, note: Option<String>) -> Transition {
        Transition {
            to: ProposalState::Declined,
            reason_code: Some(DeclineReason::Duplicate),
            reason: Some(reason),
            note,
        }
    }
}

impl TransitionInput {
    /// Parses the words and checks the texts; every field error at once.
    pub fn parse(self) -> AppResult<Transition> {
        let input = self;
        let mut c = Check::new();
        let to = c.one_of(
            "to",
            &input.to,
            ProposalState::parse,
            "in_dialogue, adopted, declined, withdrawn",
        );
        if matches!(
            to,
            Some(ProposalState::Received) | Some(ProposalState::Routed)
        ) {
            c.push(
                "to",
                "unknown_value",
                "use the route action to route; received is where proposals start",
            );
        }
        let reason_code = input.reason_code.as_deref().and_then(|r| {
            c.one_of(
                "reason_code",
                r,
                DeclineReason::parse,
                &DeclineReason::expected(),
            )
        });
        let reason = input
            .reason
            .as_deref()
            .map(|r| body_text(&mut c, "reason", r))
            .filter(|r| !r.is_empty());
        let note = input
            .note
            .as_deref()
            .map(|n| body_text(&mut c, "note", n))
            .filter(|n| !n.is_empty());
        if to == Some(ProposalState::Declined) {
            if input.reason_code.is_none() {
                c.push_ja(
                    "reason_code",
                    "required",
                    "declining needs a reason code",
                    "選んでください",
                );
            }
            if reason.is_none() {
                c.push_ja(
                    "reason",
                    "required",
                    "declining needs reasons, which are sent to the proposer",
                    "提案者に送る理由を書いてください",
                );
            }
        }
        c.finish()?;
        Ok(Transition {
            to: Check::checked(to, "to")?,
            reason_code,
            reason,
            note,
        })
    }
}

/// Moves a proposal to another state. Declining needs a reason the proposer is sent;
/// the proposer may only withdraw.
pub fn transition(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    command: Transition,
) -> AppResult<ProposalView> {
    act(db, actor, id, transition_access(command.to), |conn, p| {
        transition_step(conn, actor, p, &command)
    })
}

/// Who may move a proposal to `to`: the proposer only withdraws.
pub(super) fn transition_access(to: ProposalState) -> &'static [Access] {
    if to == ProposalState::Withdrawn {
        &[Access::Desk, Access::Proposer]
    } else {
        &[Access::Desk, Access::Department]
    }
}

/// Only the lead department (or the desk) decides; a related department sees the
/// proposal and may note and reply, but the state is not its to change.
pub(super) fn check_decides(actor: &Actor, p: &ProposalRow) -> AppResult<()> {
    if let Some(s) = actor.staff()
        && s.role == Role::Department
        && s.department.map(|d| d.0) != p.primary_department_id
    {
        return Err(AppError::Forbidden(
            "only the lead department or the desk changes the state",
        ));
    }
    Ok(())
}

/// One change of state on a locked proposal: the row, the event and the proposer's
/// status notice, in the caller's transaction. Returns the event's id.
pub(super) fn transition_step(
    conn: &mut AnyConnection,
    actor: &Actor,
    p: &mut ProposalRow,
    command: &Transition,
) -> AppResult<i64> {
    let Transition {
        to,
        reason_code,
        reason,
        note,
    } = command.clone();
    check_decides(actor, p)?;
    let from = ProposalState::from_db(&p.state)?;
    check_transition(from, to)?;
    p.state = to.as_str().to_owned();
    if to == ProposalState::Declined {
        p.decline_reason_code = reason_code.map(|r| r.as_str().to_owned());
        p.decline_reason_text = reason.clone();
    }
    if matches!(
        to,
        ProposalState::Adopted | ProposalState::Declined | ProposalState::Withdrawn
    ) {
        p.decided_at = Some(now());
        p.paused_at = None;
    }
    // A decision or the start of dialogue is an answer to the proposer.
    if p.first_response_at.is_none() && actor.staff().is_some() {
        p.first_response_at = Some(now());
    }
    let text = match (&reason, &note) {
        (Some(r), Some(n)) => Some(format!("{r}\n\n{n}")),
        (Some(r), None) => Some(r.clone()),
        (None, n) => n.clone(),
    };
    let event = log_event(
        conn,
        actor,
        p.id,
        Event {
            kind: EventKind::StateChanged,
            from: Some(from),
            to: Some(to),
            department: None,
            body: text.as_deref(),
            internal: false,
        },
    )?;
    notifications::proposals::status(conn, p, to, text.as_deref(), event)?;
    Ok(event)
}

/// The desk waits for the proposer (資料待ち): the clocks stop until `resume`.
pub fn pause(db: &Db, actor: &Actor, id: ProposalId, input: TextInput) -> AppResult<ProposalView> {
    let body = input.checked()?;
    act(
        db,
        actor,
        id,
        &[Access::Desk, Access::Department],
        |conn, p| {
            if p.paused_at.is_some() {
                return Err(AppError::Conflict(Message::new(
                    "the clocks are already paused",
                    "期限はすでに止めてあります。",
                )));
            }
            if next_states(ProposalState::from_db(&p.state)?).is_empty() {
                return Err(AppError::Conflict(Message::new(
                    "a decided proposal has no clocks to pause",
                    "結論の出た提案には止める期限がありません。",
                )));
            }
            p.paused_at = Some(now());
            log_event(
                conn,
                actor,
                p.id,
                Event::text(EventKind::Paused, &body, false),
            )
        },
    )
}

/// Ends a pause: every open due date moves by the business days the pause lasted.
pub fn resume(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<ProposalView> {
    act(
        db,
        actor,
        id,
        &[Access::Desk, Access::Department],
        |conn, p| {
            let since = p.paused_at.ok_or_else(|| {
                AppError::Conflict(Message::new(
                    "the clocks are not paused",
                    "期限は止まっていません。",
                ))
            })?;
            let days = business_days_between(local_date(since), local_date(now())).max(0) as u32;
            let shift = |d: Option<NaiveDate>| d.map(|d| add_business_days(d, days));
            p.department_due_on = shift(p.department_due_on);
            if p.first_response_at.is_none() {
                p.proposer_due_on = shift(p.proposer_due_on);
            }
            p.decision_due_on = shift(p.decision_due_on);
            p.paused_at = None;
            let text = format!("期限を{days}開庁日延長しました");
            log_event(
                conn,
                actor,
                p.id,
                Event::text(EventKind::Resumed, &text, false),
            )
        },
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendInput {
    /// `proposer` (first answer), `decision` or `department` (internal).
    pub clock: String,
    pub until: NaiveDate,
    /// Required; shown to the proposer unless the clock is the department's.
    pub reason: String,
}

/// Extends a due date, only with a recorded reason.
pub fn extend(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    input: ExtendInput,
) -> AppResult<ProposalView> {
    let mut c = Check::new();
    let reason = body_text(&mut c, "reason", &input.reason);
    if !matches!(input.clock.as_str(), "proposer" | "decision" | "department") {
        c.push(
            "clock",
            "unknown_value",
            "must be one of: proposer, decision, department",
        );
    }
    crate::domain::calendar::check_date(&mut c, "until", Some(input.until));
    c.finish()?;
    act(db, actor, id, &[Access::Desk], |conn, p| {
        let slot = match input.clock.as_str() {
            "proposer" => &mut p.proposer_due_on,
            "decision" => &mut p.decision_due_on,
            _ => &mut p.department_due_on,
        };
        if slot.is_some_and(|d| input.until <= d) {
            return Err(AppError::field_ja(
                "until",
                "out_of_range",
                "an extension must move the due date later",
                "延長後の期限は今の期限より後の日にしてください",
            ));
        }
        *slot = Some(input.until);
        let text = format!("期限を{}まで延長: {reason}", input.until);
        let internal = input.clock == "department";
        log_event(
            conn,
            actor,
            p.id,
            Event::text(EventKind::Extended, &text, internal),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_go_nowhere_and_received_cannot_be_adopted_directly() {
        for s in [
            ProposalState::Adopted,
            ProposalState::Declined,
            ProposalState::Withdrawn,
        ] {
            assert!(next_states(s).is_empty());
        }
        assert!(check_transition(ProposalState::Received, ProposalState::Adopted).is_err());
        assert!(check_transition(ProposalState::Routed, ProposalState::InDialogue).is_ok());
        assert!(check_transition(ProposalState::Declined, ProposalState::Adopted).is_err());
    }
}
