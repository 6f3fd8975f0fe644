//! 横展開: cases (事例) passed on to other municipalities. An adopted proposal whose
//! proposer consented to publication and that carries at least one outcome report is a
//! case. Staff of every municipality see the cases of the others on a need's page
//! (found through the search index, the need's text against adopted proposals), and a
//! partner's profile lists its cases (採択実績).
//!
//! A case is built from what the open register already publishes (municipality, the
//! proposer's name and the title, with consent) and the outcome reports (what was done,
//! indicators, 効果額). It never carries the proposal's text, contact data, notes,
//! events, staff names, internal ids or anything of a declined, withdrawn or
//! unconsented proposal: [`case_of`] is the one gate, and it says no to all of those.

use chrono::NaiveDate;
use serde::Serialize;

use search_index::{DocType, MatchRequest};

use super::reports::{IndicatorView, views};
use crate::domain::actor::Actor;
use crate::domain::calendar::local_date;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::{NeedId, PartnerId};
use crate::domain::needs::{self, MunicipalityRef};
use crate::domain::proposals::receipt_number;
use crate::domain::search::{SearchEngine, documents, index_error};
use crate::domain::vocab::{PolicyField, ProposalState, Visibility};
use crate::storage::models::ProposalRow;
use crate::storage::{self, AnyConnection, Db};

/// Cases listed on a need's page, and on a partner's profile.
pub const NEED_CASES: usize = 5;
pub const PARTNER_CASES: i64 = 50;

/// What one report says, for other municipalities: no staff name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseOutcome {
    pub reported_on: NaiveDate,
    pub done: String,
    pub indicators: Vec<IndicatorView>,
    pub effect_yen: Option<i64>,
}

/// A case (事例): an adopted, consented proposal with its outcomes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub municipality: MunicipalityRef,
    /// The receipt number, as in the municipality's open register.
    pub receipt_number: String,
    pub title: String,
    /// The partner (or, for a proposal recorded by the desk, the organisation or name
    /// the proposer consented to publish).
    pub partner_name: String,
    /// The registered partner, for its profile.
    pub partner_id: Option<PartnerId>,
    pub policy_field: Option<PolicyField>,
    /// The public need it answered, if any.
    pub need_title: Option<String>,
    pub adopted_on: Option<NaiveDate>,
    /// Oldest report first.
    pub outcomes: Vec<CaseOutcome>,
    /// The sum of the reports' 効果額; null when none states one.
    pub effect_yen_total: Option<i64>,
    /// 0..1: how closely it reads like the need (cases on a need's page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
}

/// The case of a proposal, or `None` when it is not one: not adopted, no consent to
/// publication, or no outcome report yet.
pub fn case_of(conn: &mut AnyConnection, p: &ProposalRow) -> AppResult<Option<CaseView>> {
    if ProposalState::from_db(&p.state)? != ProposalState::Adopted
        || p.consented_publication_at.is_none()
    {
        return Ok(None);
    }
    let reports = storage::outcomes::reports_of(conn, &[p.id])?;
    if reports.is_empty() {
        return Ok(None);
    }
    let outcomes: Vec<CaseOutcome> = views(conn, reports, false)?
        .into_iter()
        .map(|r| CaseOutcome {
            reported_on: r.reported_on,
            done: r.done,
            indicators: r.indicators,
            effect_yen: r.effect_yen,
        })
        .collect();
    let amounts: Vec<i64> = outcomes.iter().filter_map(|o| o.effect_yen).collect();
    let effect_yen_total = (!amounts.is_empty()).then(|| amounts.iter().copied().sum());
    let m = storage::municipalities::by_id(conn, p.municipality_id)?;
    let partner_name = match p.partner_id {
        Some(id) => storage::partners::find(conn, id)?.map(|x| x.name),
        None => None,
    }
    .or_else(|| p.submitter_org.clone())
    .unwrap_or_else(|| p.submitter_name.clone());
    let need_title = match p.need_id {
        Some(n) => storage::needs::find(conn, n)?
            .filter(|n| n.visibility == Visibility::Public.as_str())
            .map(|n| n.title),
        None => None,
    };
    Ok(Some(CaseView {
        municipality: MunicipalityRef {
            code: m.code,
            name: m.name,
        },
        receipt_number: receipt_number(p.receipt_year, p.receipt_seq),
        title: p.title.clone(),
        partner_name,
        partner_id: p.partner_id.map(PartnerId),
        policy_field: p
            .policy_field
            .as_deref()
            .map(PolicyField::from_db)
            .transpose()?,
        need_title,
        adopted_on: p.decided_at.map(local_date),
        outcomes,
        effect_yen_total,
        similarity: None,
    }))
}

/// Cases of other municipalities that fit a need (他の自治体の類似ニーズと事例): for
/// staff who may see the need, best first. The need's own municipality's proposals are
/// its own business and never listed here.
pub fn for_need(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    id: NeedId,
    limit: usize,
) -> AppResult<Vec<CaseView>> {
    actor.require_staff()?;
    db.read(|conn| {
        let need = storage::needs::find(conn, id.0)?
            .filter(|r| needs::may_see(actor, r))
            .ok_or(AppError::NotFound("need"))?;
        let source = documents::need(conn, &need)?;
        let limit = limit.clamp(1, 20);
        let req = MatchRequest {
            source,
            // The need's own municipality's proposals take places among the hits.
            limit: 50,
            boost_ids: vec![],
            exclude_ids: vec![],
        };
        let hits = engine
            .index
            .similar_with_status(&req, DocType::Proposal, &[ProposalState::Adopted.as_str()])
            .map_err(index_error)?;
        // No floor on `normalized`: it counts content words only and is 0 where the
        // analysis found none (bigram-only analysis, few documents); the matcher returns
        // only candidates that share terms with the need, best first, and few are shown.
        let mut out = vec![];
        for h in hits {
            if out.len() >= limit {
                break;
            }
            let Some(p) = storage::proposals::find(conn, h.id)? else {
                continue;
            };
            if p.municipality_id == need.municipality_id {
                continue;
            }
            if let Some(mut c) = case_of(conn, &p)? {
                c.similarity = Some(h.normalized);
                out.push(c);
            }
        }
        Ok(out)
    })
}

/// A partner's cases (採択実績), newest first; the same for every caller, as they hold
/// only what the partner consented to publish.
pub fn of_partner(conn: &mut AnyConnection, partner: PartnerId) -> AppResult<Vec<CaseView>> {
    let ids = storage::outcomes::consented_with_reports_of_partner(
        conn,
        partner.0,
        ProposalState::Adopted.as_str(),
        PARTNER_CASES,
    )?;
    let mut out = vec![];
    for id in ids {
        if let Some(p) = storage::proposals::find(conn, id)?
            && let Some(c) = case_of(conn, &p)?
        {
            out.push(c);
        }
    }
    Ok(out)
}
