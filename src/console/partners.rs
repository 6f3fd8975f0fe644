//! Partners and their offers: browse (`domain::offers::list`) and full-text search
//! (`domain::search::query::search`), one partner's profile, offers and proposals, and
//! suspending or reinstating a partner (deployment administrators,
//! `domain::partners::set_status`).

use actix_web::{HttpResponse, web};
use maud::{PreEscaped, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::inbox;
use super::layout::{self, Nav, blank, select};
use super::session::{ConsoleUser, Posted};
use super::{ConsoleResult, run, run_search, see_other};
use crate::domain::codes::{MunicipalityCode, Region};
use crate::domain::error::AppError;
use crate::domain::ids::PartnerId;
use crate::domain::offers::{self, OfferQuery, OfferView};
use crate::domain::partners::{self, CorporateNumberStatus};
use crate::domain::proposals::{self, ProposalQuery};
use crate::domain::search::query::{self, Record, SearchQuery};
use crate::domain::vocab::{OfferKind, PartnerStatus, PolicyField};
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct BrowseQuery {
    pub q: Option<String>,
    pub field: Option<String>,
    pub kind: Option<String>,
    pub cursor: Option<String>,
}

/// One offer in a list: (offer, title as HTML — a search snippet or the escaped title).
type Row = (OfferView, String);

pub async fn browse(
    state: web::Data<AppState>,
    u: ConsoleUser,
    q: web::Query<BrowseQuery>,
) -> ConsoleResult<HttpResponse> {
    let q = q.into_inner();
    let actor = u.actor();
    let (text, field, kind, cursor) = (
        blank(&q.q),
        blank(&q.field),
        blank(&q.kind),
        blank(&q.cursor),
    );
    let (rows, next, total): (Vec<Row>, Option<String>, Option<usize>) =
        run_search(&state, u.lang, move |db, engine| match text {
            Some(text) => {
                let page = query::search(
                    db,
                    engine,
                    &actor,
                    SearchQuery {
                        q: Some(text),
                        doc_type: Some("offer".into()),
                        field,
                        cursor,
                        limit: Some(50),
                        ..Default::default()
                    },
                )?;
                let rows = page
                    .hits
                    .into_iter()
                    .filter_map(|h| match h.record {
                        Record::Offer(o) => Some((*o, h.title_snippet)),
                        Record::Need(_) => None,
                    })
                    .filter(|(o, _)| kind.as_deref().is_none_or(|k| o.kind.as_str() == k))
                    .collect();
                Ok((rows, page.next_cursor, Some(page.total)))
            }
            None => {
                let page = offers::list(
                    db,
                    &actor,
                    OfferQuery {
                        policy_field: field,
                        kind,
                        cursor,
                        limit: Some(50),
                        ..Default::default()
                    },
                )?;
                let rows = page
                    .items
                    .into_iter()
                    .map(|o| {
                        let t = maud::html! { (o.title) }.into_string();
                        (o, t)
                    })
                    .collect();
                Ok((rows, page.next_cursor, None))
            }
        })
        .await?;
    let places = super::municipality_options(&state, u.lang).await?;
    let lang = u.lang;
    let fields: Vec<(String, String)> = PolicyField::ALL
        .iter()
        .map(|f| (f.as_str().to_owned(), lang.field(*f).to_owned()))
        .collect();
    let kinds: Vec<(String, String)> = OfferKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), lang.offer_kind(*k).to_owned()))
        .collect();
    let body = html! {
        form.filters method="get" action="/admin/partners" role="search" aria-label=(lang.t("提供の検索", "Search offers")) {
            div.field {
                label for="q" { (lang.t("キーワード", "Search")) }
                input #q type="search" name="q" value=[blank(&q.q)];
            }
            (select("field", "field", lang.t("政策分野", "Policy field"), &fields, q.field.as_deref(), Some(lang.t("すべて", "All"))))
            (select("kind", "kind", lang.t("提供の種類", "Kind of offer"), &kinds, q.kind.as_deref(), Some(lang.t("すべて", "All"))))
            button type="submit" { (lang.t("検索", "Search")) }
        }
        @if let Some(t) = total { p { (lang.s(format!("{t}件見つかりました。"), format!("{t} found."))) } }
        @if rows.is_empty() {
            p { (lang.t("該当する提供はありません。", "No offers match.")) }
        } @else {
            div.table-wrap { table {
                caption { (lang.t("パートナーの提供", "Partners' offers")) }
                thead { tr {
                    th scope="col" { (lang.t("提供", "Offer")) }
                    th scope="col" { (lang.t("パートナー", "Partner")) }
                    th scope="col" { (lang.t("種類", "Kind")) }
                    th scope="col" { (lang.t("政策分野", "Policy fields")) }
                    th scope="col" { (lang.t("地域", "Regions")) }
                } }
                tbody { @for (o, title) in &rows { tr {
                    td { (PreEscaped(title)) }
                    td { a href=(format!("/admin/partners/{}", o.partner.id)) { (o.partner.name) } br; span.muted { (lang.partner_kind(o.partner.kind)) } }
                    td { (lang.offer_kind(o.kind)) }
                    td { @for (i, f) in o.policy_fields.iter().enumerate() { @if i > 0 { (lang.t("、", ", ")) } (lang.field(*f)) } }
                    td { (region_names(lang, &o.regions, &places)) }
                } } }
            } }
        }
        @if let Some(c) = &next {
            p { a href=(format!("/admin/partners?cursor={}{}", layout::url_encode(c), blank(&q.q).map(|t| format!("&q={}", layout::url_encode(&t))).unwrap_or_default())) { (lang.t("次のページ", "Next page")) } }
        }
    };
    Ok(layout::page(
        &u,
        Nav::Partners,
        lang.t("パートナー・提供", "Partners & offers"),
        body,
    ))
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    id: web::Path<PartnerId>,
) -> ConsoleResult<HttpResponse> {
    let id = id.into_inner();
    let actor = u.actor();
    let (p, active, archived, props) = run_search(&state, u.lang, move |db, engine| {
        let p = partners::get(db, &actor, id)?;
        let of = |status: &str| OfferQuery {
            partner_id: Some(id.0),
            status: Some(status.into()),
            limit: Some(100),
            ..Default::default()
        };
        let active = offers::list(db, &actor, of("active"))?.items;
        let archived = offers::list(db, &actor, of("archived"))?.items;
        // The proposal list has no partner filter: the caller's latest proposals are
        // narrowed to this partner here, within what the caller may see.
        let props = proposals::list(
            db,
            engine,
            &actor,
            ProposalQuery {
                state: None,
                limit: Some(100),
                ..Default::default()
            },
        )?
        .items
        .into_iter()
        .filter(|x| x.partner_id == Some(id))
        .collect::<Vec<_>>();
        Ok((p, active, archived, props))
    })
    .await?;
    let places = super::municipality_options(&state, u.lang).await?;
    let lang = u.lang;
    let prop_refs: Vec<&crate::domain::proposals::ProposalView> = props.iter().collect();
    let body = html! {
        p { a href="/admin/partners" { "← " (lang.t("パートナー・提供へ", "Back to partners & offers")) } }
        dl.facts {
            dt { (lang.t("種別", "Kind")) } dd { (lang.partner_kind(p.kind)) }
            dt { (lang.t("状態", "Status")) } dd { strong #partner-status { (lang.partner_status(p.status)) } }
            dt { (lang.t("法人番号", "Corporate number")) } dd {
                (p.corporate_number.as_deref().unwrap_or("—"))
                @match p.corporate_number_status {
                    CorporateNumberStatus::Confirmed => { " " span.badge { (lang.t("確認済み", "Confirmed")) } }
                    CorporateNumberStatus::Claimed => { " " span.badge.unverified { (lang.t("未確認（本人の申告）", "Unconfirmed (as stated)")) } }
                    CorporateNumberStatus::None => {}
                }
            }
            dt { (lang.t("ウェブサイト", "Website")) } dd { (p.website.as_deref().unwrap_or("—")) }
            dt { (lang.t("対象地域", "Regions")) } dd { (region_names(lang, &p.regions, &places)) }
            @if let Some(c) = &p.contact {
                dt { (lang.t("担当者", "Contact")) } dd { (c.name) " <" (c.email) ">" @if !c.email_verified { " " span.badge.unverified { (lang.t("メール未確認", "E-mail unverified")) } } @if let Some(ph) = &c.phone { " " (ph) } }
            }
            dt { (lang.t("登録日時", "Registered")) } dd { (layout::local_time(p.created_at)) }
        }
        @if !p.description.is_empty() { div.body-text { (p.description) } }
        @if u.is_deployment_admin() {
            @let (action, label, class) = if p.status == PartnerStatus::Active {
                ("suspend", lang.t("利用を停止する", "Suspend"), "danger")
            } else {
                ("reinstate", lang.t("利用停止を解除する", "Reinstate"), "primary")
            };
            form method="post" action=(format!("/admin/partners/{}/{action}", p.id)) {
                (layout::csrf(&u))
                p.hint { (lang.t("利用を停止すると、このパートナーのAPIキーは使えなくなり、提供は外部の一覧・検索から外れます。", "A suspended partner's API keys stop working and its offers leave outsiders' lists and searches.")) }
                button class=(class) type="submit" { (label) }
            }
        }
        h2 { (lang.t("提供", "Offers")) }
        @if active.is_empty() && archived.is_empty() { p.muted { (lang.t("提供はありません。", "No offers.")) } }
        ul { @for o in active.iter().chain(archived.iter()) {
            li { strong { (o.title) } " — " (lang.offer_kind(o.kind)) " · " (lang.offer_status(o.status)) br; span.muted { (o.body.chars().take(140).collect::<String>()) } }
        } }
        (super::outcomes::partner_section(lang, p.adopted_cases.as_deref().unwrap_or_default()))
        h2 { (lang.t("提案", "Proposals")) }
        @if props.is_empty() { p.muted { (lang.t("表示できる提案はありません。", "No proposals you may see.")) } }
        @else { (inbox::table(&u, lang.t("このパートナーからの提案", "Proposals from this partner"), &prop_refs, None)) }
    };
    Ok(layout::page(&u, Nav::Partners, &p.name, body))
}

pub async fn set_status(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
    path: web::Path<(PartnerId, String)>,
) -> ConsoleResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let u = posted.user;
    let status = match action.as_str() {
        "suspend" => PartnerStatus::Suspended,
        "reinstate" => PartnerStatus::Active,
        _ => return Err(u.err(AppError::NotFound("action"))),
    };
    let (actor, source) = (u.actor(), crate::web::source(&req));
    run(&state, u.lang, move |db| {
        crate::domain::audit::with_source(&source, || partners::set_status(db, &actor, id, status))
    })
    .await?;
    Ok(see_other(&format!("/admin/partners/{id}?done={action}")))
}

/// Regions as staff read them: 全国, a prefecture's name, a municipality's name (from
/// the municipalities kyoso knows) — never the raw code, except beside the prefecture
/// for a municipality kyoso does not know.
pub fn region_names(lang: Lang, codes: &[String], known: &[(String, String)]) -> String {
    let names: Vec<String> = codes
        .iter()
        .map(|code| {
            if code == Region::NATIONWIDE {
                return lang.t("全国", "Nationwide").to_owned();
            }
            let Ok(m) = MunicipalityCode::parse(code) else {
                return code.clone();
            };
            let pref = lang.t(
                m.prefecture_name().unwrap_or_default(),
                m.prefecture_name_en().unwrap_or_default(),
            );
            if m.is_prefecture() {
                return pref.to_owned();
            }
            match known.iter().find(|(c, _)| c == code) {
                Some((_, name)) => lang.s(format!("{pref}{name}"), format!("{name}, {pref}")),
                None => lang.s(
                    format!("{pref}内の市区町村（{code}）"),
                    format!("a municipality in {pref} ({code})"),
                ),
            }
        })
        .collect();
    names.join(lang.t("、", ", "))
}
