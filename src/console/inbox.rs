//! The inbox (受付一覧): the filters and search first, then (unfiltered) the overdue,
//! due-soon and 所管未定 queues, then every proposal the caller may see, each row with a
//! checkbox for the bulk actions (一括操作) in the form above the list. Filtering,
//! search, sorting and paging happen in `domain::proposals::find`, over all proposals,
//! never within a page.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::error_text;
use super::layout::{self, Nav, blank, select};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleError, ConsoleResult, lift, run, run_search, see_other};
use crate::domain::desk::deadlines::{self, Clock, DeadlineQuery, Deadlines};
use crate::domain::error::AppError;
use crate::domain::inbox_filters::{self, InboxFilterView};
use crate::domain::municipalities;
use crate::domain::proposals::assign::{self, AssignInput};
use crate::domain::proposals::bulk::{self, BulkAction};
use crate::domain::proposals::duplicates::DuplicateInput;
use crate::domain::proposals::export::{self, Format};
use crate::domain::proposals::find::{self, Found, OverdueItem, Sort, SortKey};
use crate::domain::proposals::workflow::{RouteInput, TransitionInput};
use crate::domain::proposals::{Assignee, ProposalView as View};
use crate::domain::proposals::{ProposalQuery, ProposalView};
use crate::domain::vocab::{Channel, DeclineReason, PolicyField, ProposalState};
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
    /// `me` (自分の担当), `none`, or a staff id.
    pub assignee: Option<String>,
    /// `soon` (期限超過・間近).
    pub due: Option<String>,
    /// Any value: 資料待ち only.
    pub paused: Option<String>,
    pub m: Option<String>,
    /// `received`, `due`, `state` or `department`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
    /// Page of the list (1-based).
    pub page: Option<String>,
    /// Page of the 所管未定 queue.
    pub up: Option<String>,
    /// Page of the overdue queue.
    pub op: Option<String>,
    /// `all`: every row of this page comes checked for a bulk action (このページをすべて選択).
    pub select: Option<String>,
}

/// A page number from the query; anything else is the first page.
fn page_of(v: &Option<String>) -> i64 {
    blank(v)
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

impl InboxQuery {
    /// Whether the caller narrowed the list (the queues then give way to the results).
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
            &self.assignee,
            &self.due,
            &self.paused,
        ]
        .iter()
        .any(|v| blank(v).is_some())
    }

    /// The search, filters and order: what a saved filter keeps
    /// (`domain::inbox_filters::KEYS`) and every link of the page carries.
    fn filter_fields(&self) -> [(&'static str, &Option<String>); 14] {
        [
            ("q", &self.q),
            ("state", &self.state),
            ("channel", &self.channel),
            ("field", &self.field),
            ("department", &self.department),
            ("from", &self.from),
            ("to", &self.to),
            ("unassigned", &self.unassigned),
            ("assignee", &self.assignee),
            ("due", &self.due),
            ("paused", &self.paused),
            ("m", &self.m),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ]
    }

    /// The parameters a saved filter keeps, as set now.
    fn params(&self) -> Vec<(String, String)> {
        self.filter_fields()
            .iter()
            .filter_map(|(k, v)| blank(v).map(|v| ((*k).to_owned(), v)))
            .collect()
    }

    fn sort(&self) -> Sort {
        match blank(&self.sort).as_deref().and_then(SortKey::parse) {
            None => Sort::default(),
            Some(key) => Sort {
                key,
                desc: blank(&self.dir).as_deref() == Some("desc"),
            },
        }
    }

    /// A link to an export (`path`) of the list as filtered now (no sort or pages: an
    /// export holds every matching row, oldest first).
    fn export_link(&self, path: &str) -> String {
        let parts: Vec<String> = [
            ("q", &self.q),
            ("state", &self.state),
            ("channel", &self.channel),
            ("field", &self.field),
            ("department", &self.department),
            ("from", &self.from),
            ("to", &self.to),
            ("unassigned", &self.unassigned),
            ("m", &self.m),
        ]
        .iter()
        .filter_map(|(k, v)| blank(v).map(|v| format!("{k}={}", layout::url_encode(&v))))
        .collect();
        if parts.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", parts.join("&"))
        }
    }

    /// A link to the inbox with these parameters, some replaced (`None` drops one).
    fn link(&self, changes: &[(&str, Option<String>)]) -> String {
        let mut parts = vec![];
        // このページをすべて選択 holds for one page: only a link that asks for it keeps it.
        let unselected: Option<String> = None;
        let paging = [
            ("page", &self.page),
            ("up", &self.up),
            ("op", &self.op),
            ("select", &unselected),
        ];
        for (k, v) in self.filter_fields().into_iter().chain(paging) {
            let value = match changes.iter().find(|(c, _)| *c == k) {
                Some((_, changed)) => changed.clone(),
                None => blank(v),
            };
            if let Some(v) = value {
                parts.push(format!("{k}={}", layout::url_encode(&v)));
            }
        }
        if parts.is_empty() {
            "/admin/inbox".to_owned()
        } else {
            format!("/admin/inbox?{}", parts.join("&"))
        }
    }
}

pub struct Inbox {
    /// Who the caller could make the assignee in a bulk action.
    pub assignees: Vec<Assignee>,
    /// The caller's saved filters.
    pub filters: Vec<InboxFilterView>,
    pub list: Found<ProposalView>,
    pub unassigned: Option<Found<ProposalView>>,
    pub overdue: Option<Found<OverdueItem>>,
    pub deadlines: Option<Deadlines>,
    pub departments: Vec<(String, String)>,
    pub municipalities: Vec<(String, String)>,
}

/// The domain query of the inbox's filter (the list and the exports).
fn proposal_query(u: &ConsoleUser, q: &InboxQuery) -> ConsoleResult<ProposalQuery> {
    let department_id = match blank(&q.department) {
        None => None,
        Some(d) => Some(
            d.parse::<i64>()
                .map_err(|_| u.err(AppError::field("department", "format", "must be a number")))?,
        ),
    };
    let date =
        |v: &Option<String>, name: &'static str| -> ConsoleResult<Option<chrono::NaiveDate>> {
            blank(v)
                .map(|d| d.parse())
                .transpose()
                .map_err(|_| u.err(AppError::field(name, "format", "YYYY-MM-DD")))
        };
    let municipality = if u.is_deployment_admin() {
        u.municipality(q.m.as_deref())
    } else {
        None
    };
    Ok(ProposalQuery {
        state: Some(blank(&q.state).unwrap_or_else(|| "open".to_owned())).filter(|s| s != "all"),
        channel: blank(&q.channel),
        policy_field: blank(&q.field),
        department_id,
        unassigned: blank(&q.unassigned).map(|_| true),
        assignee: blank(&q.assignee),
        due: blank(&q.due),
        paused: blank(&q.paused).map(|_| true),
        from: date(&q.from, "from")?,
        to: date(&q.to, "to")?,
        municipality,
        q: blank(&q.q),
        ..Default::default()
    })
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<InboxQuery>,
) -> ConsoleResult<HttpResponse> {
    let q = q.into_inner();
    let inbox = load(&state, &u, &q).await?;
    Ok(render(&u, &q, inbox, None, None))
}

/// A bulk action (一括操作) on the rows checked in the list: one form, the pressed
/// button names the action. All or nothing (`domain::proposals::bulk`): a refusal
/// comes back on the inbox with every refused row, the rows still checked and the
/// typed values kept.
pub async fn bulk(
    state: web::Data<AppState>,
    posted: Posted,
    q: web::Query<InboxQuery>,
) -> ConsoleResult<HttpResponse> {
    let q = q.into_inner();
    let Posted { user: u, form: f } = posted;
    let actor = u.actor();
    let input = (|| -> Result<(Vec<i64>, bulk::Command), AppError> {
        let ids = f
            .all("ids")
            .iter()
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| AppError::field("proposal_ids", "format", "must be a number"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // The ids first: choosing nothing is the first thing to fix.
        bulk::check_ids(&ids)?;
        let number = |key: &str| -> Result<Vec<i64>, AppError> {
            f.all(key)
                .iter()
                .map(|v| {
                    v.parse()
                        .map_err(|_| AppError::field(key, "format", "must be a number"))
                })
                .collect()
        };
        let action = match f.text("action").as_str() {
            "route" => BulkAction::Route(RouteInput {
                primary_department_id: f.id("primary_department_id")?.ok_or_else(|| {
                    AppError::field_ja(
                        "primary_department_id",
                        "required",
                        "choose a department",
                        "主管課を選んでください",
                    )
                })?,
                other_department_ids: number("other_department_ids")?,
                note: f.opt("route_note"),
            }),
            "assign" => BulkAction::Assign(AssignInput {
                assignee_id: f.id("assignee_id")?,
            }),
            "transition" => BulkAction::Transition(TransitionInput {
                to: f.text("to"),
                reason_code: f.opt("reason_code"),
                reason: f.opt("reason"),
                note: f.opt("note"),
            }),
            "duplicate" => BulkAction::Duplicate(DuplicateInput {
                original: f.text("original"),
                note: None,
            }),
            _ => return Err(AppError::NotFound("action")),
        };
        Ok((ids, action.parse()?))
    })();
    let result = match input {
        Err(e) => Err(e),
        Ok((ids, command)) => super::lift(
            run(&state, u.lang, move |db| {
                bulk::run(db, &actor, &ids, command)
            })
            .await,
        )?
        .map(|_| ()),
    };
    match result {
        Ok(()) => {
            let back = q.link(&[("page", blank(&q.page))]);
            let sep = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{back}{sep}done=bulk")))
        }
        Err(
            e @ (AppError::Invalid(_)
            | AppError::Conflict(_)
            | AppError::BadRequest(_)
            | AppError::Forbidden(_)),
        ) => {
            let inbox = load(&state, &u, &q).await?;
            let status = crate::web::status::status_of(&e);
            let mut res = render(&u, &q, inbox, Some((&e, &f)), None);
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(ConsoleError::App(e, u.lang)),
    }
}

async fn load(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    q: &InboxQuery,
) -> ConsoleResult<Inbox> {
    let actor = u.actor();
    let code = u.municipality(q.m.as_deref());
    let deployment_admin = u.is_deployment_admin();
    let query = proposal_query(u, q)?;
    let municipality = query.municipality.clone();
    let show_queues = !q.filtered();
    let is_desk = u.is_desk();
    let sort = q.sort();
    let (page, up, op) = (page_of(&q.page), page_of(&q.up), page_of(&q.op));
    let code2 = code.clone();
    run_search(state, u.lang, move |db, engine| {
        let list = find::find(db, engine, &actor, &query, sort, page)?;
        // A deployment admin sees the queues once a municipality is chosen.
        let queues = show_queues && (code2.is_some() || !deployment_admin);
        let unassigned = if queues && is_desk {
            Some(find::unassigned_queue(
                db,
                &actor,
                municipality.as_deref(),
                up,
            )?)
        } else {
            None
        };
        let overdue = if queues {
            Some(find::overdue_queue(
                db,
                &actor,
                municipality.as_deref(),
                op,
            )?)
        } else {
            None
        };
        let deadlines = if queues {
            Some(deadlines::due_soon(
                db,
                &actor,
                DeadlineQuery {
                    limit: None,
                    within: Some(3),
                    municipality: municipality.clone(),
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
        let filters = inbox_filters::list(db, &actor)?;
        let assignees = match &code2 {
            Some(c) => assign::bulk_candidates(db, &actor, c)?,
            None => vec![],
        };
        Ok(Inbox {
            assignees,
            filters,
            list,
            unassigned,
            overdue,
            deadlines,
            departments,
            municipalities,
        })
    })
    .await
}

/// The list as filtered now, every matching row, as CSV or XLSX (提案一覧の出力); the
/// same permissions as the list. Recorded in the audit log.
/// Saves the inbox's current filter (sent as hidden fields beside the name) under a
/// name; then shows the inbox with it. A refused name shows the inbox again with the
/// problem beside the form and the name as typed.
pub async fn save_filter(
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let q = InboxQuery {
        q: f.opt("q"),
        state: f.opt("state"),
        channel: f.opt("channel"),
        field: f.opt("field"),
        department: f.opt("department"),
        from: f.opt("from"),
        to: f.opt("to"),
        unassigned: f.opt("unassigned"),
        assignee: f.opt("assignee"),
        due: f.opt("due"),
        paused: f.opt("paused"),
        m: f.opt("m"),
        sort: f.opt("sort"),
        dir: f.opt("dir"),
        ..InboxQuery::default()
    };
    let (actor, name, params) = (u.actor(), f.text("filter_name"), q.params());
    let result = lift(
        run(&state, u.lang, move |db| {
            inbox_filters::save(db, &actor, &name, &params)
        })
        .await,
    )?;
    match result {
        Ok(saved) => Ok(see_other(&format!(
            "/admin/inbox?{}&done=filter",
            saved.query
        ))),
        Err(e @ AppError::Invalid(_)) => {
            let inbox = load(&state, &u, &q).await?;
            let typed = f.text("filter_name");
            let mut res = render(&u, &q, inbox, None, Some((&e, typed.as_str())));
            *res.status_mut() = crate::web::status::status_of(&e);
            Ok(res)
        }
        Err(e) => Err(u.err(e)),
    }
}

/// Deletes one of the caller's saved filters.
pub async fn delete_filter(
    state: web::Data<AppState>,
    posted: Posted,
    path: web::Path<i64>,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, .. } = posted;
    let (actor, id) = (u.actor(), path.into_inner());
    run(&state, u.lang, move |db| {
        inbox_filters::delete(db, &actor, id)
    })
    .await?;
    Ok(see_other("/admin/inbox?done=deleted"))
}

pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<InboxQuery>,
    format: Format,
) -> ConsoleResult<HttpResponse> {
    let query = proposal_query(&u, &q.into_inner())?;
    let actor = u.actor();
    let source = crate::web::source(&req);
    let (body, name) = run_search(&state, u.lang, move |db, engine| {
        crate::domain::audit::with_source(&source, || {
            let e = export::export(db, engine, &actor, &query, format)?;
            Ok(match format {
                Format::Csv => (e.to_csv().into_bytes(), "text/csv; charset=utf-8"),
                Format::Xlsx => (
                    e.to_xlsx()?,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            })
        })
    })
    .await?;
    let stamp = crate::domain::proposals::local_date(crate::domain::now()).format("%Y%m%d");
    Ok(HttpResponse::Ok()
        .content_type(name)
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"kyoso-proposals-{stamp}.{}\"",
                format.as_str()
            ),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

pub async fn export_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<InboxQuery>,
) -> ConsoleResult<HttpResponse> {
    export(req, state, u, q, Format::Csv).await
}

pub async fn export_xlsx(
    req: HttpRequest,
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<InboxQuery>,
) -> ConsoleResult<HttpResponse> {
    export(req, state, u, q, Format::Xlsx).await
}

fn clock_label(u: &ConsoleUser, c: Clock) -> &'static str {
    match c {
        Clock::Department => u.lang.t("所管課の回答", "Department's answer"),
        Clock::Proposer => u.lang.t("提案者への初回回答", "First answer to proposer"),
        Clock::Decision => u.lang.t("結論", "Decision"),
    }
}

/// Sortable column headers: the current sort and the link for a column and direction.
pub struct Sorting<'a> {
    pub current: Sort,
    pub link: &'a dyn Fn(SortKey, bool) -> String,
}

/// One row per proposal; shared with the partner page.
pub fn table(
    u: &ConsoleUser,
    caption: &str,
    rows: &[&ProposalView],
    extra: Option<&[String]>,
) -> Markup {
    sorted_table(u, caption, rows, extra, None, None)
}

/// The rows checked for a bulk action (`None`: the list has no checkboxes).
pub struct Selection<'a> {
    pub checked: &'a dyn Fn(&View) -> bool,
}

/// A column header: a plain one, or a link that sorts by it with `aria-sort` on the
/// current one (a second click reverses the order).
fn header(u: &ConsoleUser, label: &str, key: Option<SortKey>, sorting: Option<&Sorting>) -> Markup {
    let (Some(key), Some(s)) = (key, sorting) else {
        return html! { th scope="col" { (label) } };
    };
    let lang = u.lang;
    let current = s.current.key == key;
    let aria = match (current, s.current.desc) {
        (false, _) => None,
        (true, false) => Some("ascending"),
        (true, true) => Some("descending"),
    };
    // A new column starts ascending, except 受付日時, which starts with the newest.
    let next_desc = if current {
        !s.current.desc
    } else {
        key == SortKey::Received
    };
    let hint = if next_desc {
        lang.t("（降順に並べ替え）", " (sort descending)")
    } else {
        lang.t("（昇順に並べ替え）", " (sort ascending)")
    };
    html! {
        th scope="col" aria-sort=[aria] {
            a href=((s.link)(key, next_desc)) {
                (label)
                span.visually-hidden { (hint) }
                @match aria { Some("ascending") => span aria-hidden="true" { " ▲" }, Some(_) => span aria-hidden="true" { " ▼" }, None => {} }
            }
        }
    }
}

pub fn sorted_table(
    u: &ConsoleUser,
    caption: &str,
    rows: &[&ProposalView],
    extra: Option<&[String]>,
    sorting: Option<&Sorting>,
    selection: Option<&Selection>,
) -> Markup {
    let lang = u.lang;
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr {
                    @if selection.is_some() { th scope="col" { (lang.t("選択", "Select")) } }
                    th scope="col" { (lang.t("受付番号", "Receipt no.")) }
                    th scope="col" { (lang.t("件名", "Title")) }
                    th scope="col" { (lang.t("提案者", "Proposer")) }
                    th scope="col" { (lang.t("受付経路", "Channel")) }
                    th scope="col" { (lang.t("政策分野", "Policy field")) }
                    (header(u, lang.t("状態", "State"), Some(SortKey::State), sorting))
                    (header(u, lang.t("所管課", "Department"), Some(SortKey::Department), sorting))
                    th scope="col" { (lang.t("担当者", "Assignee")) }
                    (header(u, lang.t("受付日時", "Received"), Some(SortKey::Received), sorting))
                    @if extra.is_some() {
                        @if sorting.is_some() {
                            // The list's due date is the one the caller works to.
                            @if u.is_desk() { (header(u, lang.t("初回回答期限", "First answer due"), Some(SortKey::Due), sorting)) }
                            @else { (header(u, lang.t("所管課の回答期限", "Department due"), Some(SortKey::Due), sorting)) }
                        } @else {
                            th scope="col" { (lang.t("期限", "Due")) }
                        }
                    }
                } }
                tbody {
                    @for (i, p) in rows.iter().enumerate() {
                        tr {
                            @if let Some(sel) = selection {
                                td.select {
                                    input type="checkbox" form="bulk" id=(format!("sel-{}", p.id)) name="ids" value=(p.id) checked[(sel.checked)(p)];
                                    label.visually-hidden for=(format!("sel-{}", p.id)) { (lang.s(format!("{} を選択", p.receipt_number), format!("Select {}", p.receipt_number))) }
                                }
                            }
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
                            td { @match &p.assignee { Some(a) => (a.name), None => span.muted { "—" } } }
                            td { (layout::local_time(p.received_at)) }
                            @if let Some(extra) = extra { td { (extra.get(i).map(String::as_str).unwrap_or("")) } }
                        }
                    }
                }
            }
        }
    }
}

/// "N件中 a–b件目" and the previous / next page links of one list.
fn pager<T>(
    u: &ConsoleUser,
    found: &Found<T>,
    label: &str,
    link: impl Fn(i64) -> String,
) -> Markup {
    let lang = u.lang;
    let first = (found.page - 1) * found.per_page + 1;
    let last = first + found.items.len() as i64 - 1;
    html! {
        @if found.total > found.per_page {
            nav.pager aria-label=(label) {
                p {
                    (lang.s(format!("{}件中 {}–{}件目（{}/{}ページ）", found.total, first.min(found.total), last.max(0), found.page, found.pages()),
                        format!("{}–{} of {} (page {} of {})", first.min(found.total), last.max(0), found.total, found.page, found.pages())))
                }
                ul {
                    @if found.page > 1 {
                        li { a href=(link(found.page - 1)) rel="prev" { (lang.t("前のページ", "Previous page")) } }
                    }
                    @if found.page < found.pages() {
                        li { a href=(link(found.page + 1)) rel="next" { (lang.t("次のページ", "Next page")) } }
                    }
                }
            }
        }
    }
}

/// The views (ビュー) above the list: each a filter of the one inbox query, added to the
/// current filters (a second click on the current view removes it again).
fn views(u: &ConsoleUser, q: &InboxQuery, saved: &[InboxFilterView]) -> Markup {
    let lang = u.lang;
    let now = inbox_filters::query_string(&q.params());
    let on = |v: &Option<String>, value: &str| blank(v).as_deref() == Some(value);
    let items: [(&str, &str, &str, bool); 4] = [
        (
            "assignee",
            "me",
            lang.t("自分の担当", "Assigned to me"),
            on(&q.assignee, "me"),
        ),
        (
            "unassigned",
            "1",
            lang.t("所管未定", "Unassigned"),
            blank(&q.unassigned).is_some(),
        ),
        (
            "due",
            "soon",
            lang.t("期限超過・間近", "Overdue or due soon"),
            on(&q.due, "soon"),
        ),
        (
            "paused",
            "1",
            lang.t("資料待ち", "Waiting for documents"),
            blank(&q.paused).is_some(),
        ),
    ];
    html! {
        nav.views aria-label=(lang.t("ビュー", "Views")) {
            ul {
                li { a href="/admin/inbox" aria-current=[(!q.filtered()).then_some("page")] { (lang.t("すべて", "All")) } }
                @for (key, value, label, current) in items {
                    @let href = q.link(&[(key, if current { None } else { Some(value.to_owned()) }), ("page", None)]);
                    li { a href=(href) aria-current=[current.then_some("true")] { (label) } }
                }
            }
            @if !saved.is_empty() {
                // The user's own filters, after the built-in views.
                ul.saved aria-label=(lang.t("保存した絞り込み", "Saved filters")) {
                    @for f in saved {
                        li { a href=(format!("/admin/inbox?{}", f.query)) aria-current=[(f.query == now).then_some("page")] { (f.name) } }
                    }
                }
            }
        }
    }
}

/// Saving the current filter under a name, and deleting saved ones: a disclosure under
/// the views, open when it has a problem to show.
fn filter_forms(
    u: &ConsoleUser,
    q: &InboxQuery,
    saved: &[InboxFilterView],
    error: Option<(&AppError, &str)>,
) -> Markup {
    let lang = u.lang;
    let params = q.params();
    html! {
        details.saved-filters open[error.is_some()] {
            summary { (lang.t("絞り込みの保存・削除", "Save or delete filters")) }
            @if let Some((e, _)) = error {
                (layout::error_detail_linked(lang, e, |f| (f == "name" || f == "filter").then_some("filter-name")))
            }
            @if params.is_empty() {
                p.hint { (lang.t("条件を選んで検索すると、その条件に名前を付けて保存できます。", "Search with some filters first; then you can save them under a name.")) }
            }
            {
                form method="post" action="/admin/inbox/filters" {
                    (layout::csrf(u))
                    @for (k, v) in &params { input type="hidden" name=(k) value=(v); }
                    div.field {
                        label for="filter-name" { (lang.t("今の条件を保存する名前", "Save the current filter as")) }
                        span.hint #filter-name-hint { (lang.s(format!("同じ名前なら上書きします。{}件まで。", inbox_filters::MAX_PER_USER), format!("The same name replaces it; up to {}.", inbox_filters::MAX_PER_USER))) }
                        input #filter-name type="text" name="filter_name" required maxlength=(inbox_filters::NAME_MAX) aria-describedby="filter-name-hint" value=[error.map(|(_, typed)| typed)];
                    }
                    button type="submit" { (lang.t("保存する", "Save")) }
                }
            }
            @if !saved.is_empty() {
                ul.filter-list {
                    @for f in saved {
                        li {
                            (f.name) " "
                            form.inline method="post" action=(format!("/admin/inbox/filters/{}/delete", f.id)) {
                                (layout::csrf(u))
                                button type="submit" aria-label=(lang.s(format!("「{}」を削除", f.name), format!("Delete “{}”", f.name))) { (lang.t("削除", "Delete")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The id of a bulk form control, for the error summary's links.
fn bulk_control(field: &str) -> Option<&'static str> {
    Some(match field {
        "primary_department_id" => "bulk-primary",
        "assignee_id" => "bulk-assignee",
        "to" => "bulk-to",
        "reason_code" => "bulk-reason-code",
        "reason" => "bulk-reason",
        "note" => "bulk-note",
        "original" => "bulk-original",
        _ => return None,
    })
}

/// A refused bulk action: every refused row (受付番号 and why), or the fields to fix.
fn bulk_error(u: &ConsoleUser, e: &AppError) -> Markup {
    let lang = u.lang;
    let rows = matches!(e, AppError::Invalid(fs) if fs.iter().any(|f| f.field.starts_with("proposal_ids/")));
    html! {
        div.alert.error #bulk-error role="alert" {
            @match e {
                AppError::Invalid(fields) => {
                    @if rows {
                        p { (lang.t("次の提案は処理できないため、どの提案も変更していません。該当する提案の選択を外すか、状態を確かめてからもう一度実行してください。", "These proposals cannot take the action, so none was changed. Uncheck them or check their state, then try again.")) }
                    } @else {
                        p { (lang.t("次の項目を確認してください（どの提案も変更していません）。", "Please check these fields (nothing was changed).")) }
                    }
                    ul {
                        @for f in fields {
                            li {
                                @if f.field.starts_with("proposal_ids/") {
                                    (error_text::field_problem(lang, f))
                                } @else {
                                    @let label = html! { strong { (error_text::field_label(lang, &f.field)) } };
                                    @match bulk_control(error_text::field_name(&f.field)) {
                                        Some(id) => { a href={ "#" (id) } { (label) } }
                                        None => { (label) }
                                    }
                                    (lang.t("：", ": "))
                                    (error_text::field_problem(lang, f))
                                }
                            }
                        }
                    }
                }
                other => { p { (error_text::sentence(lang, other)) } }
            }
        }
    }
}

/// The bulk form's controls, above the list: one fieldset per action, each with its
/// own submit button (`name="action"`), so the form works without JavaScript.
fn bulk_controls(
    u: &ConsoleUser,
    q: &InboxQuery,
    inbox: &Inbox,
    sent: Option<(&AppError, &Fields)>,
) -> Markup {
    let lang = u.lang;
    let f = sent.map(|(_, f)| f);
    let typed = |key: &str| f.and_then(|f| f.get(key));
    let action = typed("action");
    let all_on = blank(&q.select).as_deref() == Some("all");
    let reasons: Vec<(String, String)> = DeclineReason::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), lang.decline(*r).to_owned()))
        .collect();
    let mut targets = vec![
        ProposalState::InDialogue,
        ProposalState::Adopted,
        ProposalState::Declined,
    ];
    if u.is_desk() {
        targets.push(ProposalState::Withdrawn);
    }
    let targets: Vec<(String, String)> = targets
        .iter()
        .map(|s| (s.as_str().to_owned(), lang.state(*s).to_owned()))
        .collect();
    let assignees: Vec<(String, String)> = inbox
        .assignees
        .iter()
        .map(|a| (a.id.0.to_string(), a.name.clone()))
        .collect();
    let others = f.map(|f| f.all("other_department_ids")).unwrap_or_default();
    html! {
        section.bulk aria-labelledby="bulk-h" {
            h3 #bulk-h { (lang.t("選択した提案をまとめて処理", "Act on the chosen proposals")) }
            @if let Some((e, _)) = sent { (bulk_error(u, e)) }
            p.hint {
                (lang.s(format!("一覧のチェックボックスで提案を選び（{}件まで）、操作を選んでください。1件でも処理できない提案があれば、どの提案も変更しません。", bulk::MAX_ROWS),
                    format!("Check proposals in the list (up to {}) and choose an action. If any of them cannot take it, none is changed.", bulk::MAX_ROWS)))
            }
            p {
                @if all_on {
                    a href=(q.link(&[("select", None)])) { (lang.t("選択をすべて解除", "Uncheck all")) }
                } @else {
                    a href=(q.link(&[("select", Some("all".to_owned()))])) { (lang.t("このページの提案をすべて選択", "Check every proposal on this page")) }
                }
            }
            div.bulk-actions {
                @if u.is_desk() && !inbox.departments.is_empty() {
                    fieldset {
                        legend { (lang.t("回付する", "Route")) }
                        (select("bulk-primary", "primary_department_id", lang.t("主管課", "Lead department"), &inbox.departments, if action == Some("route") { typed("primary_department_id") } else { None }, Some(lang.t("（選んでください）", "(choose)"))))
                        fieldset.checks {
                            legend { (lang.t("関係課（任意）", "Other departments (optional)")) }
                            @for (v, l) in &inbox.departments {
                                label { input type="checkbox" name="other_department_ids" value=(v) checked[action == Some("route") && others.contains(v)]; " " (l) }
                            }
                        }
                        div.field {
                            label for="bulk-route-note" { (lang.t("回付の理由（庁内メモ・任意）", "Why this department (internal, optional)")) }
                            textarea #bulk-route-note name="route_note" { (if action == Some("route") { typed("route_note").unwrap_or("") } else { "" }) }
                        }
                        button.primary type="submit" name="action" value="route" { (lang.t("選択した提案を回付する", "Route the chosen proposals")) }
                    }
                }
                @if !assignees.is_empty() {
                    fieldset {
                        legend { (lang.t("担当者を設定する", "Set the assignee")) }
                        (select("bulk-assignee", "assignee_id", lang.t("担当者", "Assignee"), &assignees, if action == Some("assign") { typed("assignee_id") } else { None }, Some(lang.t("（担当者なし）", "(nobody)"))))
                        button type="submit" name="action" value="assign" { (lang.t("選択した提案の担当者を設定する", "Set the assignee of the chosen proposals")) }
                    }
                }
                fieldset {
                    legend { (lang.t("状態を変更する", "Change the state")) }
                    (select("bulk-to", "to", lang.t("変更後の状態", "New state"), &targets, if action == Some("transition") { typed("to") } else { None }, None))
                    p.hint { (lang.t("見送りの場合は理由の区分と、提案者に送る理由の説明が必要です（選択したすべての提案者に同じ文面が送られます）。", "To decline, choose a reason and write the reasons (every proposer chosen gets the same text).")) }
                    (select("bulk-reason-code", "reason_code", lang.t("見送り理由の区分", "Reason for declining"), &reasons, if action == Some("transition") { typed("reason_code") } else { None }, Some(lang.t("（見送りの場合に選択）", "(when declining)"))))
                    div.field {
                        label for="bulk-reason" { (lang.t("見送りの理由（提案者に送られます）", "Reasons (sent to the proposer)")) }
                        textarea #bulk-reason name="reason" { (if action == Some("transition") { typed("reason").unwrap_or("") } else { "" }) }
                    }
                    div.field {
                        label for="bulk-note" { (lang.t("提案者への連絡事項（任意）", "Message to the proposer (optional)")) }
                        textarea #bulk-note name="note" { (if action == Some("transition") { typed("note").unwrap_or("") } else { "" }) }
                    }
                    button type="submit" name="action" value="transition" { (lang.t("選択した提案の状態を変更する", "Change the state of the chosen proposals")) }
                }
                fieldset {
                    legend { (lang.t("重複として閉じる", "Close as duplicates")) }
                    div.field {
                        label for="bulk-original" { (lang.t("元の提案の受付番号（例：2026-000123）", "Receipt no. of the original (e.g. 2026-000123)")) }
                        input #bulk-original type="text" name="original" inputmode="numeric" autocomplete="off" value=[if action == Some("duplicate") { typed("original") } else { None }];
                    }
                    button type="submit" name="action" value="duplicate" { (lang.t("選択した提案を重複として閉じる", "Close the chosen proposals as duplicates")) }
                }
            }
        }
    }
}

fn render(
    u: &ConsoleUser,
    q: &InboxQuery,
    inbox: Inbox,
    sent: Option<(&AppError, &Fields)>,
    filter_error: Option<(&AppError, &str)>,
) -> HttpResponse {
    let lang = u.lang;
    let needle = blank(&q.q);
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
    let department_staff = !u.is_desk();
    // The due date the list shows and sorts by: the one the caller works to.
    let due: Vec<String> = inbox
        .list
        .items
        .iter()
        .map(|p| {
            layout::date(if department_staff {
                p.clocks.department_due_on
            } else {
                p.clocks.proposer_due_on
            })
        })
        .collect();
    let rows: Vec<&ProposalView> = inbox.list.items.iter().collect();
    let sort_link = |key: SortKey, desc: bool| {
        q.link(&[
            ("sort", Some(key.as_str().to_owned())),
            ("dir", Some(if desc { "desc" } else { "asc" }.to_owned())),
            ("page", None),
        ])
    };
    let sorting = Sorting {
        current: q.sort(),
        link: &sort_link,
    };
    // Checked: every row after このページをすべて選択, or the rows sent with a refused action.
    let all_on = blank(&q.select).as_deref() == Some("all");
    let sent_ids: Vec<String> = sent.map(|(_, f)| f.all("ids")).unwrap_or_default();
    let is_checked = |p: &View| all_on || sent_ids.contains(&p.id.0.to_string());
    let selection = Selection {
        checked: &is_checked,
    };
    // The bulk form keeps the list's filters, so a refusal shows the same list again.
    let bulk_action = {
        let here = q.link(&[("select", None)]);
        match here.split_once('?') {
            Some((_, query)) => format!("/admin/inbox/bulk?{query}"),
            None => "/admin/inbox/bulk".to_owned(),
        }
    };
    let body = html! {
        @if u.is_deployment_admin() {
            (layout::municipality_picker(u, "/admin/inbox", &inbox.municipalities, q.m.as_deref()))
        }
        (views(u, q, &inbox.filters))
        (filter_forms(u, q, &inbox.filters, filter_error))
        // The search and filters come first: one Tab from the navigation, not after the
        // lists. They keep the sort order and the view; a new search starts at page 1.
        form.filters method="get" action="/admin/inbox" role="search" aria-label=(lang.t("提案の検索と絞り込み", "Search and filter proposals")) {
            @if let Some(m) = blank(&q.m) { input type="hidden" name="m" value=(m); }
            @if let Some(s) = blank(&q.sort) { input type="hidden" name="sort" value=(s); }
            @if let Some(d) = blank(&q.dir) { input type="hidden" name="dir" value=(d); }
            @if let Some(a) = blank(&q.assignee) { input type="hidden" name="assignee" value=(a); }
            @if let Some(d) = blank(&q.due) { input type="hidden" name="due" value=(d); }
            @if let Some(p) = blank(&q.paused) { input type="hidden" name="paused" value=(p); }
            div.field {
                label for="q" { (lang.t("キーワード・受付番号", "Words or receipt no.")) }
                input #q type="search" name="q" value=[needle.as_deref()] maxlength="200";
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
            button type="submit" { (lang.t("検索する", "Search")) }
            " "
            a href="/admin/inbox" { (lang.t("条件をクリア", "Clear")) }
        }
        @if let Some(o) = &inbox.overdue {
            @if o.total > 0 {
                section aria-labelledby="overdue-h" {
                    h2 #overdue-h { (lang.t("期限超過", "Overdue")) " (" (o.total) ")" }
                    @let list: Vec<&ProposalView> = o.items.iter().map(|i| &i.proposal).collect();
                    @let late: Vec<String> = o.items.iter().map(|i| i.late.iter().map(|c| format!("{} {} ({})", clock_label(u, c.clock), c.due_on, lang.s(format!("{}開庁日超過", c.business_days_late), format!("{} business days late", c.business_days_late)))).collect::<Vec<_>>().join(" / ")).collect();
                    (table(u, lang.t("回答期限を過ぎた提案（受付の古い順）", "Proposals past a due date (oldest first)"), &list, Some(&late)))
                    (pager(u, o, lang.t("期限超過のページ送り", "Overdue pages"), |p| q.link(&[("op", Some(p.to_string()))])))
                }
            }
        }
        @if let Some(d) = &inbox.deadlines {
            @if !d.due_soon.is_empty() {
                section aria-labelledby="soon-h" {
                    h2 #soon-h { (lang.t("期限間近（3開庁日以内）", "Due within 3 business days")) " (" (d.due_soon.len()) ")" }
                    @let list: Vec<&ProposalView> = d.due_soon.iter().map(|i| &i.proposal).collect();
                    @let due: Vec<String> = d.due_soon.iter().map(|i| format!("{} {}", clock_label(u, i.clock), i.due_on)).collect();
                    (table(u, lang.t("まもなく期限の提案", "Proposals due soon"), &list, Some(&due)))
                }
            }
        }
        @if let Some(un) = &inbox.unassigned {
            section aria-labelledby="unassigned-h" {
                h2 #unassigned-h { (lang.t("所管未定", "Unassigned (owner not yet known)")) " (" (un.total) ")" }
                @if un.items.is_empty() {
                    p.muted { (lang.t("所管未定の提案はありません。", "No proposal is waiting for an owner.")) }
                } @else {
                    @let list: Vec<&ProposalView> = un.items.iter().collect();
                    (table(u, lang.t("所管課が決まっていない提案（受付の古い順。古いものから対応してください）", "Proposals without a department (oldest first)"), &list, None))
                    (pager(u, un, lang.t("所管未定のページ送り", "Unassigned pages"), |p| q.link(&[("up", Some(p.to_string()))])))
                }
            }
        }
        section aria-labelledby="all-h" {
            h2 #all-h {
                @if q.filtered() { (lang.t("検索結果", "Results")) } @else { (lang.t("提案の一覧", "All proposals")) }
                " (" (inbox.list.total) ")"
            }
            p.exports {
                a href=(q.export_link("/admin/inbox/export.csv")) download { (lang.t("CSVで出力", "Export as CSV")) }
                " "
                a href=(q.export_link("/admin/inbox/export.xlsx")) download { (lang.t("Excelで出力", "Export as Excel")) }
                " "
                span.muted { (lang.s(format!("（この条件の全件。{}件まで）", export::MAX_ROWS), format!("(every matching proposal, up to {})", export::MAX_ROWS))) }
            }
            @if inbox.list.capped {
                p.hint { (lang.s(format!("キーワードに一致する提案が多いため、一致度の高い{}件から表示しています。条件を加えて絞り込んでください。", find::TEXT_CAP), format!("The words match many proposals: the best {} are listed. Add filters to narrow them.", find::TEXT_CAP))) }
            }
            @if rows.is_empty() {
                p { (lang.t("該当する提案はありません。", "No proposals match.")) }
            } @else {
                // One form: the controls above, the checkboxes in the rows (`form="bulk"`).
                form #bulk method="post" action=(bulk_action) {
                    (layout::csrf(u))
                    (bulk_controls(u, q, &inbox, sent))
                }
                (sorted_table(u, &lang.s(format!("{}件中 {}件を表示", inbox.list.total, rows.len()), format!("Showing {} of {}", rows.len(), inbox.list.total)), &rows, Some(&due), Some(&sorting), Some(&selection)))
            }
            (pager(u, &inbox.list, lang.t("一覧のページ送り", "List pages"), |p| q.link(&[("page", Some(p.to_string()))])))
        }
    };
    layout::page(u, Nav::Inbox, lang.t("受付一覧", "Inbox"), body)
}
