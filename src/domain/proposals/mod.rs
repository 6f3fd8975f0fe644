//! Proposals (提案): every one is received first, numbered, routed to its department and
//! answered. This module holds the views and who may see what; `intake` receives,
//! `workflow` moves a proposal through its states, `suggest` proposes departments,
//! `duplicates` closes repeats, `returns` hands one back to the desk (所管外) and `bulk`
//! runs one action over many in one transaction.

pub mod assign;
pub mod bulk;
pub mod duplicates;
pub mod export;
pub mod find;
pub mod intake;
pub mod lookup;
pub mod returns;
pub mod suggest;
pub mod workflow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::actor::Actor;
use super::error::{AppError, AppResult};
use super::ids::{DepartmentId, MunicipalityId, PartnerId, ProposalId, StaffUserId};
use super::needs::{DepartmentRef, MunicipalityRef};
use super::pagination::Page;
use super::utc;
use super::vocab::{Channel, DeclineReason, EventKind, PolicyField, ProposalState, Role};
use crate::storage::models::{ProposalEventRow, ProposalRow};
use crate::storage::{self, AnyConnection, Db};

/// Days of proposals are counted in Japan time: `calendar` owns the conversion.
pub use crate::domain::calendar::{local_date, local_midnight};

/// 年度: Japanese municipalities count their year from April.
pub fn fiscal_year(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    if d.month() >= 4 {
        d.year()
    } else {
        d.year() - 1
    }
}

pub fn receipt_number(year: i32, seq: i32) -> String {
    format!("{year}-{seq:06}")
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submitter {
    pub name: String,
    pub organisation: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkRef {
    pub id: i64,
    pub title: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoutedDepartment {
    pub id: DepartmentId,
    pub name: String,
    pub primary: bool,
}

/// Another proposal named by its number: the original of a duplicate, or a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProposalRef {
    pub id: ProposalId,
    pub receipt_number: String,
}

/// 担当者: the staff member who owns a proposal day to day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Assignee {
    pub id: StaffUserId,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Decline {
    pub code: DeclineReason,
    pub label: String,
    pub text: Option<String>,
}

/// The two clocks (the department's answer to the desk, the desk's answer to the
/// proposer) and the decision target, as local dates.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Clocks {
    /// Staff only.
    pub department_due_on: Option<NaiveDate>,
    pub proposer_due_on: Option<NaiveDate>,
    pub decision_due_on: Option<NaiveDate>,
    /// Set while the desk waits for the proposer (資料待ち): the clocks stand still.
    pub paused_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: i64,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    /// `staff`, `partner` or `system`.
    pub actor_type: &'static str,
    pub actor_name: Option<String>,
    pub from_state: Option<ProposalState>,
    pub to_state: Option<ProposalState>,
    pub department: Option<DepartmentRef>,
    pub body: Option<String>,
    /// Internal events are never shown to the proposer.
    pub internal: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub id: ProposalId,
    /// 受付番号: fiscal year and sequence, unique per municipality.
    pub receipt_number: String,
    pub municipality: MunicipalityRef,
    pub channel: Channel,
    pub state: ProposalState,
    /// True while no department owns it (受付済・所管未定).
    pub unassigned: bool,
    pub submitter: Submitter,
    pub partner_id: Option<PartnerId>,
    /// For a partner's proposal: whether the partner's contact address is verified now.
    /// While it is not, kyoso sends the proposer no mail about it (no acknowledgement, no
    /// answers): the desk contacts them another way (「メール未確認」). `null` for proposals
    /// without a partner.
    pub partner_email_verified: Option<bool>,
    pub need: Option<LinkRef>,
    pub offer: Option<LinkRef>,
    pub title: String,
    pub body: String,
    pub policy_field: Option<PolicyField>,
    pub departments: Vec<RoutedDepartment>,
    /// 担当者 (staff only): absent when nobody is assigned, and always for the proposer,
    /// who never learns staff names or ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    pub decline: Option<Decline>,
    pub declared_no_antisocial_at: Option<DateTime<Utc>>,
    pub consented_contact_at: Option<DateTime<Utc>>,
    /// When the proposer consented to publishing their name and the title in the open
    /// outcome register; `null`: no consent, both stay blank there.
    pub consented_publication_at: Option<DateTime<Utc>>,
    pub clocks: Clocks,
    pub received_at: DateTime<Utc>,
    pub routed_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// 重複: the original this proposal was closed as a duplicate of. Absent in lists;
    /// the proposer sees it only when the original is theirs too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<ProposalRef>,
    /// Staff only, absent in lists: the proposals closed as duplicates of this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<ProposalRef>,
    /// The history; absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
}

/// What a caller who may not open a proposal may still learn of it in a list (similar
/// proposals, suggestion reasons): its number, title, state and outcome. Never the
/// submitter, contact data, body, notes or events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProposalSummary {
    pub receipt_number: String,
    pub title: String,
    pub state: ProposalState,
    /// The outcome's reason category when declined; never the reasons' text, which
    /// was written to the proposer.
    pub decline_reason: Option<DeclineReason>,
    pub received_at: DateTime<Utc>,
}

impl ProposalSummary {
    pub fn of(r: &ProposalRow) -> AppResult<ProposalSummary> {
        Ok(ProposalSummary {
            receipt_number: receipt_number(r.receipt_year, r.receipt_seq),
            title: r.title.clone(),
            state: ProposalState::from_db(&r.state)?,
            decline_reason: r
                .decline_reason_code
                .as_deref()
                .map(DeclineReason::from_db)
                .transpose()?,
            received_at: utc(r.received_at),
        })
    }
}

/// How the caller relates to a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Desk or admin of its municipality: everything.
    Desk,
    /// Staff of a department it is routed to.
    Department,
    /// The partner who submitted it: no internal events, no department clock.
    Proposer,
}

/// What the caller may do with this proposal, or "not found" when nothing.
pub fn access(conn: &mut AnyConnection, actor: &Actor, p: &ProposalRow) -> AppResult<Access> {
    match actor {
        // Nobody signed in is told to sign in, as by the list, before anything is looked up.
        Actor::Anonymous => Err(AppError::Unauthenticated),
        Actor::Partner(id) if p.partner_id == Some(id.0) => Ok(Access::Proposer),
        Actor::Staff(s) if s.serves(MunicipalityId(p.municipality_id)) => match s.role {
            Role::Desk | Role::Admin => Ok(Access::Desk),
            Role::Department => {
                let routed = storage::proposals::departments_of(conn, &[p.id])?;
                if s.department
                    .is_some_and(|d| routed.iter().any(|(_, rd, _)| *rd == d.0))
                {
                    Ok(Access::Department)
                } else {
                    Err(AppError::NotFound("proposal"))
                }
            }
        },
        _ => Err(AppError::NotFound("proposal")),
    }
}

/// Loads a proposal the caller may see.
pub fn load(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: ProposalId,
) -> AppResult<(ProposalRow, Access)> {
    // Before the lookup, so that "sign in" never tells whether the id exists.
    if matches!(actor, Actor::Anonymous) {
        return Err(AppError::Unauthenticated);
    }
    let p = storage::proposals::find(conn, id.0)?.ok_or(AppError::NotFound("proposal"))?;
    let a = access(conn, actor, &p)?;
    Ok((p, a))
}

/// A proposal met in a list the caller did not filter by its own rights: the full view
/// (without events) when `access` lets the caller open it, else `None` — the caller
/// then gets the [`ProposalSummary`] only.
pub fn view_if_allowed(
    conn: &mut AnyConnection,
    actor: &Actor,
    row: &ProposalRow,
) -> AppResult<Option<ProposalView>> {
    match access(conn, actor, row) {
        Ok(a) => Ok(views(conn, vec![row.clone()], a, false)?.pop()),
        Err(AppError::NotFound(_) | AppError::Unauthenticated) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Department names by id, in one query.
fn department_names(
    conn: &mut AnyConnection,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(storage::municipalities::departments_by_ids(conn, &ids)?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect())
}

fn event_views(conn: &mut AnyConnection, rows: Vec<ProposalEventRow>) -> AppResult<Vec<EventView>> {
    let names = department_names(conn, rows.iter().filter_map(|e| e.department_id))?;
    let mut staff_names: HashMap<i64, String> = HashMap::new();
    let mut partner_names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let (actor_type, actor_name) = match (e.actor_staff_id, e.actor_partner_id) {
            (Some(s), _) => {
                if let std::collections::hash_map::Entry::Vacant(v) = staff_names.entry(s) {
                    v.insert(
                        storage::staff::find(conn, s)?
                            .map(|u| u.display_name)
                            .unwrap_or_default(),
                    );
                }
                ("staff", staff_names.get(&s).cloned())
            }
            (None, Some(p)) => {
                if let std::collections::hash_map::Entry::Vacant(v) = partner_names.entry(p) {
                    v.insert(
                        storage::partners::find(conn, p)?
                            .map(|u| u.name)
                            .unwrap_or_default(),
                    );
                }
                ("partner", partner_names.get(&p).cloned())
            }
            (None, None) => ("system", None),
        };
        out.push(EventView {
            id: e.id,
            kind: EventKind::from_db(&e.kind)?,
            at: utc(e.created_at),
            actor_type,
            actor_name,
            from_state: e
                .from_state
                .as_deref()
                .map(ProposalState::from_db)
                .transpose()?,
            to_state: e
                .to_state
                .as_deref()
                .map(ProposalState::from_db)
                .transpose()?,
            department: e.department_id.map(|d| DepartmentRef {
                id: DepartmentId(d),
                name: names.get(&d).cloned().unwrap_or_default(),
            }),
            body: e.body,
            internal: e.internal,
        });
    }
    Ok(out)
}

/// Views of proposals for a caller with `access`; events only when `with_events`.
pub fn views(
    conn: &mut AnyConnection,
    rows: Vec<ProposalRow>,
    access: Access,
    with_events: bool,
) -> AppResult<Vec<ProposalView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let routed = storage::proposals::departments_of(conn, &ids)?;
    let names = department_names(conn, routed.iter().map(|(_, d, _)| *d))?;
    let mut municipalities: HashMap<i64, MunicipalityRef> = HashMap::new();
    let mut partner_ids: Vec<i64> = rows.iter().filter_map(|r| r.partner_id).collect();
    partner_ids.sort_unstable();
    partner_ids.dedup();
    // Only the columns a page shows: the full rows of a page's partners and needs (with
    // their descriptions and bodies) were most of the inbox's database time.
    let verified: HashMap<i64, bool> = storage::partners::verified_of(conn, &partner_ids)?
        .into_iter()
        .collect();
    // Staff names only for staff: the proposer never sees who handles its proposal.
    let mut assignee_ids: Vec<i64> = if access == Access::Proposer {
        vec![]
    } else {
        rows.iter().filter_map(|r| r.assignee_id).collect()
    };
    assignee_ids.sort_unstable();
    assignee_ids.dedup();
    let assignees: HashMap<i64, String> = storage::staff::names_of(conn, &assignee_ids)?
        .into_iter()
        .collect();
    // The municipalities, needs and offers a page names: one query each, not one per row.
    let distinct = |ids: Vec<i64>| {
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let municipality_ids = distinct(rows.iter().map(|r| r.municipality_id).collect());
    for m in storage::municipalities::by_ids(conn, &municipality_ids)? {
        municipalities.insert(
            m.id,
            MunicipalityRef {
                code: m.code,
                name: m.name,
            },
        );
    }
    let need_titles: HashMap<i64, String> = storage::needs::titles_of(
        conn,
        &distinct(rows.iter().filter_map(|r| r.need_id).collect()),
    )?
    .into_iter()
    .collect();
    let offer_titles: HashMap<i64, String> = storage::offers::titles_of(
        conn,
        &distinct(rows.iter().filter_map(|r| r.offer_id).collect()),
    )?
    .into_iter()
    .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let m = municipalities
            .get(&r.municipality_id)
            .ok_or(AppError::NotFound("municipality"))?;
        let need = r.need_id.and_then(|n| {
            need_titles.get(&n).map(|t| LinkRef {
                id: n,
                title: t.clone(),
            })
        });
        let offer = r.offer_id.and_then(|o| {
            offer_titles.get(&o).map(|t| LinkRef {
                id: o,
                title: t.clone(),
            })
        });
        let events = if with_events {
            let rows = storage::proposals::events(conn, r.id, access != Access::Proposer)?;
            Some(event_views(conn, rows)?)
        } else {
            None
        };
        let as_ref = |p: &ProposalRow| ProposalRef {
            id: ProposalId(p.id),
            receipt_number: receipt_number(p.receipt_year, p.receipt_seq),
        };
        let (duplicate_of, duplicates) = if with_events {
            // Another proposer's number is never shown to a proposer.
            let original = match storage::proposals::duplicate_of(conn, r.id)? {
                Some(o) => storage::proposals::find(conn, o)?.filter(|o| {
                    access != Access::Proposer
                        || (o.partner_id.is_some() && o.partner_id == r.partner_id)
                }),
                None => None,
            };
            let duplicates = if access == Access::Proposer {
                vec![]
            } else {
                storage::proposals::duplicates_of(conn, r.id)?
                    .iter()
                    .map(as_ref)
                    .collect()
            };
            (original.as_ref().map(as_ref), duplicates)
        } else {
            (None, vec![])
        };
        out.push(ProposalView {
            id: ProposalId(r.id),
            receipt_number: receipt_number(r.receipt_year, r.receipt_seq),
            municipality: MunicipalityRef {
                code: m.code.clone(),
                name: m.name.clone(),
            },
            channel: Channel::from_db(&r.channel)?,
            state: ProposalState::from_db(&r.state)?,
            unassigned: r.primary_department_id.is_none(),
            submitter: Submitter {
                name: r.submitter_name,
                organisation: r.submitter_org,
                email: r.submitter_email,
                phone: r.submitter_phone,
            },
            partner_id: r.partner_id.map(PartnerId),
            partner_email_verified: r
                .partner_id
                .map(|p| verified.get(&p).copied().unwrap_or(false)),
            need,
            offer,
            title: r.title,
            body: r.body,
            policy_field: r
                .policy_field
                .as_deref()
                .map(PolicyField::from_db)
                .transpose()?,
            departments: routed
                .iter()
                .filter(|(p, _, _)| *p == r.id)
                .map(|(_, d, primary)| RoutedDepartment {
                    id: DepartmentId(*d),
                    name: names.get(d).cloned().unwrap_or_default(),
                    primary: *primary,
                })
                .collect(),
            assignee: r.assignee_id.and_then(|a| {
                assignees.get(&a).map(|name| Assignee {
                    id: StaffUserId(a),
                    name: name.clone(),
                })
            }),
            decline: r
                .decline_reason_code
                .as_deref()
                .map(|c| {
                    DeclineReason::from_db(c).map(|code| Decline {
                        code,
                        label: code.label_ja().to_owned(),
                        text: r.decline_reason_text.clone(),
                    })
                })
                .transpose()?,
            declared_no_antisocial_at: r.declared_no_antisocial_at.map(utc),
            consented_contact_at: r.consented_contact_at.map(utc),
            consented_publication_at: r.consented_publication_at.map(utc),
            clocks: Clocks {
                department_due_on: if access == Access::Proposer {
                    None
                } else {
                    r.department_due_on
                },
                proposer_due_on: r.proposer_due_on,
                decision_due_on: r.decision_due_on,
                paused_since: r.paused_at.map(utc),
            },
            received_at: utc(r.received_at),
            routed_at: r.routed_at.map(utc),
            first_response_at: r.first_response_at.map(utc),
            decided_at: r.decided_at.map(utc),
            updated_at: utc(r.updated_at),
            duplicate_of,
            duplicates,
            events,
        });
    }
    Ok(out)
}

pub fn get(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<ProposalView> {
    db.read(|conn| {
        let (p, access) = load(conn, actor, id)?;
        views(conn, vec![p], access, true)?
            .pop()
            .ok_or(AppError::NotFound("proposal"))
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    /// One state, or `open` (received, routed, in_dialogue).
    pub state: Option<String>,
    pub channel: Option<String>,
    pub policy_field: Option<String>,
    pub department_id: Option<i64>,
    /// Only proposals answering this need (a need's page lists them).
    pub need_id: Option<i64>,
    /// Only proposals no department owns yet (所管未定).
    pub unassigned: Option<bool>,
    /// Staff only: `me` (自分の担当, the caller's own), `none` (nobody assigned) or a
    /// staff user's id.
    pub assignee: Option<String>,
    /// Staff only. `soon`: open proposals with a running clock overdue or due within
    /// [`find::DUE_SOON_DAYS`] business days (期限超過・間近).
    pub due: Option<String>,
    /// Only open proposals whose clocks are paused while the desk waits for the
    /// proposer (資料待ち).
    pub paused: Option<bool>,
    /// Received on or after this local date.
    pub from: Option<NaiveDate>,
    /// Received before this local date.
    pub to: Option<NaiveDate>,
    /// Deployment admins: which municipality.
    pub municipality: Option<String>,
    /// Text search (at most 200 characters): the words through the search index, with
    /// its Japanese analysis (かわせみ finds カワセミ; the best 5,000 matches are
    /// kept), or a receipt number (`2026-000123`, or its sequence `000123` in any
    /// year), or a part of the submitter's name or organisation. Combined with the
    /// other filters.
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub const OPEN_STATES: [ProposalState; 3] = [
    ProposalState::Received,
    ProposalState::Routed,
    ProposalState::InDialogue,
];

/// Proposals the caller may see: a partner its own, department staff those routed to
/// their department, the desk its municipality's. See [`find::list`].
pub fn list(
    db: &Db,
    engine: &crate::domain::search::SearchEngine,
    actor: &Actor,
    q: ProposalQuery,
) -> AppResult<Page<ProposalView>> {
    find::list(db, engine, actor, q)
}
