//! Turns an outbox row into an RFC 5322 message: multipart text + HTML, the row's stable
//! Message-ID, Japanese subject and names encoded by lettre (RFC 2047), and for bulk mail
//! List-Unsubscribe with one-click List-Unsubscribe-Post (RFC 8058). A row with an
//! attachment becomes multipart/mixed: the text + HTML alternative, then the file.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::outbox::MailRow;

/// Kinds sent in bulk (not a direct answer to something the recipient did): these carry
/// unsubscribe headers.
pub fn is_bulk(kind: &str) -> bool {
    matches!(
        kind,
        "digest" | "match_alert" | "saved_search" | "weekly_report"
    )
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("address {0}: {1}")]
    Address(String, String),
    #[error("message: {0}")]
    Message(String),
}

/// Builds the message; `unsubscribe_url` is added for bulk kinds.
pub fn build(
    row: &MailRow,
    from: &str,
    unsubscribe_url: Option<&str>,
) -> Result<Message, BuildError> {
    let from: Mailbox = from.parse().map_err(|e: lettre::address::AddressError| {
        BuildError::Address(from.to_owned(), e.to_string())
    })?;
    let address = row
        .recipient_email
        .parse()
        .map_err(|e: lettre::address::AddressError| {
            BuildError::Address(row.recipient_email.clone(), e.to_string())
        })?;
    let to = Mailbox::new(row.recipient_name.clone(), address);
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()));
    if let (true, Some(url)) = (is_bulk(&row.kind), unsubscribe_url) {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(row.body_text.clone());
    let file = match (
        &row.attachment_name,
        &row.attachment_type,
        &row.attachment_bytes,
    ) {
        (Some(name), Some(t), Some(bytes)) => {
            let t = ContentType::parse(t).map_err(|e| BuildError::Message(e.to_string()))?;
            Some(Attachment::new(name.clone()).body(bytes.clone(), t))
        }
        _ => None,
    };
    let message = match (&row.body_html, file) {
        (Some(html), file) => {
            let alternative = MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            );
            match file {
                Some(f) => b.multipart(MultiPart::mixed().multipart(alternative).singlepart(f)),
                None => b.multipart(alternative),
            }
        }
        (None, Some(f)) => b.multipart(MultiPart::mixed().singlepart(text).singlepart(f)),
        (None, None) => b.singlepart(text),
    };
    message.map_err(|e| BuildError::Message(e.to_string()))
}
