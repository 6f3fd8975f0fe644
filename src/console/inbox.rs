//! The inbox (受付一覧): overdue clocks first, then the 所管未定 queue, then every
//! proposal the caller may see, with filters and a text search.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Nav, blank, select};
use super::session::ConsoleUser;
use super::{ConsoleResult, run};
use crate::domain::desk::deadlines::{self, Clock, DeadlineQuery, Deadlines};
use crate::domain::municipalities;
use crate::domain::pagination::Page;
use crate::domain::proposals::{self, ProposalQuery, ProposalView};
use crate::domain::vocab::{Channel, PolicyField, ProposalState};
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    pub state: Option<String>,
    pub channel: Option<String>,
    pub field: Option<String>,
    pub department: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub unassigned: Option<String>,
    pub m: Option<String>,
    pub cursor: Option<String>,
}

impl InboxQuery {
    fn filtered(&self) -> bool {
        [
            &self.state,
            &self.channel,
            &self.field,
            &self.department,
            &self.from,
            &self.to,
            &self.q,
            &self.unassigned,
            &self.cursor,
        ]
        .iter()
        .any(|v| blank(v).is_some())
    }
}

pub struct Inbox {
    pub list: Page<ProposalView>,
    pub unassigned: Vec<ProposalView>,
    pub deadlines: Option<Deadlines>,
    pub departments: Vec<(String, String)>,
    pub municipalities: Vec<(String, String)>,
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<InboxQuery>,
) -> ConsoleResult<HttpResponse> {
    let q = q.into_inner();
    let actor = u.actor();
    let code = u.municipality(q.m.as_deref());
    let deployment_admin = u.is_deployment_admin();
    let department_id = match blank(&q.department) {
        None => None,
        Some(d) => Some(d.parse::<i64>().map_err(|_| {
            u.err(crate::domain::error::AppError::field(
                "department",
                "format",
                "must be a number",
            ))
        })?),
    };
    let date =
        |v: &Option<String>, name: &'static str| -> ConsoleResult<Option<chrono::NaiveDate>> {
            blank(v).map(|d| d.parse()).transpose().map_err(|_| {
                u.err(crate::domain::error::AppError::field(
                    name,
                    "format",
                    "YYYY-MM-DD",
                ))
            })
        };
    let query = ProposalQuery {
        state: Some(blank(&q.state).unwrap_or_else(|| "open".to_owned())).filter(|s| s != "all"),
        channel: blank(&q.channel),
        policy_field: blank(&q.field),
        department_id,
        unassigned: blank(&q.unassigned).map(|_| true),
        from: date(&q.from, "from")?,
        to: date(&q.to, "to")?,
        municipality: if deployment_admin { code.clone() } else { None },
        cursor: blank(&q.cursor),
        limit: Some(100),
    };
    let show_queues = !q.filtered();
    let is_desk = u.is_desk();
    let code2 = code.clone();
    let inbox = run(&state, u.lang, move |db| {
        let list = proposals::list(db, &actor, query)?;
        let unassigned = if show_queues && is_desk {
            proposals::list(
                db,
                &actor,
                ProposalQuery {
                    state: Some("open".into()),
                    unassigned: Some(true),
                    municipality: if deployment_admin {
                        code2.clone()
                    } else {
                        None
                    },
                    limit: Some(100),
                    ..Default::default()
                },
            )?
            .items
        } else {
            vec![]
        };
        // A deployment admin sees deadlines once a municipality is chosen.
        let deadlines = if show_queues && (code2.is_some() || !deployment_admin) {
            Some(deadlines::deadlines(
                db,
                &actor,
                DeadlineQuery {
                    within: Some(3),
                    municipality: if deployment_admin {
                        code2.clone()
                    } else {
                        None
                    },
                },
            )?)
        } else {
            None
        };
        let departments = match &code2 {
            Some(c) => municipalities::list_departments(db, c)?
                .into_iter()
                .map(|d| (d.id.0.to_string(), d.name))
                .collect(),
            None => vec![],
        };
        let municipalities = if deployment_admin {
            municipalities::list(db)?
                .into_iter()
                .map(|m| (m.code, m.name))
                .collect()
        } else {
            vec![]
        };
        Ok(Inbox {
            list,
            unassigned,
            deadlines,
            departments,
            municipalities,
        })
    })
    .await?;
    Ok(render(&u, &q, inbox))
}

/// The text search of the inbox. The search index holds needs and offers only
/// (proposals never enter it, see `domain::search::query`), so the listed proposals are
/// filtered here by a case-insensitive substring of title, body, submitter or receipt
/// number.
fn matches_text(p: &ProposalView, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    [
        p.title.as_str(),
        p.body.as_str(),
        p.submitter.name.as_str(),
        p.submitter.organisation.as_deref().unwrap_or(""),
        p.receipt_number.as_str(),
    ]
    .iter()
    .any(|h| h.to_lowercase().contains(&needle))
}

fn clock_label(u: &ConsoleUser, c: Clock) -> &'static str {
    match c {
        Clock::Department => u.lang.t("所管課の回答", "Department's answer"),
        Clock::Proposer => u.lang.t("提案者への初回回答", "First answer to proposer"),
        Clock::Decision => u.lang.t("結論", "Decision"),
    }
}

/// One row per proposal; shared with the partner page.
pub fn table(
    u: &ConsoleUser,
    caption: &str,
    rows: &[&ProposalView],
    extra: Option<&[String]>,
) -> Markup {
    let lang = u.lang;
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (lang.t("受付番号", "Receipt no.")) }
                    th scope="col" { (lang.t("件名", "Title")) }
                    th scope="col" { (lang.t("提案者", "Proposer")) }
                    th scope="col" { (lang.t("受付経路", "Channel")) }
                    th scope="col" { (lang.t("政策分野", "Policy field")) }
                    th scope="col" { (lang.t("状態", "State")) }
                    th scope="col" { (lang.t("所管課", "Department")) }
                    th scope="col" { (lang.t("受付日時", "Received")) }
                    @if extra.is_some() { th scope="col" { (lang.t("期限", "Due")) } }
                } }
                tbody {
                    @for (i, p) in rows.iter().enumerate() {
                        tr {
                            td.receipt { (p.receipt_number) }
                            td { a href=(format!("/admin/proposals/{}", p.id)) { (p.title) } }
                            td { (p.submitter.name) @if let Some(o) = &p.submitter.organisation { br; span.muted { (o) } } @if p.partner_email_verified == Some(false) { " " span.badge.unverified title=(lang.t("連絡先メールアドレスが未確認のため、受付のお知らせなどのメールは送られていません", "The contact address is not verified: no mail is sent to it")) { (lang.t("メール未確認", "E-mail unverified")) } } }
                            td { (lang.channel(p.channel)) }
                            td { @match p.policy_field { Some(f) => (lang.field(f)), None => span.muted { "—" } } }
                            td { (lang.state(p.state)) @if p.clocks.paused_since.is_some() { " " span.badge { (lang.t("資料待ち", "Paused")) } } }
                            td {
                                @if p.unassigned { span.badge.unassigned { (lang.t("所管未定", "Unassigned")) } }
                                @for d in &p.departments { (d.name) @if !d.primary { span.muted { (lang.t("（関係課）", " (also)")) } } br; }
                            }
                            td { (layout::local_time(p.received_at)) }
                            @if let Some(extra) = extra { td { (extra[i]) } }
                        }
                    }
                }
            }
        }
    }
}

fn render(u: &ConsoleUser, q: &InboxQuery, inbox: Inbox) -> HttpResponse {
    let lang = u.lang;
    let needle = blank(&q.q);
    let rows: Vec<&ProposalView> = inbox
        .list
        .items
        .iter()
        .filter(|p| needle.as_deref().is_none_or(|n| matches_text(p, n)))
        .collect();
    let mut states: Vec<(String, String)> = vec![
        (
            "open".into(),
            lang.t(
                "対応中（受付済・確認中・対話中）",
                "Open (received, routed, in dialogue)",
            )
            .into(),
        ),
        ("all".into(), lang.t("すべて", "All").into()),
    ];
    states.extend(
        ProposalState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), lang.state(*s).to_owned())),
    );
    let channels: Vec<(String, String)> = Channel::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), lang.channel(*c).to_owned()))
        .collect();
    let fields: Vec<(String, String)> = PolicyField::ALL
        .iter()
        .map(|f| (f.as_str().to_owned(), lang.field(*f).to_owned()))
        .collect();
    let chosen_state = blank(&q.state).unwrap_or_else(|| "open".into());
    let body = html! {
        @if u.is_deployment_admin() {
            (layout::municipality_picker(u, "/admin/inbox", &inbox.municipalities, q.m.as_deref()))
        }
        @if let Some(d) = &inbox.deadlines {
            @if !d.overdue.is_empty() {
                section aria-labelledby="overdue-h" {
                    h2 #overdue-h { (lang.t("期限超過", "Overdue")) " (" (d.overdue.len()) ")" }
                    @let list: Vec<&ProposalView> = d.overdue.iter().map(|i| &i.proposal).collect();
                    @let due: Vec<String> = d.overdue.iter().map(|i| format!("{} {} ({})", clock_label(u, i.clock), i.due_on, lang.s(format!("{}開庁日超過", -i.business_days_left), format!("{} business days late", -i.business_days_left)))).collect();
                    (table(u, lang.t("回答期限を過ぎた提案", "Proposals past a due date"), &list, Some(&due)))
                }
            }
            @if !d.due_soon.is_empty() {
                section aria-labelledby="soon-h" {
                    h2 #soon-h { (lang.t("期限間近（3開庁日以内）", "Due within 3 business days")) " (" (d.due_soon.len()) ")" }
                    @let list: Vec<&ProposalView> = d.due_soon.iter().map(|i| &i.proposal).collect();
                    @let due: Vec<String> = d.due_soon.iter().map(|i| format!("{} {}", clock_label(u, i.clock), i.due_on)).collect();
                    (table(u, lang.t("まもなく期限の提案", "Proposals due soon"), &list, Some(&due)))
                }
            }
        }
        @if u.is_desk() && !q.filtered() {
            section aria-labelledby="unassigned-h" {
                h2 #unassigned-h { (lang.t("所管未定", "Unassigned (owner not yet known)")) " (" (inbox.unassigned.len()) ")" }
                @if inbox.unassigned.is_empty() {
                    p.muted { (lang.t("所管未定の提案はありません。", "No proposal is waiting for an owner.")) }
                } @else {
                    @let list: Vec<&ProposalView> = inbox.unassigned.iter().collect();
                    (table(u, lang.t("所管課が決まっていない提案（古い順に対応してください）", "Proposals without a department"), &list, None))
                }
            }
        }
        section aria-labelledby="all-h" {
            h2 #all-h { (lang.t("提案の一覧", "All proposals")) }
            form.filters method="get" action="/admin/inbox" role="search" aria-label=(lang.t("提案の絞り込み", "Filter proposals")) {
                @if let Some(m) = blank(&q.m) { input type="hidden" name="m" value=(m); }
                div.field {
                    label for="q" { (lang.t("キーワード", "Search")) }
                    input #q type="search" name="q" value=[needle.as_deref()];
                }
                (select("state", "state", lang.t("状態", "State"), &states, Some(&chosen_state), None))
                (select("channel", "channel", lang.t("受付経路", "Channel"), &channels, q.channel.as_deref(), Some(lang.t("すべて", "All"))))
                (select("field", "field", lang.t("政策分野", "Policy field"), &fields, q.field.as_deref(), Some(lang.t("すべて", "All"))))
                @if !inbox.departments.is_empty() && u.is_desk() {
                    (select("department", "department", lang.t("所管課", "Department"), &inbox.departments, q.department.as_deref(), Some(lang.t("すべて", "All"))))
                }
                div.field {
                    label for="from" { (lang.t("受付日（から）", "Received from")) }
                    input #from type="date" name="from" value=[blank(&q.from)];
                }
                div.field {
                    label for="to" { (lang.t("受付日（まで）", "Received before")) }
                    input #to type="date" name="to" value=[blank(&q.to)];
                }
                div.field {
                    label { input type="checkbox" name="unassigned" value="1" checked[blank(&q.unassigned).is_some()]; " " (lang.t("所管未定のみ", "Unassigned only")) }
                }
                button type="submit" { (lang.t("絞り込む", "Filter")) }
                " "
                a href="/admin/inbox" { (lang.t("条件をクリア", "Clear")) }
            }
            @if rows.is_empty() {
                p { (lang.t("該当する提案はありません。", "No proposals match.")) }
            } @else {
                (table(u, &lang.s(format!("{}件を表示", rows.len()), format!("Showing {}", rows.len())), &rows, None))
            }
            @if let Some(c) = &inbox.list.next_cursor {
                p { a href=(next_link(q, c)) { (lang.t("次のページ", "Next page")) } }
            }
        }
    };
    layout::page(u, Nav::Inbox, lang.t("受付一覧", "Inbox"), body)
}

fn next_link(q: &InboxQuery, cursor: &str) -> String {
    let mut parts = vec![format!("cursor={}", layout::url_encode(cursor))];
    for (k, v) in [
        ("state", &q.state),
        ("channel", &q.channel),
        ("field", &q.field),
        ("department", &q.department),
        ("from", &q.from),
        ("to", &q.to),
        ("q", &q.q),
        ("unassigned", &q.unassigned),
        ("m", &q.m),
    ] {
        if let Some(v) = blank(v) {
            parts.push(format!("{k}={}", layout::url_encode(&v)));
        }
    }
    format!("/admin/inbox?{}", parts.join("&"))
}
