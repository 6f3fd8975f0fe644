//! Municipalities, zones and departments.

use actix_web::{HttpResponse, get, patch, post, put, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::ids::DepartmentId;
use crate::domain::municipalities::{
    self, DepartmentInput, DepartmentView, MunicipalityView, NewMunicipalityInput,
    UpdateMunicipalityInput, ZoneInput, ZoneView,
};
use crate::web::state::{AppState, run};

#[utoipa::path(tag = "municipalities", responses((status = 200, body = Vec<MunicipalityView>), (status = "4XX", body = Problem)))]
#[get("/municipalities")]
pub async fn list_municipalities(
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Vec<MunicipalityView>>> {
    Ok(web::Json(run(&state, municipalities::list).await?))
}

/// Add a municipality (deployment admins).
#[utoipa::path(tag = "municipalities", request_body = NewMunicipalityInput, security(("api_key" = [])),
    responses((status = 201, body = MunicipalityView), (status = "4XX", body = Problem)))]
#[post("/municipalities")]
pub async fn create_municipality(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewMunicipalityInput>,
) -> ApiResult<HttpResponse> {
    let m = run(&state, move |db| {
        municipalities::create(db, &actor, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(m))
}

#[utoipa::path(tag = "municipalities", params(("code" = String, Path, description = "local government code")),
    responses((status = 200, body = MunicipalityView), (status = "4XX", body = Problem)))]
#[get("/municipalities/{code}")]
pub async fn get_municipality(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<web::Json<MunicipalityView>> {
    Ok(web::Json(
        run(&state, move |db| municipalities::get(db, &code)).await?,
    ))
}

/// Change a municipality's name or business-day targets (its admins).
#[utoipa::path(tag = "municipalities", params(("code" = String, Path, description = "local government code")),
    request_body = UpdateMunicipalityInput, security(("api_key" = [])),
    responses((status = 200, body = MunicipalityView), (status = "4XX", body = Problem)))]
#[patch("/municipalities/{code}")]
pub async fn update_municipality(
    state: web::Data<AppState>,
    actor: Actor,
    code: web::Path<String>,
    body: web::Json<UpdateMunicipalityInput>,
) -> ApiResult<web::Json<MunicipalityView>> {
    Ok(web::Json(
        run(&state, move |db| {
            municipalities::update(db, &actor, &code, body.into_inner())
        })
        .await?,
    ))
}

/// Add a zone (地域区分) to a municipality (its admins).
#[utoipa::path(tag = "municipalities", params(("code" = String, Path, description = "local government code")),
    request_body = ZoneInput, security(("api_key" = [])),
    responses((status = 201, body = ZoneView), (status = "4XX", body = Problem)))]
#[post("/municipalities/{code}/zones")]
pub async fn create_zone(
    state: web::Data<AppState>,
    actor: Actor,
    code: web::Path<String>,
    body: web::Json<ZoneInput>,
) -> ApiResult<HttpResponse> {
    let z = run(&state, move |db| {
        municipalities::add_zone(db, &actor, &code, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(z))
}

#[utoipa::path(tag = "municipalities", params(("code" = String, Path, description = "local government code")),
    responses((status = 200, body = Vec<DepartmentView>), (status = "4XX", body = Problem)))]
#[get("/municipalities/{code}/departments")]
pub async fn list_departments(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<web::Json<Vec<DepartmentView>>> {
    Ok(web::Json(
        run(&state, move |db| {
            municipalities::list_departments(db, &code)
        })
        .await?,
    ))
}

/// Add a department with the policy fields it owns (the municipality's admins).
#[utoipa::path(tag = "municipalities", params(("code" = String, Path, description = "local government code")),
    request_body = DepartmentInput, security(("api_key" = [])),
    responses((status = 201, body = DepartmentView), (status = "4XX", body = Problem)))]
#[post("/municipalities/{code}/departments")]
pub async fn create_department(
    state: web::Data<AppState>,
    actor: Actor,
    source: super::auth::Source,
    code: web::Path<String>,
    body: web::Json<DepartmentInput>,
) -> ApiResult<HttpResponse> {
    let d = run(&state, move |db| {
        crate::domain::audit::with_source(&source.0, || {
            municipalities::create_department(db, &actor, &code, body.into_inner())
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(d))
}

#[utoipa::path(tag = "municipalities", params(("id" = i64, Path, description = "department id")),
    responses((status = 200, body = DepartmentView), (status = "4XX", body = Problem)))]
#[get("/departments/{id}")]
pub async fn get_department(
    state: web::Data<AppState>,
    id: web::Path<DepartmentId>,
) -> ApiResult<web::Json<DepartmentView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| municipalities::get_department(db, id)).await?,
    ))
}

/// Replace a department's name, address, desk flag and policy fields (the municipality's admins).
#[utoipa::path(tag = "municipalities", params(("id" = i64, Path, description = "department id")),
    request_body = DepartmentInput, security(("api_key" = [])),
    responses((status = 200, body = DepartmentView), (status = "4XX", body = Problem)))]
#[put("/departments/{id}")]
pub async fn update_department(
    state: web::Data<AppState>,
    actor: Actor,
    source: super::auth::Source,
    id: web::Path<DepartmentId>,
    body: web::Json<DepartmentInput>,
) -> ApiResult<web::Json<DepartmentView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            crate::domain::audit::with_source(&source.0, || {
                municipalities::update_department(db, &actor, id, body.into_inner())
            })
        })
        .await?,
    ))
}
