//! One-click unsubscribe (RFC 8058): the link in a bulk mail carries a signed token
//! naming the recipient and the kind; following it turns that kind off — for a digest,
//! every kind the recipient had in digests — without signing in.
//!
//! A link is a bearer secret that lives in mailboxes, forwards and archives, so it does
//! not live for ever: it carries its time of issue, works for [`MAX_AGE_DAYS`], and a
//! recipient can void every link issued so far from their notification settings
//! ([`revoke_links`]). A refused link gets a page saying why, never an error.

use super::preferences::set_choice;
use super::{Choice, Kind, choice_for};
use crate::domain::error::AppResult;
use crate::mail::outbox::RecipientRef;
use crate::mail::signing;
use crate::storage::{AnyConnection, Db, job_state};

/// How long an unsubscribe link works: a year, longer than any digest or reminder
/// cycle, so a person acting on a recent mail always can.
pub const MAX_AGE_DAYS: i64 = 365;

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a link kyoso signed (or mangled in transit).
    Invalid,
    /// Older than [`MAX_AGE_DAYS`].
    Expired,
    /// Issued before the recipient voided their links.
    Revoked,
}

/// What following a link did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// These kinds were turned off (labels for the confirmation page).
    Unsubscribed(Vec<&'static str>),
    Refused(Refused),
}

/// A token's recipient and kind, once it passed every check.
struct Valid {
    who: RecipientRef,
    kind: String,
}

fn check(
    conn: &mut AnyConnection,
    key: &[u8],
    token: &str,
    now: i64,
) -> AppResult<Result<Valid, Refused>> {
    let Some(signed) = signing::verify(key, token) else {
        return Ok(Err(Refused::Invalid));
    };
    let parts: Vec<&str> = signed.payload.split('.').collect();
    let ["v1", t, id, kind] = parts[..] else {
        return Ok(Err(Refused::Invalid));
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(Err(Refused::Invalid));
    };
    let who = match RecipientRef::from_parts(t, Some(id)) {
        RecipientRef::Guest => return Ok(Err(Refused::Invalid)),
        w => w,
    };
    if kind != "digest" && Kind::parse(kind).is_none() {
        return Ok(Err(Refused::Invalid));
    }
    let age = now.saturating_sub(signed.issued_at);
    // A time of issue in the future (beyond clock skew between nodes) is not one this
    // deployment wrote.
    if age < -300 {
        return Ok(Err(Refused::Invalid));
    }
    if age > MAX_AGE_DAYS.saturating_mul(86_400) {
        return Ok(Err(Refused::Expired));
    }
    if signed.issued_at < not_before(conn, who)? {
        return Ok(Err(Refused::Revoked));
    }
    Ok(Ok(Valid {
        who,
        kind: kind.to_owned(),
    }))
}

/// Links of `who` issued before this time (seconds since the epoch) are void; 0 when
/// the recipient never voided any.
fn not_before(conn: &mut AnyConnection, who: RecipientRef) -> AppResult<i64> {
    let (t, Some(id)) = who.parts() else {
        return Ok(0);
    };
    Ok(crate::storage::link_revocations::not_before(conn, t, id)?.unwrap_or(0))
}

/// Voids every link issued to `who` until now, inside the caller's transaction; links in
/// mails sent from now on work.
pub fn revoke_links(conn: &mut AnyConnection, who: RecipientRef) -> AppResult<()> {
    let (t, Some(id)) = who.parts() else {
        return Ok(());
    };
    let now = chrono::Utc::now().timestamp();
    Ok(crate::storage::link_revocations::set(conn, t, id, now)?)
}

/// Whether a link would be accepted, without changing anything (for the page that asks
/// before unsubscribing).
pub fn inspect(db: &Db, token: &str) -> AppResult<Option<Refused>> {
    db.read(|conn| {
        // Without a key nothing was ever signed.
        let Some(hex) = job_state::get(conn, signing::KEY_NAME)? else {
            return Ok(Some(Refused::Invalid));
        };
        let now = chrono::Utc::now().timestamp();
        Ok(check(conn, hex.as_bytes(), token, now)?.err())
    })
}

/// Follows a link: turns its kind off, or says why it cannot.
pub fn apply(db: &Db, token: &str) -> AppResult<Outcome> {
    db.write(|conn| {
        let key = signing::key(conn)?;
        let now = chrono::Utc::now().timestamp();
        let Valid { who, kind } = match check(conn, &key, token, now)? {
            Ok(v) => v,
            Err(r) => return Ok(Outcome::Refused(r)),
        };
        let kinds: Vec<Kind> = if kind == "digest" {
            let mut v = vec![];
            for &k in Kind::ALL {
                if matches!(choice_for(conn, who, k)?, Choice::Daily | Choice::Weekly) {
                    v.push(k);
                }
            }
            v
        } else {
            Kind::parse(&kind).into_iter().collect()
        };
        for k in &kinds {
            set_choice(conn, who, *k, Choice::Off)?;
        }
        Ok(Outcome::Unsubscribed(
            kinds.iter().map(|k| k.label_ja()).collect(),
        ))
    })
}
