//! The sender: claims due mails a few at a time under a fresh `ClaimToken`, renews the
//! claim's lease right before each message, sends it, and records the outcome only
//! while the claim is still its own.
//!
//! Claiming, renewing and recording are short transactions of their own; the send
//! happens between them. So a crash (or a lost database) right after a send leaves the
//! row claimed, and once its lease runs out another sender sends it again with the
//! same Message-ID: a duplicate is possible, visible and bounded to one per crash. A
//! slow SMTP server cannot cause one, because the lease of the mail in hand was renewed
//! just before its send and lasts far longer than a send may take (`SenderConfig`).

use chrono::TimeDelta;

use super::claim::{self, ClaimToken, FailureKind};
use super::message::{self, BuildError, is_bulk};
use super::outbox::MailRow;
use super::signing;
use super::transport::{SMTP_TIMEOUT, Transport};
use crate::storage::Db;
use crate::storage::StorageError;

/// The sender's timing. Parameters rather than constants so tests can shorten time
/// (a lease of seconds, a backoff cap of milliseconds) instead of sleeping for hours.
#[derive(Debug, Clone, Copy)]
pub struct SenderConfig {
    /// How long a claim holds without renewal. It must comfortably exceed one send
    /// (a few SMTP commands of up to `SMTP_TIMEOUT` each): only then can no other
    /// sender take a mail whose send is under way. It is also how long the mails of a
    /// sender that died wait before another sender takes them.
    pub lease: TimeDelta,
    /// The longest wait between two attempts, so mail flows soon after SMTP returns.
    pub backoff_cap: TimeDelta,
    /// Rows claimed per transaction: few, so a sender that dies strands few mails and
    /// other senders share the queue.
    pub batch: i64,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            // 30 × the per-command timeout: a send is well under ten commands.
            lease: TimeDelta::from_std(SMTP_TIMEOUT * 30).unwrap_or(TimeDelta::minutes(10)),
            backoff_cap: TimeDelta::minutes(30),
            batch: 10,
        }
    }
}

pub struct Mailer {
    pub transport: Transport,
    pub from: String,
    pub public_url: String,
    /// Names this process in claims (for people reading the table; the token decides).
    pub worker: String,
    pub config: SenderConfig,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    /// Attempts that failed this time (the mail waits for its next attempt or, after
    /// its last permanent refusal, is `failed`).
    pub failed: usize,
    /// Mails whose claim passed to another sender before the outcome was recorded.
    pub lost: usize,
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

/// A message that cannot be built for its recipient's address never will be; any other
/// build failure (our own From address, a template) is the deployment's to fix, and
/// the mail waits for that, listed as delayed.
fn build_failure(e: &BuildError, row: &MailRow) -> FailureKind {
    match e {
        BuildError::Address(address, _) if *address == row.recipient_email => {
            FailureKind::Permanent
        }
        _ => FailureKind::Transient,
    }
}

impl Mailer {
    pub fn new(transport: Transport, from: String, public_url: String) -> Mailer {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "kyoso".into());
        Mailer {
            transport,
            from,
            public_url,
            worker: format!("{host}:{}", std::process::id()),
            config: SenderConfig::default(),
        }
    }

    /// Sends up to `limit` due mails, claiming `config.batch` at a time.
    pub fn send_due(&self, db: &Db, limit: i64) -> Result<SendReport, StorageError> {
        let mut report = SendReport::default();
        let mut left = limit;
        while left > 0 {
            let take = left.min(self.config.batch.max(1));
            let token = ClaimToken::new();
            let (rows, key) = db.write(|conn| -> Result<_, StorageError> {
                Ok((
                    claim::claim(conn, &self.worker, &token, take, self.config.lease)?,
                    signing::key(conn)?,
                ))
            })?;
            let claimed = rows.len() as i64;
            for row in rows {
                self.send_one(db, &token, &key, &row, &mut report)?;
            }
            if claimed < take {
                break;
            }
            left -= claimed;
        }
        Ok(report)
    }

    fn send_one(
        &self,
        db: &Db,
        token: &ClaimToken,
        key: &[u8],
        row: &MailRow,
        report: &mut SendReport,
    ) -> Result<(), StorageError> {
        let lease = self.config.lease;
        // The mails before this one may have taken long enough for its lease to run
        // out and another sender to take it: then it is that sender's to send.
        if !db.write(|conn| -> Result<_, StorageError> {
            Ok(claim::renew(conn, row.id, token, lease)?)
        })? {
            log::info!(
                "mail {}: another sender took it over before it was sent here; left to that sender",
                row.id
            );
            report.lost += 1;
            return Ok(());
        }
        let url = if is_bulk(&row.kind) {
            unsubscribe_url(&self.public_url, key, row)
        } else {
            None
        };
        let outcome = match message::build(row, &self.from, url.as_deref()) {
            Err(e) => Err((build_failure(&e, row), e.to_string())),
            Ok(m) => {
                let name = format!("{}-{}", row.created_at.format("%Y%m%dT%H%M%S"), row.id);
                self.transport.send(&m, &name).map_err(|e| {
                    let kind = if e.is_permanent() {
                        FailureKind::Permanent
                    } else {
                        FailureKind::Transient
                    };
                    (kind, e.to_string())
                })
            }
        };
        let recorded = match &outcome {
            Ok(()) => db.write(|conn| -> Result<_, StorageError> {
                Ok(claim::mark_sent(conn, row.id, token)?)
            })?,
            Err((kind, e)) => {
                // No address in the log: the id finds the row, and a server's reply may
                // quote the recipient.
                log::warn!("mail {} ({kind:?}): {}", row.id, super::redact_addresses(e));
                let cap = self.config.backoff_cap;
                db.write(|conn| -> Result<_, StorageError> {
                    Ok(claim::mark_failed_attempt(conn, row, token, *kind, e, cap)?)
                })?
            }
        };
        match (recorded, outcome.is_ok()) {
            (true, true) => report.sent += 1,
            (true, false) => report.failed += 1,
            (false, sent) => {
                // Only a send that outlasted the lease gets here: say so, because the
                // mail may then arrive twice (same Message-ID) and the lease is too short.
                log::warn!(
                    "mail {} ({}): the claim ran out during the attempt and passed to another sender; \
                     nothing recorded here{}",
                    row.id,
                    row.message_id,
                    if sent { "; it may arrive twice" } else { "" }
                );
                report.lost += 1;
            }
        }
        Ok(())
    }

    /// Claims and sends without recording, as a crash right after sending would leave
    /// things: the tests use it to show the duplicate stays visible and bounded.
    #[doc(hidden)]
    pub fn send_without_recording_for_tests(&self, db: &Db) -> Result<usize, StorageError> {
        let token = ClaimToken::new();
        let (rows, key) = db.write(|conn| -> Result<_, StorageError> {
            Ok((
                claim::claim(conn, &self.worker, &token, 100, self.config.lease)?,
                signing::key(conn)?,
            ))
        })?;
        for row in &rows {
            let url = unsubscribe_url(&self.public_url, &key, row);
            if let Ok(m) = message::build(row, &self.from, url.as_deref()) {
                let _ = self.transport.send(&m, &format!("crash-{}", row.id));
            }
        }
        Ok(rows.len())
    }
}
