//! Staff accounts, managed by admins.

use actix_web::{HttpResponse, get, patch, post, web};

use super::auth::Source;
use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::audit::with_source;
use crate::domain::ids::StaffUserId;
use crate::domain::staff::{self, CreatedStaff, NewStaffInput, StaffUpdate, StaffView};
use crate::web::state::{AppState, run};

#[utoipa::path(tag = "staff", security(("api_key" = [])),
    responses((status = 200, body = Vec<StaffView>), (status = "4XX", body = Problem)))]
#[get("/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    actor: Actor,
) -> ApiResult<web::Json<Vec<StaffView>>> {
    Ok(web::Json(
        run(&state, move |db| staff::list(db, &actor)).await?,
    ))
}

/// Create a staff user (admins). The answer carries no credential: the new user is
/// mailed a one-time link (valid 72 hours) on which they choose their own password.
#[utoipa::path(tag = "staff", request_body = NewStaffInput, security(("api_key" = [])),
    responses((status = 201, body = CreatedStaff), (status = "4XX", body = Problem)))]
#[post("/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    body: web::Json<NewStaffInput>,
) -> ApiResult<HttpResponse> {
    let s = run(&state, move |db| {
        with_source(&source.0, || {
            staff::create(db, Some(&actor), body.into_inner())
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(s))
}

/// Mail the staff user a new one-time invitation link (another admin of their
/// municipality); earlier links stop working. The answer carries no credential.
#[utoipa::path(tag = "staff", params(("id" = i64, Path, description = "staff user id")),
    security(("api_key" = [])), responses((status = 200, body = CreatedStaff), (status = "4XX", body = Problem)))]
#[post("/staff/{id}/invitation")]
pub async fn invite_staff(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    id: web::Path<StaffUserId>,
) -> ApiResult<web::Json<CreatedStaff>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            with_source(&source.0, || staff::invite_again(db, &actor, id))
        })
        .await?,
    ))
}

/// One staff user (the user themselves, or an admin of their municipality).
#[utoipa::path(tag = "staff", params(("id" = i64, Path, description = "staff user id")),
    security(("api_key" = [])), responses((status = 200, body = StaffView), (status = "4XX", body = Problem)))]
#[get("/staff/{id}")]
pub async fn get_staff(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<StaffUserId>,
) -> ApiResult<web::Json<StaffView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| staff::get(db, &actor, id)).await?,
    ))
}

/// Change a staff user: name and locale (the user or an admin); role, department and
/// status (`disabled` ends access at once) by another admin.
#[utoipa::path(tag = "staff", params(("id" = i64, Path, description = "staff user id")), request_body = StaffUpdate,
    security(("api_key" = [])), responses((status = 200, body = StaffView), (status = "4XX", body = Problem)))]
#[patch("/staff/{id}")]
pub async fn update_staff(
    state: web::Data<AppState>,
    actor: Actor,
    source: Source,
    id: web::Path<StaffUserId>,
    body: web::Json<StaffUpdate>,
) -> ApiResult<web::Json<StaffView>> {
    let id = id.into_inner();
    Ok(web::Json(
        run(&state, move |db| {
            with_source(&source.0, || {
                staff::update(db, &actor, id, body.into_inner())
            })
        })
        .await?,
    ))
}
