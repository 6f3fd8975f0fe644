//! Which department should own a proposal: the desk's routing rules (a policy field or a
//! keyword points to a department), the departments that own the proposal's policy
//! field, the department of the need it answers, and — through the search index — the
//! departments owning needs and past proposals that read like it; strongest first, each
//! with its reasons. Every reason carries a strength drawn from its evidence (a rule that
//! matched as written, the only owner of a field, how similar and how many past
//! proposals), and a department's level combines them so that one weak reason never
//! reads as confidence; no percentage is shown, as none could be calibrated. Also the
//! similar past proposals themselves, with their outcomes, so duplicates and repeats are
//! seen at once.

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

/// How much a piece of evidence, or a department's evidence taken together, says.
/// A level, not a percentage: the evidence is too sparse to calibrate a probability
/// (a municipality routes a few hundred proposals a year), and a figure such as
/// "100%" read off one weak reason overstates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// 弱い: a hint worth a look, never enough alone.
    Weak,
    /// 中程度: evidence of its own.
    Medium,
    /// 強い: the desk's explicit rule, the need the proposal answers, or a department
    /// that handled several clearly similar proposals.
    Strong,
}

impl Strength {
    pub fn label_ja(self) -> &'static str {
        match self {
            Strength::Weak => "弱い",
            Strength::Medium => "中程度",
            Strength::Strong => "強い",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Strength::Weak => "weak",
            Strength::Medium => "medium",
            Strength::Strong => "strong",
        }
    }
}

/// What a reason rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// A routing rule's keyword occurs in the proposal's title or body.
    KeywordRule,
    /// A routing rule names the proposal's policy field.
    FieldRule,
    /// The proposal answers a need this department owns.
    AnsweredNeed,
    /// The department owns the proposal's policy field.
    FieldOwner,
    /// A need this department owns reads like the proposal.
    SimilarNeed,
    /// Past proposals this department handled read like the proposal.
    SimilarProposal,
}

impl ReasonKind {
    pub fn label_ja(self) -> &'static str {
        match self {
            ReasonKind::KeywordRule => "振り分けルール（キーワード）",
            ReasonKind::FieldRule => "振り分けルール（分野）",
            ReasonKind::AnsweredNeed => "回答先の課題",
            ReasonKind::FieldOwner => "分野の所管",
            ReasonKind::SimilarNeed => "類似する課題",
            ReasonKind::SimilarProposal => "類似する過去の提案",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ReasonKind::KeywordRule => "Routing rule (keyword)",
            ReasonKind::FieldRule => "Routing rule (policy field)",
            ReasonKind::AnsweredNeed => "The need it answers",
            ReasonKind::FieldOwner => "Owns the policy field",
            ReasonKind::SimilarNeed => "Similar need",
            ReasonKind::SimilarProposal => "Similar past proposals",
        }
    }

    /// Reasons drawn from the same fact count once when strengths are combined: a
    /// field rule and the field's owner both rest on the policy field the proposer
    /// chose.
    fn basis(self) -> u8 {
        match self {
            ReasonKind::KeywordRule => 0,
            ReasonKind::FieldRule | ReasonKind::FieldOwner => 1,
            ReasonKind::AnsweredNeed => 2,
            ReasonKind::SimilarNeed => 3,
            ReasonKind::SimilarProposal => 4,
        }
    }
}

/// One piece of evidence for a department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub kind: ReasonKind,
    pub strength: Strength,
    /// Why, in the desk's words (Japanese). A past proposal is cited by its summary
    /// only (receipt number, title, outcome), as the caller may not be allowed to open
    /// it.
    pub text: String,
    /// The same in English.
    pub text_en: String,
    /// For similar needs and proposals: this proposal's content words found in them,
    /// largest contribution first (the matcher's own explanation; a record the caller
    /// may not open contributes only the words in its title).
    pub matched_terms: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub department_id: DepartmentId,
    pub department_name: String,
    /// The evidence taken together (see [`combine`]); suggestions come strongest first.
    pub level: Strength,
    /// Each reason with its own strength, strongest first.
    pub reasons: Vec<Reason>,
}

/// Below this normalised similarity a record is not evidence.
const SIMILARITY_FLOOR: f32 = 0.2;
/// A record sharing at least this share of the proposal's telling words (the
/// matcher's `normalized`) is clearly similar, not merely related.
const CLEARLY_SIMILAR: f32 = 0.5;
/// A similar need counts as medium evidence when it is clearly similar and close to the
/// best need found (within this factor): the best of a weak lot is still weak.
const NEAR_BEST: f32 = 0.8;

/// A department's level from its reasons: strong if one reason is strong or two
/// independent ones are medium; medium if one is medium or two independent ones are
/// weak; else weak. So one weak reason alone never reads as more than weak.
pub fn combine(reasons: &[Reason]) -> Strength {
    let independent = |at_least: Strength| {
        let mut bases: Vec<u8> = reasons
            .iter()
            .filter(|r| r.strength >= at_least)
            .map(|r| r.kind.basis())
            .collect();
        bases.sort_unstable();
        bases.dedup();
        bases.len()
    };
    let best = reasons
        .iter()
        .map(|r| r.strength)
        .max()
        .unwrap_or(Strength::Weak);
    if best == Strength::Strong || independent(Strength::Medium) >= 2 {
        Strength::Strong
    } else if best == Strength::Medium || independent(Strength::Weak) >= 2 {
        Strength::Medium
    } else {
        Strength::Weak
    }
}

/// Strength of a department's similar past proposals: `clear` of them clearly similar
/// out of `all` above the floor.
fn past_strength(clear: usize, all: usize) -> Strength {
    if clear >= 2 {
        Strength::Strong
    } else if clear == 1 || all >= 3 {
        Strength::Medium
    } else {
        Strength::Weak
    }
}

/// Strength of a similar need: its similarity and how close it is to the best need.
fn need_strength(normalized: f32, best: f32) -> Strength {
    if normalized >= CLEARLY_SIMILAR && normalized >= best * NEAR_BEST {
        Strength::Medium
    } else {
        Strength::Weak
    }
}

/// The department's pre-selection in the routing form: only a suggestion that is
/// strong and stronger than every other one; else the desk chooses.
pub fn preselect(suggestions: &[Suggestion]) -> Option<DepartmentId> {
    let first = suggestions.first()?;
    let runner_up = suggestions.get(1).map(|s| s.level);
    (first.level == Strength::Strong && runner_up.is_none_or(|r| r < Strength::Strong))
        .then_some(first.department_id)
}

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
            let matched_terms = visible_terms(h.matched_terms, proposal.is_some(), &row.title);
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

/// The terms a caller may see for a record: all of them when it may open the record,
/// else only those in its title, so the terms never quote a body the caller may not read.
fn visible_terms(terms: Vec<String>, open: bool, title: &str) -> Vec<String> {
    if open {
        return terms;
    }
    let title = normalise(title);
    terms
        .into_iter()
        .filter(|t| title.contains(&normalise(t)))
        .collect()
}

/// Appends `more` to `terms`, keeping the first occurrence's place (the order of
/// contribution of the best record first).
fn merge_terms(terms: &mut Vec<String>, more: Vec<String>) {
    for t in more {
        if !terms.contains(&t) {
            terms.push(t);
        }
    }
}

/// Departments that could own the proposal, strongest first, each with its reasons and
/// their strengths.
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
        let mut found: BTreeMap<i64, Vec<Reason>> = BTreeMap::new();
        let mut add = |d: i64,
                       kind: ReasonKind,
                       strength: Strength,
                       (text, text_en): (String, String),
                       terms| {
            let e = found.entry(d).or_default();
            if !e.iter().any(|r| r.text == text) {
                e.push(Reason {
                    kind,
                    strength,
                    text,
                    text_en,
                    matched_terms: terms,
                });
            }
        };
        for rule in storage::proposals::rules_of(conn, p.municipality_id)? {
            // The desk wrote the keyword and it occurs as written: its own knowledge.
            if let Some(k) = &rule.keyword
                && text.contains(&normalise(k))
            {
                add(
                    rule.department_id,
                    ReasonKind::KeywordRule,
                    Strength::Strong,
                    (
                        format!("振り分けルール: キーワード「{k}」"),
                        format!("Routing rule: the keyword “{k}”"),
                    ),
                    vec![],
                );
            }
            // A policy field spans many subjects, and the proposer chose it.
            if let (Some(rf), Some(pf)) = (&rule.policy_field, &p.policy_field)
                && rf == pf
            {
                add(
                    rule.department_id,
                    ReasonKind::FieldRule,
                    Strength::Medium,
                    (
                        format!(
                            "振り分けルール: 分野「{}」",
                            PolicyField::from_db(rf)?.label_ja()
                        ),
                        format!(
                            "Routing rule: the policy field “{}”",
                            PolicyField::from_db(rf)?.label_en()
                        ),
                    ),
                    vec![],
                );
            }
        }
        if let Some(pf) = &p.policy_field {
            let owners: Vec<i64> = fields
                .iter()
                .filter(|(_, f)| f == pf)
                .map(|(d, _)| *d)
                .collect();
            // The only owner of the field says more than one of several.
            let strength = if owners.len() == 1 {
                Strength::Medium
            } else {
                Strength::Weak
            };
            let field = PolicyField::from_db(pf)?;
            for d in owners {
                add(
                    d,
                    ReasonKind::FieldOwner,
                    strength,
                    (
                        format!("分野「{}」の所管課", field.label_ja()),
                        format!("Owns the policy field “{}”", field.label_en()),
                    ),
                    vec![],
                );
            }
        }
        if let Some(n) = p
            .need_id
            .and_then(|n| storage::needs::find(conn, n).ok().flatten())
        {
            add(
                n.department_id,
                ReasonKind::AnsweredNeed,
                Strength::Strong,
                (
                    format!("課題「{}」への提案（この課の課題）", n.title),
                    format!("Answers this department's need “{}”", n.title),
                ),
                vec![],
            );
        }
        // The index: needs of this municipality like this one; a department's best one.
        let need_hits: Vec<_> = similar(conn, engine, &p, DocType::Need, 5)?
            .into_iter()
            .filter(|h| h.normalized >= SIMILARITY_FLOOR && Some(h.id) != p.need_id)
            .collect();
        let best_need = need_hits.iter().map(|h| h.normalized).fold(0.0, f32::max);
        let mut need_seen: Vec<i64> = vec![];
        for h in need_hits {
            let Some(n) = storage::needs::find(conn, h.id)?
                .filter(|n| n.municipality_id == p.municipality_id)
            else {
                continue;
            };
            // Hits come best first: a department's further needs add nothing new.
            if need_seen.contains(&n.department_id) {
                continue;
            }
            need_seen.push(n.department_id);
            let terms = visible_terms(
                h.matched_terms,
                crate::domain::needs::may_see(actor, &n),
                &n.title,
            );
            add(
                n.department_id,
                ReasonKind::SimilarNeed,
                need_strength(h.normalized, best_need),
                (
                    format!("類似する課題「{}」の所管課", n.title),
                    format!("Owns the similar need “{}”", n.title),
                ),
                terms,
            );
        }
        // Past proposals this municipality routed, grouped by the department that owned
        // them: several clearly similar ones are strong evidence, one loose one is weak.
        struct Past {
            cited: Vec<String>,
            cited_en: Vec<String>,
            clear: usize,
            all: usize,
            terms: Vec<String>,
        }
        let mut past: BTreeMap<i64, Past> = BTreeMap::new();
        let mut order: Vec<i64> = vec![];
        for h in similar(conn, engine, &p, DocType::Proposal, 10)?
            .into_iter()
            .filter(|h| h.normalized >= SIMILARITY_FLOOR)
        {
            let Some(row) = storage::proposals::find(conn, h.id)? else {
                continue;
            };
            let Some(d) = row
                .primary_department_id
                .filter(|_| row.municipality_id == p.municipality_id)
            else {
                continue;
            };
            let outcome = ProposalState::from_db(&row.state)?;
            let number = receipt_number(row.receipt_year, row.receipt_seq);
            let open = super::access(conn, actor, &row).is_ok();
            let terms = visible_terms(h.matched_terms, open, &row.title);
            if !order.contains(&d) {
                order.push(d);
            }
            let e = past.entry(d).or_insert(Past {
                cited: vec![],
                cited_en: vec![],
                clear: 0,
                all: 0,
                terms: vec![],
            });
            e.all += 1;
            if h.normalized >= CLEARLY_SIMILAR {
                e.clear += 1;
            }
            e.cited.push(format!(
                "{number}「{}」（{}）",
                row.title,
                outcome.label_ja()
            ));
            e.cited_en
                .push(format!("{number} “{}” ({})", row.title, outcome.label_en()));
            merge_terms(&mut e.terms, terms);
        }
        for d in order {
            let Some(e) = past.remove(&d) else { continue };
            add(
                d,
                ReasonKind::SimilarProposal,
                past_strength(e.clear, e.all),
                (
                    format!(
                        "類似する過去の提案 {}件の所管課: {}",
                        e.all,
                        e.cited.join("、")
                    ),
                    format!(
                        "Handled {} similar past proposal(s): {}",
                        e.all,
                        e.cited_en.join(", ")
                    ),
                ),
                e.terms,
            );
        }
        let mut out: Vec<(Suggestion, u32)> = found
            .into_iter()
            .filter_map(|(d, mut reasons)| {
                let name = departments.iter().find(|x| x.id == d)?.name.clone();
                reasons.sort_by_key(|r| std::cmp::Reverse(r.strength));
                // Within a level, more and stronger evidence first.
                let weight = reasons
                    .iter()
                    .map(|r| match r.strength {
                        Strength::Strong => 9,
                        Strength::Medium => 3,
                        Strength::Weak => 1,
                    })
                    .sum();
                Some((
                    Suggestion {
                        department_id: DepartmentId(d),
                        department_name: name,
                        level: combine(&reasons),
                        reasons,
                    },
                    weight,
                ))
            })
            .collect();
        out.sort_by(|(a, wa), (b, wb)| {
            b.level
                .cmp(&a.level)
                .then(wb.cmp(wa))
                .then(a.department_id.cmp(&b.department_id))
        });
        Ok(out.into_iter().map(|(s, _)| s).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: ReasonKind, strength: Strength) -> Reason {
        Reason {
            kind,
            strength,
            text: String::new(),
            text_en: String::new(),
            matched_terms: vec![],
        }
    }

    #[test]
    fn one_weak_reason_is_weak_and_never_more() {
        for kind in [
            ReasonKind::FieldOwner,
            ReasonKind::SimilarNeed,
            ReasonKind::SimilarProposal,
        ] {
            assert_eq!(combine(&[r(kind, Strength::Weak)]), Strength::Weak);
        }
        assert_eq!(combine(&[]), Strength::Weak);
    }

    #[test]
    fn reasons_on_the_same_fact_do_not_add_up() {
        // A field rule and the field's ownership both rest on the field the proposer chose.
        assert_eq!(
            combine(&[
                r(ReasonKind::FieldRule, Strength::Medium),
                r(ReasonKind::FieldOwner, Strength::Medium)
            ]),
            Strength::Medium
        );
        assert_eq!(
            combine(&[
                r(ReasonKind::FieldRule, Strength::Medium),
                r(ReasonKind::SimilarNeed, Strength::Medium)
            ]),
            Strength::Strong
        );
        assert_eq!(
            combine(&[
                r(ReasonKind::FieldOwner, Strength::Weak),
                r(ReasonKind::SimilarProposal, Strength::Weak)
            ]),
            Strength::Medium
        );
    }

    #[test]
    fn past_proposals_and_needs_are_graded_by_their_similarity() {
        assert_eq!(past_strength(0, 1), Strength::Weak);
        assert_eq!(past_strength(0, 2), Strength::Weak);
        assert_eq!(past_strength(0, 3), Strength::Medium);
        assert_eq!(past_strength(1, 1), Strength::Medium);
        assert_eq!(past_strength(2, 2), Strength::Strong);
        assert_eq!(need_strength(0.9, 0.9), Strength::Medium);
        assert_eq!(need_strength(0.6, 0.9), Strength::Weak);
        assert_eq!(need_strength(0.3, 0.3), Strength::Weak);
    }

    #[test]
    fn only_a_clear_strong_suggestion_is_preselected() {
        let s = |d: i64, level| Suggestion {
            department_id: DepartmentId(d),
            department_name: String::new(),
            level,
            reasons: vec![],
        };
        assert_eq!(preselect(&[]), None);
        assert_eq!(preselect(&[s(1, Strength::Medium)]), None);
        assert_eq!(
            preselect(&[s(1, Strength::Strong), s(2, Strength::Medium)]),
            Some(DepartmentId(1))
        );
        assert_eq!(
            preselect(&[s(1, Strength::Strong), s(2, Strength::Strong)]),
            None
        );
    }
}
