//! 担当者 (the assignee): who owns a proposal day to day. Eligible are the active desk
//! staff and admins of its municipality and the staff of its lead department; the desk
//! (any proposal of its municipality) and the lead department's staff (its proposals)
//! set, change and clear it. Each change is one transaction on the locked proposal row
//! with an internal event in the history. The proposer never sees the assignee.

use serde::Deserialize;

use super::workflow::{Event, act, log_event};
use super::{Access, Assignee, ProposalView, load};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::{ProposalId, StaffUserId};
use crate::domain::vocab::EventKind;
use crate::storage::models::ProposalRow;
use crate::storage::{self, AnyConnection, Db};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The staff user who owns the proposal from now on; `null` clears the assignee.
    pub assignee_id: Option<i64>,
}

/// Whether the caller may change the assignee: the desk, or staff of the lead
/// department (a related department may not).
fn may_assign(actor: &Actor, p: &ProposalRow, access: Access) -> AppResult<()> {
    let lead = actor
        .staff()
        .and_then(|s| s.department)
        .is_some_and(|d| Some(d.0) == p.primary_department_id);
    match access {
        Access::Desk => Ok(()),
        Access::Department if lead => Ok(()),
        Access::Department => Err(AppError::Forbidden(
            "only the desk or the lead department can assign this proposal",
        )),
        Access::Proposer => Err(AppError::Forbidden("the proposer cannot do this")),
    }
}

/// Staff who may own the proposal, by name.
fn eligible(conn: &mut AnyConnection, p: &ProposalRow) -> AppResult<Vec<Assignee>> {
    Ok(
        storage::staff::assignable(conn, p.municipality_id, p.primary_department_id)?
            .into_iter()
            .map(|s| Assignee {
                id: StaffUserId(s.id),
                name: s.display_name,
            })
            .collect(),
    )
}

/// Who the caller could make the assignee of this proposal; empty when the caller may
/// not assign it.
pub fn candidates(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<Vec<Assignee>> {
    db.read(|conn| {
        let (p, access) = load(conn, actor, id)?;
        if may_assign(actor, &p, access).is_err() {
            return Ok(vec![]);
        }
        eligible(conn, &p)
    })
}

/// Sets, changes or clears the assignee, with 「担当者を○○に変更」 in the history.
/// Setting the current assignee again changes nothing and records nothing.
pub fn assign(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    input: AssignInput,
) -> AppResult<ProposalView> {
    act(db, actor, id, ASSIGN_ACCESS, |conn, p| {
        assign_step(conn, actor, p, &input)
    })
}

/// Who may reach [`assign_step`]; it narrows departments to the lead one.
pub(super) const ASSIGN_ACCESS: &[Access] = &[Access::Desk, Access::Department];

/// The assignment of one locked proposal, in the caller's transaction.
pub(super) fn assign_step(
    conn: &mut AnyConnection,
    actor: &Actor,
    p: &mut ProposalRow,
    input: &AssignInput,
) -> AppResult<()> {
    let access = super::access(conn, actor, p)?;
    may_assign(actor, p, access)?;
    if p.assignee_id == input.assignee_id {
        return Ok(());
    }
    let text = match input.assignee_id {
        None => "担当者を外しました".to_owned(),
        Some(a) => {
            let who = eligible(conn, p)?
                .into_iter()
                .find(|s| s.id.0 == a)
                .ok_or_else(|| {
                    AppError::field_ja(
                        "assignee_id",
                        "not_eligible",
                        "the assignee must be desk staff of this municipality or staff of the lead department",
                        "担当者には、この自治体の窓口職員か主管課の職員を選んでください",
                    )
                })?;
            format!("担当者を{}に変更", who.name)
        }
    };
    p.assignee_id = input.assignee_id;
    log_event(
        conn,
        actor,
        p.id,
        Event::text(EventKind::Assigned, &text, true),
    )?;
    Ok(())
}

/// Who the caller could make the assignee of proposals of the municipality `code` in a
/// bulk action: the desk staff, and the staff of the caller's own department
/// (department staff) or of every department (the desk). Each row still checks its own
/// rule.
pub fn bulk_candidates(db: &Db, actor: &Actor, code: &str) -> AppResult<Vec<Assignee>> {
    let Some(s) = actor.staff() else {
        return Ok(vec![]);
    };
    db.read(|conn| {
        let Some(m) = storage::municipalities::by_code(conn, code)? else {
            return Ok(vec![]);
        };
        let municipality_id = m.id;
        if !s.serves(crate::domain::ids::MunicipalityId(municipality_id)) {
            return Ok(vec![]);
        }
        let mut out = vec![];
        let departments: Vec<Option<i64>> = match s.department {
            Some(d) => vec![Some(d.0)],
            None => storage::municipalities::departments_of(conn, municipality_id)?
                .into_iter()
                .map(|d| Some(d.id))
                .collect(),
        };
        for d in departments.into_iter().chain([None]) {
            for row in storage::staff::assignable(conn, municipality_id, d)? {
                if !out.iter().any(|a: &Assignee| a.id.0 == row.id) {
                    out.push(Assignee {
                        id: StaffUserId(row.id),
                        name: row.display_name,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(out)
    })
}

/// On routing to `lead`: an assignee from a department that no longer leads loses the
/// proposal (desk staff keep it). Returns the name of the assignee cleared, for the
/// history.
/// Records in the history that the 担当者 `name` was taken off the proposal, and why
/// (re-routing, 所管外): an internal line of its own kind.
pub(super) fn log_dropped(
    conn: &mut AnyConnection,
    actor: &Actor,
    p: &ProposalRow,
    name: &str,
    because: &str,
) -> AppResult<()> {
    let text = format!("{because}、担当者（{name}）を外しました");
    log_event(
        conn,
        actor,
        p.id,
        Event::text(EventKind::Assigned, &text, true),
    )?;
    Ok(())
}

pub(super) fn clear_if_not_lead(
    conn: &mut AnyConnection,
    p: &mut ProposalRow,
    lead: i64,
) -> AppResult<Option<String>> {
    let Some(a) = p.assignee_id else {
        return Ok(None);
    };
    let Some(staff) = storage::staff::find(conn, a)? else {
        p.assignee_id = None;
        return Ok(None);
    };
    if staff.role == "department" && staff.department_id != Some(lead) {
        p.assignee_id = None;
        return Ok(Some(staff.display_name));
    }
    Ok(None)
}
