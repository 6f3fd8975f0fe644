//! 所管外: the lead department hands a proposal back to the desk as not theirs, with a
//! reason. The proposal is unrouted again (所管未定): no lead or related department, no
//! department clock, and an assignee from a department loses it; a `returned` event
//! records who and why (internal: the proposer never reads it) and the desk staff are
//! told, all in one transaction. Related departments and the desk cannot return; the
//! desk re-routes as before.

use serde::Deserialize;

use super::workflow::{Event, act, body_text, log_event};
use super::{Access, ProposalView};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult, Message};
use crate::domain::ids::ProposalId;
use crate::domain::notifications;
use crate::domain::validate::Check;
use crate::domain::vocab::{EventKind, ProposalState, Role};
use crate::mail::links;
use crate::storage::{self, Db};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    /// Why the proposal is not the department's (required; for the desk only, never
    /// shown to the proposer).
    pub reason: String,
}

/// Hands the proposal back to the desk (所管外として返却).
pub fn give_back(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    input: ReturnInput,
) -> AppResult<ProposalView> {
    let mut c = Check::new();
    let reason = body_text(&mut c, "reason", &input.reason);
    c.finish()?;
    act(db, actor, id, &[Access::Department], |conn, p| {
        let lead = p.primary_department_id;
        let own = actor
            .staff()
            .filter(|s| s.role == Role::Department)
            .and_then(|s| s.department)
            .map(|d| d.0);
        let Some(department) = lead.filter(|l| own == Some(*l)) else {
            return Err(AppError::Forbidden(
                "only the lead department can return a proposal to the desk",
            ));
        };
        let from = ProposalState::from_db(&p.state)?;
        if !matches!(from, ProposalState::Routed | ProposalState::InDialogue) {
            return Err(AppError::Conflict(Message::new(
                format!("a proposal that is {} cannot be returned", from.as_str()),
                format!("「{}」の提案は窓口へ返せません。", from.label_ja()),
            )));
        }
        // Back to 受付済 unless a dialogue with the proposer has begun, which goes on.
        let to = if from == ProposalState::Routed {
            ProposalState::Received
        } else {
            from
        };
        let dropped = match p.assignee_id {
            Some(a) => storage::staff::find(conn, a)?
                .filter(|s| s.role == Role::Department.as_str())
                .map(|s| s.display_name),
            None => None,
        };
        if dropped.is_some() {
            p.assignee_id = None;
        }
        storage::proposals::clear_departments(conn, p.id)?;
        p.primary_department_id = None;
        p.department_due_on = None;
        p.state = to.as_str().to_owned();
        let event = log_event(
            conn,
            actor,
            p.id,
            Event {
                kind: EventKind::Returned,
                from: Some(from),
                to: Some(to),
                department: Some(department),
                body: Some(&reason),
                internal: true,
            },
        )?;
        if let Some(name) = dropped {
            super::assign::log_dropped(conn, actor, p, &name, "所管外として返却したため")?;
        }
        notifications::proposals::returned(conn, p, department, &reason, links::base(), event)
    })
}
