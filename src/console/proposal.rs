//! One proposal: its text, proposer, links, the suggested departments with reasons,
//! matching needs or offers, similar past proposals with their outcomes, the
//! history (internal notes marked 庁内メモ), and the forms of the workflow — route,
//! note, reply, change state (declining asks for the reason), pause/resume, extend. Each
//! form calls one `domain::proposals::workflow` function, which records the event;
//! the 担当者 form calls `domain::proposals::assign`, 重複 `duplicates` (also from the
//! similar list's buttons) and 所管外 `returns`.
//! Files attached to the proposal are listed, downloaded and uploaded here
//! (`domain::attachments`); the reply form offers the municipality's reply templates,
//! filled in for this proposal through `?template=` (no JavaScript needed).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use super::i18n::Lang;
use super::layout::{self, Nav, select};
use super::session::{ConsoleUser, Fields, Posted};
use super::{ConsoleError, ConsoleResult, run, run_search, see_other};
use crate::domain::attachments::{self, AttachmentView};
use crate::domain::console_auth::constant_time_eq;
use crate::domain::error::AppError;
use crate::domain::ids::{NeedId, OfferId, ProposalId};
use crate::domain::municipalities::{self, DepartmentView};
use crate::domain::outcomes::reports::{self as outcome_reports, OutcomeInput, OutcomeReportView};
use crate::domain::proposals::assign::{self, AssignInput};
use crate::domain::proposals::duplicates::{self, DuplicateInput};
use crate::domain::proposals::returns::{self, ReturnInput};
use crate::domain::proposals::suggest::{self, SimilarProposal, Strength, Suggestion};
use crate::domain::proposals::workflow::{
    self, ExtendInput, RouteInput, TextInput, TransitionInput, next_states,
};
use crate::domain::proposals::{self, Assignee, ProposalView};
use crate::domain::reply_templates;
use crate::domain::search::matches::{self, MatchQuery};
use crate::domain::vocab::{DeclineReason, ProposalState};
use crate::web::state::AppState;

/// What the page shows besides the proposal itself.
struct Extras {
    suggestions: Vec<Suggestion>,
    departments: Vec<DepartmentView>,
    /// (href, title, matched terms)
    matches: Vec<(String, String, Vec<String>)>,
    /// Similar past proposals: openable ones in full, the others as summaries.
    past: Vec<SimilarProposal>,
    /// Who the caller may make the assignee (empty when the caller may not assign).
    assignees: Vec<Assignee>,
    /// The files attached to the proposal.
    files: Vec<AttachmentView>,
    /// The municipality's reply templates (id, name).
    templates: Vec<(i64, String)>,
    /// The chosen template, filled in for this proposal (the reply's first text).
    filled: Option<(i64, String)>,
    /// Outcome reports (adopted proposals only have any).
    outcomes: Vec<OutcomeReportView>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ShowQuery {
    /// A reply template to fill the reply form with.
    pub template: Option<String>,
}

async fn load(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    id: ProposalId,
) -> ConsoleResult<(ProposalView, Extras)> {
    load_with(state, u, id, None).await
}

async fn load_with(
    state: &web::Data<AppState>,
    u: &ConsoleUser,
    id: ProposalId,
    template: Option<i64>,
) -> ConsoleResult<(ProposalView, Extras)> {
    let actor = u.actor();
    let is_desk = u.is_desk();
    let p = run(state, u.lang, {
        let actor = actor.clone();
        move |db| proposals::get(db, &actor, id)
    })
    .await?;
    let code = p.municipality.code.clone();
    let need = p.need.as_ref().map(|n| n.id);
    let offer = p.offer.as_ref().map(|o| o.id);
    let lang = u.lang;
    let extras = run_search(state, u.lang, move |db, engine| {
        let suggestions = suggest::suggest(db, engine, &actor, id)?;
        let departments = if is_desk {
            municipalities::list_departments(db, &code)?
        } else {
            vec![]
        };
        // Matching is a help, not the page: an index that cannot answer leaves it empty.
        let few = || MatchQuery { limit: Some(5) };
        let matches = match (need, offer) {
            (Some(n), _) => matches::offers_for_need(db, engine, &actor, NeedId(n), few())
                .map(|v| {
                    v.into_iter()
                        .map(|m| {
                            (
                                format!("/admin/partners/{}", m.offer.partner.id),
                                lang.s(
                                    format!("{}（{}）", m.offer.title, m.offer.partner.name),
                                    format!("{} ({})", m.offer.title, m.offer.partner.name),
                                ),
                                m.explanation.matched_terms,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            (None, Some(o)) => matches::needs_for_offer(db, engine, &actor, OfferId(o), few())
                .map(|v| {
                    v.into_iter()
                        .map(|m| {
                            (
                                format!("/admin/needs/{}", m.need.id),
                                lang.s(
                                    format!("{}（{}）", m.need.title, m.need.department.name),
                                    format!("{} ({})", m.need.title, m.need.department.name),
                                ),
                                m.explanation.matched_terms,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            (None, None) => vec![],
        };
        // Similar past proposals of this municipality, through the search index; like
        // the matches, a help that an index failure leaves empty.
        let past = suggest::similar_proposals(db, engine, &actor, id, 5).unwrap_or_default();
        let files = attachments::list(db, &actor, id)?;
        let templates = reply_templates::list(db, &actor, Some(&code))?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let filled = match template {
            Some(t) => Some((t, reply_templates::render(db, &actor, id, t)?)),
            None => None,
        };
        let assignees = assign::candidates(db, &actor, id)?;
        let outcomes = outcome_reports::list(db, &actor, id)?;
        Ok(Extras {
            outcomes,
            assignees,
            suggestions,
            departments,
            matches,
            past,
            files,
            templates,
            filled,
        })
    })
    .await?;
    Ok((p, extras))
}

pub async fn show(
    state: web::Data<AppState>,
    u: ConsoleUser,
    id: web::Path<ProposalId>,
    q: web::Query<ShowQuery>,
) -> ConsoleResult<HttpResponse> {
    let id = id.into_inner();
    let template = match q
        .template
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| u.err(AppError::NotFound("reply template")))?,
        ),
    };
    let (p, extras) = load_with(&state, &u, id, template).await?;
    Ok(render(&u, &p, &extras, None, None))
}

/// Uploads a file (multipart/form-data with the session's `csrf` field). Who may not
/// open the proposal is refused before the body is read.
pub async fn upload(
    state: web::Data<AppState>,
    u: ConsoleUser,
    req: HttpRequest,
    id: web::Path<ProposalId>,
    payload: web::Payload,
) -> ConsoleResult<HttpResponse> {
    let id = id.into_inner();
    let actor = u.actor();
    run(&state, u.lang, {
        let actor = actor.clone();
        move |db| attachments::may_attach(db, &actor, id)
    })
    .await?;
    let limits = state.guards.limits.attachments;
    let result = match crate::web::files::read(&req, payload, limits).await {
        Err(e) => Err(e),
        Ok(form) => {
            let sent = form.text("csrf").unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), u.csrf().as_bytes()) {
                return Err(ConsoleError::Csrf(u.lang));
            }
            match form.file {
                None => Err(AppError::field_ja(
                    "file",
                    "required",
                    "choose a file",
                    "ファイルを選んでください",
                )),
                Some(file) => match run(&state, u.lang, move |db| {
                    attachments::add(db, &actor, id, limits, file)
                })
                .await
                {
                    Ok(_) => Ok(()),
                    Err(ConsoleError::App(e, _)) => Err(e),
                    Err(other) => return Err(other),
                },
            }
        }
    };
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/admin/proposals/{}?done=attached#attachments",
            id.0
        ))),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::BadRequest(_)
            | AppError::UnsupportedMediaType(_)
            | AppError::PayloadTooLarge(_)),
        ) => {
            let (p, extras) = load(&state, &u, id).await?;
            let mut res = render(&u, &p, &extras, Some(&e), None);
            *res.status_mut() = crate::web::status::status_of(&e);
            Ok(res)
        }
        Err(e) => Err(u.err(e)),
    }
}

/// Downloads a file of a proposal the user may open.
pub async fn download(
    state: web::Data<AppState>,
    u: ConsoleUser,
    path: web::Path<(i64, i64)>,
) -> ConsoleResult<HttpResponse> {
    let (id, file) = path.into_inner();
    let actor = u.actor();
    let (view, bytes) = run(&state, u.lang, move |db| {
        attachments::download(db, &actor, ProposalId(id), file)
    })
    .await?;
    Ok(crate::web::files::file_response(&view, bytes))
}

pub async fn act(
    state: web::Data<AppState>,
    posted: Posted,
    path: web::Path<(ProposalId, String)>,
) -> ConsoleResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let Posted { user: u, form: f } = posted;
    let actor = u.actor();
    let input = (|| -> Result<Action, AppError> {
        Ok(match action.as_str() {
            "route" => Action::Route(RouteInput {
                primary_department_id: f.id("primary_department_id")?.ok_or_else(|| {
                    AppError::field("primary_department_id", "required", "choose a department")
                })?,
                other_department_ids: f
                    .all("other_department_ids")
                    .iter()
                    .map(|v| {
                        v.parse().map_err(|_| {
                            AppError::field("other_department_ids", "format", "must be a number")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                note: f.opt("note"),
            }),
            "note" => Action::Note(TextInput {
                body: f.text("body"),
            }),
            "reply" => Action::Reply(TextInput {
                body: f.text("body"),
            }),
            "transition" => Action::Transition(
                TransitionInput {
                    to: f.text("to"),
                    reason_code: f.opt("reason_code"),
                    reason: f.opt("reason"),
                    note: f.opt("note"),
                }
                .parse()?,
            ),
            "pause" => Action::Pause(TextInput {
                body: f.text("body"),
            }),
            "resume" => Action::Resume,
            "duplicate" => Action::Duplicate(
                DuplicateInput {
                    original: f.text("original"),
                    note: f.opt("note"),
                }
                .parse()?,
            ),
            "return" => Action::Return(ReturnInput {
                reason: f.text("reason"),
            }),
            "assign" => Action::Assign(AssignInput {
                assignee_id: f.id("assignee_id")?,
            }),
            "extend" => Action::Extend(ExtendInput {
                clock: f.text("clock"),
                until: f
                    .date("until")?
                    .ok_or_else(|| AppError::field("until", "required", "give the new due date"))?,
                reason: f.text("reason"),
            }),
            "outcome" => Action::Outcome(super::outcomes::input_of(&f)),
            _ => return Err(AppError::NotFound("action")),
        })
    })();
    let result = match input {
        Err(e) => Err(e),
        Ok(a) => {
            let r = run(&state, u.lang, move |db| match a {
                Action::Route(i) => workflow::route(db, &actor, id, i),
                Action::Note(i) => workflow::add_note(db, &actor, id, i),
                Action::Reply(i) => workflow::reply(db, &actor, id, i),
                Action::Transition(i) => workflow::transition(db, &actor, id, i),
                Action::Pause(i) => workflow::pause(db, &actor, id, i),
                Action::Resume => workflow::resume(db, &actor, id),
                Action::Assign(i) => assign::assign(db, &actor, id, i),
                Action::Extend(i) => workflow::extend(db, &actor, id, i),
                Action::Duplicate(i) => duplicates::mark_duplicate(db, &actor, id, i),
                Action::Return(i) => returns::give_back(db, &actor, id, i),
                Action::Outcome(i) => outcome_reports::record(db, &actor, id, i)
                    .and_then(|_| proposals::get(db, &actor, id)),
            })
            .await;
            match r {
                Ok(_) => Ok(()),
                Err(ConsoleError::App(e, _)) => Err(e),
                Err(other) => return Err(other),
            }
        }
    };
    match result {
        // A department that returned the proposal no longer sees it: back to its inbox.
        Ok(()) if action == "return" => Ok(see_other("/admin/inbox?done=return")),
        Ok(()) => Ok(see_other(&format!(
            "/admin/proposals/{}?done={action}#history",
            id.0
        ))),
        // Input and state errors come back on the page itself, above its forms.
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::BadRequest(_))) => {
            let (p, extras) = load(&state, &u, id).await?;
            let status = crate::web::status::status_of(&e);
            // The form comes back open with everything typed into it.
            let sent = Sent {
                action: &action,
                form: &f,
            };
            let mut res = render(&u, &p, &extras, Some(&e), Some(&sent));
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(u.err(e)),
    }
}

enum Action {
    Route(RouteInput),
    Note(TextInput),
    Reply(TextInput),
    Transition(workflow::Transition),
    Pause(TextInput),
    Resume,
    Extend(ExtendInput),
    Assign(AssignInput),
    Duplicate(duplicates::DuplicateOf),
    Return(ReturnInput),
    Outcome(OutcomeInput),
}

fn facts(u: &ConsoleUser, p: &ProposalView) -> Markup {
    let lang = u.lang;
    html! {
        dl.facts {
            dt { (lang.t("受付番号", "Receipt no.")) } dd.receipt { (p.receipt_number) }
            dt { (lang.t("状態", "State")) } dd {
                (lang.state(p.state))
                @if let Some(since) = p.clocks.paused_since { " " span.badge { (lang.t("資料待ち", "Paused")) } " " span.muted { (layout::local_time(since)) (lang.t("から", " since")) } }
            }
            dt { (lang.t("受付経路", "Channel")) } dd { (lang.channel(p.channel)) }
            dt { (lang.t("受付日時", "Received")) } dd { (layout::local_time(p.received_at)) }
            dt { (lang.t("自治体", "Municipality")) } dd { (p.municipality.name) }
            dt { (lang.t("政策分野", "Policy field")) } dd { @match p.policy_field { Some(f) => (lang.field(f)), None => "—" } }
            dt { (lang.t("所管課", "Department")) } dd {
                @if p.unassigned { span.badge.unassigned { (lang.t("所管未定", "Unassigned")) } }
                @for d in &p.departments { (d.name) @if d.primary { " " span.muted { (lang.t("（主管）", "(lead)")) } } @else { " " span.muted { (lang.t("（関係課）", "(also)")) } } br; }
            }
            dt { (lang.t("担当者", "Assignee")) } dd { @match &p.assignee { Some(a) => (a.name), None => span.muted { (lang.t("未設定", "none")) } } }
            dt { (lang.t("所管課の回答期限", "Department due")) } dd { (layout::date(p.clocks.department_due_on)) }
            dt { (lang.t("初回回答期限", "First answer due")) } dd { (layout::date(p.clocks.proposer_due_on)) }
            dt { (lang.t("結論の期限", "Decision due")) } dd { (layout::date(p.clocks.decision_due_on)) }
            @if let Some(d) = &p.decline {
                dt { (lang.t("見送り理由", "Reason for declining")) } dd { (lang.decline(d.code)) @if let Some(t) = &d.text { br; (t) } }
            }
            @if let Some(o) = &p.duplicate_of {
                dt { (lang.t("重複元の提案", "Duplicate of")) }
                dd { (lang.t("重複（", "Duplicate (same as ")) a.receipt href=(format!("/admin/proposals/{}", o.id)) { (o.receipt_number) } (lang.t(" と同じ）", ")")) }
            }
            @if !p.duplicates.is_empty() {
                dt { (lang.t("この提案の重複", "Its duplicates")) }
                dd #duplicates { @for (i, d) in p.duplicates.iter().enumerate() { @if i > 0 { "、" } a.receipt href=(format!("/admin/proposals/{}", d.id)) { (d.receipt_number) } } }
            }
        }
    }
}

fn timeline(u: &ConsoleUser, p: &ProposalView) -> Markup {
    let lang = u.lang;
    html! {
        ol.timeline {
            @for e in p.events.as_deref().unwrap_or_default() {
                li.internal[e.internal] {
                    div {
                        strong { (lang.event(e.kind)) }
                        @if e.internal { " " span.badge.internal { (lang.t("庁内メモ", "Internal")) } }
                        @if let (Some(f), Some(t)) = (e.from_state, e.to_state) { @if f != t { " " (lang.state(f)) " → " (lang.state(t)) } }
                        @if let Some(d) = &e.department { " — " (d.name) }
                    }
                    div.when {
                        (layout::local_time(e.at))
                        @if let Some(n) = &e.actor_name { " · " (n) }
                        @else if e.actor_type == "system" { " · " (lang.t("システム", "system")) }
                    }
                    @if let Some(b) = &e.body { p.text { (super::history::body(lang, e.kind, b)) } }
                }
            }
        }
    }
}

/// A form sent back with an error: which action, and what was typed.
struct Sent<'a> {
    action: &'a str,
    form: &'a Fields,
}

/// The id of the control of `field` in the form of `action`, for the error summary's links.
fn control_of(action: &str, field: &str) -> Option<&'static str> {
    Some(match (action, field) {
        ("route", "primary_department_id") => "primary_department_id",
        ("route", "note") => "route-note",
        ("transition", "to") => "to",
        ("transition", "reason_code") => "reason_code",
        ("transition", "reason") => "reason",
        ("transition", "note") => "t-note",
        ("reply", "body") => "reply-body",
        ("note", "body") => "note-body",
        ("pause", "body") => "pause-body",
        ("extend", "clock") => "clock",
        ("extend", "until") => "until",
        ("extend", "reason") => "extend-reason",
        ("assign", "assignee_id") => "assignee_id",
        ("duplicate", "original") => "dup-original",
        ("duplicate", "note") => "dup-note",
        ("return", "reason") => "return-reason",
        ("outcome", f) => return super::outcomes::control_of(f),
        _ => return None,
    })
}

/// What was typed into `key` of the form of `action`, if that form was sent back.
fn typed<'a>(sent: Option<&'a Sent>, action: &str, key: &str) -> Option<&'a str> {
    sent.filter(|s| s.action == action)
        .and_then(|s| s.form.get(key))
}

fn forms(u: &ConsoleUser, p: &ProposalView, x: &Extras, sent: Option<&Sent>) -> Markup {
    let lang = u.lang;
    let is_sent = |action: &str| sent.is_some_and(|s| s.action == action);
    let typed_all = |action: &str, key: &str| -> Option<Vec<String>> {
        sent.filter(|s| s.action == action).map(|s| s.form.all(key))
    };
    let other_typed = typed_all("route", "other_department_ids");
    let base = format!("/admin/proposals/{}", p.id);
    let open = !next_states(p.state).is_empty();
    // Only a clear, strong suggestion is chosen in advance; otherwise the desk chooses,
    // and the form cannot be sent without a choice.
    let suggested = suggest::preselect(&x.suggestions).map(|d| d.0.to_string());
    let current = p
        .departments
        .iter()
        .find(|d| d.primary)
        .map(|d| d.id.0.to_string());
    let dept_options: Vec<(String, String)> = x
        .departments
        .iter()
        .map(|d| (d.id.0.to_string(), d.name.clone()))
        .collect();
    let targets: Vec<(String, String)> = next_states(p.state)
        .iter()
        .filter(|s| **s != ProposalState::Routed)
        .filter(|s| u.is_desk() || **s != ProposalState::Withdrawn)
        .map(|s| (s.as_str().to_owned(), lang.state(*s).to_owned()))
        .collect();
    let decides = decides(u, p);
    // 所管外: only the lead department's staff hand a routed proposal back.
    let returns = !u.is_desk()
        && matches!(p.state, ProposalState::Routed | ProposalState::InDialogue)
        && p.departments
            .iter()
            .any(|d| d.primary && Some(d.id) == u.staff().department);
    let reasons: Vec<(String, String)> = DeclineReason::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), lang.decline(*r).to_owned()))
        .collect();
    let me = u.staff().id.0;
    let assignee_options: Vec<(String, String)> = x
        .assignees
        .iter()
        .map(|a| (a.id.0.to_string(), a.name.clone()))
        .collect();
    let current_assignee = p.assignee.as_ref().map(|a| a.id.0.to_string());
    html! {
        @if !x.assignees.is_empty() {
            @if x.assignees.iter().any(|a| a.id.0 == me) && p.assignee.as_ref().is_none_or(|a| a.id.0 != me) {
                form.action #assign-me method="post" action=(format!("{base}/assign")) {
                    (layout::csrf(u))
                    input type="hidden" name="assignee_id" value=(me);
                    button type="submit" { (lang.t("自分を担当に", "Assign to me")) }
                }
            }
            details.action #act-assign open[is_sent("assign")] {
                summary { (lang.t("担当者を変更する", "Change the assignee")) }
                form method="post" action=(format!("{base}/assign")) {
                    (layout::csrf(u))
                    (select("assignee_id", "assignee_id", lang.t("担当者", "Assignee"), &assignee_options, typed(sent, "assign", "assignee_id").or(current_assignee.as_deref()), Some(lang.t("（担当者なし）", "(nobody)"))))
                    button type="submit" { (lang.t("担当者を設定する", "Set the assignee")) }
                }
            }
        }
        @if u.is_desk() && open && !x.departments.is_empty() {
            details.action open[p.unassigned || is_sent("route")] {
                summary { @if p.unassigned { (lang.t("所管課へ回付する", "Route to a department")) } @else { (lang.t("回付先を変更する", "Change the department")) } }
                form method="post" action=(format!("{base}/route")) {
                    (layout::csrf(u))
                    (department_select(lang, &dept_options, typed(sent, "route", "primary_department_id").or(current.as_deref()).or(suggested.as_deref())))
                    fieldset.checks {
                        legend { (lang.t("関係課（任意）", "Other departments (optional)")) }
                        @for (v, l) in &dept_options {
                            label { input type="checkbox" name="other_department_ids" value=(v) checked[match &other_typed { Some(t) => t.contains(v), None => p.departments.iter().any(|d| !d.primary && d.id.0.to_string() == *v) }]; " " (l) }
                        }
                    }
                    div.field {
                        label for="route-note" { (lang.t("回付の理由（庁内メモ・任意）", "Why this department (internal, optional)")) }
                        textarea #route-note name="note" { (typed(sent, "route", "note").unwrap_or("")) }
                    }
                    button.primary type="submit" { (lang.t("回付する", "Route")) }
                }
            }
        }
        @if open && decides {
            details.action #act-transition open[is_sent("transition")] {
                summary { (lang.t("状態を変更する", "Change the state")) }
                form method="post" action=(format!("{base}/transition")) {
                    (layout::csrf(u))
                    (select("to", "to", lang.t("変更後の状態", "New state"), &targets, typed(sent, "transition", "to"), None))
                    p.hint { (lang.t("見送りの場合は理由の区分と、提案者に送る理由の説明が必要です。", "To decline, choose a reason and write the reasons sent to the proposer.")) }
                    (select("reason_code", "reason_code", lang.t("見送り理由の区分", "Reason for declining"), &reasons, typed(sent, "transition", "reason_code"), Some(lang.t("（見送りの場合に選択）", "(when declining)"))))
                    div.field {
                        label for="reason" { (lang.t("見送りの理由（提案者に送られます）", "Reasons (sent to the proposer)")) }
                        textarea #reason name="reason" { (typed(sent, "transition", "reason").unwrap_or("")) }
                    }
                    div.field {
                        label for="t-note" { (lang.t("提案者への連絡事項（任意）", "Message to the proposer (optional)")) }
                        textarea #t-note name="note" { (typed(sent, "transition", "note").unwrap_or("")) }
                    }
                    button.primary type="submit" { (lang.t("状態を変更する", "Change state")) }
                }
            }
        }
        @if open && decides {
            details.action #act-duplicate open[is_sent("duplicate")] {
                summary { (lang.t("重複として閉じる", "Close as a duplicate")) }
                form method="post" action=(format!("{base}/duplicate")) {
                    (layout::csrf(u))
                    p.hint { (lang.t("先に受け付けた同じ内容の提案の受付番号を入力します。この提案は「見送り（重複）」として閉じられ、提案者に通知されます（元の提案の受付番号は、同じ提案者の提案の場合だけ伝えます）。", "Give the receipt number of the earlier proposal. This one is declined as a duplicate and the proposer is told (the earlier number only if it is theirs too).")) }
                    div.field {
                        label for="dup-original" { (lang.t("元の提案の受付番号（例：2026-000123）", "Receipt no. of the original (e.g. 2026-000123)")) }
                        input #dup-original type="text" name="original" required inputmode="numeric" autocomplete="off" value=[typed(sent, "duplicate", "original")];
                    }
                    div.field {
                        label for="dup-note" { (lang.t("提案者への連絡事項（任意）", "Message to the proposer (optional)")) }
                        textarea #dup-note name="note" { (typed(sent, "duplicate", "note").unwrap_or("")) }
                    }
                    button type="submit" { (lang.t("重複として閉じる", "Close as a duplicate")) }
                }
            }
        }
        @if returns {
            details.action #act-return open[is_sent("return")] {
                summary { (lang.t("所管外として窓口へ返す", "Return to the desk (not ours)")) }
                form method="post" action=(format!("{base}/return")) {
                    (layout::csrf(u))
                    p.hint { (lang.t("この提案は所管未定に戻り、窓口に通知されます。返却後、この課では表示されなくなります。", "The proposal goes back to the unassigned queue and the desk is told; your department no longer sees it.")) }
                    div.field {
                        label for="return-reason" { (lang.t("返却の理由（窓口向け・提案者には表示されません）", "Why (for the desk; never shown to the proposer)")) }
                        textarea #return-reason name="reason" required { (typed(sent, "return", "reason").unwrap_or("")) }
                    }
                    button type="submit" { (lang.t("窓口へ返す", "Return to the desk")) }
                }
            }
        }
        details.action #reply open[is_sent("reply") || x.filled.is_some()] {
            summary { (lang.t("提案者へ回答する", "Reply to the proposer")) }
            @if !x.templates.is_empty() {
                form.filters method="get" action=(base) {
                    (select("template", "template", lang.t("定型文", "Template"), &x.templates.iter().map(|(i, n)| (i.to_string(), n.clone())).collect::<Vec<_>>(), x.filled.as_ref().map(|(i, _)| i.to_string()).as_deref(), None))
                    button type="submit" { (lang.t("定型文を差し込む", "Use template")) }
                }
            }
            @if u.is_desk() { p.hint { a href="/admin/templates" { (lang.t("定型文を管理する", "Manage templates")) } } }
            form method="post" action=(format!("{base}/reply")) {
                (layout::csrf(u))
                div.field {
                    label for="reply-body" { (lang.t("回答（提案者に送られます）", "Reply (sent to the proposer)")) }
                    textarea #reply-body name="body" required rows="8" { (typed(sent, "reply", "body").or(x.filled.as_ref().map(|(_, t)| t.as_str())).unwrap_or_default()) }
                }
                button.primary type="submit" { (lang.t("回答を送る", "Send reply")) }
            }
        }
        details.action open[is_sent("note")] {
            summary { (lang.t("庁内メモを書く", "Add an internal note")) }
            form method="post" action=(format!("{base}/note")) {
                (layout::csrf(u))
                div.field {
                    label for="note-body" { (lang.t("庁内メモ（提案者には表示されません）", "Internal note (never shown to the proposer)")) }
                    textarea #note-body name="body" required { (typed(sent, "note", "body").unwrap_or("")) }
                }
                button type="submit" { (lang.t("メモを記録する", "Record note")) }
            }
        }
        @if open {
            @if p.clocks.paused_since.is_some() {
                form.action method="post" action=(format!("{base}/resume")) {
                    (layout::csrf(u))
                    button type="submit" { (lang.t("資料がそろったので期限を再開する", "Resume the clocks")) }
                }
            } @else {
                details.action open[is_sent("pause")] {
                    summary { (lang.t("資料待ちにする（期限を停止）", "Wait for the proposer (pause the clocks)")) }
                    form method="post" action=(format!("{base}/pause")) {
                        (layout::csrf(u))
                        div.field {
                            label for="pause-body" { (lang.t("依頼した資料・理由（提案者に表示されます）", "What was asked for (shown to the proposer)")) }
                            textarea #pause-body name="body" required { (typed(sent, "pause", "body").unwrap_or("")) }
                        }
                        button type="submit" { (lang.t("期限を停止する", "Pause")) }
                    }
                }
            }
            @if u.is_desk() {
                details.action open[is_sent("extend")] {
                    summary { (lang.t("期限を延長する", "Extend a due date")) }
                    form method="post" action=(format!("{base}/extend")) {
                        (layout::csrf(u))
                        (select("clock", "clock", lang.t("延長する期限", "Which due date"), &[
                            ("proposer".into(), lang.t("提案者への初回回答", "First answer to the proposer").into()),
                            ("decision".into(), lang.t("結論", "Decision").into()),
                            ("department".into(), lang.t("所管課の回答（庁内）", "Department's answer (internal)").into()),
                        ], typed(sent, "extend", "clock"), None))
                        div.field {
                            label for="until" { (lang.t("新しい期限", "New due date")) }
                            input #until type="date" name="until" required value=[typed(sent, "extend", "until")];
                        }
                        div.field {
                            label for="extend-reason" { (lang.t("延長の理由（所管課の期限以外は提案者に表示されます）", "Reason (shown to the proposer unless the department's)")) }
                            textarea #extend-reason name="reason" required { (typed(sent, "extend", "reason").unwrap_or("")) }
                        }
                        button type="submit" { (lang.t("延長する", "Extend")) }
                    }
                }
            }
        }
    }
}

/// Only the desk and the lead department change the state (the domain's rule).
fn decides(u: &ConsoleUser, p: &ProposalView) -> bool {
    u.is_desk()
        || p.departments
            .iter()
            .any(|d| d.primary && Some(d.id) == u.staff().department)
}

/// The 主管課 select: the chosen department, or a required placeholder so that a
/// routing is always a choice (`required` with an empty first option is what browsers
/// and screen readers know as "nothing chosen yet"; the domain refuses an empty value too).
fn department_select(lang: Lang, options: &[(String, String)], selected: Option<&str>) -> Markup {
    html! {
        div.field {
            label for="primary_department_id" { (lang.t("主管課", "Lead department")) }
            select #primary_department_id name="primary_department_id" required {
                option value="" selected[selected.is_none_or(str::is_empty)] { (lang.t("選択してください", "Choose a department")) }
                @for (v, l) in options {
                    option value=(v) selected[Some(v.as_str()) == selected] { (l) }
                }
            }
        }
    }
}

fn strength_label(lang: Lang, s: Strength) -> &'static str {
    lang.t(s.label_ja(), s.label_en())
}

/// The suggested departments, each with its level and every reason with its strength and
/// matched words: a level, not a percentage (see `suggest::Strength`).
fn suggestions(lang: Lang, list: &[Suggestion]) -> Markup {
    html! {
        @if list.is_empty() { p.muted { (lang.t("候補はありません。振り分けルールを登録すると候補が出ます。", "No suggestion. Routing rules make suggestions.")) } }
        ol.suggestions { @for s in list {
            li data-level=(format!("{:?}", s.level).to_lowercase()) {
                strong { (s.department_name) } " "
                span.badge { (lang.t("確からしさ: ", "Confidence: ")) (strength_label(lang, s.level)) }
                ul { @for r in &s.reasons {
                    li data-strength=(format!("{:?}", r.strength).to_lowercase()) {
                        span.muted { (lang.t(r.kind.label_ja(), r.kind.label_en())) (lang.t("（", " (")) (strength_label(lang, r.strength)) (lang.t("）", ")")) } " " (match lang { Lang::Ja => &r.text, Lang::En => &r.text_en })
                        @if !r.matched_terms.is_empty() { br; span.muted { (lang.t("一致した語: ", "Matched: ")) (r.matched_terms.join("、")) } }
                    }
                } }
            }
        } }
    }
}

fn render(
    u: &ConsoleUser,
    p: &ProposalView,
    x: &Extras,
    error: Option<&AppError>,
    sent: Option<&Sent>,
) -> HttpResponse {
    let lang = u.lang;
    let can_close = !next_states(p.state).is_empty() && decides(u, p);
    let body = html! {
        @if let Some(e) = error {
            (layout::error_detail_linked(lang, e, |f| control_of(sent.map_or("", |s| s.action), f)))
        }
        p { a href="/admin/inbox" { "← " (lang.t("受付一覧へ", "Back to the inbox")) } }
        div.grid {
            div {
                (facts(u, p))
                h2 { (lang.t("提案内容", "Proposal")) }
                div.body-text { (p.body) }
                h2 { (lang.t("提案者", "Proposer")) }
                dl.facts {
                    dt { (lang.t("氏名", "Name")) } dd { (p.submitter.name) }
                    dt { (lang.t("団体名", "Organisation")) } dd { (p.submitter.organisation.as_deref().unwrap_or("—")) }
                    dt { (lang.t("メール", "E-mail")) } dd {
                        (p.submitter.email.as_deref().unwrap_or("—"))
                        @if p.partner_email_verified == Some(false) {
                            " " span.badge.unverified { (lang.t("メール未確認", "E-mail unverified")) }
                            br; span.muted { (lang.t("このアドレスはまだ確認されていないため、受付のお知らせや回答のメールは送られません。電話など別の方法で連絡してください。", "This address is not verified yet: no receipt or answer is mailed to it. Contact the proposer another way.")) }
                        }
                    }
                    dt { (lang.t("電話", "Phone")) } dd { (p.submitter.phone.as_deref().unwrap_or("—")) }
                    @if let Some(pid) = p.partner_id {
                        dt { (lang.t("登録パートナー", "Registered partner")) } dd { a href=(format!("/admin/partners/{pid}")) { (lang.t("パートナー情報を見る", "View partner")) } }
                    }
                    dt { (lang.t("反社会的勢力でない旨の表明", "No ties to organised crime declared")) }
                    dd { @match p.declared_no_antisocial_at { Some(t) => (layout::local_time(t)), None => (lang.t("なし", "no")) } }
                    dt { (lang.t("連絡への同意", "Consent to contact")) }
                    dd { @match p.consented_contact_at { Some(t) => (layout::local_time(t)), None => (lang.t("なし", "no")) } }
                }
                h2 { (lang.t("関連するニーズ・提供", "Linked need and offer")) }
                ul {
                    li { (lang.t("ニーズ", "Need")) ": " @match &p.need { Some(n) => a href=(format!("/admin/needs/{}", n.id)) { (n.title) }, None => (lang.t("なし（フリー提案）", "none (free proposal)")) } }
                    li { (lang.t("提供", "Offer")) ": " @match &p.offer { Some(o) => (o.title), None => (lang.t("なし", "none")) } }
                }
                h2 #attachments { (lang.t("添付ファイル", "Attached files")) }
                @if x.files.is_empty() { p.muted { (lang.t("添付ファイルはありません。", "No files.")) } }
                ul { @for f in &x.files {
                    li {
                        a href=(format!("/admin/proposals/{}/attachments/{}", p.id, f.id)) download { (f.file_name) }
                        " " span.muted { "(" (lang.t(f.kind.label_ja(), f.kind.label_en())) (lang.t("、", ", ")) (format!("{:.1} KB", f.size_bytes as f64 / 1024.0)) (lang.t("、", ", ")) (layout::local_time(f.created_at)) @if let Some(n) = &f.uploaded_by.name { (lang.t("、", ", ")) (n) } ")" }
                    }
                } }
                form method="post" action=(format!("/admin/proposals/{}/attachments", p.id)) enctype="multipart/form-data" {
                    (layout::csrf(u))
                    div.field {
                        label for="file" { (lang.t("ファイルを添付する（PDF・Word・Excel・PowerPoint・PNG・JPEG、1ファイル10MBまで、1件の提案に20ファイルまで）", "Attach a file (PDF, Word, Excel, PowerPoint, PNG, JPEG; up to 10 MB each, 20 per proposal)")) }
                        input #file type="file" name="file" required accept=".pdf,.docx,.xlsx,.pptx,.doc,.xls,.ppt,.png,.jpg,.jpeg";
                    }
                    button type="submit" { (lang.t("添付する", "Attach")) }
                }
                (super::outcomes::proposal_section(u, p, &x.outcomes, sent.filter(|s| s.action == "outcome").map(|s| s.form)))
                h2 #history { (lang.t("経過", "History")) }
                (timeline(u, p))
            }
            div {
                section.panel aria-labelledby="actions-h" {
                    h2 #actions-h { (lang.t("対応", "Actions")) }
                    (forms(u, p, x, sent))
                }
                section.panel aria-labelledby="suggest-h" {
                    h2 #suggest-h { (lang.t("所管課の候補", "Suggested departments")) }
                    (suggestions(lang, &x.suggestions))
                }
                @if p.need.is_some() || p.offer.is_some() {
                section.panel aria-labelledby="match-h" {
                    h2 #match-h { @if p.need.is_some() { (lang.t("このニーズに合う提供", "Offers matching the need")) } @else { (lang.t("この提供に合うニーズ", "Needs matching the offer")) } }
                    @if x.matches.is_empty() { p.muted { (lang.t("該当なし", "None")) } }
                    ul { @for (href, title, terms) in &x.matches {
                        li { a href=(href) { (title) } @if !terms.is_empty() { br; span.muted { (lang.t("一致した語: ", "Matched: ")) (terms.join(lang.t("、", ", "))) } } }
                    } }
                }
                }
                section.panel aria-labelledby="past-h" {
                    h2 #past-h { (lang.t("類似する過去の提案と結果", "Similar past proposals and their outcomes")) }
                    @if x.past.is_empty() { p.muted { (lang.t("該当なし", "None")) } }
                    @if !x.past.is_empty() {
                        p.hint { (lang.t("類似度は、この提案の特徴的な語のうち相手の提案にも現れる語の割合です（検索索引による目安）。", "Similarity: the share of this proposal's telling words found in the other one (an index estimate).")) }
                    }
                    ul.similar { @for q in &x.past {
                        @let s = &q.summary;
                        li {
                            span.receipt { (s.receipt_number) } " "
                            @match &q.proposal {
                                Some(full) => a href=(format!("/admin/proposals/{}", full.id)) { (s.title) },
                                None => (s.title),
                            }
                            br;
                            span.muted { (lang.t("受付日時：", "Received: ")) (layout::local_time(s.received_at)) }
                            " — " strong { (lang.state(s.state)) }
                            @if let Some(d) = s.decline_reason { " (" (lang.decline(d)) ")" }
                            br;
                            label.similarity {
                                (lang.t("類似度 ", "Similarity ")) (format!("{:.2}", q.normalized_score)) " "
                                meter min="0" max="1" value=(format!("{:.2}", q.normalized_score)) { (format!("{:.2}", q.normalized_score)) }
                            }
                            @if q.proposal.is_none() { br; span.muted { (lang.t("他の課の提案のため、概要のみ表示しています。", "Another department's proposal: summary only.")) } }
                            @if can_close {
                                form.inline method="post" action=(format!("/admin/proposals/{}/duplicate", p.id)) {
                                    (layout::csrf(u))
                                    input type="hidden" name="original" value=(s.receipt_number);
                                    button type="submit" { (lang.t("この提案の重複として閉じる", "Close this one as its duplicate")) span.visually-hidden { (lang.s(format!("（{} と同じ）", s.receipt_number), format!(" (same as {})", s.receipt_number))) } }
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    let title = format!("{} {}", p.receipt_number, p.title);
    layout::page_with_status(u, Nav::Inbox, &title, StatusCode::OK, body)
}
