//! The audit log for admins: their municipality's sign-ins and administrative actions
//! (a deployment admin's: everyone's), newest first.

use actix_web::{get, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::audit::{self, AuditEntry, AuditQuery};
use crate::domain::pagination::Page;
use crate::web::state::{AppState, run};

/// Audit log entries (admins): who did what, when and from where. Filter by `action`
/// and a period of JST days (`from`, `until`); page with `cursor`.
#[utoipa::path(tag = "staff", params(AuditQuery), security(("api_key" = [])),
    responses((status = 200, body = Page<AuditEntry>), (status = "4XX", body = Problem)))]
#[get("/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    Ok(web::Json(
        run(&state, move |db| audit::list(db, &actor, &q)).await?,
    ))
}
