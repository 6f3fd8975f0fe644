//! The mail outbox: one row per e-mail with a unique dedupe key, written inside the
//! caller's transaction, so a mail exists exactly when its cause was committed.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use super::templates::Rendered;
use crate::domain::vocab::Locale;
use crate::storage::{AnyConnection, now};

/// A message to queue.
pub struct Outgoing<'a> {
    /// Names the cause, e.g. `proposal_received:42`: the same cause never mails twice.
    pub dedupe_key: String,
    pub kind: &'a str,
    pub recipient_email: &'a str,
    pub recipient_name: Option<&'a str>,
    pub locale: Locale,
    pub message: Rendered,
}

/// A stable Message-ID derived from the dedupe key, so a resent copy is recognisable.
pub fn message_id(dedupe_key: &str) -> String {
    let local: String = dedupe_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{local}@kyoso.mail>")
}

/// Queues a message; a second message with the same dedupe key is ignored.
pub fn enqueue(conn: &mut AnyConnection, m: &Outgoing) -> QueryResult<()> {
    let at = now();
    diesel::sql_query(
        "INSERT INTO mail_outbox (dedupe_key, message_id, kind, recipient_email, recipient_name, locale, subject, \
         body_text, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind::<Text, _>(&m.dedupe_key)
    .bind::<Text, _>(message_id(&m.dedupe_key))
    .bind::<Text, _>(m.kind)
    .bind::<Text, _>(m.recipient_email)
    .bind::<Nullable<Text>, _>(m.recipient_name)
    .bind::<Text, _>(m.locale.as_str())
    .bind::<Text, _>(&m.message.subject)
    .bind::<Text, _>(&m.message.body_text)
    .bind::<Timestamp, _>(at)
    .bind::<Timestamp, _>(at)
    .execute(conn)?;
    Ok(())
}
