//! Needs (課題・ニーズ): the municipality's list (drafts and internal ones included),
//! creating and editing, publishing and closing (`domain::needs`), the proposals received
//! for each need (`domain::proposals::find`, scoped as the inbox), the offers that
//! match it (`domain::search::matches::offers_for_need`) with the staff's 役に立つ /
//! 関係ない verdicts (`matches::feedback`, as the API's match feedback), and the cases of
//! other municipalities that fit it (`domain::outcomes::cases::for_need`, 横展開).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::layout::{self, Nav, blank, select};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleResult, lift, run, run_search, see_other};
use crate::domain::error::AppError;
use crate::domain::ids::{NeedId, OfferId};
use crate::domain::municipalities::{self, MunicipalityView};
use crate::domain::needs::{self, NeedQuery, NeedView, NewNeedInput, UpdateNeedInput};
use crate::domain::offers::{self, OfferView};
use crate::domain::outcomes::cases::{self, CaseView};
use crate::domain::proposals::find::{self, Found, Sort};
use crate::domain::proposals::{ProposalQuery, ProposalView};
use crate::domain::search::matches::{self, FeedbackInput, MatchQuery, OfferMatch};
use crate::domain::vocab::{NeedStatus, PartnerKind, PolicyField, Visibility};
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub field: Option<String>,
    pub m: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<ListQuery>,
) -> ConsoleResult<HttpResponse> {
    let q = q.into_inner();
    let actor = u.actor();
    let status = blank(&q.status).unwrap_or_else(|| "all".into());
    let query = NeedQuery {
        municipality: u.municipality(q.m.as_deref()),
        status: Some(status.clone()),
        policy_field: blank(&q.field),
        // A department's staff see their own department's needs first and only.
        department_id: (u.role() == crate::domain::vocab::Role::Department)
            .then(|| u.staff().department.map(|d| d.0))
            .flatten(),
        cursor: blank(&q.cursor),
        limit: Some(100),
        ..Default::default()
    };
    let page = run(&state, u.lang, move |db| needs::list(db, &actor, query)).await?;
    let lang = u.lang;
    let mut statuses: Vec<(String, String)> = vec![("all".into(), lang.t("すべて", "All").into())];
    statuses.extend(
        NeedStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), lang.need_status(*s).to_owned())),
    );
    let fields: Vec<(String, String)> = PolicyField::ALL
        .iter()
        .map(|f| (f.as_str().to_owned(), lang.field(*f).to_owned()))
        .collect();
    let body = html! {
        p { a.button href="/admin/needs/new" { (lang.t("ニーズを登録する", "Create a need")) } }
        form.filters method="get" action="/admin/needs" aria-label=(lang.t("ニーズの絞り込み", "Filter needs")) {
            (select("status", "status", lang.t("状態", "Status"), &statuses, Some(&status), None))
            (select("field", "field", lang.t("政策分野", "Policy field"), &fields, q.field.as_deref(), Some(lang.t("すべて", "All"))))
            @if let Some(m) = blank(&q.m) { input type="hidden" name="m" value=(m); }
            button type="submit" { (lang.t("絞り込む", "Filter")) }
        }
        @if page.items.is_empty() {
            p { (lang.t("該当するニーズはありません。", "No needs match.")) }
        } @else {
            div.table-wrap { table {
                caption { (lang.s(format!("{}件", page.items.len()), format!("{} needs", page.items.len()))) }
                thead { tr {
                    th scope="col" { (lang.t("件名", "Title")) }
                    th scope="col" { (lang.t("所管課", "Department")) }
                    th scope="col" { (lang.t("政策分野", "Policy field")) }
                    th scope="col" { (lang.t("公開範囲", "Visibility")) }
                    th scope="col" { (lang.t("状態", "Status")) }
                    th scope="col" { (lang.t("募集期限", "Open until")) }
                } }
                tbody { @for n in &page.items { tr {
                    td { a href=(format!("/admin/needs/{}", n.id)) { (n.title) } }
                    td { (n.department.name) }
                    td { (lang.field(n.policy_field)) }
                    td { (lang.visibility(n.visibility)) }
                    td { (lang.need_status(n.status)) }
                    td { (layout::date(n.open_until)) }
                } } }
            } }
        }
        @if let Some(c) = &page.next_cursor {
            p { a href=(format!("/admin/needs?status={}&cursor={}", layout::url_encode(&status), layout::url_encode(c))) { (lang.t("次のページ", "Next page")) } }
        }
    };
    Ok(layout::page(
        &u,
        Nav::Needs,
        lang.t("ニーズ", "Needs"),
        body,
    ))
}

async fn municipality(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    code: Option<String>,
) -> ConsoleResult<Option<MunicipalityView>> {
    match code {
        None => Ok(None),
        Some(c) => run(state, u.lang, move |db| municipalities::get(db, &c))
            .await
            .map(Some),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    pub m: Option<String>,
}

pub async fn new_form(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<NewQuery>,
) -> ConsoleResult<HttpResponse> {
    let m = municipality(&state, &u, u.municipality(q.m.as_deref())).await?;
    let lang = u.lang;
    let Some(m) = m else {
        return super::choose_municipality(
            &state,
            &u,
            Nav::Needs,
            lang.t("ニーズの登録", "Create a need"),
            "/admin/needs/new",
        )
        .await;
    };
    let mut f = Fields::empty();
    if let Some(d) = u.staff().department {
        f = Fields::with(&[("department_id", &d.0.to_string())]);
    }
    Ok(render_form(&u, &m, &f, None, None))
}

fn parse_common(f: &Fields) -> Result<(Option<i64>, Option<Vec<String>>), AppError> {
    let kinds = f.all("desired_partner_kinds");
    Ok((f.id("department_id")?, (!kinds.is_empty()).then_some(kinds)))
}

pub async fn create(state: web::Data<AppState>, posted: Posted) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let actor = u.actor();
    let code = u.municipality(f.get("m"));
    let input = (|| -> Result<NewNeedInput, AppError> {
        let (department_id, kinds) = parse_common(&f)?;
        Ok(NewNeedInput {
            municipality_code: code.clone(),
            department_id,
            zone: f.opt("zone"),
            title: f.text("title"),
            body: f.text("body"),
            policy_field: f.text("policy_field"),
            desired_partner_kinds: kinds,
            visibility: f.opt("visibility"),
            status: f.opt("status"),
            open_until: f.date("open_until")?,
        })
    })();
    let result = match input {
        Err(e) => Err(e),
        Ok(i) => lift(run(&state, u.lang, move |db| needs::create(db, &actor, i)).await)?,
    };
    match result {
        Ok(n) => Ok(see_other(&format!("/admin/needs/{}?done=created", n.id))),
        Err(e) if recoverable(&e) => {
            let Some(m) = municipality(&state, &u, code).await? else {
                return Err(u.err(e));
            };
            let mut res = render_form(&u, &m, &f, None, Some(&e));
            *res.status_mut() = crate::web::status::status_of(&e);
            Ok(res)
        }
        Err(e) => Err(u.err(e)),
    }
}

/// Splits a console result into the domain error (to show on the form) and the rest.
fn recoverable(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid(_) | AppError::Conflict(_) | AppError::BadRequest(_)
    )
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    id: web::Path<NeedId>,
) -> ConsoleResult<HttpResponse> {
    let id = id.into_inner();
    let (need, m, x) = load(&state, &u, id).await?;
    Ok(render_need(&u, &need, &m, &x, None))
}

/// What a need's page shows besides the need.
struct NeedExtras {
    /// The offers that match it, best first.
    offers: Vec<OfferMatch>,
    /// The staff's verdicts on its matches (offer id, `good` or `not_relevant`); `None`
    /// when the caller may not judge them (staff of another municipality).
    verdicts: Option<Vec<(OfferId, String)>>,
    /// Offers marked 関係ない: the matcher leaves them out, the page lists them so the
    /// verdict can be seen and changed.
    hidden: Vec<OfferView>,
    /// The proposals received for it that the caller may see, newest first.
    proposals: Found<ProposalView>,
    /// Cases of other municipalities that fit it (横展開).
    cases: Vec<CaseView>,
}

async fn load(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    id: NeedId,
) -> ConsoleResult<(NeedView, MunicipalityView, NeedExtras)> {
    let actor = u.actor();
    run_search(state, u.lang, move |db, engine| {
        let need = needs::get(db, &actor, id)?;
        let m = municipalities::get(db, &need.municipality.code)?;
        // A need the index cannot match yet (just created) shows no offers, not an error.
        let offers =
            matches::offers_for_need(db, engine, &actor, id, MatchQuery { limit: Some(10) })
                .unwrap_or_default();
        let verdicts = matches::verdicts_for_need(db, &actor, id)?;
        let rejected: Vec<OfferId> = verdicts
            .iter()
            .flatten()
            .filter(|(_, v)| v == "not_relevant")
            .map(|(o, _)| *o)
            .collect();
        let hidden = offers::get_many(db, &actor, &rejected)?;
        // The inbox's own query with the need as a filter: the same permissions (a
        // department sees what was routed to it), every state.
        let query = ProposalQuery {
            need_id: Some(id.0),
            municipality: Some(need.municipality.code.clone()),
            ..Default::default()
        };
        let proposals = find::find(db, engine, &actor, &query, Sort::default(), 1)?;
        // Cases of other municipalities (横展開): a help, like the matches.
        let cases = cases::for_need(db, engine, &actor, id, cases::NEED_CASES).unwrap_or_default();
        Ok((
            need,
            m,
            NeedExtras {
                offers,
                verdicts,
                hidden,
                proposals,
                cases,
            },
        ))
    })
    .await
}

/// Marks a matching offer 役に立つ (`good`) or 関係ない (`not_relevant`): the API's match
/// feedback, through the same domain function.
pub async fn match_feedback(
    state: web::Data<AppState>,
    posted: Posted,
    path: web::Path<(NeedId, OfferId)>,
) -> ConsoleResult<HttpResponse> {
    let (need, offer) = path.into_inner();
    let Posted { user: u, form: f } = posted;
    let verdict = f.text("verdict");
    let actor = u.actor();
    let input = FeedbackInput {
        verdict: verdict.clone(),
    };
    run(&state, u.lang, move |db| {
        matches::feedback(db, &actor, need, offer, input)
    })
    .await?;
    // The domain accepted the verdict, so it is one of the two words.
    Ok(see_other(&format!(
        "/admin/needs/{need}?done=match_{verdict}#offers-h"
    )))
}

pub async fn update(
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<NeedId>,
) -> ConsoleResult<HttpResponse> {
    let id = id.into_inner();
    let Posted { user: u, form: f } = posted;
    let actor = u.actor();
    let input = (|| -> Result<UpdateNeedInput, AppError> {
        let (department_id, kinds) = parse_common(&f)?;
        Ok(UpdateNeedInput {
            department_id,
            zone: Some(f.opt("zone")),
            title: Some(f.text("title")),
            body: Some(f.text("body")),
            policy_field: Some(f.text("policy_field")),
            desired_partner_kinds: Some(kinds.unwrap_or_default()),
            visibility: f.opt("visibility"),
            status: None,
            open_until: Some(f.date("open_until")?),
        })
    })();
    let result = match input {
        Err(e) => Err(e),
        Ok(i) => lift(run(&state, u.lang, move |db| needs::update(db, &actor, id, i)).await)?,
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/admin/needs/{}?done=saved", id.0))),
        Err(e) if recoverable(&e) => {
            let (need, m, x) = load(&state, &u, id).await?;
            let mut res = render_need(&u, &need, &m, &x, Some((&f, &e)));
            *res.status_mut() = crate::web::status::status_of(&e);
            Ok(res)
        }
        Err(e) => Err(u.err(e)),
    }
}

pub async fn set_status(
    state: web::Data<AppState>,
    posted: Posted,
    path: web::Path<(NeedId, String)>,
) -> ConsoleResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let u = posted.user;
    let status = match action.as_str() {
        "publish" => NeedStatus::Open,
        "close" => NeedStatus::Closed,
        _ => return Err(u.err(AppError::NotFound("action"))),
    };
    let actor = u.actor();
    run(&state, u.lang, move |db| {
        needs::set_status(db, &actor, id, status)
    })
    .await?;
    Ok(see_other(&format!("/admin/needs/{id}?done={action}")))
}

/// The create/edit form; `need` is the need being edited, `f` what was typed.
fn need_form(u: &ConsoleUser, m: &MunicipalityView, f: &Fields, need: Option<&NeedView>) -> Markup {
    let lang = u.lang;
    let v = |key: &str, current: Option<String>| -> Option<String> {
        f.get(key).map(str::to_owned).or(current)
    };
    let departments: Vec<(String, String)> = m
        .departments
        .iter()
        .map(|d| (d.id.0.to_string(), d.name.clone()))
        .collect();
    let zones: Vec<(String, String)> = m
        .zones
        .iter()
        .map(|z| (z.name.clone(), z.name.clone()))
        .collect();
    let fields: Vec<(String, String)> = PolicyField::ALL
        .iter()
        .map(|p| (p.as_str().to_owned(), lang.field(*p).to_owned()))
        .collect();
    let vis: Vec<(String, String)> = Visibility::ALL
        .iter()
        .map(|p| (p.as_str().to_owned(), lang.visibility(*p).to_owned()))
        .collect();
    let kinds_now: Vec<String> = if f.get("title").is_some() {
        f.all("desired_partner_kinds")
    } else {
        need.map(|n| {
            n.desired_partner_kinds
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default()
    };
    let action = match need {
        Some(n) => format!("/admin/needs/{}", n.id),
        None => "/admin/needs".to_owned(),
    };
    html! {
        form method="post" action=(action) {
            (layout::csrf(u))
            @if need.is_none() && u.is_deployment_admin() { input type="hidden" name="m" value=(m.code); }
            (select("department_id", "department_id", lang.t("所管課", "Department"), &departments,
                v("department_id", need.map(|n| n.department.id.0.to_string())).as_deref(), None))
            div.field {
                label for="title" { (lang.t("件名（必須）", "Title (required)")) }
                input #title type="text" name="title" required maxlength="200" value=[v("title", need.map(|n| n.title.clone()))];
            }
            div.field {
                label for="body" { (lang.t("内容（必須）", "Description (required)")) }
                textarea #body name="body" required { (v("body", need.map(|n| n.body.clone())).unwrap_or_default()) }
            }
            (select("policy_field", "policy_field", lang.t("政策分野", "Policy field"), &fields,
                v("policy_field", need.map(|n| n.policy_field.as_str().to_owned())).as_deref(), None))
            @if !zones.is_empty() {
                (select("zone", "zone", lang.t("地域区分", "Zone"), &zones, v("zone", need.and_then(|n| n.zone.clone())).as_deref(), Some(lang.t("指定なし（全域）", "None (whole area)"))))
            }
            fieldset.checks #desired_partner_kinds {
                legend { (lang.t("求めるパートナー（指定しない場合はすべて）", "Partners wanted (none ticked: all)")) }
                @for k in PartnerKind::ALL {
                    label { input type="checkbox" name="desired_partner_kinds" value=(k.as_str()) checked[kinds_now.iter().any(|x| x == k.as_str())]; " " (lang.partner_kind(*k)) }
                }
            }
            (select("visibility", "visibility", lang.t("公開範囲", "Visibility"), &vis, v("visibility", need.map(|n| n.visibility.as_str().to_owned())).as_deref(), None))
            @if need.is_none() {
                (select("status", "status", lang.t("登録後の状態", "Status after saving"), &[
                    ("draft".into(), lang.t("下書き（公開しない）", "Draft (not published)").into()),
                    ("open".into(), lang.t("すぐに公開する", "Publish now").into()),
                ], f.get("status"), None))
            }
            div.field {
                label for="open_until" { (lang.t("募集期限", "Open until")) span.hint { (lang.t("期限を過ぎると公開一覧から外れ、所管課に確認を求めます。", "After this date the need leaves the public board.")) } }
                input #open_until type="date" name="open_until" value=[v("open_until", need.and_then(|n| n.open_until.map(|d| d.to_string())))];
            }
            button.primary type="submit" { @if need.is_some() { (lang.t("保存する", "Save")) } @else { (lang.t("登録する", "Create")) } }
        }
    }
}

/// The need form's controls, by the fields they fill (their ids are the field names).
fn need_form_control(field: &str) -> Option<&'static str> {
    [
        "department_id",
        "title",
        "body",
        "policy_field",
        "zone",
        "desired_partner_kinds",
        "visibility",
        "status",
        "open_until",
    ]
    .into_iter()
    .find(|id| *id == field)
}

fn render_form(
    u: &ConsoleUser,
    m: &MunicipalityView,
    f: &Fields,
    need: Option<&NeedView>,
    error: Option<&AppError>,
) -> HttpResponse {
    let lang = u.lang;
    let body = html! {
        @if let Some(e) = error { (layout::error_detail_linked(lang, e, need_form_control)) }
        p { (lang.t("自治体: ", "Municipality: ")) (m.name) }
        (need_form(u, m, f, need))
    };
    layout::page_with_status(
        u,
        Nav::Needs,
        lang.t("ニーズの登録", "Create a need"),
        StatusCode::OK,
        body,
    )
}

fn render_need(
    u: &ConsoleUser,
    n: &NeedView,
    m: &MunicipalityView,
    x: &NeedExtras,
    edit: Option<(&Fields, &AppError)>,
) -> HttpResponse {
    let lang = u.lang;
    let empty = Fields::empty();
    let body = html! {
        @if let Some((_, e)) = edit { (layout::error_detail_linked(lang, e, need_form_control)) }
        p { a href="/admin/needs" { "← " (lang.t("ニーズ一覧へ", "Back to needs")) } }
        div.grid {
            div {
                dl.facts {
                    dt { (lang.t("状態", "Status")) } dd { strong #need-status { (lang.need_status(n.status)) } }
                    dt { (lang.t("公開範囲", "Visibility")) } dd { (lang.visibility(n.visibility)) }
                    dt { (lang.t("所管課", "Department")) } dd { (n.department.name) }
                    dt { (lang.t("政策分野", "Policy field")) } dd { (lang.field(n.policy_field)) }
                    dt { (lang.t("地域区分", "Zone")) } dd { (n.zone.as_deref().unwrap_or("—")) }
                    dt { (lang.t("募集期限", "Open until")) } dd { (layout::date(n.open_until)) }
                    dt { (lang.t("求めるパートナー", "Partners wanted")) } dd {
                        @for (i, k) in n.desired_partner_kinds.iter().enumerate() { @if i > 0 { (lang.t("、", ", ")) } (lang.partner_kind(*k)) }
                    }
                    @if let Some(t) = n.published_at { dt { (lang.t("公開日時", "Published")) } dd { (layout::local_time(t)) } }
                }
                div.body-text { (n.body) }
                div.actions {
                    @if n.status != NeedStatus::Open {
                        form.inline method="post" action=(format!("/admin/needs/{}/publish", n.id)) {
                            (layout::csrf(u))
                            button.primary type="submit" { (lang.t("公開する", "Publish")) }
                        }
                    }
                    " "
                    @if n.status == NeedStatus::Open {
                        form.inline method="post" action=(format!("/admin/needs/{}/close", n.id)) {
                            (layout::csrf(u))
                            button type="submit" { (lang.t("募集を終了する", "Close")) }
                        }
                    }
                }
                h2 { (lang.t("編集", "Edit")) }
                (need_form(u, m, edit.map(|(f, _)| f).unwrap_or(&empty), Some(n)))
            }
            div {
                (received_proposals(lang, &x.proposals))
                (matching_offers(u, n, x))
            }
            (super::outcomes::need_section(lang, &x.cases))
        }
    };
    layout::page(u, Nav::Needs, &n.title, body)
}

/// The proposals received for the need, as the inbox lists them to the caller.
fn received_proposals(lang: Lang, found: &Found<ProposalView>) -> Markup {
    html! {
        section.panel aria-labelledby="need-proposals-h" {
            h2 #need-proposals-h { (lang.t("このニーズへの提案", "Proposals for this need")) " " span.muted { "(" (found.total) ")" } }
            @if found.items.is_empty() {
                p.muted { (lang.t("受け付けた提案はまだありません。", "No proposal received yet.")) }
            } @else {
                table aria-labelledby="need-proposals-h" {
                    thead { tr {
                        th scope="col" { (lang.t("受付番号", "Receipt no.")) }
                        th scope="col" { (lang.t("受付日", "Received")) }
                        th scope="col" { (lang.t("提案者", "Proposer")) }
                        th scope="col" { (lang.t("状態", "State")) }
                    } }
                    tbody { @for p in &found.items { tr {
                        th scope="row" { a href=(format!("/admin/proposals/{}", p.id)) { (p.receipt_number) } br; span.muted { (p.title) } }
                        td { (layout::local_time(p.received_at)) }
                        td { (p.submitter.organisation.as_deref().unwrap_or(&p.submitter.name)) }
                        td { (lang.state(p.state)) }
                    } } }
                }
                @if found.total > found.items.len() as i64 {
                    p.muted { (lang.t("新しい順に一部を表示しています。", "The newest are shown.")) }
                }
            }
        }
    }
}

/// The offers matching the need, each with its 役に立つ / 関係ない buttons (plain forms,
/// no JavaScript) and the verdict recorded so far; offers marked 関係ない are listed
/// apart, as the matcher leaves them out.
fn matching_offers(u: &ConsoleUser, n: &NeedView, x: &NeedExtras) -> Markup {
    let lang = u.lang;
    // Each staff member gives their own verdict; as in the matcher, one 関係ない leaves
    // the offer out, so it is the state shown, with how many said which.
    let count = |o: OfferId, v: &str| {
        x.verdicts
            .iter()
            .flatten()
            .filter(|(id, w)| *id == o && w == v)
            .count()
    };
    let buttons = |o: OfferId, title: &str| {
        let (good, not) = (count(o, "good"), count(o, "not_relevant"));
        let current = if not > 0 {
            Some("not_relevant")
        } else if good > 0 {
            Some("good")
        } else {
            None
        };
        html! {
            @if x.verdicts.is_some() {
            form.feedback method="post" action=(format!("/admin/needs/{}/matches/{}/feedback", n.id, o)) {
                (layout::csrf(u))
                @if current == Some("good") {
                    span.badge { (lang.t("評価: 役に立つ", "Marked: useful")) } " "
                } @else if current == Some("not_relevant") {
                    span.badge { (lang.t("評価: 関係ない", "Marked: not relevant")) } " "
                }
                @if good > 0 && not > 0 {
                    span.muted { (lang.t("役に立つ ", "useful ")) (good) (lang.t("・関係ない ", ", not relevant ")) (not) } " "
                }
                button type="submit" name="verdict" value="good" aria-pressed=(if current == Some("good") { "true" } else { "false" })
                    aria-label=(format!("{}: {}", title, lang.t("役に立つ", "Useful"))) { (lang.t("役に立つ", "Useful")) }
                " "
                button type="submit" name="verdict" value="not_relevant" aria-pressed=(if current == Some("not_relevant") { "true" } else { "false" })
                    aria-label=(format!("{}: {}", title, lang.t("関係ない", "Not relevant"))) { (lang.t("関係ない", "Not relevant")) }
            }
            }
        }
    };
    html! {
        section.panel aria-labelledby="offers-h" {
            h2 #offers-h { (lang.t("このニーズに合う提供", "Offers matching this need")) }
            @if x.offers.is_empty() { p.muted { (lang.t("該当する提供はまだありません。", "No matching offer yet.")) } }
            ol { @for o in &x.offers {
                li {
                    a href=(format!("/admin/partners/{}", o.offer.partner.id)) { (o.offer.title) }
                    br; span.muted { (o.offer.partner.name) " · " (lang.offer_kind(o.offer.kind)) " · " (format!("{:.0}%", o.explanation.normalized_score * 100.0)) }
                    @if !o.explanation.matched_terms.is_empty() { br; span.muted { (lang.t("一致した語: ", "Matched: ")) (o.explanation.matched_terms.join("、")) } }
                    (buttons(o.offer.id, &o.offer.title))
                }
            } }
            @if !x.hidden.is_empty() {
                h3 { (lang.t("関係ないとした提供", "Offers marked not relevant")) }
                p.hint { (lang.t("これらは候補に表示されません。「役に立つ」に変えると再び表示されます。", "These are left out of the matches; mark one useful to bring it back.")) }
                ul { @for o in &x.hidden {
                    li {
                        a href=(format!("/admin/partners/{}", o.partner.id)) { (o.title) }
                        (buttons(o.id, &o.title))
                    }
                } }
            }
        }
    }
}
