//! Claims on outbox rows: who may send a mail and record its outcome.
//!
//! The sender claims due rows with a fresh random `ClaimToken` and a lease (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes never take the same row),
//! renews the lease right before each message, and records the outcome only where the
//! token is still its own. Another sender may take a row only once its lease ran out,
//! so a mail goes twice only if its sender died (or lost the database) between handing
//! it to SMTP and recording it, or if one send outlasted the lease; the second copy
//! carries the same Message-ID.
//!
//! Failures: transient ones (no connection, timeouts, 4xx, TLS) wait with exponential
//! backoff up to a cap and stay `pending` however long they last; administrators see
//! them as delayed. Permanent refusals end as `failed` after `MAX_REJECTIONS`.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::outbox::MailRow;
use crate::storage::schema::mail_outbox;
use crate::storage::{AnyConnection, now};
use crate::values::vocab::MailStatus;

/// A mail refused this many times for good (5xx about the message or its recipient)
/// ends as `failed`. Not one refusal: some servers answer 5xx for a passing trouble,
/// and with the capped backoff eight refusals span about an hour, time enough for the
/// deployment admins to see the mail listed as delayed. Transient failures (no answer,
/// timeouts, 4xx, TLS) never count here: an outage delays mail but never fails it.
pub const MAX_REJECTIONS: i32 = 8;
/// The first retry waits this long; each further failure doubles the wait up to the
/// sender's cap (`SenderConfig::backoff_cap`).
pub const FIRST_BACKOFF: TimeDelta = TimeDelta::seconds(30);

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
    // The index `mail_outbox_claim` holds exactly the claimable rows in id order, so a
    // claim reads about one batch even with a large backlog. SQLite's planner, without
    // statistics, prefers an equality index and sorts every pending row instead, so
    // it is named there; the `status IN` term repeats the index's condition word for
    // word, as SQLite requires to use a partial index.
    let (lock, index) = match conn {
        AnyConnection::Postgresql(_) => (" FOR UPDATE SKIP LOCKED", ""),
        AnyConnection::Sqlite(_) => ("", " INDEXED BY mail_outbox_claim"),
    };
    // A row claimed by a sender from before leases (no `lease_until`) counts as held
    // for one lease from its claim.
    let sql = format!(
        "UPDATE mail_outbox SET status = 'sending', claimed_by = $1, claimed_at = $2, \
         claim_token = $3, lease_until = $4 WHERE id IN (\
         SELECT id FROM mail_outbox{index} WHERE delivery = 'immediate' AND \
         status IN ('pending', 'sending') AND ((status = 'pending' AND next_attempt_at <= $2) OR \
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
            .filter(mail_outbox::status.eq(MailStatus::Sending.as_str()))
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
            mail_outbox::status.eq(MailStatus::Sent.as_str()),
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
        MailStatus::Failed
    } else {
        MailStatus::Pending
    };
    let error: String = error.chars().take(1000).collect();
    diesel::update(held!(row.id, token))
        .set((
            mail_outbox::status.eq(status.as_str()),
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
