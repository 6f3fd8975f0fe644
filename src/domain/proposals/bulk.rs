//! Bulk actions (一括操作) on proposals chosen in the inbox: route, assign, change the
//! state, mark as duplicates of one original. Each row goes through the single action's
//! own step (`workflow`, `assign`, `duplicates`) with its own permission check, lock,
//! events and notices; all rows share ONE transaction.
//!
//! All or nothing: when any row is refused (not visible to the caller, not the caller's
//! to change, in a state that does not allow the action, invalid for it), nothing is
//! changed and the answer lists every refused row with its reason — a desk that sends
//! 40 rows learns of all the problems at once, and a half-done batch never has to be
//! found and finished by hand. At most [`MAX_ROWS`] rows per action.

use serde::{Deserialize, Serialize};

use super::assign::{ASSIGN_ACCESS, AssignInput, assign_step};
use super::duplicates::{DUPLICATE_ACCESS, DuplicateInput, DuplicateOf, duplicate_step};
use super::workflow::{
    ROUTE_ACCESS, RouteInput, Transition, TransitionInput, act_on, route_note, route_step,
    transition_access, transition_step,
};
use super::{Access, ProposalView, receipt_number, views};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult, FieldError};
use crate::domain::ids::ProposalId;
use crate::storage::models::ProposalRow;
use crate::storage::{self, AnyConnection, Db};

/// The most rows one bulk action takes: a page of the inbox is 100, and 200 keeps one
/// transaction (locks, events, mail) short.
pub const MAX_ROWS: usize = 200;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// The proposals (ids), 1 to 200; a repeated id counts once.
    pub proposal_ids: Vec<i64>,
    pub action: BulkAction,
}

/// One action for every chosen proposal: `kind` names it, `input` holds the body of its
/// single-proposal route. (Adjacent, not internal, tagging: the inputs refuse unknown
/// fields, so a `kind` beside their own fields would make the documented schema one
/// that no body satisfies.)
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "input", rename_all = "snake_case")]
pub enum BulkAction {
    /// As `POST /proposals/{id}/route` (the desk).
    Route(RouteInput),
    /// As `POST /proposals/{id}/assign`.
    Assign(AssignInput),
    /// As `POST /proposals/{id}/transition` (declining needs its reason code and text).
    Transition(TransitionInput),
    /// As `POST /proposals/{id}/duplicate`: every row a duplicate of one original.
    Duplicate(DuplicateInput),
}

/// The action, checked at the edge.
pub enum Command {
    Route(RouteInput, Option<String>),
    Assign(AssignInput),
    Transition(Transition),
    Duplicate(DuplicateOf),
}

impl BulkAction {
    pub fn parse(self) -> AppResult<Command> {
        Ok(match self {
            BulkAction::Route(r) => {
                let note = route_note(&r)?;
                Command::Route(r, note)
            }
            BulkAction::Assign(a) => Command::Assign(a),
            BulkAction::Transition(t) => Command::Transition(t.parse()?),
            BulkAction::Duplicate(d) => Command::Duplicate(d.parse()?),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// How many proposals were changed (all that were sent).
    pub count: usize,
    /// Each as it is now (without its history).
    pub proposals: Vec<ProposalView>,
}

/// The chosen ids, checked: 1 to [`MAX_ROWS`], each once, in the order sent.
pub fn check_ids(ids: &[i64]) -> AppResult<Vec<i64>> {
    if ids.is_empty() {
        return Err(AppError::field_ja(
            "proposal_ids",
            "required",
            "choose at least one proposal",
            "処理する提案を選んでください",
        ));
    }
    if ids.len() > MAX_ROWS {
        return Err(AppError::field_ja(
            "proposal_ids",
            "too_many",
            format!(
                "at most {MAX_ROWS} proposals per action ({} sent)",
                ids.len()
            ),
            format!(
                "一度に処理できるのは{MAX_ROWS}件までです（{}件選ばれています）",
                ids.len()
            ),
        ));
    }
    let mut out: Vec<i64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    Ok(out)
}

/// Runs `command` on every proposal of `input`, in one transaction, all or nothing.
pub fn run(db: &Db, actor: &Actor, ids: &[i64], command: Command) -> AppResult<BulkResult> {
    match actor {
        Actor::Anonymous => return Err(AppError::Unauthenticated),
        Actor::Staff(_) => {}
        _ => return Err(AppError::Forbidden("bulk actions are for staff")),
    }
    let ids = check_ids(ids)?;
    // Rows are locked in id order, so two batches over the same rows cannot deadlock.
    let mut order: Vec<(usize, i64)> = ids.iter().copied().enumerate().collect();
    order.sort_by_key(|(_, id)| *id);
    db.write(|conn| {
        let mut refused: Vec<(usize, FieldError)> = vec![];
        let mut done: Vec<(usize, ProposalRow, Access)> = vec![];
        for (i, id) in order {
            match one(conn, actor, ProposalId(id), &command) {
                Ok((p, access)) => done.push((i, p, access)),
                Err(e) if refusal(&e) => refused.push((i, row_error(conn, i, id, &e)?)),
                Err(e) => return Err(e),
            }
        }
        if !refused.is_empty() {
            refused.sort_by_key(|(i, _)| *i);
            return Err(AppError::Invalid(
                refused.into_iter().map(|(_, e)| e).collect(),
            ));
        }
        done.sort_by_key(|(i, _, _)| *i);
        let count = done.len();
        let mut proposals = Vec::with_capacity(count);
        for (_, p, access) in done {
            proposals.extend(views(conn, vec![p], access, false)?);
        }
        Ok(BulkResult { count, proposals })
    })
}

/// One row: the single action's step on the locked proposal.
fn one(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: ProposalId,
    command: &Command,
) -> AppResult<(ProposalRow, Access)> {
    match command {
        Command::Route(input, note) => act_on(conn, actor, id, ROUTE_ACCESS, |conn, p| {
            route_step(conn, actor, p, input, note.as_deref())
        }),
        Command::Assign(input) => act_on(conn, actor, id, ASSIGN_ACCESS, |conn, p| {
            assign_step(conn, actor, p, input)
        }),
        Command::Transition(t) => act_on(conn, actor, id, transition_access(t.to()), |conn, p| {
            transition_step(conn, actor, p, t)
        }),
        Command::Duplicate(d) => act_on(conn, actor, id, DUPLICATE_ACCESS, |conn, p| {
            duplicate_step(conn, actor, p, d)
        }),
    }
}

/// Errors that refuse a row (and so the batch) rather than fail the request: anything
/// else (the database, the index) ends the batch at once.
fn refusal(e: &AppError) -> bool {
    matches!(
        e,
        AppError::NotFound(_)
            | AppError::Forbidden(_)
            | AppError::Conflict(_)
            | AppError::Invalid(_)
            | AppError::BadRequest(_)
    )
}

/// The refused row as a field error of `proposal_ids/<i>`: its receipt number and why,
/// in English and Japanese. A row the caller may not see is named by the id sent only,
/// so its existence does not leak.
fn row_error(conn: &mut AnyConnection, i: usize, id: i64, e: &AppError) -> AppResult<FieldError> {
    let field = format!("proposal_ids/{i}");
    let code = e.code().as_str();
    if let AppError::NotFound(_) = e {
        return Ok(FieldError::new(
            field,
            code,
            format!("{id}: no such proposal, or not yours to see"),
        )
        .ja(format!("ID {id}：見つからないか、操作できない提案です")));
    }
    let number = storage::proposals::find(conn, id)?
        .map(|p| receipt_number(p.receipt_year, p.receipt_seq))
        .unwrap_or_else(|| id.to_string());
    let (en, ja) = match e {
        AppError::Forbidden(m) => (
            (*m).to_owned(),
            "この提案にこの操作を行う権限がありません（主管課または窓口が行います）".to_owned(),
        ),
        AppError::Conflict(m) => (
            m.en.clone(),
            m.ja.clone()
                .unwrap_or_else(|| "今の状態ではこの操作はできません".to_owned()),
        ),
        AppError::Invalid(fields) => (
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            fields
                .iter()
                .map(|f| {
                    f.message_ja
                        .clone()
                        .unwrap_or_else(|| format!("{}の値を確認してください", f.field))
                })
                .collect::<Vec<_>>()
                .join("、"),
        ),
        other => (other.to_string(), "この操作はできません".to_owned()),
    };
    Ok(FieldError::new(field, code, format!("{number}: {en}")).ja(format!("{number}：{ja}")))
}
