//! The sender: claims due mails, builds and sends each, records the outcome. Claiming
//! and recording are separate short transactions; the send happens between them, so a
//! crash there leaves the row claimed, and after `CLAIM_TIMEOUT` it is sent again with
//! the same Message-ID: a duplicate is possible, visible and bounded to one per crash.

use super::message::{self, is_bulk};
use super::outbox::{self, MailRow};
use super::signing;
use super::transport::Transport;
use crate::domain::error::AppResult;
use crate::storage::Db;

pub struct Mailer {
    pub transport: Transport,
    pub from: String,
    pub public_url: String,
    /// Names this process in claims.
    pub worker: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub failed: usize,
}

/// The one-click unsubscribe address for a bulk mail to a staff user or partner.
pub fn unsubscribe_url(public_url: &str, key: &[u8], row: &MailRow) -> Option<String> {
    let id = row.recipient_id?;
    if row.recipient_type == "guest" {
        return None;
    }
    // Digests stand for every kind delivered in them: unsubscribing stops them all.
    let payload = format!("v1.{}.{id}.{}", row.recipient_type, row.kind);
    Some(format!(
        "{public_url}/api/v1/unsubscribe?token={}",
        signing::sign(key, &payload)
    ))
}

impl Mailer {
    pub fn new(transport: Transport, from: String, public_url: String) -> Mailer {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "kyoso".into());
        Mailer {
            transport,
            from,
            public_url,
            worker: format!("{host}:{}", std::process::id()),
        }
    }

    /// Sends up to `limit` due mails.
    pub fn send_due(&self, db: &Db, limit: i64) -> AppResult<SendReport> {
        let (rows, key) = db.write(|conn| {
            Ok((
                outbox::claim(conn, &self.worker, limit)?,
                signing::key(conn)?,
            ))
        })?;
        let mut report = SendReport::default();
        for row in rows {
            let url = if is_bulk(&row.kind) {
                unsubscribe_url(&self.public_url, &key, &row)
            } else {
                None
            };
            let outcome = message::build(&row, &self.from, url.as_deref())
                .map_err(|e| e.to_string())
                .and_then(|m| {
                    self.transport
                        .send(
                            &m,
                            &format!("{}-{}", row.created_at.format("%Y%m%dT%H%M%S"), row.id),
                        )
                        .map_err(|e| e.to_string())
                });
            match outcome {
                Ok(()) => {
                    db.write(|conn| Ok(outbox::mark_sent(conn, row.id)?))?;
                    report.sent += 1;
                }
                Err(e) => {
                    // No address in the log: the id finds the row, and a server's reply
                    // may quote the recipient.
                    log::warn!("mail {}: {}", row.id, super::redact_addresses(&e));
                    db.write(|conn| Ok(outbox::mark_failed_attempt(conn, &row, &e)?))?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Claims and sends without recording, as a crash right after sending would leave
    /// things: the tests use it to show the duplicate stays visible and bounded.
    #[doc(hidden)]
    pub fn send_without_recording_for_tests(&self, db: &Db) -> AppResult<usize> {
        let (rows, key) =
            db.write(|conn| Ok((outbox::claim(conn, &self.worker, 100)?, signing::key(conn)?)))?;
        for row in &rows {
            let url = unsubscribe_url(&self.public_url, &key, row);
            if let Ok(m) = message::build(row, &self.from, url.as_deref()) {
                let _ = self.transport.send(&m, &format!("crash-{}", row.id));
            }
        }
        Ok(rows.len())
    }
}
