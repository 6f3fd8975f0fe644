//! Which department should own a proposal: the desk's routing rules (a policy field or a
//! keyword points to a department), the departments that own the proposal's policy
//! field, and the department of the need it answers; best first, each with its reasons.

use serde::Serialize;
use std::collections::BTreeMap;

use super::{Access, load};
use crate::domain::actor::Actor;
use crate::domain::error::AppResult;
use crate::domain::ids::{DepartmentId, ProposalId};
use crate::domain::vocab::PolicyField;
use crate::storage::{self, Db};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub department_id: DepartmentId,
    pub department_name: String,
    /// Relative strength, 0..1, best first.
    pub score: f32,
    /// Why, in the desk's words.
    pub reasons: Vec<String>,
}

/// Weights of the kinds of evidence; a keyword rule is the desk's own explicit knowledge.
const KEYWORD_RULE: f32 = 3.0;
const FIELD_RULE: f32 = 2.0;
const LINKED_NEED: f32 = 3.0;
const OWNS_FIELD: f32 = 1.0;

fn normalise(s: &str) -> String {
    s.to_lowercase()
}

pub fn suggest(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<Vec<Suggestion>> {
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
                        PolicyField::from_db(rf).label_ja()
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
                        format!("分野「{}」の所管課", PolicyField::from_db(f).label_ja()),
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
