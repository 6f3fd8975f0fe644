//! Outcome reports (アウトカム) of adopted proposals, for staff, and the cases (事例) of
//! other municipalities that fit a need (横展開).

use actix_web::{HttpResponse, get, post, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::ids::{NeedId, ProposalId};
use crate::domain::outcomes::cases::{self, CaseView};
use crate::domain::outcomes::reports::{self, OutcomeInput, OutcomeReportView};
use crate::web::state::{AppState, run, run_search};

/// Record an outcome report on an adopted proposal (the lead department or the desk):
/// what was done, indicators with before/after values (non-negative decimals as strings
/// such as "12.5", kept exactly), an optional 効果額 in whole yen (0 to 10^12) and the
/// report date (from receipt to today). 409 when the proposal is not adopted; 403 for a
/// related department or the proposer. Adds the internal event `outcome_recorded`.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    request_body = OutcomeInput,
    responses((status = 201, body = OutcomeReportView), (status = 409, body = Problem, description = "not adopted"), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/outcomes")]
pub async fn record_outcome(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
    body: web::Json<OutcomeInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = run(&state, move |db| {
        reports::record(db, &actor, id, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The outcome reports of a proposal (staff who may open it), oldest report date first.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    responses((status = 200, body = Vec<OutcomeReportView>), (status = "4XX", body = Problem)))]
#[get("/proposals/{id}/outcomes")]
pub async fn list_outcomes(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ProposalId>,
) -> ApiResult<web::Json<Vec<OutcomeReportView>>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| reports::list(db, &actor, id)).await?,
    ))
}

/// Cases of other municipalities that fit this need (他の自治体の類似ニーズと事例), for
/// staff who may see the need: adopted proposals with outcome reports whose proposer
/// consented to publication, found through the search index. Each carries the city,
/// the partner, the title, what was done, the indicators and the 効果額 — never the
/// proposal's text, contact data, notes or history.
#[utoipa::path(tag = "needs", params(("id" = i64, Path, description = "need id")), security(("api_key" = [])),
    responses((status = 200, body = Vec<CaseView>), (status = "4XX", body = Problem)))]
#[get("/needs/{id}/cases")]
pub async fn cases_for_need(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<NeedId>,
) -> ApiResult<web::Json<Vec<CaseView>>> {
    let id = id.into_inner();
    Ok(web::Json(
        run_search(&state, move |db, engine| {
            cases::for_need(db, engine, &actor, id, cases::NEED_CASES)
        })
        .await?,
    ))
}
