//! Which department should own a proposal: the desk's routing rules (a policy field or a
//! keyword points to a department), the departments that own the proposal's policy
//! field, the department of the need it answers, and — through the search index — the
//! departments owning needs and past proposals that read like it; best first, each with
//! its reasons. Also the similar past proposals themselves, with their outcomes, so
//! duplicates and repeats are seen at once.

use serde::Serialize;
use std::collections::BTreeMap;

use search_index::{DocType, MatchRequest};

use super::{Access, ProposalSummary, ProposalView, load, receipt_number, view_if_allowed};
use crate::domain::actor::Actor;
use crate::domain::error::AppResult;
use crate::domain::ids::{DepartmentId, ProposalId};
use crate::domain::search::{SearchEngine, documents, index_error};
use crate::domain::vocab::PolicyField;
use crate::domain::vocab::ProposalState;
use crate::storage::{self, Db};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub department_id: DepartmentId,
    pub department_name: String,
    /// Relative strength, 0..1, best first.
    pub score: f32,
    /// Why, in the desk's words. A past proposal is cited by its summary only (receipt
    /// number, title, outcome), as the caller may not be allowed to open it.
    pub reasons: Vec<String>,
}

/// Weights of the kinds of evidence; a keyword rule is the desk's own explicit knowledge.
const KEYWORD_RULE: f32 = 3.0;
const FIELD_RULE: f32 = 2.0;
const LINKED_NEED: f32 = 3.0;
const OWNS_FIELD: f32 = 1.0;
/// Similar records count in proportion to how similar (0..1) they are.
const SIMILAR_NEED: f32 = 2.0;
const SIMILAR_PROPOSAL: f32 = 2.0;
/// Below this normalised similarity a record is not evidence.
const SIMILARITY_FLOOR: f32 = 0.2;

/// A past proposal of the same municipality that reads like this one. Every caller gets
/// its summary; only a caller who may open it (`proposals::access`) gets the full view —
/// department staff see another department's proposals as summaries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimilarProposal {
    pub summary: ProposalSummary,
    /// The whole proposal (without its history), only when the caller may open it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal: Option<ProposalView>,
    /// 0..1: the share of this proposal's telling terms found in it.
    pub normalized_score: f32,
    /// This proposal's telling terms found in it; for a summary only those in its title,
    /// so the terms never quote a body the caller may not read.
    pub matched_terms: Vec<String>,
}

fn similar(
    conn: &mut crate::storage::AnyConnection,
    engine: &SearchEngine,
    p: &crate::storage::models::ProposalRow,
    target: DocType,
    limit: usize,
) -> AppResult<Vec<search_index::MatchHit>> {
    let source = documents::proposal(conn, p)?;
    let req = MatchRequest {
        source,
        limit,
        boost_ids: vec![],
        exclude_ids: vec![],
    };
    engine
        .index
        .similar_in_municipality(&req, target)
        .map_err(index_error)
}

/// Past proposals of the same municipality most like this one, with their outcomes.
pub fn similar_proposals(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    id: ProposalId,
    limit: usize,
) -> AppResult<Vec<SimilarProposal>> {
    db.read(|conn| {
        let (p, access) = load(conn, actor, id)?;
        if access == Access::Proposer {
            return Err(crate::domain::error::AppError::Forbidden(
                "similar proposals are for staff",
            ));
        }
        let hits = similar(conn, engine, &p, DocType::Proposal, limit.clamp(1, 20))?;
        let mut out = vec![];
        for h in hits
            .into_iter()
            .filter(|h| h.normalized >= SIMILARITY_FLOOR)
        {
            let Some(row) = storage::proposals::find(conn, h.id)? else {
                continue;
            };
            if row.municipality_id != p.municipality_id {
                continue;
            }
            let proposal = view_if_allowed(conn, actor, &row)?;
            let matched_terms = if proposal.is_some() {
                h.matched_terms
            } else {
                let title = normalise(&row.title);
                h.matched_terms
                    .into_iter()
                    .filter(|t| title.contains(&normalise(t)))
                    .collect()
            };
            out.push(SimilarProposal {
                summary: ProposalSummary::of(&row)?,
                proposal,
                normalized_score: h.normalized,
                matched_terms,
            });
        }
        Ok(out)
    })
}

fn normalise(s: &str) -> String {
    s.to_lowercase()
}

pub fn suggest(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    id: ProposalId,
) -> AppResult<Vec<Suggestion>> {
    db.read(|conn| {
        let (p, access) = load(conn, actor, id)?;
        if access == Access::Proposer {
            return Err(crate::domain::error::AppError::Forbidden(
                "suggestions are for staff",
            ));
        }
        let departments = storage::municipalities::departments_of(conn, p.municipality_id)?;
        let ids: Vec<i64> = departments.iter().map(|d| d.id).collect();
        let fields = storage::municipalities::department_fields(conn, &ids)?;
        let text = normalise(&format!("{}\n{}", p.title, p.body));
        let mut found: BTreeMap<i64, (f32, Vec<String>)> = BTreeMap::new();
        let mut add = |d: i64, w: f32, why: String| {
            let e = found.entry(d).or_default();
            e.0 += w;
            if !e.1.contains(&why) {
                e.1.push(why);
            }
        };
        for rule in storage::proposals::rules_of(conn, p.municipality_id)? {
            if let Some(k) = &rule.keyword
                && text.contains(&normalise(k))
            {
                add(
                    rule.department_id,
                    KEYWORD_RULE,
                    format!("振り分けルール: キーワード「{k}」"),
                );
            }
            if let (Some(rf), Some(pf)) = (&rule.policy_field, &p.policy_field)
                && rf == pf
            {
                add(
                    rule.department_id,
                    FIELD_RULE,
                    format!(
                        "振り分けルール: 分野「{}」",
                        PolicyField::from_db(rf)?.label_ja()
                    ),
                );
            }
        }
        if let Some(pf) = &p.policy_field {
            for (d, f) in &fields {
                if f == pf {
                    add(
                        *d,
                        OWNS_FIELD,
                        format!("分野「{}」の所管課", PolicyField::from_db(f)?.label_ja()),
                    );
                }
            }
        }
        if let Some(n) = p
            .need_id
            .and_then(|n| storage::needs::find(conn, n).ok().flatten())
        {
            add(
                n.department_id,
                LINKED_NEED,
                format!("課題「{}」の所管課", n.title),
            );
        }
        // The index: needs and routed past proposals of this municipality like this one.
        for h in similar(conn, engine, &p, DocType::Need, 5)?
            .into_iter()
            .filter(|h| h.normalized >= SIMILARITY_FLOOR)
        {
            if let Some(n) =
                storage::needs::find(conn, h.id)?.filter(|n| n.municipality_id == p.municipality_id)
            {
                add(
                    n.department_id,
                    SIMILAR_NEED * h.normalized,
                    format!("類似する課題「{}」の所管課", n.title),
                );
            }
        }
        for h in similar(conn, engine, &p, DocType::Proposal, 5)?
            .into_iter()
            .filter(|h| h.normalized >= SIMILARITY_FLOOR)
        {
            let Some(past) = storage::proposals::find(conn, h.id)? else {
                continue;
            };
            if let (Some(d), true) = (
                past.primary_department_id,
                past.municipality_id == p.municipality_id,
            ) {
                let outcome = ProposalState::from_db(&past.state)?.label_ja();
                let number = receipt_number(past.receipt_year, past.receipt_seq);
                add(
                    d,
                    SIMILAR_PROPOSAL * h.normalized,
                    format!(
                        "類似する過去の提案 {number}「{}」（{outcome}）の所管課",
                        past.title
                    ),
                );
            }
        }
        let best = found.values().map(|(s, _)| *s).fold(0.0f32, f32::max);
        let mut out: Vec<Suggestion> = found
            .into_iter()
            .filter_map(|(d, (score, reasons))| {
                let name = departments.iter().find(|x| x.id == d)?.name.clone();
                Some(Suggestion {
                    department_id: DepartmentId(d),
                    department_name: name,
                    score: score / best.max(f32::EPSILON),
                    reasons,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.department_id.cmp(&b.department_id))
        });
        Ok(out)
    })
}
