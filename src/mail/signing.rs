//! Signed tokens for links that work without signing in (one-click unsubscribe):
//! HMAC-SHA256 over the payload and the time of issue with a key kept in the database,
//! so every node of a deployment signs and checks alike. The time of issue lets the
//! checker refuse links that are too old or that their recipient revoked
//! (`domain::notifications::unsubscribe`).

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::storage::{AnyConnection, job_state};

pub const KEY_NAME: &str = "mail_signing_key";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The deployment's signing key, created on first use.
pub fn key(conn: &mut AnyConnection) -> diesel::QueryResult<Vec<u8>> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh)
        .map_err(|e| diesel::result::Error::QueryBuilderError(Box::new(e)))?;
    let hex: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
    let stored = job_state::get_or_init(conn, KEY_NAME, &hex)?;
    Ok(stored.into_bytes())
}

/// The deployment's signing key if one was made, without making one (for reads).
pub fn existing_key(conn: &mut AnyConnection) -> diesel::QueryResult<Option<Vec<u8>>> {
    Ok(job_state::get(conn, KEY_NAME)?.map(String::into_bytes))
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // A key longer than the block is replaced by its digest; either way it is padded
    // with zeros to the 64-byte block.
    let digest;
    let key = if key.len() > 64 {
        digest = Sha256::digest(key);
        digest.as_slice()
    } else {
        key
    };
    let mut k = [0u8; 64];
    for (slot, b) in k.iter_mut().zip(key) {
        *slot = *b;
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// What a valid token says: its payload and when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub payload: String,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
}

/// The signed text: the payload and the time of issue, so neither can change alone.
fn signed_text(payload: &str, issued_at: i64) -> String {
    format!("{payload}\n{issued_at}")
}

/// A token for `payload`, issued now.
pub fn sign(key: &[u8], payload: &str) -> String {
    sign_at(key, payload, chrono::Utc::now().timestamp())
}

/// A token for `payload` issued at `issued_at` (seconds since the Unix epoch).
pub fn sign_at(key: &[u8], payload: &str, issued_at: i64) -> String {
    format!(
        "{}.{issued_at}.{}",
        B64.encode(payload),
        B64.encode(hmac(key, signed_text(payload, issued_at).as_bytes()))
    )
}

/// What a token signed with `key` says, or `None` when it was not signed with it (or
/// is of the older form without a time of issue, which is no longer accepted).
pub fn verify(key: &[u8], token: &str) -> Option<Signed> {
    let mut parts = token.split('.');
    let (p, issued, mac) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let payload = String::from_utf8(B64.decode(p).ok()?).ok()?;
    // Only the canonical decimal form, so one token has one spelling.
    let issued_at: i64 = issued.parse().ok()?;
    if issued_at.to_string() != issued {
        return None;
    }
    let given = B64.decode(mac).ok()?;
    let expected = hmac(key, signed_text(&payload, issued_at).as_bytes());
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(Signed { payload, issued_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tampering_is_detected() {
        let t = sign_at(b"k", "v1.partner.7.digest", 1_700_000_000);
        assert_eq!(
            verify(b"k", &t),
            Some(Signed {
                payload: "v1.partner.7.digest".into(),
                issued_at: 1_700_000_000
            })
        );
        assert!(verify(b"other", &t).is_none());
        let forged = sign_at(b"k", "v1.partner.8.digest", 1_700_000_000);
        let [_, _, mac] = forged.split('.').collect::<Vec<_>>()[..] else {
            panic!("three parts")
        };
        let [p, issued, _] = t.split('.').collect::<Vec<_>>()[..] else {
            panic!("three parts")
        };
        assert!(verify(b"k", &format!("{p}.{issued}.{mac}")).is_none());
        // Moving the time of issue forward breaks the signature.
        assert!(verify(b"k", &format!("{p}.1900000000.{mac}")).is_none());
        assert!(verify(b"k", &format!("{p}.01700000000.{mac}")).is_none());
        // The old two-part form (no time of issue) is refused.
        let old = format!("{p}.{mac}");
        assert!(verify(b"k", &old).is_none());
    }
}
