//! The mail outbox: one row per e-mail with a unique dedupe key, written inside the
//! caller's transaction, so a mail exists exactly when its cause was committed; the
//! rows as administrators list them (failed, delayed), retrying and pruning. Who may
//! send a row and record its outcome is `mail::claim`'s.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Nullable, Text, Timestamp};

use super::templates::{Rendered, Template};
use crate::storage::schema::mail_outbox;
use crate::storage::{AnyConnection, now};
use crate::values::Locale;
use crate::values::vocab::MailStatus;

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
    pub kind: Template,
    pub recipient: RecipientRef,
    pub recipient_email: &'a str,
    pub recipient_name: Option<&'a str>,
    pub locale: Locale,
    pub delivery: Delivery,
    pub message: Rendered,
}

/// Withdraws the mails of `kind` with these dedupe keys that have not gone out yet.
/// Exact keys, not a key prefix: equality is answered by the unique index on any
/// collation, where a `LIKE 'prefix%'` scanned every pending mail of the kind.
pub fn withdraw_pending(
    conn: &mut AnyConnection,
    kind: Template,
    dedupe_keys: &[String],
) -> QueryResult<usize> {
    if dedupe_keys.is_empty() {
        return Ok(0);
    }
    diesel::delete(
        mail_outbox::table.filter(
            mail_outbox::dedupe_key
                .eq_any(dedupe_keys)
                .and(mail_outbox::kind.eq(kind.name()))
                .and(mail_outbox::status.eq(MailStatus::Pending.as_str())),
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

/// A file sent with a mail (the weekly report's CSV): one per mail, kept on its row.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The file name the recipient sees; plain ASCII or UTF-8 (lettre encodes it).
    pub name: String,
    /// Its MIME type, e.g. `text/csv; charset=utf-8`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Queues a message; a second message with the same dedupe key is ignored. Returns
/// whether this call queued it.
pub fn enqueue(conn: &mut AnyConnection, m: &Outgoing) -> QueryResult<bool> {
    enqueue_with(conn, m, None)
}

/// `enqueue` with a file attached.
pub fn enqueue_with(
    conn: &mut AnyConnection,
    m: &Outgoing,
    attachment: Option<&Attachment>,
) -> QueryResult<bool> {
    let at = now();
    let (rtype, rid) = m.recipient.parts();
    diesel::sql_query(
        "INSERT INTO mail_outbox (dedupe_key, message_id, kind, recipient_type, recipient_id, recipient_email, \
         recipient_name, locale, subject, body_text, body_html, delivery, next_attempt_at, created_at, \
         attachment_name, attachment_type, attachment_bytes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind::<Text, _>(&m.dedupe_key)
    .bind::<Text, _>(message_id(&m.dedupe_key))
    .bind::<Text, _>(m.kind.name())
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
    .bind::<Nullable<Text>, _>(attachment.map(|a| a.name.as_str()))
    .bind::<Nullable<Text>, _>(attachment.map(|a| a.content_type.as_str()))
    .bind::<Nullable<Binary>, _>(attachment.map(|a| a.bytes.as_slice()))
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
    pub claim_token: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub rejections: i32,
    pub attachment_name: Option<String>,
    pub attachment_type: Option<String>,
    pub attachment_bytes: Option<Vec<u8>>,
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
    pub rejections: i32,
}

/// Which mails an administrator lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    All,
    Status(MailStatus),
    /// Still queued after failed attempts (an SMTP outage, a refusal not yet final):
    /// the mail that is late, which admins must see before anyone asks for it.
    Delayed,
}

/// Mails, newest first (delayed ones: next attempt first).
pub fn summaries(
    conn: &mut AnyConnection,
    listing: Listing,
    limit: i64,
) -> QueryResult<Vec<MailSummary>> {
    let q = mail_outbox::table
        .select(MailSummary::as_select())
        .limit(limit)
        .into_boxed();
    match listing {
        Listing::All => q.order(mail_outbox::id.desc()),
        Listing::Status(s) => q
            .filter(mail_outbox::status.eq(s.as_str()))
            .order(mail_outbox::id.desc()),
        Listing::Delayed => q
            .filter(mail_outbox::status.eq(MailStatus::Pending.as_str()))
            .filter(mail_outbox::attempts.gt(0))
            .order((mail_outbox::next_attempt_at, mail_outbox::id)),
    }
    .load(conn)
}

/// How many queued mails have failed attempts behind them.
pub fn count_delayed(conn: &mut AnyConnection) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::status.eq(MailStatus::Pending.as_str()))
        .filter(mail_outbox::attempts.gt(0))
        .count()
        .get_result(conn)
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
            .filter(mail_outbox::status.eq(MailStatus::Failed.as_str())),
    )
    .set((
        mail_outbox::status.eq(MailStatus::Pending.as_str()),
        mail_outbox::attempts.eq(0),
        mail_outbox::rejections.eq(0),
        mail_outbox::next_attempt_at.eq(now()),
        mail_outbox::claimed_by.eq(None::<String>),
        mail_outbox::claimed_at.eq(None::<NaiveDateTime>),
        mail_outbox::claim_token.eq(None::<String>),
        mail_outbox::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Deletes mails delivered (sent, or carried by a digest) before `before`: their bodies
/// hold names and addresses that are not kept longer than needed. Pending and failed
/// mails stay.
pub fn prune_delivered(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        mail_outbox::table
            .filter(
                mail_outbox::status
                    .eq_any([MailStatus::Sent.as_str(), MailStatus::Digested.as_str()]),
            )
            .filter(mail_outbox::created_at.lt(before)),
    )
    .execute(conn)
}

type Backend = <AnyConnection as diesel::Connection>::Backend;

/// Mails waiting for a digest of `delivery`, queued until `upto`.
fn waiting_for_digest(
    delivery: Delivery,
    upto: NaiveDateTime,
) -> mail_outbox::BoxedQuery<'static, Backend> {
    mail_outbox::table
        .filter(
            mail_outbox::delivery
                .eq(delivery.as_str())
                .and(mail_outbox::status.eq(MailStatus::Pending.as_str()))
                .and(mail_outbox::created_at.le(upto)),
        )
        .into_boxed()
}

/// Addresses with mails waiting for a digest of `delivery`, queued until `upto`, after
/// `after` in address order: one page of at most `limit` recipients.
pub fn digest_recipients(
    conn: &mut AnyConnection,
    delivery: Delivery,
    upto: NaiveDateTime,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    waiting_for_digest(delivery, upto)
        .filter(mail_outbox::recipient_email.gt(after.to_owned()))
        .select(mail_outbox::recipient_email)
        .distinct()
        .order(mail_outbox::recipient_email)
        .limit(limit)
        .load(conn)
}

/// The mails waiting for a digest of `delivery` for these addresses, queued until
/// `upto`, by address and id.
pub fn digest_items(
    conn: &mut AnyConnection,
    delivery: Delivery,
    upto: NaiveDateTime,
    emails: &[String],
) -> QueryResult<Vec<MailRow>> {
    waiting_for_digest(delivery, upto)
        .filter(mail_outbox::recipient_email.eq_any(emails.to_vec()))
        .select(MailRow::as_select())
        .order((mail_outbox::recipient_email, mail_outbox::id))
        .load(conn)
}

/// Marks mails as carried by a digest, in the digest's transaction.
pub fn mark_digested(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<()> {
    for chunk in ids.chunks(500) {
        diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(chunk)))
            .set(mail_outbox::status.eq(MailStatus::Digested.as_str()))
            .execute(conn)?;
    }
    Ok(())
}
