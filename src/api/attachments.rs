//! Files attached to proposals: upload (multipart/form-data), list and download, for
//! whoever may open the proposal.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::problem::{ApiResult, Problem};
use crate::domain::actor::Actor;
use crate::domain::attachments::{self, AttachmentView};
use crate::domain::error::AppError;
use crate::domain::ids::ProposalId;
use crate::web::state::{AppState, run};

/// The multipart body of an upload, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the multipart body; the handler reads it as a stream"
)]
pub struct UploadBody {
    /// The file: PDF, Word/Excel/PowerPoint (docx, xlsx, pptx, doc, xls, ppt), PNG or JPEG.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Attach a file to a proposal (its proposer, the desk, a department it is routed to).
/// Send `multipart/form-data` with one field `file`. The type is decided from the
/// content alone: PDF, Office (docx, xlsx, pptx; legacy doc, xls, ppt), PNG, JPEG —
/// anything else is 415 `unsupported_media_type`, whatever its name or declared type.
/// The name is kept with the extension of the detected type. A file over the limit
/// (10 MiB) is 413 `payload_too_large`; past the per-proposal count (20) it
/// is 422 `invalid` with the field error `file`/`too_many`. Each upload adds the event
/// `attachment_added` (添付ファイルを追加) to the proposal's history.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView), (status = 413, body = Problem, description = "file too large"), (status = 415, body = Problem, description = "not an accepted type"), (status = "4XX", body = Problem)))]
#[post("/proposals/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let id = ProposalId(id.into_inner());
    // Before the body is read: who may not open the proposal never gets to send a file.
    let check = actor.clone();
    run(&state, move |db| attachments::may_attach(db, &check, id)).await?;
    let limits = state.guards.limits.attachments;
    let form = crate::web::files::read(&req, payload, limits).await?;
    let file = form.file.ok_or_else(|| {
        AppError::field("file", "required", "send the file in a field named `file`")
    })?;
    let view = run(&state, move |db| {
        attachments::add(db, &actor, id, limits, file)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The files attached to a proposal, oldest first.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id")), security(("api_key" = [])),
    responses((status = 200, body = Vec<AttachmentView>), (status = "4XX", body = Problem)))]
#[get("/proposals/{id}/attachments")]
pub async fn list_attachments(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Vec<AttachmentView>>> {
    let id = ProposalId(id.into_inner());
    Ok(web::Json(
        run(&state, move |db| attachments::list(db, &actor, id)).await?,
    ))
}

/// Download one file: `Content-Disposition: attachment` (with `filename*` for Japanese
/// names), the detected type, never sniffed by the browser.
#[utoipa::path(tag = "proposals", params(("id" = i64, Path, description = "proposal id"), ("attachment_id" = i64, Path, description = "attachment id")), security(("api_key" = [])),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = "4XX", body = Problem)))]
#[get("/proposals/{id}/attachments/{attachment_id}")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, attachment_id) = path.into_inner();
    let (view, bytes) = run(&state, move |db| {
        attachments::download(db, &actor, ProposalId(id), attachment_id)
    })
    .await?;
    Ok(crate::web::files::file_response(&view, bytes))
}
