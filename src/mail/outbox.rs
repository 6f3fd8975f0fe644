//! The mail outbox: one row per e-mail with a unique dedupe key, written inside the
//! caller's transaction, so a mail exists exactly when its cause was committed.
//!
//! Claims: the sender claims due rows with a fresh random `ClaimToken` and a lease (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes never take the same row),
//! renews the lease before each message, and records the outcome only where the token
//! is still its own. Another sender may take a row only once its lease ran out, so a
//! mail goes twice only if its sender died (or lost the database) between handing it
//! to SMTP and recording it, or if one send outlasted the lease.
//!
//! Failures: transient ones (no connection, timeouts, 4xx, TLS) wait with exponential
//! backoff up to a cap and stay `pending` however long they last; admins see them as
//! delayed. Permanent refusals end as `failed` after `MAX_REJECTIONS`.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::templates::Rendered;
use crate::domain::vocab::Locale;
use crate::storage::schema::mail_outbox;
use crate::storage::{AnyConnection, now};

/// A mail refused this many times for good (5xx about the message or its recipient)
/// ends as `failed`. Not one refusal: some servers answer 5xx for a passing trouble,
/// and with the capped backoff eight refusals span about an hour, time enough for the
/// deployment admins to see the mail listed as delayed. Transient failures (no answer,
/// timeouts, 4xx, TLS) never count here: an outage delays mail but never fails it.
pub const MAX_REJECTIONS: i32 = 8;
/// The first retry waits this long; each further failure doubles the wait up to the
/// sender's cap (`SenderConfig::backoff_cap`).
pub const FIRST_BACKOFF: TimeDelta = TimeDelta::seconds(30);

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
    pub claim_token: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub rejections: i32,
}

/// Proof that a claim is the holder's own: random and new for every claim, so a sender
/// whose lease ran out (and whose rows another sender took) can no longer record
/// anything for them, not even after a restart under the same worker name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

impl ClaimToken {
    pub fn new() -> ClaimToken {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut random = [0u8; 16];
        // Uniqueness is what matters, not secrecy: should the system's random source
        // fail, the process id, the clock and a counter still tell claims apart.
        if let Err(e) = getrandom::fill(&mut random) {
            log::warn!("claim token without the system's random source: {e}");
        }
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        ClaimToken(format!("{hex}.{}.{nanos}.{n}", std::process::id()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ClaimToken {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes up to `limit` due immediate mails for `worker` under `token`, each held until
/// `lease` from now. A row whose lease ran out (its sender died or stalled) is taken
/// again.
pub fn claim(
    conn: &mut AnyConnection,
    worker: &str,
    token: &ClaimToken,
    limit: i64,
    lease: TimeDelta,
) -> QueryResult<Vec<MailRow>> {
    let at = now();
    // Row locking differs: PostgreSQL skips rows another node holds; SQLite has one
    // writer at a time, so the plain subquery is already exclusive.
    let lock = match conn {
        AnyConnection::Postgresql(_) => " FOR UPDATE SKIP LOCKED",
        AnyConnection::Sqlite(_) => "",
    };
    // A row claimed by a sender from before leases (no `lease_until`) counts as held
    // for one lease from its claim.
    let sql = format!(
        "UPDATE mail_outbox SET status = 'sending', claimed_by = $1, claimed_at = $2, \
         claim_token = $3, lease_until = $4 WHERE id IN (\
         SELECT id FROM mail_outbox WHERE delivery = 'immediate' AND \
         ((status = 'pending' AND next_attempt_at <= $2) OR \
          (status = 'sending' AND lease_until < $2) OR \
          (status = 'sending' AND lease_until IS NULL AND claimed_at < $5)) \
         ORDER BY id LIMIT $6{lock}) RETURNING *"
    );
    let mut rows: Vec<MailRow> = diesel::sql_query(sql)
        .bind::<Text, _>(worker)
        .bind::<Timestamp, _>(at)
        .bind::<Text, _>(token.as_str())
        .bind::<Timestamp, _>(at + lease)
        .bind::<Timestamp, _>(at - lease)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// The row `id` while `token` still holds it.
macro_rules! held {
    ($id:expr, $token:expr) => {
        mail_outbox::table
            .find($id)
            .filter(mail_outbox::status.eq("sending"))
            .filter(mail_outbox::claim_token.eq($token.as_str()))
    };
}

/// Extends the claim on `id` to `lease` from now, if `token` still holds it. The sender
/// calls this right before each message, so the lease always outlasts the send in
/// hand however long the mails before it took. Returns false when the claim was lost.
pub fn renew(
    conn: &mut AnyConnection,
    id: i64,
    token: &ClaimToken,
    lease: TimeDelta,
) -> QueryResult<bool> {
    diesel::update(held!(id, token))
        .set(mail_outbox::lease_until.eq(now() + lease))
        .execute(conn)
        .map(|n| n == 1)
}

/// Records that `id` was sent, if `token` still holds it; returns whether it did.
pub fn mark_sent(conn: &mut AnyConnection, id: i64, token: &ClaimToken) -> QueryResult<bool> {
    diesel::update(held!(id, token))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::sent_at.eq(now()),
            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            mail_outbox::last_error.eq(None::<String>),
            mail_outbox::claim_token.eq(None::<String>),
            mail_outbox::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Whether a failed send is worth trying again as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server or the network was away, slow or busy (4xx): the mail waits.
    Transient,
    /// The server refused this message or recipient for good (5xx), or the message
    /// cannot be built: trying again is unlikely to help.
    Permanent,
}

/// The wait after the `n`-th failure: 30 s, 1 min, 2 min … at most `cap`. The cap keeps
/// mail flowing soon after a long outage ends instead of hours later.
pub fn backoff(n: i32, cap: TimeDelta) -> TimeDelta {
    let doublings = n.clamp(1, 20) - 1;
    FIRST_BACKOFF
        .checked_mul(1 << doublings)
        .unwrap_or(cap)
        .min(cap)
        .max(TimeDelta::zero())
}

/// Records a failed attempt, if `token` still holds the row; returns whether it did.
/// The mail waits for its next attempt; it ends as `failed` only after
/// `MAX_REJECTIONS` permanent refusals.
pub fn mark_failed_attempt(
    conn: &mut AnyConnection,
    row: &MailRow,
    token: &ClaimToken,
    kind: FailureKind,
    error: &str,
    backoff_cap: TimeDelta,
) -> QueryResult<bool> {
    let attempts = row.attempts.saturating_add(1);
    let (rejections, wait) = match kind {
        FailureKind::Transient => (row.rejections, backoff(attempts, backoff_cap)),
        FailureKind::Permanent => {
            let r = row.rejections.saturating_add(1);
            (r, backoff(r, backoff_cap))
        }
    };
    let status = if rejections >= MAX_REJECTIONS {
        "failed"
    } else {
        "pending"
    };
    let error: String = error.chars().take(1000).collect();
    diesel::update(held!(row.id, token))
        .set((
            mail_outbox::status.eq(status),
            mail_outbox::attempts.eq(attempts),
            mail_outbox::rejections.eq(rejections),
            mail_outbox::last_error.eq(Some(error)),
            mail_outbox::next_attempt_at.eq(now() + wait),
            mail_outbox::claimed_by.eq(None::<String>),
            mail_outbox::claimed_at.eq(None::<NaiveDateTime>),
            mail_outbox::claim_token.eq(None::<String>),
            mail_outbox::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
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
pub enum Listing<'a> {
    All,
    Status(&'a str),
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
            .filter(mail_outbox::status.eq(s.to_owned()))
            .order(mail_outbox::id.desc()),
        Listing::Delayed => q
            .filter(mail_outbox::status.eq("pending"))
            .filter(mail_outbox::attempts.gt(0))
            .order((mail_outbox::next_attempt_at, mail_outbox::id)),
    }
    .load(conn)
}

/// How many queued mails have failed attempts behind them.
pub fn count_delayed(conn: &mut AnyConnection) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::status.eq("pending"))
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
            .filter(mail_outbox::status.eq("failed")),
    )
    .set((
        mail_outbox::status.eq("pending"),
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
            .filter(mail_outbox::status.eq_any(["sent", "digested"]))
            .filter(mail_outbox::created_at.lt(before)),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::{TimeDelta, backoff};

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cap = TimeDelta::minutes(30);
        assert_eq!(backoff(1, cap), TimeDelta::seconds(30));
        assert_eq!(backoff(2, cap), TimeDelta::minutes(1));
        assert_eq!(backoff(6, cap), TimeDelta::minutes(16));
        assert_eq!(backoff(7, cap), cap);
        assert_eq!(backoff(10_000, cap), cap);
        assert_eq!(
            backoff(3, TimeDelta::milliseconds(200)),
            TimeDelta::milliseconds(200)
        );
    }
}
