//! The audit log for administrators (`domain::audit`): sign-ins and administrative
//! actions, newest first, filtered by action and period, a page at a time, and the same
//! selection as CSV. Also the source address every audited console and API request
//! records.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::layout::{self, Nav};
use super::session::{ConsoleUser, Fields};
use super::{ConsoleResult, run};
use crate::console::i18n::Lang;
use crate::domain::audit::{self, AuditQuery};
use crate::domain::error::AppError;
use crate::web::state::AppState;

fn query(
    req: &HttpRequest,
    u: &ConsoleUser,
) -> Result<(AuditQuery, Vec<(String, String)>), AppError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let f = Fields::with(
        &pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    let q = AuditQuery {
        action: f.opt("action"),
        from: f.date("from")?,
        until: f.date("until")?,
        municipality: if u.is_deployment_admin() {
            f.opt("m")
        } else {
            None
        },
        cursor: f.opt("cursor"),
        limit: Some(50),
    };
    let keep = pairs
        .into_iter()
        .filter(|(k, v)| k != "cursor" && k != "done" && !v.trim().is_empty())
        .collect();
    Ok((q, keep))
}

fn link(path: &str, keep: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = keep
        .iter()
        .map(|(k, v)| format!("{}={}", layout::url_encode(k), layout::url_encode(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}={}", layout::url_encode(v)));
    }
    if parts.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

fn actor_text(lang: Lang, e: &audit::AuditEntry) -> String {
    match e.actor_type.as_str() {
        "operator" => lang.t("運用者（CLI）", "Operator (CLI)").to_owned(),
        "anonymous" => lang
            .t("（不明なアカウント）", "(unknown account)")
            .to_owned(),
        _ => e.actor_label.clone(),
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    u: ConsoleUser,
) -> ConsoleResult<HttpResponse> {
    let (q, keep) = query(&req, &u).map_err(|e| u.err(e))?;
    let actor = u.actor();
    let shown = q.clone();
    let page = run(&state, u.lang, move |db| audit::list(db, &actor, &q)).await?;
    let lang = u.lang;
    let ja = lang == Lang::Ja;
    let mut actions: Vec<(String, String)> = audit::ACTIONS
        .iter()
        .map(|(c, _, _)| ((*c).to_owned(), audit::action_label(c, ja).to_owned()))
        .collect();
    actions.sort_by(|a, b| a.0.cmp(&b.0));
    let body = html! {
        form.filters method="get" action="/admin/audit" {
            (layout::select("a-action", "action", lang.t("操作", "Action"), &actions, shown.action.as_deref(), Some(lang.t("すべて", "All"))))
            div.field {
                label for="a-from" { (lang.t("開始日", "From")) }
                input #a-from type="date" name="from" value=[shown.from.map(|d| d.to_string())];
            }
            div.field {
                label for="a-until" { (lang.t("終了日", "Until")) }
                input #a-until type="date" name="until" value=[shown.until.map(|d| d.to_string())];
            }
            @if u.is_deployment_admin() {
                div.field {
                    label for="a-m" { (lang.t("自治体コード（空欄はすべて）", "Municipality code (blank: all)")) }
                    input #a-m type="text" name="m" inputmode="numeric" value=[shown.municipality.as_deref()];
                }
            }
            button type="submit" { (lang.t("絞り込む", "Filter")) }
        }
        p { a href=(link("/admin/audit.csv", &keep, None)) download { (lang.t("この条件でCSVをダウンロード", "Download these entries as CSV")) } }
        @if page.items.is_empty() {
            p { (lang.t("該当する記録はありません。", "No entries.")) }
        } @else {
            // Wide: focusable, so keyboard users can scroll it sideways.
            div.table-wrap tabindex="0" role="region" aria-label=(lang.t("操作記録", "Audit log")) { table {
                caption { (lang.t("操作記録（新しい順）", "Audit log (newest first)")) }
                thead { tr {
                    th scope="col" { (lang.t("日時", "When")) }
                    th scope="col" { (lang.t("操作", "Action")) }
                    th scope="col" { (lang.t("実行者", "Who")) }
                    th scope="col" { (lang.t("接続元", "From")) }
                    th scope="col" { (lang.t("対象", "Target")) }
                    th scope="col" { (lang.t("自治体", "Municipality")) }
                    th scope="col" { (lang.t("詳細", "Detail")) }
                } }
                tbody { @for e in &page.items { tr {
                    td { (layout::local_time(e.at)) }
                    td { (audit::action_label(&e.action, ja)) }
                    td { (actor_text(lang, e)) }
                    td { (e.source) }
                    td { (e.target_label) @if let Some(id) = e.target_id { " (" (e.target_type) " " (id) ")" } }
                    td { (e.municipality_code.as_deref().unwrap_or("—")) }
                    td { code { (e.detail.to_string()) } }
                } } }
            } }
            @if let Some(c) = &page.next_cursor {
                p { a href=(link("/admin/audit", &keep, Some(("cursor", c)))) { (lang.t("さらに古い記録", "Older entries")) } }
            }
        }
    };
    Ok(layout::page(
        &u,
        Nav::Audit,
        lang.t("操作記録", "Audit log"),
        body,
    ))
}

pub async fn csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    u: ConsoleUser,
) -> ConsoleResult<HttpResponse> {
    let (q, _) = query(&req, &u).map_err(|e| u.err(e))?;
    let actor = u.actor();
    let body = run(&state, u.lang, move |db| audit::to_csv(db, &actor, &q)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"kyoso-audit.csv\"",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
