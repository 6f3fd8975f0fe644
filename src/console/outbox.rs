//! The mail outbox for deployment administrators (`domain::outbox_admin`): failed mails
//! first, then delayed ones (still queued after failed attempts, with the last error and
//! the next attempt), the most recent others after, and a button that queues a failed
//! mail again.

use actix_web::{HttpResponse, web};
use maud::html;

use super::layout::{self, Nav};
use super::session::{ConsoleUser, Posted};
use super::{ConsoleResult, run, see_other};
use crate::domain::outbox_admin;
use crate::domain::vocab::MailStatus;
use crate::web::state::AppState;

pub async fn show(state: web::Data<AppState>, u: ConsoleUser) -> ConsoleResult<HttpResponse> {
    let actor = u.actor();
    let outbox = run(&state, u.lang, move |db| {
        outbox_admin::list(db, &actor, 100)
    })
    .await?;
    let lang = u.lang;
    let status = |s: &str| match MailStatus::parse(s) {
        Some(s) => lang.mail_status(s),
        None => lang.t("不明", "Unknown"),
    };
    let body = html! {
        ul.kpis {
            @for (s, n) in &outbox.counts { li { (status(s)) strong { (n) } } }
            // Late mail is what admins must notice before anyone asks for it.
            @if outbox.delayed > 0 { li { (lang.t("うち遅延", "Delayed")) strong { (outbox.delayed) } } }
        }
        @if outbox.mails.is_empty() {
            p { (lang.t("メールはまだありません。", "No mail yet.")) }
        } @else {
            div.table-wrap { table {
                caption { (lang.t("送信失敗と遅延を先頭に、最近のメール", "Failed and delayed mails first, then recent mails")) }
                thead { tr {
                    th scope="col" { (lang.t("状態", "Status")) }
                    th scope="col" { (lang.t("宛先", "To")) }
                    th scope="col" { (lang.t("件名", "Subject")) }
                    th scope="col" { (lang.t("種類", "Kind")) }
                    th.num scope="col" { (lang.t("試行回数", "Attempts")) }
                    th scope="col" { (lang.t("作成日時", "Created")) }
                    th scope="col" { (lang.t("次の試行", "Next attempt")) }
                    th scope="col" { (lang.t("エラー", "Error")) }
                    th scope="col" { span.muted { (lang.t("操作", "Action")) } }
                } }
                tbody { @for m in &outbox.mails { tr {
                    td {
                        @if m.status == "failed" { span.badge.overdue { (status(&m.status)) } }
                        @else if m.delayed { span.badge.overdue { (lang.t("遅延", "Delayed")) } }
                        @else { (status(&m.status)) }
                    }
                    td { (m.recipient_email) }
                    td { (m.subject) }
                    td { (m.kind) }
                    td.num { (m.attempts) }
                    td { (layout::local_time(m.created_at)) }
                    td { @if m.status == "pending" { (layout::local_time(m.next_attempt_at)) } }
                    td { (m.last_error.as_deref().unwrap_or("")) }
                    td { @if m.status == "failed" {
                        form.inline method="post" action=(format!("/admin/outbox/{}/retry", m.id)) {
                            (layout::csrf(&u))
                            button type="submit" { (lang.t("再送する", "Retry")) }
                        }
                    } }
                } } }
            } }
        }
    };
    Ok(layout::page(
        &u,
        Nav::Outbox,
        lang.t("メール送信状況", "Mail outbox"),
        body,
    ))
}

pub async fn retry(
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<i64>,
) -> ConsoleResult<HttpResponse> {
    let u = posted.user;
    let (actor, id) = (u.actor(), id.into_inner());
    run(&state, u.lang, move |db| {
        outbox_admin::retry(db, &actor, id)
    })
    .await?;
    Ok(see_other("/admin/outbox?done=retried"))
}
