//! Signed tokens for links that work without signing in (one-click unsubscribe):
//! HMAC-SHA256 over the payload with a key kept in the database, so every node of a
//! deployment signs and checks alike.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::storage::{AnyConnection, job_state};

const KEY_NAME: &str = "mail_signing_key";
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

pub fn sign(key: &[u8], payload: &str) -> String {
    format!(
        "{}.{}",
        B64.encode(payload),
        B64.encode(hmac(key, payload.as_bytes()))
    )
}

/// The payload of a token signed with `key`, or `None` when it was not.
pub fn verify(key: &[u8], token: &str) -> Option<String> {
    let (p, mac) = token.split_once('.')?;
    let payload = String::from_utf8(B64.decode(p).ok()?).ok()?;
    let given = B64.decode(mac).ok()?;
    let expected = hmac(key, payload.as_bytes());
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(payload)
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
        let t = sign(b"k", "v1.partner.7.digest");
        assert_eq!(verify(b"k", &t).as_deref(), Some("v1.partner.7.digest"));
        assert!(verify(b"other", &t).is_none());
        let forged = sign(b"k", "v1.partner.8.digest");
        let (_, mac) = forged.split_once('.').unwrap();
        let (p, _) = t.split_once('.').unwrap();
        assert!(verify(b"k", &format!("{p}.{mac}")).is_none());
    }
}
