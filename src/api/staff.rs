//! Staff accounts, managed by admins.

use actix_web::{HttpResponse, get, post, web};

use super::problem::{ApiResult, Problem};
use super::state::{AppState, run};
use crate::domain::actor::Actor;
use crate::domain::staff::{self, CreatedStaff, NewStaffInput, StaffView};

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

/// Create a staff user with a first API key (admins; shown once).
#[utoipa::path(tag = "staff", request_body = NewStaffInput, security(("api_key" = [])),
    responses((status = 201, body = CreatedStaff), (status = "4XX", body = Problem)))]
#[post("/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Json<NewStaffInput>,
) -> ApiResult<HttpResponse> {
    let s = run(&state, move |db| {
        staff::create(db, Some(&actor), body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(s))
}
