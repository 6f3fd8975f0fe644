//! The desk's reply templates (定型文): the list with the placeholders they may hold,
//! and the forms to add, change and delete one (`domain::reply_templates`, desk and
//! admins; every change in the audit log). Staff choose a template in a proposal's
//! reply form (`console::proposal`).

use actix_web::{HttpResponse, web};
use maud::html;

use super::departments::MQuery;
use super::layout::{self, Nav};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleError, ConsoleResult, run, see_other};
use crate::domain::error::AppError;
use crate::domain::municipalities;
use crate::domain::reply_templates::{self, PLACEHOLDERS, TemplateInput, TemplateView};
use crate::web::state::AppState;

fn back(u: &ConsoleUser, code: &str, done: &str) -> String {
    if u.is_deployment_admin() {
        format!(
            "/admin/templates?m={}&done={done}",
            layout::url_encode(code)
        )
    } else {
        format!("/admin/templates?done={done}")
    }
}

fn placeholders(u: &ConsoleUser) -> maud::Markup {
    let lang = u.lang;
    html! {
        h2 { (lang.t("差し込み項目", "Placeholders")) }
        p.hint { (lang.t("本文に次の項目を書くと、回答を書くときに提案の内容で置き換えられます。これ以外の {…} は保存できません。", "These are replaced with the proposal's values when a reply is written; any other {…} is refused.")) }
        // The placeholders themselves are written in Japanese in any language: they are
        // what a template's author types.
        dl.facts { @for (p, what) in PLACEHOLDERS { dt { code lang="ja" { "{" (p) "}" } } dd { (lang.t(what, placeholder_en(p))) } } }
    }
}

/// What a placeholder becomes, in English.
fn placeholder_en(name: &str) -> &'static str {
    match name {
        "受付番号" => "The proposal's receipt number (e.g. 2026-000123)",
        "提案者" => "The proposer's organisation (a person's name if none)",
        "担当者" => "The proposer's contact person",
        "件名" => "The proposal's title",
        "担当課" => "The lead department's name (a generic word before routing)",
        "回答期限" => "The due date of the first answer, as a Japanese date",
        "結論期限" => "The due date of the decision",
        "自治体名" => "The municipality's name",
        _ => "",
    }
}

fn form(u: &ConsoleUser, action: &str, code: &str, f: &Fields) -> maud::Markup {
    let lang = u.lang;
    html! {
        form method="post" action=(action) {
            (layout::csrf(u))
            input type="hidden" name="m" value=(code);
            div.field {
                label for="tpl-name" { (lang.t("名前（必須）", "Name (required)")) }
                input #tpl-name type="text" name="name" required maxlength="100" value=[f.get("name")];
            }
            div.field {
                label for="tpl-body" { (lang.t("本文（必須）", "Text (required)")) }
                textarea #tpl-body name="body" required rows="8" { (f.get("body").unwrap_or_default()) }
            }
            button.primary type="submit" { (lang.t("保存する", "Save")) }
        }
    }
}

async fn list_page(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    code: String,
    f: &Fields,
    error: Option<&AppError>,
) -> ConsoleResult<HttpResponse> {
    let lang = u.lang;
    let actor = u.actor();
    let c = code.clone();
    let (name, items): (String, Vec<TemplateView>) = run(state, lang, move |db| {
        // Only the desk and admins keep templates; department staff use them.
        let items = reply_templates::list_managed(db, &actor, Some(&c))?;
        Ok((municipalities::get(db, &c)?.name, items))
    })
    .await?;
    let body = html! {
        @if let Some(e) = error { (layout::error_detail(lang, e)) }
        p { (name) }
        @if items.is_empty() { p.muted { (lang.t("定型文はまだありません。", "No templates yet.")) } }
        @for t in &items {
            details.action {
                summary { (t.name) }
                pre.body-text { (t.body) }
                p { a href=(format!("/admin/templates/{}{}", t.id, if u.is_deployment_admin() { format!("?m={}", layout::url_encode(&code)) } else { String::new() })) { (lang.t("変更する", "Edit")) } }
                form.inline method="post" action=(format!("/admin/templates/{}/delete", t.id)) {
                    (layout::csrf(u))
                    input type="hidden" name="m" value=(code);
                    button type="submit" { (lang.t("削除", "Delete")) }
                }
            }
        }
        h2 { (lang.t("定型文を追加する", "Add a template")) }
        (form(u, "/admin/templates", &code, f))
        (placeholders(u))
    };
    Ok(layout::page_after(
        u,
        Nav::Departments,
        lang.t("定型文", "Reply templates"),
        error,
        body,
    ))
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<MQuery>,
) -> ConsoleResult<HttpResponse> {
    let lang = u.lang;
    let Some(code) = u.municipality(q.m.as_deref()) else {
        let ms = run(&state, lang, |db| {
            Ok(municipalities::list(db)?
                .into_iter()
                .map(|m| (m.code, m.name))
                .collect::<Vec<_>>())
        })
        .await?;
        let body = layout::municipality_picker(&u, "/admin/templates", &ms, None);
        return Ok(layout::page(
            &u,
            Nav::Departments,
            lang.t("定型文", "Reply templates"),
            body,
        ));
    };
    list_page(&state, &u, code, &Fields::empty(), None).await
}

fn code_of(u: &ConsoleUser, f: &Fields) -> Result<String, ConsoleError> {
    u.municipality(f.get("m")).ok_or_else(|| {
        u.err(AppError::field(
            "municipality",
            "required",
            "choose a municipality",
        ))
    })
}

pub async fn create(state: web::Data<AppState>, posted: Posted) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let code = code_of(&u, &f)?;
    let actor = u.actor();
    let input = TemplateInput {
        name: f.text("name"),
        body: f.text("body"),
    };
    let c = code.clone();
    match run(&state, u.lang, move |db| {
        reply_templates::create(db, &actor, Some(&c), input)
    })
    .await
    {
        Ok(_) => Ok(see_other(&back(&u, &code, "template_created"))),
        Err(ConsoleError::App(e @ AppError::Invalid(_), _)) => {
            list_page(&state, &u, code, &f, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    u: ConsoleUser,
    id: web::Path<i64>,
    q: web::Query<MQuery>,
) -> ConsoleResult<HttpResponse> {
    let code = u
        .municipality(q.m.as_deref())
        .ok_or_else(|| u.err(AppError::NotFound("reply template")))?;
    let actor = u.actor();
    let id = id.into_inner();
    let c = code.clone();
    let t = run(&state, u.lang, move |db| {
        reply_templates::get(db, &actor, Some(&c), id)
    })
    .await?;
    let f = Fields::with(&[("name", &t.name), ("body", &t.body)]);
    Ok(edit_page(&u, &code, id, &f, None))
}

fn edit_page(
    u: &ConsoleUser,
    code: &str,
    id: i64,
    f: &Fields,
    error: Option<&AppError>,
) -> HttpResponse {
    let lang = u.lang;
    let body = html! {
        @if let Some(e) = error { (layout::error_detail(lang, e)) }
        p { a href=(back(u, code, "")) { "← " (lang.t("定型文の一覧へ", "Back to the templates")) } }
        (form(u, &format!("/admin/templates/{id}"), code, f))
        (placeholders(u))
    };
    layout::page_after(
        u,
        Nav::Departments,
        lang.t("定型文の変更", "Edit a reply template"),
        error,
        body,
    )
}

pub async fn update(
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<i64>,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let code = code_of(&u, &f)?;
    let actor = u.actor();
    let id = id.into_inner();
    let input = TemplateInput {
        name: f.text("name"),
        body: f.text("body"),
    };
    let c = code.clone();
    match run(&state, u.lang, move |db| {
        reply_templates::update(db, &actor, Some(&c), id, input)
    })
    .await
    {
        Ok(()) => Ok(see_other(&back(&u, &code, "template_changed"))),
        Err(ConsoleError::App(e @ AppError::Invalid(_), _)) => {
            Ok(edit_page(&u, &code, id, &f, Some(&e)))
        }
        Err(e) => Err(e),
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<i64>,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let code = code_of(&u, &f)?;
    let actor = u.actor();
    let id = id.into_inner();
    let c = code.clone();
    run(&state, u.lang, move |db| {
        reply_templates::delete(db, &actor, Some(&c), id)
    })
    .await?;
    Ok(see_other(&back(&u, &code, "template_deleted")))
}
