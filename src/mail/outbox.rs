//! The mail outbox: one row per e-mail with a unique dedupe key, written inside the
//! caller's transaction, so a mail exists exactly when its cause was committed. The
//! sender claims due rows (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several
//! nodes never take the same row), sends, and records the outcome; failures wait with
//! exponential backoff and end as `failed` after `MAX_ATTEMPTS`.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::templates::Rendered;
use crate::domain::vocab::Locale;
use crate::storage::schema::mail_outbox;
use crate::storage::{AnyConnection, now};

pub const MAX_ATTEMPTS: i32 = 8;
/// A claimed row not recorded within this time belonged to a sender that died; it is
/// sent again (the copy carries the same Message-ID, so the duplicate is visible).
pub const CLAIM_TIMEOUT: TimeDelta = TimeDelta::minutes(5);

/// Who a mail is for, as far as preferences and unsubscribing go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientRef {
    Staff(i64),
    Partner(i64),
    /// Known only by address (a proposer without an account, a department's mailbox).
    Guest,
}

impl RecipientRef {
    pub fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Self::Staff(id) => ("staff", Some(id)),
            Self::Partner(id) => ("partner", Some(id)),
            Self::Guest => ("guest", None),
        }
    }

    pub fn from_parts(t: &str, id: Option<i64>) -> Self {
        match (t, id) {
            ("staff", Some(id)) => Self::Staff(id),
            ("partner", Some(id)) => Self::Partner(id),
            _ => Self::Guest,
        }
    }
}

/// How a queued mail goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Immediate,
    Daily,
    Weekly,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }
}

/// A message to queue.
pub struct Outgoing<'a> {
    /// Names the cause, e.g. `proposal_received:42`: the same cause never mails twice.
    pub dedupe_key: String,
    pub kind: &'a str,
    pub recipient: RecipientRef,
    pub recipient_email: &'a str,
    pub recipient_name: Option<&'a str>,
    pub locale: Locale,
    pub delivery: Delivery,
    pub message: Rendered,
}

/// Withdraws mails of `kind` not yet picked up whose dedupe key starts with `prefix`, in
/// the caller's transaction (e.g. a verification link superseded before it went out).
/// Returns how many were withdrawn.
pub fn withdraw_pending(conn: &mut AnyConnection, kind: &str, prefix: &str) -> QueryResult<usize> {
    diesel::delete(
        mail_outbox::table.filter(
            mail_outbox::kind
                .eq(kind)
                .and(mail_outbox::status.eq("pending"))
                .and(mail_outbox::dedupe_key.like(format!("{prefix}%"))),
        ),
    )
    .execute(conn)
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

/// Queues a message; a second message with the same dedupe key is ignored. Returns
/// whether this call queued it.
pub fn enqueue(conn: &mut AnyConnection, m: &Outgoing) -> QueryResult<bool> {
    let at = now();
    let (rtype, rid) = m.recipient.parts();
    diesel::sql_query(
        "INSERT INTO mail_outbox (dedupe_key, message_id, kind, recipient_type, recipient_id, recipient_email, \
         recipient_name, locale, subject, body_text, body_html, delivery, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind::<Text, _>(&m.dedupe_key)
    .bind::<Text, _>(message_id(&m.dedupe_key))
    .bind::<Text, _>(m.kind)
    .bind::<Text, _>(rtype)
    .bind::<Nullable<BigInt>, _>(rid)
    .bind::<Text, _>(m.recipient_email)
    .bind::<Nullable<Text>, _>(m.recipient_name)
    .bind::<Text, _>(m.locale.as_str())
    .bind::<Text, _>(&m.message.subject)
    .bind::<Text, _>(&m.message.body_text)
    .bind::<Nullable<Text>, _>(m.message.body_html.as_deref())
    .bind::<Text, _>(m.delivery.as_str())
    .bind::<Timestamp, _>(at)
    .bind::<Timestamp, _>(at)
    .execute(conn)
    .map(|n| n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = mail_outbox)]
pub struct MailRow {
    pub id: i64,
    pub dedupe_key: String,
    pub message_id: String,
    pub kind: String,
    pub recipient_type: String,
    pub recipient_id: Option<i64>,
    pub recipient_email: String,
    pub recipient_name: Option<String>,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub delivery: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Takes up to `limit` due immediate mails for `worker`. A row whose claim is older
/// than `CLAIM_TIMEOUT` is taken again.
pub fn claim(conn: &mut AnyConnection, worker: &str, limit: i64) -> QueryResult<Vec<MailRow>> {
    let at = now();
    let stale = at - CLAIM_TIMEOUT;
    // Row locking differs: PostgreSQL skips rows another node holds; SQLite has one
    // writer at a time, so the plain subquery is already exclusive.
    let lock = match conn {
        AnyConnection::Postgresql(_) => " FOR UPDATE SKIP LOCKED",
        AnyConnection::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE mail_outbox SET status = 'sending', claimed_by = $1, claimed_at = $2 WHERE id IN (\
         SELECT id FROM mail_outbox WHERE delivery = 'immediate' AND \
         ((status = 'pending' AND next_attempt_at <= $2) OR (status = 'sending' AND claimed_at < $3)) \
         ORDER BY id LIMIT $4{lock}) RETURNING *"
    );
    let mut rows: Vec<MailRow> = diesel::sql_query(sql)
        .bind::<Text, _>(worker)
        .bind::<Timestamp, _>(at)
        .bind::<Timestamp, _>(stale)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

pub fn mark_sent(conn: &mut AnyConnection, id: i64) -> QueryResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::sent_at.eq(now()),
            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Backoff after the `attempts`-th failure: 30 s, 1 min, 2 min … at most 1 h.
pub fn backoff(attempts: i32) -> TimeDelta {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(0, 7).saturating_sub(1));
    TimeDelta::seconds(secs.min(3600))
}

pub fn mark_failed_attempt(
    conn: &mut AnyConnection,
    row: &MailRow,
    error: &str,
) -> QueryResult<()> {
    let attempts = row.attempts + 1;
    let status = if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    let error: String = error.chars().take(1000).collect();
    diesel::update(mail_outbox::table.find(row.id))
        .set((
            mail_outbox::status.eq(status),
            mail_outbox::attempts.eq(attempts),
            mail_outbox::last_error.eq(Some(error)),
            mail_outbox::next_attempt_at.eq(now() + backoff(attempts)),
            mail_outbox::claimed_by.eq(None::<String>),
            mail_outbox::claimed_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A mail as administrators list it: everything but the bodies.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct MailSummary {
    pub id: i64,
    pub kind: String,
    pub recipient_email: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub message_id: String,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Mails, newest first, all or of one status.
pub fn summaries(
    conn: &mut AnyConnection,
    status: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<MailSummary>> {
    let mut q = mail_outbox::table
        .select(MailSummary::as_select())
        .order(mail_outbox::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(mail_outbox::status.eq(s.to_owned()));
    }
    q.load(conn)
}

/// How many mails there are of each status.
pub fn counts(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    mail_outbox::table
        .group_by(mail_outbox::status)
        .select((mail_outbox::status, diesel::dsl::count_star()))
        .load(conn)
}

pub fn exists(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(mail_outbox::table.find(id))).get_result(conn)
}

/// Puts a failed mail back in the queue, due now, with a fresh count of attempts.
pub fn retry(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(
        mail_outbox::table
            .find(id)
            .filter(mail_outbox::status.eq("failed")),
    )
    .set((
        mail_outbox::status.eq("pending"),
        mail_outbox::attempts.eq(0),
        mail_outbox::next_attempt_at.eq(now()),
        mail_outbox::claimed_by.eq(None::<String>),
        mail_outbox::claimed_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Deletes mails delivered (sent, or carried by a digest) before `before`: their bodies
/// hold names and addresses that are not kept longer than needed. Pending and failed
/// mails stay.
pub fn prune_delivered(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        mail_outbox::table
            .filter(mail_outbox::status.eq_any(["sent", "digested"]))
            .filter(mail_outbox::created_at.lt(before)),
    )
    .execute(conn)
}
