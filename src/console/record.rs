//! Recording a proposal that came by phone, visit, e-mail or at an event, on behalf of
//! its proposer (`domain::proposals::intake::record`). Nothing valid is refused: the
//! department may stay unknown (所管未定). The partner and the need are found by name
//! (`domain::proposals::lookup`): a 検索 button sends the form back with the candidates
//! as radio buttons and everything typed kept, so it works without JavaScript.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{NaiveTime, TimeZone, Utc};
use maud::{Markup, html};

use super::layout::{self, Nav, select};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleError, ConsoleResult, run, see_other};
use crate::domain::error::AppError;
use crate::domain::proposals::intake::{self, Declarations, RecordProposal};
use crate::domain::proposals::lookup::{self, NeedChoice, PartnerChoice};
use crate::domain::vocab::{Channel, PolicyField};
use crate::web::state::AppState;

pub async fn form(state: web::Data<AppState>, u: ConsoleUser) -> ConsoleResult<HttpResponse> {
    // The form is the desk's: department staff get no page they could only fail with.
    if !u.is_desk() {
        return Err(u.err(AppError::Forbidden(
            "only the desk records proposals on behalf of others",
        )));
    }
    let ms = municipality_options(&state, &u).await?;
    Ok(render(&u, &Fields::empty(), &ms, None, &Choices::default()))
}

/// The candidates the form shows: `None` where nothing was searched for.
#[derive(Default)]
struct Choices {
    partners: Option<Vec<PartnerChoice>>,
    needs: Option<Vec<NeedChoice>>,
    partner: Option<PartnerChoice>,
    need: Option<NeedChoice>,
}

/// The partner and need chosen so far and, when asked (`search`), the candidates for
/// the words in the two search boxes.
async fn choices(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    f: &Fields,
    search: bool,
) -> ConsoleResult<Result<Choices, AppError>> {
    let actor = u.actor();
    let code = if u.is_deployment_admin() {
        f.opt("m")
    } else {
        None
    };
    // A chosen id that is not a number is the intake's to report; here it shows nothing.
    let (partner_id, need_id) = (
        f.id("partner_id").ok().flatten(),
        f.id("need_id").ok().flatten(),
    );
    let (pq, nq) = (
        search.then(|| f.opt("partner_q")).flatten(),
        search.then(|| f.opt("need_q")).flatten(),
    );
    super::lift(
        run(state, u.lang, move |db| {
            let (partner, need) = lookup::chosen(db, &actor, code.as_deref(), partner_id, need_id)?;
            let partners = match &pq {
                Some(q) => Some(lookup::partners(db, &actor, code.as_deref(), q)?),
                None => None,
            };
            let needs = match &nq {
                Some(q) => Some(lookup::needs(db, &actor, code.as_deref(), q)?),
                None => None,
            };
            Ok(Choices {
                partners,
                needs,
                partner,
                need,
            })
        })
        .await,
    )
}

async fn municipality_options(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
) -> ConsoleResult<Vec<(String, String)>> {
    if !u.is_deployment_admin() {
        return Ok(vec![]);
    }
    super::municipality_options(state, u.lang).await
}

/// The local (JST) date and time a proposal arrived, as UTC.
fn received_at(f: &Fields) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    let Some(d) = f.date("received_on")? else {
        return Ok(None);
    };
    let t = match f.opt("received_time") {
        // The office opens at 9:00 (a constant time; MIN only keeps this total).
        None => NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
        Some(t) => NaiveTime::parse_from_str(&t, "%H:%M")
            .map_err(|_| AppError::field("received_time", "format", "HH:MM"))?,
    };
    // Out-of-range dates are the domain's to refuse (with the field named); here only
    // the conversion must not overflow at the ends of the date type.
    let local = d.and_time(t);
    let utc = crate::domain::calendar::from_japan_time(local);
    Ok(Some(Utc.from_utc_datetime(&utc)))
}

pub async fn submit(state: web::Data<AppState>, posted: Posted) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    // 検索: the same form again with the candidates, nothing recorded.
    if f.checked("find") {
        let ms = municipality_options(&state, &u).await?;
        return Ok(match choices(&state, &u, &f, true).await? {
            Ok(c) => render(&u, &f, &ms, None, &c),
            Err(e) => {
                let mut res = render(&u, &f, &ms, Some(&e), &Choices::default());
                *res.status_mut() = crate::web::status::status_of(&e);
                res
            }
        });
    }
    let actor = u.actor();
    let input = (|| -> Result<RecordProposal, AppError> {
        Ok(RecordProposal {
            channel: f.text("channel"),
            submitter_name: f.text("submitter_name"),
            submitter_org: f.opt("submitter_org"),
            submitter_email: f.opt("submitter_email"),
            submitter_phone: f.opt("submitter_phone"),
            partner_id: f.id("partner_id")?,
            need_id: f.id("need_id")?,
            offer_id: None,
            title: f.text("title"),
            body: f.text("body"),
            policy_field: f.opt("policy_field"),
            received_at: received_at(&f)?,
            municipality_code: if u.is_deployment_admin() {
                f.opt("m")
            } else {
                None
            },
            declarations: Declarations {
                no_antisocial_forces: f.checked("no_antisocial_forces"),
                consent_to_contact: f.checked("consent_to_contact"),
                consent_to_publish: f.checked("consent_to_publish"),
            },
        })
    })();
    let result = match input {
        Err(e) => Err(e),
        Ok(input) => match run(&state, u.lang, move |db| intake::record(db, &actor, input)).await {
            Ok(p) => Ok(p),
            Err(ConsoleError::App(e, _)) => Err(e),
            Err(other) => return Err(other),
        },
    };
    match result {
        Ok(p) => Ok(see_other(&format!(
            "/admin/proposals/{}?done=recorded",
            p.id
        ))),
        Err(e @ (AppError::Invalid(_) | AppError::BadRequest(_))) => {
            let ms = municipality_options(&state, &u).await?;
            let c = choices(&state, &u, &f, false).await?.unwrap_or_default();
            let mut res = render(&u, &f, &ms, Some(&e), &c);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(u.err(e)),
    }
}

/// The record form's control for each field the intake checks.
fn record_form_control(field: &str) -> Option<&'static str> {
    Some(match field {
        "municipality_code" => "m",
        "received_at" | "received_on" => "received_on",
        "received_time" => "received_time",
        "m" => "m",
        "channel" => "channel",
        "title" => "title",
        "body" => "body",
        "policy_field" => "policy_field",
        "submitter_name" => "submitter_name",
        "submitter_org" => "submitter_org",
        "submitter_email" => "submitter_email",
        "submitter_phone" => "submitter_phone",
        "need_id" | "need_q" => "need_q",
        "partner_id" | "partner_q" => "partner_q",
        _ => return None,
    })
}

fn render(
    u: &ConsoleUser,
    f: &Fields,
    municipalities: &[(String, String)],
    error: Option<&AppError>,
    c: &Choices,
) -> HttpResponse {
    let lang = u.lang;
    let channels: Vec<(String, String)> = Channel::ALL
        .iter()
        .filter(|c| **c != Channel::Api)
        .map(|c| (c.as_str().to_owned(), lang.channel(*c).to_owned()))
        .collect();
    let fields: Vec<(String, String)> = PolicyField::ALL
        .iter()
        .map(|p| (p.as_str().to_owned(), lang.field(*p).to_owned()))
        .collect();
    let body = html! {
        @if let Some(e) = error { (layout::error_detail_linked(lang, e, record_form_control)) }
        p { (lang.t(
            "電話・来庁・メール・イベントで受けた提案を、提案者に代わって登録します。所管課が分からなくても登録できます（所管未定）。",
            "Record a proposal received by phone, at the counter, by e-mail or at an event. The department may be left unknown."
        )) }
        form method="post" action="/admin/record" {
            (layout::csrf(u))
            @if u.is_deployment_admin() {
                (select("m", "m", lang.t("自治体", "Municipality"), municipalities, f.get("m"), Some(lang.t("選択してください", "Choose"))))
            }
            (select("channel", "channel", lang.t("受付経路", "Channel"), &channels, f.get("channel"), None))
            div.field {
                label for="received_on" { (lang.t("受付日（今日以外の場合）", "Date received (if not today)")) }
                input #received_on type="date" name="received_on" value=[f.get("received_on")];
                " "
                label for="received_time" { (lang.t("時刻", "Time")) }
                input #received_time type="text" name="received_time" inputmode="numeric" placeholder="09:30" value=[f.get("received_time")];
            }
            div.field {
                label for="submitter_name" { (lang.t("提案者の氏名（必須）", "Proposer's name (required)")) }
                input #submitter_name type="text" name="submitter_name" required value=[f.get("submitter_name")];
            }
            div.field {
                label for="submitter_org" { (lang.t("団体名", "Organisation")) }
                input #submitter_org type="text" name="submitter_org" value=[f.get("submitter_org")];
            }
            div.field {
                label for="submitter_email" { (lang.t("メールアドレス", "E-mail address")) }
                input #submitter_email type="email" name="submitter_email" value=[f.get("submitter_email")];
            }
            div.field {
                label for="submitter_phone" { (lang.t("電話番号", "Phone")) }
                input #submitter_phone type="text" name="submitter_phone" inputmode="tel" value=[f.get("submitter_phone")];
            }
            (partner_picker(u, f, c))
            (need_picker(u, f, c))
            div.field {
                label for="title" { (lang.t("件名（必須）", "Title (required)")) }
                input #title type="text" name="title" required maxlength="200" value=[f.get("title")];
            }
            div.field {
                label for="body" { (lang.t("提案の内容（必須）", "Proposal (required)")) }
                textarea #body name="body" required { (f.get("body").unwrap_or_default()) }
            }
            (select("policy_field", "policy_field", lang.t("政策分野", "Policy field"), &fields, f.get("policy_field"), Some(lang.t("不明", "Unknown"))))
            fieldset.checks {
                legend { (lang.t("提案者の表明", "The proposer's declarations")) }
                label { input type="checkbox" name="no_antisocial_forces" value="1" checked[f.checked("no_antisocial_forces")]; " " (lang.t("反社会的勢力でないことを確認した", "Confirmed no ties to organised crime")) }
                label { input type="checkbox" name="consent_to_contact" value="1" checked[f.checked("consent_to_contact")]; " " (lang.t("連絡することに同意を得た", "Consented to be contacted")) }
                label { input type="checkbox" name="consent_to_publish" value="1" checked[f.checked("consent_to_publish")]; " " (lang.t("オープンデータ（提案・結果の一覧）に氏名・団体名と件名を公開することに同意を得た", "Consented to publishing the name and title in the open outcome register")) }
            }
            button.primary type="submit" { (lang.t("受け付ける", "Record proposal")) }
        }
    };
    layout::page(
        u,
        Nav::Record,
        lang.t("提案の記録", "Record a proposal"),
        body,
    )
}

/// The search box and 検索 button of one picker. The button skips the browser's checks
/// of required fields (`formnovalidate`): looking something up must work on a form
/// that is only half filled in.
fn search_box(
    id: &str,
    label: &str,
    hint: &str,
    value: Option<&str>,
    lang: super::i18n::Lang,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            span.hint id=(format!("{id}-hint")) { (hint) }
            span.search-row {
                input id=(id) type="search" name=(id) value=[value] maxlength="100" aria-describedby=(format!("{id}-hint"));
                " "
                button type="submit" name="find" value="1" formnovalidate { (lang.t("検索", "Search")) }
            }
        }
    }
}

fn partner_picker(u: &ConsoleUser, f: &Fields, c: &Choices) -> Markup {
    let lang = u.lang;
    let chosen = f.opt("partner_id");
    // The chosen partner stays listed (and checked) after a new search.
    let mut list: Vec<&PartnerChoice> = c.partner.iter().collect();
    if let Some(found) = &c.partners {
        list.extend(
            found
                .iter()
                .filter(|p| Some(p.id) != c.partner.as_ref().map(|x| x.id)),
        );
    }
    html! {
        fieldset #partner {
            legend { (lang.t("登録パートナー（分かる場合）", "Registered partner (if known)")) }
            (search_box("partner_q", lang.t("名前で探す", "Find by name"), lang.t("団体名の一部（かな・カナどちらでも）か番号", "Part of the name (either kana) or the number"), f.get("partner_q"), lang))
            @if let Some(found) = &c.partners {
                @if found.is_empty() {
                    p role="status" { (lang.t("該当するパートナーはありません。", "No partner matches.")) }
                } @else if found.len() >= lookup::LIMIT {
                    p.hint role="status" { (lang.s(format!("先頭の{}件です。語を加えて絞り込んでください。", lookup::LIMIT), format!("The first {} are shown: add words to narrow them.", lookup::LIMIT))) }
                }
            }
            @if !list.is_empty() || chosen.is_some() {
                div.choices {
                    label { input type="radio" name="partner_id" value="" checked[chosen.is_none()]; " " (lang.t("指定しない", "None")) }
                    @for p in &list {
                        label {
                            input type="radio" name="partner_id" value=(p.id) checked[chosen.as_deref() == Some(p.id.to_string().as_str())];
                            " " (p.name) " "
                            span.muted { (lang.t("（", "(")) (lang.partner_kind(p.kind)) (lang.t("・", ", ")) (lang.partner_status(p.status)) (lang.t("・番号 ", ", no. ")) (p.id) (lang.t("）", ")")) }
                        }
                    }
                    // A number typed earlier that matches nothing is kept, to be refused by name.
                    @if let Some(id) = chosen.as_deref().filter(|id| !list.iter().any(|p| p.id.to_string() == *id)) {
                        label { input type="radio" name="partner_id" value=(id) checked; " " (lang.t("番号 ", "No. ")) (id) }
                    }
                }
            }
        }
    }
}

fn need_picker(u: &ConsoleUser, f: &Fields, c: &Choices) -> Markup {
    let lang = u.lang;
    let chosen = f.opt("need_id");
    let mut list: Vec<&NeedChoice> = c.need.iter().collect();
    if let Some(found) = &c.needs {
        list.extend(
            found
                .iter()
                .filter(|n| Some(n.id) != c.need.as_ref().map(|x| x.id)),
        );
    }
    html! {
        fieldset #need {
            legend { (lang.t("対象のニーズ（テーマ型の場合）", "The need it answers (if any)")) }
            (search_box("need_q", lang.t("件名で探す", "Find by title"), lang.t("この自治体のニーズの件名の一部か番号", "Part of the title of one of this municipality's needs, or its number"), f.get("need_q"), lang))
            @if let Some(found) = &c.needs {
                @if found.is_empty() {
                    p role="status" { (lang.t("該当するニーズはありません。", "No need matches.")) }
                } @else if found.len() >= lookup::LIMIT {
                    p.hint role="status" { (lang.s(format!("先頭の{}件です。語を加えて絞り込んでください。", lookup::LIMIT), format!("The first {} are shown: add words to narrow them.", lookup::LIMIT))) }
                }
            }
            @if !list.is_empty() || chosen.is_some() {
                div.choices {
                    label { input type="radio" name="need_id" value="" checked[chosen.is_none()]; " " (lang.t("指定しない", "None")) }
                    @for n in &list {
                        label {
                            input type="radio" name="need_id" value=(n.id) checked[chosen.as_deref() == Some(n.id.to_string().as_str())];
                            " " (n.title) " "
                            span.muted { (lang.t("（", "(")) (lang.need_status(n.status)) (lang.t("・番号 ", ", no. ")) (n.id) (lang.t("）", ")")) }
                        }
                    }
                    @if let Some(id) = chosen.as_deref().filter(|id| !list.iter().any(|n| n.id.to_string() == *id)) {
                        label { input type="radio" name="need_id" value=(id) checked; " " (lang.t("番号 ", "No. ")) (id) }
                    }
                }
            }
        }
    }
}
