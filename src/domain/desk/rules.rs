//! The desk's routing rules: a policy field or a keyword that points to a department.

use serde::{Deserialize, Serialize};

use super::municipality_of;
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::{DepartmentId, MunicipalityId};
use crate::domain::validate::Check;
use crate::domain::vocab::{PolicyField, Role};
use crate::storage::models::RoutingRuleRow;
use crate::storage::{self, Db};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub department_id: i64,
    pub policy_field: Option<String>,
    /// Matched case-insensitively in a proposal's title and body.
    pub keyword: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: i64,
    pub department_id: DepartmentId,
    pub policy_field: Option<PolicyField>,
    pub keyword: Option<String>,
}

fn view(r: RoutingRuleRow) -> AppResult<RuleView> {
    Ok(RuleView {
        id: r.id,
        department_id: DepartmentId(r.department_id),
        policy_field: r
            .policy_field
            .as_deref()
            .map(PolicyField::from_db)
            .transpose()?,
        keyword: r.keyword,
    })
}

const DESK: &[Role] = &[Role::Desk, Role::Admin];

pub fn list(db: &Db, actor: &Actor, municipality: Option<&str>) -> AppResult<Vec<RuleView>> {
    db.read(|conn| {
        let m = municipality_of(conn, actor, municipality)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        storage::proposals::rules_of(conn, m)?
            .into_iter()
            .map(view)
            .collect()
    })
}

pub fn create(
    db: &Db,
    actor: &Actor,
    municipality: Option<&str>,
    input: RuleInput,
) -> AppResult<RuleView> {
    let mut c = Check::new();
    let field = input.policy_field.as_deref().and_then(|f| {
        c.one_of(
            "policy_field",
            f,
            PolicyField::parse,
            &PolicyField::expected(),
        )
    });
    let keyword = c.opt_line("keyword", input.keyword.as_deref(), 100);
    if input.policy_field.is_none() && keyword.is_none() {
        c.push(
            "keyword",
            "required",
            "a rule needs a policy field or a keyword",
        );
    }
    c.finish()?;
    db.write(|conn| {
        let m = municipality_of(conn, actor, municipality)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        let ok = storage::municipalities::department(conn, input.department_id)?
            .is_some_and(|d| d.municipality_id == m);
        if !ok {
            return Err(AppError::field(
                "department_id",
                "not_found",
                "no such department in this municipality",
            ));
        }
        let rule = view(storage::proposals::insert_rule(
            conn,
            m,
            input.department_id,
            field.map(PolicyField::as_str),
            keyword.as_deref(),
        )?)?;
        crate::domain::audit::record(
            conn,
            Some(actor),
            "rule_created",
            crate::domain::audit::Target {
                kind: "rule",
                id: Some(rule.id),
                label: keyword.as_deref().unwrap_or_default(),
                municipality: Some(m),
            },
            serde_json::json!({
                "department_id": input.department_id,
                "policy_field": field.map(PolicyField::as_str),
                "keyword": keyword,
            }),
        )?;
        Ok(rule)
    })
}

pub fn delete(db: &Db, actor: &Actor, municipality: Option<&str>, id: i64) -> AppResult<()> {
    db.write(|conn| {
        let m = municipality_of(conn, actor, municipality)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        match storage::proposals::delete_rule(conn, m, id)? {
            0 => Err(AppError::NotFound("routing rule")),
            _ => crate::domain::audit::record(
                conn,
                Some(actor),
                "rule_deleted",
                crate::domain::audit::Target {
                    kind: "rule",
                    id: Some(id),
                    label: "",
                    municipality: Some(m),
                },
                serde_json::json!({}),
            ),
        }
    })
}
