//! Deadlines the desk chases: for each open proposal, the clock that runs now (the
//! department's answer to the desk, the first answer to the proposer, the decision), and
//! the lists of those overdue and due soon. Paused proposals are left out: their clocks
//! stand still.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::municipality_of;
use crate::domain::actor::Actor;
use crate::domain::calendar::{add_business_days, business_days_between};
use crate::domain::error::{AppError, AppResult};
use crate::domain::proposals::{Access, OPEN_STATES, ProposalView, local_date, views};
use crate::domain::vocab::{ProposalState, Role};
use crate::storage::models::ProposalRow;
use crate::storage::proposals::{ListOrder, ProposalFilter};
use crate::storage::{self, Db, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// The department's answer to the desk.
    Department,
    /// The first answer to the proposer.
    Proposer,
    /// The decision.
    Decision,
}

/// The running clocks of a proposal with their due dates.
pub fn running_clocks(p: &ProposalRow) -> AppResult<Vec<(Clock, NaiveDate)>> {
    let state = ProposalState::from_db(&p.state)?;
    if p.paused_at.is_some() || !OPEN_STATES.contains(&state) {
        return Ok(vec![]);
    }
    let mut out = vec![];
    if state == ProposalState::Routed
        && p.first_response_at.is_none()
        && let Some(d) = p.department_due_on
    {
        out.push((Clock::Department, d));
    }
    if p.first_response_at.is_none()
        && let Some(d) = p.proposer_due_on
    {
        out.push((Clock::Proposer, d));
    }
    if let Some(d) = p.decision_due_on {
        out.push((Clock::Decision, d));
    }
    Ok(out)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlineItem {
    pub clock: Clock,
    pub due_on: NaiveDate,
    /// Business days left; negative when overdue.
    pub business_days_left: i64,
    pub proposal: ProposalView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deadlines {
    pub today: NaiveDate,
    /// The oldest overdue clocks first, at most `limit`.
    pub overdue: Vec<DeadlineItem>,
    /// The soonest clocks first, at most `limit`.
    pub due_soon: Vec<DeadlineItem>,
    /// How many clocks are overdue in all (also beyond `limit`).
    pub overdue_total: usize,
    /// How many clocks are due soon in all.
    pub due_soon_total: usize,
}

/// How many items each list carries unless the caller asks for another number.
const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 1000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadlineQuery {
    /// "Due soon" means within this many business days; default 3.
    pub within: Option<i64>,
    /// Items per list, 1–1000; default 200 (the totals count them all).
    pub limit: Option<usize>,
    /// Deployment admins: which municipality.
    pub municipality: Option<String>,
}

/// The first date whose clocks no longer count as due soon: every date `d` from today
/// on with `business_days_between(today, d) <= within` lies before it.
fn soon_bound(today: NaiveDate, within: i64) -> NaiveDate {
    let last = add_business_days(today, u32::try_from(within).unwrap_or(0));
    add_business_days(last, 1)
}

/// Overdue and due-soon clocks of the open proposals the caller is responsible for.
pub fn deadlines(db: &Db, actor: &Actor, q: DeadlineQuery) -> AppResult<Deadlines> {
    compute(db, actor, q, true)
}

/// The due-soon clocks only (the console pages the overdue ones through
/// `proposals::find::overdue_queue`): `overdue` is left empty, and no view of an overdue
/// proposal is built.
pub fn due_soon(db: &Db, actor: &Actor, q: DeadlineQuery) -> AppResult<Deadlines> {
    compute(db, actor, q, false)
}

fn compute(db: &Db, actor: &Actor, q: DeadlineQuery, with_overdue: bool) -> AppResult<Deadlines> {
    let within = q.within.unwrap_or(3).clamp(0, 60);
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::field(
            "limit",
            "out_of_range",
            "must be between 1 and 1000",
        ));
    }
    db.read(|conn| {
        let m = municipality_of(conn, actor, q.municipality.as_deref())?;
        let staff = actor.require_staff()?;
        // No state filter: a running clock means an open proposal, and `overdue_before`
        // below selects only those. In the order of the index the pre-selection reads:
        // newest first by id, as it was, let PostgreSQL's generic plan walk the whole
        // table backwards by id (1.2 s per request at 200,000 proposals).
        let mut filter = ProposalFilter {
            municipality_id: Some(m),
            order: ListOrder::NextDue,
            limit: 100_000,
            ..Default::default()
        };
        let access = if staff.role == Role::Department {
            filter.routed_to = staff.department.map(|d| d.0).or(Some(-1));
            Access::Department
        } else {
            Access::Desk
        };
        let today = local_date(now());
        // Only proposals with a running clock due before the first business day that no
        // longer counts as soon (closed days in between count as soon: no business day
        // passes on them): the database leaves out the many whose clocks are far off or
        // stopped, and the loop below decides exactly.
        filter.overdue_before = Some(soon_bound(today, within));
        let rows = storage::proposals::list(conn, &filter)?;
        let mut overdue = vec![];
        let mut soon = vec![];
        for p in rows {
            for (clock, due) in running_clocks(&p)? {
                let left = business_days_between(today, due);
                if due < today {
                    if with_overdue {
                        overdue.push((clock, due, left, p.clone()));
                    }
                } else if left <= within {
                    soon.push((clock, due, left, p.clone()));
                }
            }
        }
        overdue.sort_by_key(|(_, due, _, p)| (*due, p.id));
        soon.sort_by_key(|(_, due, _, p)| (*due, p.id));
        let (overdue_total, due_soon_total) = (overdue.len(), soon.len());
        overdue.truncate(limit);
        soon.truncate(limit);
        // One batch of views per list, not one per item.
        let mut items =
            |list: Vec<(Clock, NaiveDate, i64, ProposalRow)>| -> AppResult<Vec<DeadlineItem>> {
                let rows = list.iter().map(|(_, _, _, p)| p.clone()).collect();
                let views = views(conn, rows, access, false)?;
                Ok(list
                    .into_iter()
                    .zip(views)
                    .map(|((clock, due_on, left, _), proposal)| DeadlineItem {
                        clock,
                        due_on,
                        business_days_left: left,
                        proposal,
                    })
                    .collect())
            };
        Ok(Deadlines {
            today,
            overdue: items(overdue)?,
            due_soon: items(soon)?,
            overdue_total,
            due_soon_total,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database's pre-selection never drops a clock the exact count keeps, whatever
    /// day of the week or the year (holidays, the year-end closure) it is asked on.
    #[test]
    fn the_soon_bound_keeps_every_clock_due_soon() {
        let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for offset in 0..120 {
            let today = start + chrono::TimeDelta::days(offset);
            for within in [0, 1, 3, 10, 60] {
                let bound = soon_bound(today, within);
                for ahead in 0..150 {
                    let due = today + chrono::TimeDelta::days(ahead);
                    if business_days_between(today, due) <= within {
                        assert!(due < bound, "{today} within {within}: {due} ≥ {bound}");
                    }
                }
            }
        }
    }
}
