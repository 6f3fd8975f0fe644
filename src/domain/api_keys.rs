//! API keys: made from 32 random bytes, shown once, stored only as a SHA-256 hash with a
//! public prefix for lookup; listed by prefix; revocable. Keys are high-entropy, so a fast
//! hash is enough (a slow password hash would only slow every request).

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::actor::{Actor, StaffActor};
use super::error::{AppError, AppResult};
use super::ids::{ApiKeyId, DepartmentId, MunicipalityId, PartnerId, StaffUserId};
use super::utc;
use super::validate::Check;
use super::vocab::{PartnerStatus, Role};
use crate::storage::models::{ApiKeyRow, NewApiKey};
use crate::storage::{self, AnyConnection, Db, now};
use chrono::{DateTime, Utc};

const KEY_PREFIX: &str = "kyoso_";

/// A key as its owner sees it after creation: the secret appears here once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedKey {
    pub id: ApiKeyId,
    pub label: String,
    pub prefix: String,
    /// The whole key. Send it as `Authorization: Bearer <key>`. It is not shown again.
    pub key: String,
}

/// A key as listed: never the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    pub id: ApiKeyId,
    pub label: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for KeyInfo {
    fn from(r: ApiKeyRow) -> Self {
        Self {
            id: ApiKeyId(r.id),
            label: r.label,
            prefix: r.prefix,
            created_at: utc(r.created_at),
            last_used_at: r.last_used_at.map(utc),
            revoked_at: r.revoked_at.map(utc),
        }
    }
}

/// Bytes from the operating system's random source; its failure (no entropy source at
/// all) ends the request with an internal error rather than a guessable key.
pub(crate) fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "the operating system's random source failed: {e}"
        ))
    })?;
    Ok(b)
}

fn hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Owner of a new key.
pub enum KeyOwner {
    Partner(PartnerId),
    Staff(StaffUserId),
}

/// Creates a key inside the caller's transaction.
pub fn issue(conn: &mut AnyConnection, owner: KeyOwner, label: &str) -> AppResult<IssuedKey> {
    let prefix: String = random_bytes::<6>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let key = format!("{KEY_PREFIX}{prefix}_{secret}");
    let (partner_id, staff_user_id) = match owner {
        KeyOwner::Partner(p) => (Some(p.0), None),
        KeyOwner::Staff(s) => (None, Some(s.0)),
    };
    let row = storage::api_keys::insert(
        conn,
        &NewApiKey {
            partner_id,
            staff_user_id,
            label,
            prefix: &prefix,
            secret_hash: &hash(&key),
            created_at: now(),
        },
    )?;
    Ok(IssuedKey {
        id: ApiKeyId(row.id),
        label: row.label,
        prefix,
        key,
    })
}

/// Finds who a bearer key belongs to. Unknown, malformed and revoked keys are all
/// `Unauthenticated`, without saying which.
pub fn authenticate(db: &Db, key: &str) -> AppResult<Actor> {
    let prefix = key
        .strip_prefix(KEY_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .map(|(p, _)| p)
        .filter(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(AppError::Unauthenticated)?;
    let (actor, row_id, last_used) = db.read(|conn| {
        let row = storage::api_keys::by_prefix(conn, prefix)?.ok_or(AppError::Unauthenticated)?;
        if row.revoked_at.is_some()
            || !constant_time_eq(row.secret_hash.as_bytes(), hash(key).as_bytes())
        {
            return Err(AppError::Unauthenticated);
        }
        let actor = match (row.partner_id, row.staff_user_id) {
            (Some(p), _) => {
                let partner = storage::partners::find(conn, p)?.ok_or(AppError::Unauthenticated)?;
                if PartnerStatus::from_db(&partner.status)? == PartnerStatus::Suspended {
                    return Err(AppError::Forbidden(
                        "this partner account is suspended; contact the municipality",
                    ));
                }
                Actor::Partner(PartnerId(p))
            }
            (None, Some(s)) => {
                let user = storage::staff::find(conn, s)?.ok_or(AppError::Unauthenticated)?;
                if user.status != "active" {
                    return Err(AppError::Unauthenticated);
                }
                Actor::Staff(StaffActor {
                    id: StaffUserId(user.id),
                    role: Role::from_db(&user.role)?,
                    municipality: user.municipality_id.map(MunicipalityId),
                    department: user.department_id.map(DepartmentId),
                })
            }
            (None, None) => return Err(AppError::Unauthenticated),
        };
        Ok((actor, row.id, row.last_used_at))
    })?;
    // Record use at most once a minute: a write per request would serialise readers on SQLite.
    if last_used.is_none_or(|t| now() - t > chrono::TimeDelta::minutes(1)) && claim_touch(row_id) {
        // The record is bookkeeping, written beside the request: neither a busy writer
        // (SQLite's single writer is held for seconds by start-up jobs) nor a failing
        // database may delay or fail an authenticated read.
        let db = db.clone();
        let spawned = std::thread::Builder::new()
            .name("api-key-use".into())
            .spawn(move || {
                if let Err(e) =
                    db.write(|conn| -> AppResult<_> { Ok(storage::api_keys::touch(conn, row_id)?) })
                {
                    log::warn!("could not record the use of API key {row_id}: {e}");
                }
            });
        if let Err(e) = spawned {
            log::warn!("could not record the use of API key {row_id}: {e}");
        }
    }
    Ok(actor)
}

/// Whether this request records the use of key `row_id`: one request per key and
/// minute in this process. Without it every request that arrives before the first
/// record commits (sixteen at once under load, all after start) queues for the single
/// SQLite writer to write the same timestamp.
fn claim_touch(row_id: i64) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};
    const EVERY: Duration = Duration::from_secs(60);
    static RECENT: OnceLock<Mutex<HashMap<i64, Instant>>> = OnceLock::new();
    let mut recent = RECENT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let at = Instant::now();
    if recent.len() > 10_000 {
        recent.retain(|_, t| at.duration_since(*t) < EVERY);
    }
    match recent.get(&row_id) {
        Some(t) if at.duration_since(*t) < EVERY => false,
        _ => {
            recent.insert(row_id, at);
            true
        }
    }
}

fn owner_of(actor: &Actor) -> AppResult<(Option<i64>, Option<i64>)> {
    match actor {
        Actor::Partner(p) => Ok((Some(p.0), None)),
        Actor::Staff(s) => Ok((None, Some(s.id.0))),
        Actor::Anonymous => Err(AppError::Unauthenticated),
    }
}

pub fn list(db: &Db, actor: &Actor) -> AppResult<Vec<KeyInfo>> {
    let (p, s) = owner_of(actor)?;
    db.read(|conn| {
        Ok(storage::api_keys::list(conn, p, s)?
            .into_iter()
            .map(KeyInfo::from)
            .collect())
    })
}

pub fn create(db: &Db, actor: &Actor, label: &str) -> AppResult<IssuedKey> {
    let mut check = Check::new();
    let label = check.line("label", label, 100);
    check.finish()?;
    let owner = match actor {
        Actor::Partner(p) => KeyOwner::Partner(*p),
        Actor::Staff(s) => KeyOwner::Staff(s.id),
        Actor::Anonymous => return Err(AppError::Unauthenticated),
    };
    db.write(|conn| {
        let key = issue(conn, owner, &label)?;
        audit_key(conn, actor, "api_key_issued", key.id.0, &key.prefix, &label)?;
        Ok(key)
    })
}

/// Writes a key's issue or revocation to the audit log: staff keys under the user's
/// municipality, partner keys under none (deployment admins see them).
fn audit_key(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    key_id: i64,
    prefix: &str,
    label: &str,
) -> AppResult<()> {
    let (kind, id, municipality) = match actor {
        Actor::Staff(s) => ("staff_user", Some(s.id.0), s.municipality.map(|m| m.0)),
        Actor::Partner(p) => ("partner", Some(p.0), None),
        Actor::Anonymous => ("anonymous", None, None),
    };
    super::audit::record(
        conn,
        Some(actor),
        action,
        super::audit::Target {
            kind,
            id,
            label: "",
            municipality,
        },
        serde_json::json!({ "key_id": key_id, "prefix": prefix, "label": label }),
    )
}

/// Revokes one of the caller's own keys. Another owner's key is "not found", so ids of
/// other owners' keys cannot be probed.
pub fn revoke(db: &Db, actor: &Actor, id: ApiKeyId) -> AppResult<()> {
    let (p, s) = owner_of(actor)?;
    db.write(|conn| {
        let row = storage::api_keys::find(conn, id.0)?.ok_or(AppError::NotFound("API key"))?;
        if (p.is_some() && row.partner_id != p) || (s.is_some() && row.staff_user_id != s) {
            return Err(AppError::NotFound("API key"));
        }
        storage::api_keys::revoke(conn, row.id)?;
        audit_key(
            conn,
            actor,
            "api_key_revoked",
            row.id,
            &row.prefix,
            &row.label,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
