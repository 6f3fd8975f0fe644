//! Needs (課題・ニーズ): the municipality's list (drafts and internal ones included),
//! creating and editing, publishing and closing (`domain::needs`), and the offers that
//! match each need (`domain::search::matches::offers_for_need`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Nav, blank, select};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleResult, lift, run, run_search, see_other};
use crate::domain::error::AppError;
use crate::domain::ids::NeedId;
use crate::domain::municipalities::{self, MunicipalityView};
use crate::domain::needs::{self, NeedQuery, NeedView, NewNeedInput, UpdateNeedInput};
use crate::domain::search::matches::{self, MatchQuery, OfferMatch};
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
    let (need, m, offers) = load(&state, &u, id).await?;
    Ok(render_need(&u, &need, &m, &offers, None))
}

async fn load(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    id: NeedId,
) -> ConsoleResult<(NeedView, MunicipalityView, Vec<OfferMatch>)> {
    let actor = u.actor();
    run_search(state, u.lang, move |db, engine| {
        let need = needs::get(db, &actor, id)?;
        let m = municipalities::get(db, &need.municipality.code)?;
        // A need the index cannot match yet (just created) shows no offers, not an error.
        let offers =
            matches::offers_for_need(db, engine, &actor, id, MatchQuery { limit: Some(10) })
                .unwrap_or_default();
        Ok((need, m, offers))
    })
    .await
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
            let (need, m, offers) = load(&state, &u, id).await?;
            let mut res = render_need(&u, &need, &m, &offers, Some((&f, &e)));
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
    offers: &[OfferMatch],
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
            section.panel aria-labelledby="offers-h" {
                h2 #offers-h { (lang.t("このニーズに合う提供", "Offers matching this need")) }
                @if offers.is_empty() { p.muted { (lang.t("該当する提供はまだありません。", "No matching offer yet.")) } }
                ol { @for o in offers {
                    li {
                        a href=(format!("/admin/partners/{}", o.offer.partner.id)) { (o.offer.title) }
                        br; span.muted { (o.offer.partner.name) " · " (lang.offer_kind(o.offer.kind)) " · " (format!("{:.0}%", o.explanation.normalized_score * 100.0)) }
                        @if !o.explanation.matched_terms.is_empty() { br; span.muted { (lang.t("一致した語: ", "Matched: ")) (o.explanation.matched_terms.join("、")) } }
                    }
                } }
            }
        }
    };
    layout::page(u, Nav::Needs, &n.title, body)
}
