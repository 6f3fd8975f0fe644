//! The HTTP side of attachment files, shared by the API and the console: reading one
//! upload (`multipart/form-data`: one `file` field and a few short text fields, such as
//! the console's `csrf`) and serving a stored file. Only this route
//! type reads a body larger than the app's JSON and form limit, and it stops reading
//! at the file limit it is given: a larger file is refused with 413 after at most
//! [`DRAIN_BYTES`] more are read and thrown away (so that an honest client still reads
//! the answer), and a body announced larger than that is refused before it is read.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::domain::attachments::{self, AttachmentView, Limits, Upload};
use crate::domain::error::{AppError, Message};

/// How much beyond the limit is read (and discarded) before the connection is given up.
pub const DRAIN_BYTES: u64 = 4 * 1024 * 1024;
/// Room for the multipart framing and the text fields around the file.
const FRAMING_BYTES: u64 = 64 * 1024;
/// Longest text field (the CSRF token is 43 characters).
const TEXT_MAX: usize = 1024;
/// Most fields in one upload.
const FIELDS_MAX: usize = 8;

/// What an upload form carried.
pub struct UploadForm {
    /// The `file` field: the name the client gave and the bytes.
    pub file: Option<Upload>,
    /// The text fields, in order.
    pub fields: Vec<(String, String)>,
}

impl UploadForm {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn malformed(detail: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!("the multipart body could not be read: {detail}"))
}

fn not_multipart() -> AppError {
    AppError::UnsupportedMediaType(Message::new(
        "send the file as multipart/form-data in a field named `file`",
        "ファイルを選んで送信してください。",
    ))
}

/// Reads the upload of this request, the file up to `limits.max_bytes`.
pub async fn read(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    limits: Limits,
) -> Result<UploadForm, AppError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_multipart {
        return Err(not_multipart());
    }
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let give_up = limits
        .max_bytes
        .saturating_add(FRAMING_BYTES)
        .saturating_add(DRAIN_BYTES);
    if announced.is_some_and(|n| n > give_up) {
        return Err(attachments::too_large(limits));
    }
    let max_file = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
    let mut form = UploadForm {
        file: None,
        fields: vec![],
    };
    let mut multipart = Multipart::new(req.headers(), payload.into_inner());
    let mut seen = 0usize;
    let mut read_total: u64 = 0;
    let mut too_large = false;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(malformed)?;
        seen += 1;
        if seen > FIELDS_MAX {
            return Err(malformed("too many fields"));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let is_file = name == "file";
        if is_file && form.file.is_some() {
            return Err(AppError::field(
                "file",
                "too_many",
                "send one file per request",
            ));
        }
        let cap = if is_file { max_file } else { TEXT_MAX };
        let mut buf: Vec<u8> = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            read_total = read_total.saturating_add(chunk.len() as u64);
            if read_total > give_up {
                // Stop reading: the connection is closed after the answer.
                return Err(attachments::too_large(limits));
            }
            if over || buf.len().saturating_add(chunk.len()) > cap {
                over = true;
                buf = Vec::new();
                continue;
            }
            buf.extend_from_slice(&chunk);
        }
        if is_file {
            if over {
                too_large = true;
            } else {
                form.file = Some(Upload {
                    name: file_name.unwrap_or_default(),
                    bytes: buf,
                });
            }
        } else if over {
            return Err(AppError::field(name, "too_long", "this field is too long"));
        } else {
            let value =
                String::from_utf8(buf).map_err(|_| malformed("a text field is not UTF-8"))?;
            form.fields.push((name, value));
        }
    }
    if too_large {
        return Err(attachments::too_large(limits));
    }
    Ok(form)
}

/// The response that serves a stored file: the detected type, never sniffed by the
/// browser, always saved rather than shown (`Content-Disposition: attachment`, with
/// `filename*` for Japanese names), never cached by shared caches.
pub fn file_response(view: &AttachmentView, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, view.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            attachments::content_disposition(&view.file_name),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}
