//! The desk's reply templates (定型文), per municipality: the desk and admins keep them
//! (every change in the audit log); every staff member of the municipality may use one
//! in a reply, rendered for the proposal with its placeholders filled in. Another
//! municipality's templates are "not found".

use serde::Serialize;

use super::actor::Actor;
use super::audit::{self, Target};
use super::error::{AppError, AppResult, FieldError};
use super::ids::{MunicipalityId, ProposalId};
use super::proposals::{load, receipt_number};
use super::validate::Check;
use super::vocab::Role;
use crate::storage::models::ReplyTemplateRow;
use crate::storage::{self, AnyConnection, Db};

/// The placeholders a template may hold, with what each becomes (for the page that
/// documents them).
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("受付番号", "提案の受付番号（例: 2026-000123）"),
    ("提案者", "提案者の団体名（個人は氏名）"),
    ("担当者", "提案者側の担当者の氏名"),
    ("件名", "提案の件名"),
    ("担当課", "主管課の名称（未回付なら「担当課」）"),
    ("回答期限", "提案者への初回回答の期限（例: 2026年12月18日）"),
    ("結論期限", "結論の期限"),
    ("自治体名", "自治体の名称"),
];

pub const NAME_MAX: usize = 100;
pub const BODY_MAX: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    pub id: i64,
    pub name: String,
    pub body: String,
}

fn view(r: ReplyTemplateRow) -> TemplateView {
    TemplateView {
        id: r.id,
        name: r.name,
        body: r.body,
    }
}

/// What a desk form sends.
pub struct TemplateInput {
    pub name: String,
    pub body: String,
}

/// The `{…}` names in `body` that are not placeholders: a name is what stands between
/// `{` and the next `}` without spaces or braces; anything else is plain text.
pub fn unknown_placeholders(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('}') else { break };
        let name = after.get(..close).unwrap_or_default();
        // A `{` inside is a literal brace before a placeholder: look again from there.
        if let Some(inner) = name.rfind('{') {
            rest = after.get(inner..).unwrap_or_default();
            continue;
        }
        // Empty braces or braces around spaces are text, not a placeholder.
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            rest = after;
            continue;
        }
        if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) && !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out
}

fn check(input: &TemplateInput) -> AppResult<(String, String)> {
    let mut c = Check::new();
    let name = c.line("name", &input.name, NAME_MAX);
    let body = c.text("body", &input.body, BODY_MAX, false);
    c.finish()?;
    let unknown = unknown_placeholders(&body);
    if !unknown.is_empty() {
        let known: Vec<String> = PLACEHOLDERS
            .iter()
            .map(|(p, _)| format!("{{{p}}}"))
            .collect();
        let names: Vec<String> = unknown.iter().map(|u| format!("{{{u}}}")).collect();
        return Err(AppError::Invalid(vec![
            FieldError::new(
                "body",
                "unknown_value",
                format!(
                    "unknown placeholders {}; known: {}",
                    names.join(", "),
                    known.join(", ")
                ),
            )
            .ja(format!(
                "使えない差し込み項目があります: {}（使えるもの: {}）",
                names.join("、"),
                known.join("、")
            )),
        ]));
    }
    Ok((name, body))
}

const DESK: &[Role] = &[Role::Desk, Role::Admin];

fn municipality(conn: &mut AnyConnection, actor: &Actor, code: Option<&str>) -> AppResult<i64> {
    super::desk::municipality_of(conn, actor, code)
}

/// The templates of a municipality, for any of its staff (they use them in replies).
pub fn list(db: &Db, actor: &Actor, code: Option<&str>) -> AppResult<Vec<TemplateView>> {
    db.read(|conn| {
        let m = municipality(conn, actor, code)?;
        actor.require_staff_of(
            MunicipalityId(m),
            &[Role::Department, Role::Desk, Role::Admin],
        )?;
        Ok(storage::reply_templates::list(conn, m)?
            .into_iter()
            .map(view)
            .collect())
    })
}

/// The templates of a municipality for the desk's page that keeps them (desk, admins).
pub fn list_managed(db: &Db, actor: &Actor, code: Option<&str>) -> AppResult<Vec<TemplateView>> {
    db.read(|conn| {
        let m = municipality(conn, actor, code)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        Ok(storage::reply_templates::list(conn, m)?
            .into_iter()
            .map(view)
            .collect())
    })
}

/// One template, for the desk's edit form.
pub fn get(db: &Db, actor: &Actor, code: Option<&str>, id: i64) -> AppResult<TemplateView> {
    db.read(|conn| {
        let m = municipality(conn, actor, code)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        storage::reply_templates::find(conn, m, id)?
            .map(view)
            .ok_or(AppError::NotFound("reply template"))
    })
}

fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    m: i64,
    id: i64,
    name: &str,
) -> AppResult<()> {
    audit::record(
        conn,
        Some(actor),
        action,
        Target {
            kind: "reply_template",
            id: Some(id),
            label: name,
            municipality: Some(m),
        },
        serde_json::json!({}),
    )
}

fn conflict(e: AppError) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::field_ja(
            "name",
            "duplicate",
            "a template with this name exists",
            "同じ名前の定型文があります",
        ),
        other => other,
    }
}

pub fn create(
    db: &Db,
    actor: &Actor,
    code: Option<&str>,
    input: TemplateInput,
) -> AppResult<TemplateView> {
    let (name, body) = check(&input)?;
    db.write(|conn| {
        let m = municipality(conn, actor, code)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        let row = storage::reply_templates::insert(conn, m, &name, &body)
            .map_err(|e| conflict(e.into()))?;
        record(conn, actor, "template_created", m, row.id, &name)?;
        Ok(view(row))
    })
}

pub fn update(
    db: &Db,
    actor: &Actor,
    code: Option<&str>,
    id: i64,
    input: TemplateInput,
) -> AppResult<()> {
    let (name, body) = check(&input)?;
    db.write(|conn| {
        let m = municipality(conn, actor, code)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        match storage::reply_templates::update(conn, m, id, &name, &body)
            .map_err(|e| conflict(e.into()))?
        {
            0 => Err(AppError::NotFound("reply template")),
            _ => record(conn, actor, "template_changed", m, id, &name),
        }
    })
}

pub fn delete(db: &Db, actor: &Actor, code: Option<&str>, id: i64) -> AppResult<()> {
    db.write(|conn| {
        let m = municipality(conn, actor, code)?;
        actor.require_staff_of(MunicipalityId(m), DESK)?;
        let row = storage::reply_templates::find(conn, m, id)?
            .ok_or(AppError::NotFound("reply template"))?;
        storage::reply_templates::delete(conn, m, id)?;
        record(conn, actor, "template_deleted", m, id, &row.name)
    })
}

fn japanese_date(d: Option<chrono::NaiveDate>) -> String {
    use chrono::Datelike;
    d.map(|d| format!("{}年{}月{}日", d.year(), d.month(), d.day()))
        .unwrap_or_default()
}

/// The text of template `template_id` for proposal `id`: placeholders filled in. Staff
/// who may open the proposal only; a template of another municipality is not found.
pub fn render(db: &Db, actor: &Actor, id: ProposalId, template_id: i64) -> AppResult<String> {
    db.read(|conn| {
        let (p, access) = load(conn, actor, id)?;
        if access == super::proposals::Access::Proposer {
            return Err(AppError::Forbidden("reply templates are for staff"));
        }
        let t = storage::reply_templates::find(conn, p.municipality_id, template_id)?
            .ok_or(AppError::NotFound("reply template"))?;
        let m = storage::municipalities::by_id(conn, p.municipality_id)?;
        let department = match p.primary_department_id {
            Some(d) => storage::municipalities::department(conn, d)?.map(|d| d.name),
            None => None,
        }
        .unwrap_or_else(|| "担当課".to_owned());
        let values = [
            ("受付番号", receipt_number(p.receipt_year, p.receipt_seq)),
            (
                "提案者",
                p.submitter_org
                    .clone()
                    .unwrap_or_else(|| p.submitter_name.clone()),
            ),
            ("担当者", p.submitter_name.clone()),
            ("件名", p.title.clone()),
            ("担当課", department),
            ("回答期限", japanese_date(p.proposer_due_on)),
            ("結論期限", japanese_date(p.decision_due_on)),
            ("自治体名", m.name),
        ];
        // One pass over the template, so a value that itself looks like a placeholder
        // (a title containing 「{件名}」) is never filled in again.
        let mut out = String::with_capacity(t.body.len());
        let mut rest = t.body.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(rest.get(..open).unwrap_or_default());
            let after = rest.get(open + 1..).unwrap_or_default();
            let hit = values.iter().find(|(k, _)| {
                after.starts_with(k) && after.get(k.len()..).is_some_and(|r| r.starts_with('}'))
            });
            match hit {
                Some((k, v)) => {
                    out.push_str(v);
                    rest = after.get(k.len() + 1..).unwrap_or_default();
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_placeholders_are_found() {
        assert!(unknown_placeholders("{受付番号} {提案者}様 {{ }").is_empty());
        assert_eq!(
            unknown_placeholders("{受付番号} {宛名} {宛名}"),
            vec!["宛名"]
        );
        assert_eq!(unknown_placeholders("{ {件名}"), Vec::<String>::new());
        assert_eq!(unknown_placeholders("{x{件名}"), Vec::<String>::new());
    }
}
