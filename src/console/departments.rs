//! Departments (所管課) of the municipality with their policy fields
//! (`domain::municipalities`, changed by admins) and the desk's routing rules
//! (`domain::desk::rules`).

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Nav, select};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleResult, run, see_other};
use crate::domain::desk::rules::{self, RuleInput};
use crate::domain::error::AppError;
use crate::domain::ids::DepartmentId;
use crate::domain::municipalities::{self, DepartmentInput, DepartmentView};
use crate::domain::vocab::PolicyField;
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct MQuery {
    pub m: Option<String>,
}

fn back(code: &str, u: &ConsoleUser, done: &str) -> String {
    if u.is_deployment_admin() {
        format!(
            "/admin/departments?m={}&done={done}",
            layout::url_encode(code)
        )
    } else {
        format!("/admin/departments?done={done}")
    }
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<MQuery>,
) -> ConsoleResult<HttpResponse> {
    let lang = u.lang;
    let Some(code) = u.municipality(q.m.as_deref()) else {
        return super::choose_municipality(
            &state,
            &u,
            Nav::Departments,
            lang.t("所管課・振り分けルール", "Departments & routing rules"),
            "/admin/departments",
        )
        .await;
    };
    let actor = u.actor();
    let (m, rules) = run(&state, lang, move |db| {
        let m = municipalities::get(db, &code)?;
        let rules = rules::list(db, &actor, Some(&code))?;
        Ok((m, rules))
    })
    .await?;
    let name_of = |id: DepartmentId| {
        m.departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.clone())
            .unwrap_or_default()
    };
    let dept_options: Vec<(String, String)> = m
        .departments
        .iter()
        .map(|d| (d.id.0.to_string(), d.name.clone()))
        .collect();
    let fields: Vec<(String, String)> = PolicyField::ALL
        .iter()
        .map(|f| (f.as_str().to_owned(), lang.field(*f).to_owned()))
        .collect();
    // The prefecture as recorded (Japanese), or its English name from the code.
    let prefecture = match lang {
        super::i18n::Lang::En => crate::domain::codes::MunicipalityCode::parse(&m.code)
            .ok()
            .and_then(|c| c.prefecture_name_en())
            .map_or_else(|| m.prefecture.clone(), str::to_owned),
        super::i18n::Lang::Ja => m.prefecture.clone(),
    };
    let body = html! {
        p { (m.name) (lang.t("（", " (")) (prefecture) (lang.t("）", ")")) " — " (lang.s(
            format!("初回回答の目標 {}開庁日・結論の目標 {}開庁日", m.first_response_days, m.decision_days),
            format!("first answer within {} business days, decision within {}", m.first_response_days, m.decision_days))) }
        h2 { (lang.t("所管課", "Departments")) }
        div.table-wrap { table {
            caption { (lang.t("所管課と担当する政策分野", "Departments and the policy fields they own")) }
            thead { tr {
                th scope="col" { (lang.t("名称", "Name")) }
                th scope="col" { (lang.t("政策分野", "Policy fields")) }
                th scope="col" { (lang.t("メール", "E-mail")) }
                th scope="col" { (lang.t("窓口", "Desk")) }
            } }
            tbody { @for d in &m.departments { tr {
                td { (d.name) }
                td { @for (i, f) in d.policy_fields.iter().enumerate() { @if i > 0 { (lang.t("、", ", ")) } (lang.field(*f)) } }
                td { (d.email.as_deref().unwrap_or("—")) }
                td { @if d.is_desk { (lang.t("共創窓口", "Desk")) } }
            } } }
        } }
        @if u.is_admin() {
            @for d in &m.departments {
                details.action {
                    summary { (lang.t("変更: ", "Edit: ")) (d.name) }
                    (department_form(&u, &format!("/admin/departments/{}", d.id), Some(d), &m.code))
                }
            }
            details.action {
                summary { (lang.t("所管課を追加する", "Add a department")) }
                (department_form(&u, "/admin/departments", None, &m.code))
            }
        }
        h2 { (lang.t("振り分けルール", "Routing rules")) }
        p.hint { (lang.t("政策分野またはキーワード（件名・本文に含まれる語）で、所管課の候補を示します。", "A policy field or a keyword in the title or body points to a department.")) }
        @if rules.is_empty() { p.muted { (lang.t("ルールはまだありません。", "No rules yet.")) } }
        @else {
            div.table-wrap { table {
                caption { (lang.t("登録済みのルール", "Rules")) }
                thead { tr {
                    th scope="col" { (lang.t("政策分野", "Policy field")) }
                    th scope="col" { (lang.t("キーワード", "Keyword")) }
                    th scope="col" { (lang.t("候補とする所管課", "Department")) }
                    th scope="col" { span.muted { (lang.t("操作", "Action")) } }
                } }
                tbody { @for r in &rules { tr {
                    td { @match r.policy_field { Some(f) => (lang.field(f)), None => "—" } }
                    td { (r.keyword.as_deref().unwrap_or("—")) }
                    td { (name_of(r.department_id)) }
                    td { form.inline method="post" action=(format!("/admin/rules/{}/delete", r.id)) {
                        (layout::csrf(&u))
                        input type="hidden" name="m" value=(m.code);
                        button type="submit" { (lang.t("削除", "Delete")) }
                    } }
                } } }
            } }
        }
        h3 { (lang.t("ルールを追加する", "Add a rule")) }
        form method="post" action="/admin/rules" {
            (layout::csrf(&u))
            input type="hidden" name="m" value=(m.code);
            (select("rule-dept", "department_id", lang.t("所管課", "Department"), &dept_options, None, None))
            (select("rule-field", "policy_field", lang.t("政策分野", "Policy field"), &fields, None, Some(lang.t("指定しない", "None"))))
            div.field {
                label for="rule-keyword" { (lang.t("キーワード", "Keyword")) }
                input #rule-keyword type="text" name="keyword" maxlength="100";
            }
            button.primary type="submit" { (lang.t("ルールを追加する", "Add rule")) }
        }
    };
    Ok(layout::page(
        &u,
        Nav::Departments,
        lang.t("所管課・振り分けルール", "Departments & routing rules"),
        body,
    ))
}

fn department_form(
    u: &ConsoleUser,
    action: &str,
    d: Option<&DepartmentView>,
    code: &str,
) -> Markup {
    let lang = u.lang;
    let key = d
        .map(|d| d.id.0.to_string())
        .unwrap_or_else(|| "new".into());
    html! {
        form method="post" action=(action) {
            (layout::csrf(u))
            input type="hidden" name="m" value=(code);
            div.field {
                label for=(format!("d-name-{key}")) { (lang.t("名称", "Name")) }
                input id=(format!("d-name-{key}")) type="text" name="name" required value=[d.map(|d| d.name.as_str())];
            }
            div.field {
                label for=(format!("d-email-{key}")) { (lang.t("メールアドレス", "E-mail")) }
                input id=(format!("d-email-{key}")) type="email" name="email" value=[d.and_then(|d| d.email.as_deref())];
            }
            fieldset.checks {
                legend { (lang.t("担当する政策分野", "Policy fields owned")) }
                @for f in PolicyField::ALL {
                    label { input type="checkbox" name="policy_fields" value=(f.as_str()) checked[d.is_some_and(|d| d.policy_fields.contains(f))]; " " (lang.field(*f)) }
                }
            }
            div.field { label { input type="checkbox" name="is_desk" value="1" checked[d.is_some_and(|d| d.is_desk)]; " " (lang.t("共創窓口の課である", "This is the co-creation desk")) } }
            button.primary type="submit" { (lang.t("保存する", "Save")) }
        }
    }
}

fn department_input(f: &Fields) -> DepartmentInput {
    DepartmentInput {
        name: f.text("name"),
        email: f.opt("email"),
        policy_fields: f.all("policy_fields"),
        is_desk: f.checked("is_desk"),
    }
}

fn code_of(u: &ConsoleUser, f: &Fields) -> Result<String, AppError> {
    u.municipality(f.get("m"))
        .ok_or_else(|| AppError::field("m", "required", "choose a municipality"))
}

pub async fn create(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let code = code_of(&u, &f).map_err(|e| u.err(e))?;
    let (actor, input, c) = (u.actor(), department_input(&f), code.clone());
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        crate::domain::audit::with_source(&source, || {
            municipalities::create_department(db, &actor, &c, input)
        })
    })
    .await?;
    Ok(see_other(&back(&code, &u, "created")))
}

pub async fn update(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<DepartmentId>,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let id = id.into_inner();
    let (actor, input) = (u.actor(), department_input(&f));
    let source = crate::web::source(&req);
    let d = run(&state, u.lang, move |db| {
        crate::domain::audit::with_source(&source, || {
            municipalities::update_department(db, &actor, id, input)
        })
    })
    .await?;
    Ok(see_other(&back(&d.municipality_code, &u, "saved")))
}

pub async fn create_rule(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let code = code_of(&u, &f).map_err(|e| u.err(e))?;
    let input = RuleInput {
        department_id: f.id("department_id").map_err(|e| u.err(e))?.unwrap_or(0),
        policy_field: f.opt("policy_field"),
        keyword: f.opt("keyword"),
    };
    let (actor, c) = (u.actor(), code.clone());
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        crate::domain::audit::with_source(&source, || rules::create(db, &actor, Some(&c), input))
    })
    .await?;
    Ok(see_other(&back(&code, &u, "created")))
}

pub async fn delete_rule(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<i64>,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let code = code_of(&u, &f).map_err(|e| u.err(e))?;
    let (actor, c, id) = (u.actor(), code.clone(), id.into_inner());
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        crate::domain::audit::with_source(&source, || rules::delete(db, &actor, Some(&c), id))
    })
    .await?;
    Ok(see_other(&back(&code, &u, "deleted")))
}
