//! Proposals: submission by partners, recording by the desk, and the actions of the
//! workflow.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::auth::Source;
use super::problem::{ApiResult, Problem};
use crate::domain::Db;
use crate::domain::actor::Actor;
use crate::domain::error::AppResult;
use crate::domain::ids::ProposalId;
use crate::domain::pagination::Page;
use crate::domain::proposals::assign::{self, AssignInput};
use crate::domain::proposals::bulk::{self, BulkInput, BulkResult};
use crate::domain::proposals::duplicates::{self, DuplicateInput};
use crate::domain::proposals::export::{self, Format};
use crate::domain::proposals::intake::{self, RecordProposal, SubmitProposal};
use crate::domain::proposals::returns::{self, ReturnInput};
use crate::domain::proposals::suggest::{self, SimilarProposal, Suggestion};
use crate::domain::proposals::workflow::{
    self, ExtendInput, RouteInput, TextInput, TransitionInput,
};
use crate::domain::proposals::{self, ProposalQuery, ProposalView};
use crate::web::state::{AppState, run, run_search};

/// Runs one workflow action on the proposal in the path and answers with the proposal
/// as it is afterwards.
async fn act(
    state: &web::Data<AppState>,
    id: web::Path<ProposalId>,
    action: impl FnOnce(&Db, ProposalId) -> AppResult<ProposalView> + Send + 'static,
) -> ApiResult<web::Json<ProposalView>> {
    let id = id.into_inner();
    Ok(web::Json(run(state, move |db| action(db, id)).await?))
}

/// Submit a proposal (partners): to a need, with an offer, or free. Send an
/// `Idempotency-Key` header to make retries safe: a retry returns the same proposal
/// (200, `Idempotent-Replayed: true`). At most 30 submissions an hour per source
/// address and per partner (429 with `Retry-After`).
#[utoipa::path(tag = "proposals", request_body = SubmitProposal, security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    responses((status = 201, body = ProposalView), (status = 200, body = ProposalView, description = "replayed"), (status = 429, body = Problem, description = "too many submissions", headers(("Retry-After" = u64, description = "seconds to wait"))), (status = "4XX", body = Problem)))]
#[post("/proposals")]
pub async fn submit_proposal(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: web::Json<SubmitProposal>,
) -> ApiResult<HttpResponse> {
    crate::domain::throttle::proposal(&state.guards, &crate::web::state::source(&req), &actor)?;
    let key = req.headers().get("Idempotency-Key").map(|v| {
        v.to_str()
            .map(str::to_owned)
            .unwrap_or_else(|_| "\u{0}".to_owned())
    });
    let done = run(&state, move |db| {
        intake::submit(db, &actor, body.into_inner(), key.as_deref())
    })
    .await?;
    Ok(if done.replayed {
        HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(done.proposal)
    } else {
        HttpResponse::Created().json(done.proposal)
    })
}

/// Record a proposal that arrived by phone, visit, e-mail or at an event (the desk).
#[utoipa::path(tag = "proposals", request_body = RecordProposal, security(("api_key" = [])),
    responses((status = 201, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/desk/proposals")]
pub async fn record_proposal(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<RecordProposal>,
) -> ApiResult<HttpResponse> {
    let p = run(&state, move |db| {
        intake::record(db, &actor, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(p))
}

/// Proposals the caller may see: its own (partner), routed to its department, or all of
/// its municipality (desk).
#[utoipa::path(tag = "proposals", params(ProposalQuery), security(("api_key" = [])),
    responses((status = 200, body = Page<ProposalView>), (status = "4XX", body = Problem)))]
#[get("/proposals")]
pub async fn list_proposals(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ProposalQuery>,
) -> ApiResult<web::Json<Page<ProposalView>>> {
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            proposals::list(db, engine, &actor, q.into_inner())
        })
        .await?,
    ))
}

/// Every proposal matching the filter that the staff caller may see (department staff:
/// routed to their department), oldest first, at most 100,000, as CSV for Japanese
/// Excel (UTF-8 with BOM, CRLF; cells that could start a formula get an apostrophe).
/// `cursor` and `limit` are ignored. Recorded in the audit log. Staff only.
#[utoipa::path(tag = "proposals", params(ProposalQuery), security(("api_key" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)))]
#[get("/proposals/export.csv")]
pub async fn export_proposals_csv(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    q: web::Query<ProposalQuery>,
) -> ApiResult<HttpResponse> {
    export_as(state, actor, source, q.into_inner(), Format::Csv).await
}

/// As `export.csv`, as an XLSX workbook whose second sheet (項目定義) is the field
/// dictionary. Staff only.
#[utoipa::path(tag = "proposals", params(ProposalQuery), security(("api_key" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = "4XX", body = Problem)))]
#[get("/proposals/export.xlsx")]
pub async fn export_proposals_xlsx(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    q: web::Query<ProposalQuery>,
) -> ApiResult<HttpResponse> {
    export_as(state, actor, source, q.into_inner(), Format::Xlsx).await
}

async fn export_as(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    q: ProposalQuery,
    format: Format,
) -> ApiResult<HttpResponse> {
    let (body, content_type) = run_search(&state, move |db, engine| {
        crate::domain::audit::with_source(&source.0, || {
            let e = export::export(db, engine, &actor, &q, format)?;
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
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"kyoso-proposals.{}\"",
                format.as_str()
            ),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// One proposal with its history (internal notes only for staff).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[get("/proposals/{id}")]
pub async fn get_proposal(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
) -> ApiResult<web::Json<ProposalView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| proposals::get(db, &actor, id)).await?,
    ))
}

/// Departments that could own the proposal, best first, with reasons (staff).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    responses((status = 200, body = Vec<Suggestion>), (status = "4XX", body = Problem)))]
#[get("/proposals/{id}/suggestions")]
pub async fn suggest_departments(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
) -> ApiResult<web::Json<Vec<Suggestion>>> {
    let id = id.into_inner();
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            suggest::suggest(db, engine, &actor, id)
        })
        .await?,
    ))
}

/// Route to a primary department and optionally others; again to re-route (the desk).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = RouteInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/route")]
pub async fn route_proposal(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<RouteInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        workflow::route(db, &actor, id, body.into_inner())
    })
    .await
}

/// Set, change or clear the assignee (担当者): the desk, or staff of the lead department.
/// The assignee must be desk staff of the proposal's municipality or staff of its lead
/// department (else 422 `not_eligible` on `assignee_id`).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = AssignInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/assign")]
pub async fn assign_proposal(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<AssignInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        assign::assign(db, &actor, id, body.into_inner())
    })
    .await
}

/// Add an internal note (staff); never shown to the proposer.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = TextInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/notes")]
pub async fn add_note(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<TextInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        workflow::add_note(db, &actor, id, body.into_inner())
    })
    .await
}

/// Answer the proposer (staff).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = TextInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/replies")]
pub async fn reply(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<TextInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        workflow::reply(db, &actor, id, body.into_inner())
    })
    .await
}

/// Write to the desk about one's own proposal (the proposer).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = TextInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/messages")]
pub async fn send_message(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<TextInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        workflow::message_from_proposer(db, &actor, id, body.into_inner())
    })
    .await
}

/// Change the state: in_dialogue, adopted, declined (with reasons sent to the proposer)
/// or withdrawn. An illegal change is a 409.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = TransitionInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/transition")]
pub async fn transition(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<TransitionInput>,
) -> ApiResult<web::Json<ProposalView>> {
    // Parsed here: past the handler the words are typed.
    let command = body.into_inner().parse()?;
    act(&state, id, move |db, id| {
        workflow::transition(db, &actor, id, command)
    })
    .await
}

/// Stop the clocks while waiting for the proposer (資料待ち).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = TextInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/pause")]
pub async fn pause(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<TextInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        workflow::pause(db, &actor, id, body.into_inner())
    })
    .await
}

/// Restart the clocks; due dates move by the business days paused.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/resume")]
pub async fn resume(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| workflow::resume(db, &actor, id)).await
}

/// Extend a due date, with a recorded reason (the desk).
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = ExtendInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/extend")]
pub async fn extend(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<ExtendInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        workflow::extend(db, &actor, id, body.into_inner())
    })
    .await
}

/// Past proposals of the same municipality that read like this one, with their outcomes
/// (staff): duplicates and repeats at a glance.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    responses((status = 200, body = Vec<SimilarProposal>), (status = "4XX", body = Problem)))]
#[get("/proposals/{id}/similar")]
pub async fn similar_proposals(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
) -> ApiResult<web::Json<Vec<SimilarProposal>>> {
    let id = id.into_inner();
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            suggest::similar_proposals(db, engine, &actor, id, 5)
        })
        .await?,
    ))
}

/// Act on many proposals at once (staff): route, assign, change the state or mark as
/// duplicates of one original, each row checked and recorded as its single action
/// would be, all in one transaction. All or nothing: when any row is refused, nothing
/// changes and the 422 problem lists each refused row as a field error
/// `proposal_ids/<i>` whose code says why (`not_found`, `forbidden`, `conflict`,
/// `invalid`) and whose message starts with its receipt number. At most 200 ids (422
/// `too_many` on `proposal_ids`).
#[utoipa::path(tag = "proposals", request_body = BulkInput, security(("api_key" = [])),
    responses((status = 200, body = BulkResult), (status = 422, body = Problem, description = "refused rows, too many or invalid input; nothing changed"), (status = "4XX", body = Problem)))]
#[post("/proposals/bulk")]
pub async fn bulk_action(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<BulkInput>,
) -> ApiResult<web::Json<BulkResult>> {
    let BulkInput {
        proposal_ids,
        action,
    } = body.into_inner();
    // Parsed here: past the handler the words are typed.
    let command = action.parse()?;
    Ok(web::Json(
        run(&state, move |db| {
            bulk::run(db, &actor, &proposal_ids, command)
        })
        .await?,
    ))
}

/// Close as a duplicate (重複) of an earlier proposal of the same municipality, by its
/// receipt number: declined with reason `duplicate`, linked to the original, the
/// proposer told (the original's number only when it is theirs too). The desk or the
/// lead department. The original must exist, not be this one and not be a duplicate of
/// this one (422 on `original`); a closed proposal is a 409.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = DuplicateInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/duplicate")]
pub async fn mark_duplicate(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<DuplicateInput>,
) -> ApiResult<web::Json<ProposalView>> {
    let command = body.into_inner().parse()?;
    act(&state, id, move |db, id| {
        duplicates::mark_duplicate(db, &actor, id, command)
    })
    .await
}

/// Hand the proposal back to the desk as not the department's (所管外), with a reason:
/// it becomes unrouted (所管未定) again and the desk staff are told. Only staff of the
/// lead department; the reason is internal, never shown to the proposer.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), request_body = ReturnInput,
    security(("api_key" = [])), responses((status = 200, body = ProposalView), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/return")]
pub async fn return_proposal(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<ReturnInput>,
) -> ApiResult<web::Json<ProposalView>> {
    act(&state, id, move |db, id| {
        returns::give_back(db, &actor, id, body.into_inner())
    })
    .await
}
