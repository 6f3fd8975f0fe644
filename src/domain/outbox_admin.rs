//! The mail outbox as administrators see it: failed and delayed mails, recent ones, and
//! putting a failed mail back in the queue. Mails carry no municipality, so only
//! deployment administrators see them: a municipality's admin would otherwise read other
//! municipalities' addresses and subjects.

use chrono::{DateTime, Utc};

use super::actor::Actor;
use super::error::{AppError, AppResult, Message};
use super::utc;
use crate::mail::outbox::{self, Listing, MailSummary};
use crate::storage::{AnyConnection, Db};
use crate::values::vocab::MailStatus;

/// Not a status: pending mails with failed attempts behind them.
pub const DELAYED: &str = "delayed";

/// One mail as administrators see it (the console's outbox page and the API's
/// `/admin/mail`): everything but the bodies.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = MailView)]
pub struct OutboxMail {
    pub id: i64,
    pub kind: String,
    pub recipient_email: String,
    pub subject: String,
    /// pending, sending, sent, failed or digested.
    pub status: String,
    /// Still pending after failed attempts (an SMTP outage, say): late mail, and why is
    /// in `last_error`.
    pub delayed: bool,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When a pending mail is tried (again).
    pub next_attempt_at: DateTime<Utc>,
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<MailSummary> for OutboxMail {
    fn from(r: MailSummary) -> Self {
        OutboxMail {
            id: r.id,
            kind: r.kind,
            recipient_email: r.recipient_email,
            subject: r.subject,
            delayed: r.status == MailStatus::Pending.as_str() && r.attempts > 0,
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
    /// Failed mails first (newest first), then delayed ones (next attempt first), then
    /// the most recent others.
    pub mails: Vec<OutboxMail>,
    pub counts: Vec<(String, i64)>,
    /// How many of the pending mails are delayed.
    pub delayed: i64,
}

/// The failed and delayed mails, newest failed first, then the earliest due delayed.
fn attention(conn: &mut AnyConnection) -> AppResult<Vec<MailSummary>> {
    let mut mails = outbox::summaries(conn, Listing::Status(MailStatus::Failed), 500)?;
    mails.extend(outbox::summaries(conn, Listing::Delayed, 500)?);
    Ok(mails)
}

/// The failed and delayed mails and the most recent `limit` others (the console's
/// screen).
pub fn list(db: &Db, actor: &Actor, limit: i64) -> AppResult<Outbox> {
    actor.require_deployment_admin()?;
    db.read(|conn| {
        let first = attention(conn)?;
        let shown: std::collections::HashSet<i64> = first.iter().map(|m| m.id).collect();
        let recent = outbox::summaries(conn, Listing::All, limit.clamp(1, 500))?;
        let mails = first
            .into_iter()
            .chain(recent.into_iter().filter(|r| !shown.contains(&r.id)))
            .map(OutboxMail::from)
            .collect();
        Ok(Outbox {
            mails,
            counts: outbox::counts(conn)?,
            delayed: outbox::count_delayed(conn)?,
        })
    })
}

/// The newest `limit` mails of one status, or the delayed ones; without a status, the
/// mails that need an administrator's eye: failed, then delayed (the API).
pub fn by_status(
    db: &Db,
    actor: &Actor,
    status: Option<&str>,
    limit: i64,
) -> AppResult<Vec<OutboxMail>> {
    actor.require_deployment_admin()?;
    let limit = limit.clamp(1, 500);
    let listing = match status {
        None => None,
        Some(DELAYED) => Some(Listing::Delayed),
        Some(s) => match MailStatus::parse(s) {
            Some(s) => Some(Listing::Status(s)),
            None => {
                return Err(AppError::field(
                    "status",
                    "unknown_value",
                    format!("must be one of: {}, {DELAYED}", MailStatus::expected()),
                ));
            }
        },
    };
    db.read(|conn| {
        let mails = match listing {
            Some(l) => outbox::summaries(conn, l, limit)?,
            None => attention(conn)?
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(500))
                .collect(),
        };
        Ok(mails.into_iter().map(OutboxMail::from).collect())
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
