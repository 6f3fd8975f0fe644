//! The desk's deadlines, statistics and routing rules; open data.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::desk::deadlines::{self, DeadlineQuery, Deadlines};
use crate::domain::desk::rules::{self, RuleInput, RuleView};
use crate::domain::desk::stats::{self, DeskStats, StatsQuery};
use crate::domain::error::AppError;
use crate::domain::opendata::{self, OpenNeed};
use crate::web::state::{AppState, run};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityParam {
    /// Deployment admins (and open data): which municipality.
    pub municipality: Option<String>,
}

const CSV: &str = "text/csv; charset=utf-8";

/// A CSV file to save (UTF-8; the body already carries its BOM and CRLF line ends).
fn csv_download(file_name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CSV)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body)
}

/// Overdue and due-soon clocks of open proposals.
#[utoipa::path(tag = "desk", params(DeadlineQuery), security(("api_key" = [])),
    responses((status = 200, body = Deadlines), (status = "4XX", body = Problem)))]
#[get("/desk/deadlines")]
pub async fn get_deadlines(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<DeadlineQuery>,
) -> ApiResult<web::Json<Deadlines>> {
    Ok(web::Json(
        run(&state, move |db| {
            deadlines::deadlines(db, &actor, q.into_inner())
        })
        .await?,
    ))
}

/// Statistics for a municipality and period; `format=csv` gives a table for Excel
/// (UTF-8 with BOM).
#[utoipa::path(tag = "desk", params(StatsQuery), security(("api_key" = [])),
    responses((status = 200, body = DeskStats), (status = "4XX", body = Problem)))]
#[get("/desk/stats")]
pub async fn get_stats(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(AppError::field("format", "unknown_value", "must be json or csv").into());
        }
    };
    let s = run(&state, move |db| stats::compute(db, &actor, &q)).await?;
    Ok(if csv {
        let name = format!(
            "kyoso-stats-{}-{}-{}.csv",
            s.municipality_code, s.from, s.to
        );
        csv_download(&name, stats::to_csv(&s))
    } else {
        HttpResponse::Ok().json(s)
    })
}

#[utoipa::path(tag = "desk", params(MunicipalityParam), security(("api_key" = [])),
    responses((status = 200, body = Vec<RuleView>), (status = "4XX", body = Problem)))]
#[get("/desk/rules")]
pub async fn list_rules(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<MunicipalityParam>,
) -> ApiResult<web::Json<Vec<RuleView>>> {
    Ok(web::Json(
        run(&state, move |db| {
            rules::list(db, &actor, q.municipality.as_deref())
        })
        .await?,
    ))
}

/// Add a routing rule: a policy field or keyword that points to a department.
#[utoipa::path(tag = "desk", params(MunicipalityParam), request_body = RuleInput, security(("api_key" = [])),
    responses((status = 201, body = RuleView), (status = "4XX", body = Problem)))]
#[post("/desk/rules")]
pub async fn create_rule(
    state: web::Data<AppState>,
    actor: Actor,
    source: super::auth::Source,
    q: web::Query<MunicipalityParam>,
    body: web::Json<RuleInput>,
) -> ApiResult<HttpResponse> {
    let r = run(&state, move |db| {
        crate::domain::audit::with_source(&source.0, || {
            rules::create(db, &actor, q.municipality.as_deref(), body.into_inner())
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(r))
}

#[utoipa::path(tag = "desk", params(("id" = i64, Path, description = "rule id"), MunicipalityParam), security(("api_key" = [])),
    responses((status = 204), (status = "4XX", body = Problem)))]
#[delete("/desk/rules/{id}")]
pub async fn delete_rule(
    state: web::Data<AppState>,
    actor: Actor,
    source: super::auth::Source,
    id: web::Path<i64>,
    q: web::Query<MunicipalityParam>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    run(&state, move |db| {
        crate::domain::audit::with_source(&source.0, || {
            rules::delete(db, &actor, q.municipality.as_deref(), id)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Open data: every open public need (of one municipality with `municipality`), as JSON.
#[utoipa::path(tag = "open data", params(MunicipalityParam), responses((status = 200, body = Vec<OpenNeed>), (status = "4XX", body = Problem)))]
#[get("/opendata/needs.json")]
pub async fn open_needs_json(
    state: web::Data<AppState>,
    q: web::Query<MunicipalityParam>,
) -> ApiResult<web::Json<Vec<OpenNeed>>> {
    Ok(web::Json(
        run(&state, move |db| {
            opendata::needs(db, q.into_inner().municipality)
        })
        .await?,
    ))
}

/// Open data: the same as CSV (UTF-8 with BOM, for Excel).
#[utoipa::path(tag = "open data", params(MunicipalityParam), responses((status = 200, description = "CSV", content_type = "text/csv"), (status = "4XX", body = Problem)))]
#[get("/opendata/needs.csv")]
pub async fn open_needs_csv(
    state: web::Data<AppState>,
    q: web::Query<MunicipalityParam>,
) -> ApiResult<HttpResponse> {
    let rows = run(&state, move |db| {
        opendata::needs(db, q.into_inner().municipality)
    })
    .await?;
    Ok(csv_download("kyoso-needs.csv", opendata::needs_csv(&rows)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RegisterParams {
    /// 全国地方公共団体コード (6 digits).
    pub municipality: String,
    /// 年度: April of this year to March of the next (2000–2098).
    pub fiscal_year: Option<String>,
}

async fn outcome_register(
    state: &web::Data<AppState>,
    q: RegisterParams,
) -> ApiResult<crate::domain::outcomes::Register> {
    let year = crate::domain::outcomes::parse_year(q.fiscal_year.as_deref())?;
    Ok(run(state, move |db| {
        crate::domain::outcomes::register(db, &q.municipality, year)
    })
    .await?)
}

/// Open data: the outcome register of one municipality and fiscal year (licence CC BY
/// 4.0): every proposal received with its outcome, and the summary per department. The
/// proposer's name and the title only where the proposer consented; no contact data, no
/// proposal text, no internal notes.
#[utoipa::path(tag = "open data", params(RegisterParams), responses((status = 200, body = crate::domain::outcomes::Register), (status = "4XX", body = Problem)))]
#[get("/opendata/outcomes.json")]
pub async fn outcomes_json(
    state: web::Data<AppState>,
    q: web::Query<RegisterParams>,
) -> ApiResult<web::Json<crate::domain::outcomes::Register>> {
    Ok(web::Json(outcome_register(&state, q.into_inner()).await?))
}

/// Open data: the outcome register as CSV (UTF-8 with BOM, CRLF; columns in the README).
#[utoipa::path(tag = "open data", params(RegisterParams), responses((status = 200, description = "CSV", content_type = "text/csv"), (status = "4XX", body = Problem)))]
#[get("/opendata/outcomes.csv")]
pub async fn outcomes_csv(
    state: web::Data<AppState>,
    q: web::Query<RegisterParams>,
) -> ApiResult<HttpResponse> {
    let r = outcome_register(&state, q.into_inner()).await?;
    let name = format!(
        "kyoso-outcomes-{}-{}.csv",
        r.municipality_code, r.fiscal_year
    );
    Ok(csv_download(
        &name,
        crate::domain::outcomes::register_csv(&r),
    ))
}

/// Open data: the register's yearly summary per department as CSV (received, adopted,
/// adoption rate, median business days).
#[utoipa::path(tag = "open data", params(RegisterParams), responses((status = 200, description = "CSV", content_type = "text/csv"), (status = "4XX", body = Problem)))]
#[get("/opendata/outcome-summary.csv")]
pub async fn outcome_summary_csv(
    state: web::Data<AppState>,
    q: web::Query<RegisterParams>,
) -> ApiResult<HttpResponse> {
    let r = outcome_register(&state, q.into_inner()).await?;
    let name = format!(
        "kyoso-outcome-summary-{}-{}.csv",
        r.municipality_code, r.fiscal_year
    );
    Ok(csv_download(
        &name,
        crate::domain::outcomes::summary_csv(&r),
    ))
}
