//! Files attached to a proposal (企画書, 図面, 写真): who may add and read them, what
//! kinds are accepted — decided from the bytes alone, never from the name or the type
//! the sender declared — the size and count limits, and the history event each upload
//! writes in its own transaction. The bytes are kept in the database so that every
//! node of a deployment serves them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::actor::Actor;
use super::error::{AppError, AppResult, Message};
use super::ids::ProposalId;
use super::proposals::load;
use super::utc;
use super::vocab::{AttachmentKind, EventKind};
use crate::storage::models::{AttachmentRow, NewAttachment, NewProposalEvent};
use crate::storage::{self, AnyConnection, Db, now};

/// Default largest file, in bytes (10 MiB). `throttle::Limits::attachments` carries the
/// limits a process applies (tests choose smaller ones).
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Default most files per proposal.
pub const DEFAULT_MAX_PER_PROPOSAL: u32 = 20;
/// Longest file name kept, in characters.
pub const NAME_MAX: usize = 200;

/// The limits an upload is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_per_proposal: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_per_proposal: DEFAULT_MAX_PER_PROPOSAL,
        }
    }
}

impl AttachmentKind {
    /// The media type the file is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Self::Doc => "application/msword",
            Self::Xls => "application/vnd.ms-excel",
            Self::Ppt => "application/vnd.ms-powerpoint",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The file name extension that goes with the kind.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            other => other.as_str(),
        }
    }

    fn also_named(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg"],
            _ => &[],
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A name as the UTF-16LE bytes of a compound file's directory entry.
fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// What the bytes are, or `None` when they are none of the accepted kinds. Only the
/// content counts:
/// - PDF: starts with `%PDF-`;
/// - PNG: the 8-byte PNG signature; JPEG: `FF D8 FF`;
/// - Office Open XML (docx/xlsx/pptx): a ZIP (`PK\x03\x04`) holding `[Content_Types].xml`
///   and the part of its kind (`word/document.xml`, `xl/workbook.xml`,
///   `ppt/presentation.xml`); any other ZIP is refused;
/// - legacy Office (doc/xls/ppt): the OLE compound file signature and the stream of its
///   kind (`WordDocument`, `Workbook`/`Book`, `PowerPoint Document`) in the directory;
///   other compound files (installers, Outlook items) are refused.
pub fn sniff(bytes: &[u8]) -> Option<AttachmentKind> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    if bytes.starts_with(b"%PDF-") {
        return Some(AttachmentKind::Pdf);
    }
    if bytes.starts_with(PNG) {
        return Some(AttachmentKind::Png);
    }
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        return Some(AttachmentKind::Jpeg);
    }
    if bytes.starts_with(b"PK\x03\x04") && contains(bytes, b"[Content_Types].xml") {
        // File names in a ZIP's headers are stored uncompressed.
        return [
            (&b"word/document.xml"[..], AttachmentKind::Docx),
            (b"xl/workbook.xml", AttachmentKind::Xlsx),
            (b"ppt/presentation.xml", AttachmentKind::Pptx),
        ]
        .into_iter()
        .find(|(part, _)| contains(bytes, part))
        .map(|(_, k)| k);
    }
    if bytes.starts_with(OLE) {
        return [
            ("WordDocument", AttachmentKind::Doc),
            ("Workbook", AttachmentKind::Xls),
            ("Book", AttachmentKind::Xls),
            ("PowerPoint Document", AttachmentKind::Ppt),
        ]
        .into_iter()
        .find(|(stream, _)| contains(bytes, &utf16le(stream)))
        .map(|(_, k)| k);
    }
    None
}

/// The name a file is kept under: the last path segment of what was sent, without
/// control characters, at most [`NAME_MAX`] characters, and with the extension of the
/// detected kind (a PNG sent as `plan.pdf` is kept as `plan.png`), so that the saved
/// file opens in the right program.
pub fn clean_name(sent: &str, kind: AttachmentKind) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, Some(e.to_ascii_lowercase())),
        _ => (cleaned, None),
    };
    let fits = ext
        .as_deref()
        .is_some_and(|e| e == kind.extension() || kind.also_named().contains(&e));
    let stem: String = stem.chars().take(NAME_MAX).collect();
    let stem = if stem.trim().is_empty() {
        "attachment".to_owned()
    } else {
        stem
    };
    match (fits, ext) {
        (true, Some(e)) => format!("{stem}.{e}"),
        _ => format!("{stem}.{}", kind.extension()),
    }
}

/// Who attached a file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Uploader {
    /// `staff` or `partner`; `null` name when the account is gone, and a staff
    /// member's name is never shown to a partner (as with the 担当者).
    pub actor_type: &'static str,
    pub name: Option<String>,
}

/// A file attached to a proposal, without its bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub proposal_id: ProposalId,
    /// The name it is kept and downloaded under (see the upload route).
    pub file_name: String,
    /// What kyoso detected from the content.
    pub kind: AttachmentKind,
    /// The media type it is served with.
    pub content_type: &'static str,
    pub size_bytes: i64,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    pub uploaded_by: Uploader,
    pub created_at: DateTime<Utc>,
}

fn view(conn: &mut AnyConnection, actor: &Actor, r: AttachmentRow) -> AppResult<AttachmentView> {
    let uploaded_by = match (r.uploaded_by_staff_id, r.uploaded_by_partner_id) {
        (Some(_), _) if matches!(actor, Actor::Partner(_)) => Uploader {
            actor_type: "staff",
            name: None,
        },
        (Some(s), _) => Uploader {
            actor_type: "staff",
            name: storage::staff::find(conn, s)?.map(|u| u.display_name),
        },
        (None, Some(p)) => Uploader {
            actor_type: "partner",
            name: storage::partners::find(conn, p)?.map(|u| u.name),
        },
        (None, None) => Uploader {
            actor_type: "staff",
            name: None,
        },
    };
    let kind = AttachmentKind::from_db(&r.content_kind)?;
    Ok(AttachmentView {
        id: r.id,
        proposal_id: ProposalId(r.proposal_id),
        file_name: r.file_name,
        kind,
        content_type: kind.media_type(),
        size_bytes: r.size_bytes,
        sha256: r.sha256,
        uploaded_by,
        created_at: utc(r.created_at),
    })
}

/// The refusal of a file larger than `limits` allow.
pub fn too_large(limits: Limits) -> AppError {
    let mib = limits.max_bytes as f64 / (1024.0 * 1024.0);
    AppError::PayloadTooLarge(Message::new(
        format!(
            "the file is larger than {} bytes ({mib:.1} MiB)",
            limits.max_bytes
        ),
        format!("ファイルが大きすぎます（1ファイル{mib:.1}MBまで）。"),
    ))
}

/// Whether the caller may attach files to this proposal: checked before an upload is
/// read, so that nobody who may not open the proposal gets to send its bytes.
pub fn may_attach(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<()> {
    db.read(|conn| load(conn, actor, id).map(|_| ()))
}

/// A file as it arrived: the name the sender gave and the bytes.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Attaches a file to a proposal the caller may open (its proposer, the desk, a
/// department it is routed to), in one transaction with its history event.
pub fn add(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    limits: Limits,
    upload: Upload,
) -> AppResult<AttachmentView> {
    if upload.bytes.is_empty() {
        return Err(AppError::field("file", "required", "send a non-empty file"));
    }
    if upload.bytes.len() as u64 > limits.max_bytes {
        return Err(too_large(limits));
    }
    let kind = sniff(&upload.bytes).ok_or_else(|| {
        AppError::UnsupportedMediaType(Message::new(
            "the file's content is none of: PDF, Word/Excel/PowerPoint (docx, xlsx, pptx, doc, xls, ppt), PNG, JPEG",
            "受け付けられる形式は PDF、Word・Excel・PowerPoint、PNG・JPEG 画像です（ファイルの中身で判定します）。",
        ))
    })?;
    let name = clean_name(&upload.name, kind);
    let sha256 = hex(&Sha256::digest(&upload.bytes));
    let size = i64::try_from(upload.bytes.len()).map_err(|_| too_large(limits))?;
    db.write(|conn| {
        // The lock orders parallel uploads to one proposal, so the count holds.
        storage::proposals::lock(conn, id.0)?;
        let (p, _access) = load(conn, actor, id)?;
        let count = storage::attachments::count_for(conn, p.id)?;
        if count >= i64::from(limits.max_per_proposal) {
            return Err(AppError::Invalid(vec![
                crate::domain::error::FieldError::new(
                    "file",
                    "too_many",
                    format!(
                        "a proposal carries at most {} files",
                        limits.max_per_proposal
                    ),
                )
                .ja(format!(
                    "1件の提案に添付できるファイルは{}件までです。",
                    limits.max_per_proposal
                )),
            ]));
        }
        let at = now();
        let row = storage::attachments::insert(
            conn,
            &NewAttachment {
                proposal_id: p.id,
                file_name: &name,
                content_kind: kind.as_str(),
                size_bytes: size,
                sha256: &sha256,
                uploaded_by_staff_id: actor.staff().map(|s| s.id.0),
                uploaded_by_partner_id: actor.partner().map(|p| p.0),
                created_at: at,
            },
            &upload.bytes,
        )?;
        storage::proposals::add_event(
            conn,
            &NewProposalEvent {
                proposal_id: p.id,
                kind: EventKind::AttachmentAdded.as_str(),
                actor_staff_id: actor.staff().map(|s| s.id.0),
                actor_partner_id: actor.partner().map(|p| p.0),
                from_state: None,
                to_state: None,
                department_id: None,
                body: Some(&name),
                internal: false,
                created_at: at,
            },
        )?;
        view(conn, actor, row)
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The files of a proposal the caller may open, oldest first.
pub fn list(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<Vec<AttachmentView>> {
    db.read(|conn| {
        let (p, _) = load(conn, actor, id)?;
        storage::attachments::list_for(conn, p.id)?
            .into_iter()
            .map(|r| view(conn, actor, r))
            .collect()
    })
}

/// One file with its bytes, for a caller who may open its proposal; a file of another
/// proposal is "not found" even when its id exists.
pub fn download(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    attachment_id: i64,
) -> AppResult<(AttachmentView, Vec<u8>)> {
    db.read(|conn| {
        let (p, _) = load(conn, actor, id)?;
        let row = storage::attachments::find(conn, p.id, attachment_id)?
            .ok_or(AppError::NotFound("attachment"))?;
        let bytes =
            storage::attachments::bytes(conn, row.id)?.ok_or(AppError::NotFound("attachment"))?;
        Ok((view(conn, actor, row)?, bytes))
    })
}

/// `Content-Disposition` for a download (RFC 6266): `attachment`, an ASCII fallback
/// name, and the real name as `filename*=UTF-8''…` for Japanese names.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(AttachmentKind::Pdf));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(AttachmentKind::Png)
        );
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0JFIF"), Some(AttachmentKind::Jpeg));
        assert_eq!(sniff(b"<html><body>%PDF-</body></html>"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03"), None);
        assert_eq!(sniff(b"PK\x03\x04 plain zip with a.txt"), None);
        assert_eq!(
            sniff(b"PK\x03\x04..[Content_Types].xml..PK\x03\x04..word/document.xml"),
            Some(AttachmentKind::Docx)
        );
        assert_eq!(
            sniff(b"PK\x03\x04..[Content_Types].xml..xl/workbook.xml"),
            Some(AttachmentKind::Xlsx)
        );
        let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        ole.extend(utf16le("Workbook"));
        assert_eq!(sniff(&ole), Some(AttachmentKind::Xls));
        let msi = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 installer".to_vec();
        assert_eq!(sniff(&msi), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_are_cleaned_and_follow_the_kind() {
        assert_eq!(clean_name("企画書.pdf", AttachmentKind::Pdf), "企画書.pdf");
        assert_eq!(clean_name("plan.pdf", AttachmentKind::Png), "plan.png");
        assert_eq!(
            clean_name("C:\\Users\\x\\写真.JPG", AttachmentKind::Jpeg),
            "写真.jpg"
        );
        assert_eq!(
            clean_name("../../etc/passwd", AttachmentKind::Pdf),
            "passwd.pdf"
        );
        assert_eq!(clean_name("", AttachmentKind::Pdf), "attachment.pdf");
        assert_eq!(clean_name(".pdf", AttachmentKind::Pdf), "pdf.pdf");
        assert_eq!(
            clean_name("evil\u{202e}fdp.exe", AttachmentKind::Pdf),
            "evilfdp.pdf"
        );
        let long = "あ".repeat(500) + ".pdf";
        assert!(clean_name(&long, AttachmentKind::Pdf).chars().count() <= NAME_MAX + 4);
    }

    #[test]
    fn disposition_carries_the_japanese_name() {
        assert_eq!(
            content_disposition("企画書 v2.pdf"),
            "attachment; filename=\"___ v2.pdf\"; filename*=UTF-8''%E4%BC%81%E7%94%BB%E6%9B%B8%20v2.pdf"
        );
        assert_eq!(
            content_disposition("a\"b.pdf"),
            "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"
        );
    }
}
