//! One-click unsubscribe (RFC 8058): the link in a bulk mail carries a signed token
//! naming the recipient and the kind; following it turns that kind off — for a digest,
//! every kind the recipient had in digests — without signing in.

use super::preferences::set_choice;
use super::{Choice, Kind, choice_for};
use crate::domain::error::{AppError, AppResult};
use crate::mail::outbox::RecipientRef;
use crate::mail::signing;
use crate::storage::Db;

/// What was turned off, as labels for the confirmation page.
pub fn apply(db: &Db, token: &str) -> AppResult<Vec<&'static str>> {
    db.write(|conn| {
        let key = signing::key(conn)?;
        let bad = || AppError::field("token", "invalid", "this unsubscribe link is not valid");
        let payload = signing::verify(&key, token).ok_or_else(bad)?;
        let parts: Vec<&str> = payload.split('.').collect();
        let [version, t, id, kind] = parts[..] else {
            return Err(bad());
        };
        let id: i64 = id.parse().map_err(|_| bad())?;
        if version != "v1" {
            return Err(bad());
        }
        let who = match RecipientRef::from_parts(t, Some(id)) {
            RecipientRef::Guest => return Err(bad()),
            w => w,
        };
        let kinds: Vec<Kind> = if kind == "digest" {
            let mut v = vec![];
            for k in Kind::ALL {
                if matches!(choice_for(conn, who, k)?, Choice::Daily | Choice::Weekly) {
                    v.push(k);
                }
            }
            v
        } else {
            vec![Kind::parse(kind).ok_or_else(bad)?]
        };
        for k in &kinds {
            set_choice(conn, who, *k, Choice::Off)?;
        }
        Ok(kinds.iter().map(|k| k.label_ja()).collect())
    })
}
