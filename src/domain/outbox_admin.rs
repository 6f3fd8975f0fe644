//! The mail outbox as administrators see it: recent and failed mails, and putting a
//! failed mail back in the queue. Mails carry no municipality, so only deployment
//! administrators see them: a municipality's admin would otherwise read other
//! municipalities' addresses and subjects.

use chrono::{DateTime, Utc};

use super::actor::Actor;
use super::error::{AppError, AppResult, Message};
use super::utc;
use crate::mail::outbox::{self, MailSummary};
use crate::storage::Db;

/// The statuses a mail goes through.
pub const STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "digested"];

#[derive(Debug)]
pub struct OutboxMail {
    pub id: i64,
    pub kind: String,
    pub recipient_email: String,
    pub subject: String,
    /// pending, sending, sent, failed or digested.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub message_id: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<MailSummary> for OutboxMail {
    fn from(r: MailSummary) -> Self {
        OutboxMail {
            id: r.id,
            kind: r.kind,
            recipient_email: r.recipient_email,
            subject: r.subject,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: utc(r.next_attempt_at),
            last_error: r.last_error,
            message_id: r.message_id,
            sent_at: r.sent_at.map(utc),
            created_at: utc(r.created_at),
        }
    }
}

#[derive(Debug)]
pub struct Outbox {
    /// Failed mails first (newest first), then the most recent others.
    pub mails: Vec<OutboxMail>,
    pub counts: Vec<(String, i64)>,
}

/// The failed mails and the most recent `limit` others (the console's screen).
pub fn list(db: &Db, actor: &Actor, limit: i64) -> AppResult<Outbox> {
    actor.require_deployment_admin()?;
    db.read(|conn| {
        let failed = outbox::summaries(conn, Some("failed"), 500)?;
        let recent = outbox::summaries(conn, None, limit.clamp(1, 500))?;
        let mails = failed
            .into_iter()
            .chain(recent.into_iter().filter(|r| r.status != "failed"))
            .map(OutboxMail::from)
            .collect();
        Ok(Outbox {
            mails,
            counts: outbox::counts(conn)?,
        })
    })
}

/// The newest `limit` mails of one status (the API).
pub fn by_status(db: &Db, actor: &Actor, status: &str, limit: i64) -> AppResult<Vec<OutboxMail>> {
    actor.require_deployment_admin()?;
    if !STATUSES.contains(&status) {
        return Err(AppError::field(
            "status",
            "unknown_value",
            format!("must be one of: {}", STATUSES.join(", ")),
        ));
    }
    db.read(|conn| {
        Ok(outbox::summaries(conn, Some(status), limit.clamp(1, 500))?
            .into_iter()
            .map(OutboxMail::from)
            .collect())
    })
}

/// Queues a failed mail again, to be sent now.
pub fn retry(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    actor.require_deployment_admin()?;
    db.write(|conn| {
        if outbox::retry(conn, id)? > 0 {
            Ok(())
        } else if outbox::exists(conn, id)? {
            Err(AppError::Conflict(Message::new(
                "only a failed mail can be retried",
                "再送できるのは送信に失敗したメールだけです。",
            )))
        } else {
            Err(AppError::NotFound("mail"))
        }
    })
}
