//! Signing in to the staff console: passwords hashed with argon2id (the crate's default
//! parameters), sessions made from 32 random bytes of which only a SHA-256 hash is
//! stored, one CSRF token per session, expiry (8 hours idle, 24 hours at most) and a
//! lock of 15 minutes after 5 failed logins in a row. The caller a session stands for is
//! built exactly as an API key's staff owner is, so the console and the API share every
//! permission rule.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{NaiveDateTime, TimeDelta};
use sha2::{Digest, Sha256};

use super::actor::{Actor, StaffActor};
use super::audit::{self, Target};
use super::error::{AppError, AppResult};
use super::ids::{DepartmentId, MunicipalityId, StaffUserId};
use super::vocab::Role;
use crate::storage::models::StaffUserRow;
use crate::storage::sessions::{self as store, NewSession};
use crate::storage::{self, Db, now};

/// Failed logins in a row that lock an account.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// A session unused this long ends.
pub const IDLE_HOURS: i64 = 8;
/// A session ends this long after login, however busy.
pub const ABSOLUTE_HOURS: i64 = 24;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 200;

fn random_token() -> AppResult<String> {
    let b = super::api_keys::random_bytes::<32>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random token for forms that come before a session (the login form's CSRF cookie).
pub fn new_form_token() -> AppResult<String> {
    random_token()
}

/// The argon2id hash (PHC string) of a password.
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = super::api_keys::random_bytes::<16>()?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks a new password: long enough, not absurdly long.
pub fn check_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(AppError::field_ja(
            "password",
            "too_short",
            format!("use at least {PASSWORD_MIN} characters"),
            format!("{PASSWORD_MIN}文字以上にしてください"),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(AppError::field_ja(
            "password",
            "too_long",
            format!("use at most {PASSWORD_MAX} characters"),
            format!("{PASSWORD_MAX}文字以内にしてください"),
        ));
    }
    Ok(())
}

/// The staff user a session or login is for, as the console shows it.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub actor: Actor,
    pub staff: StaffActor,
    pub display_name: String,
    pub email: String,
    /// The municipality's code and name (none for a deployment admin).
    pub municipality: Option<(String, String)>,
    pub csrf_token: String,
    /// An administrator reset the password: until the user chooses a new one, the
    /// console shows nothing but the page to do so.
    pub must_change_password: bool,
}

/// The outcome of a login attempt.
#[derive(Debug)]
pub enum Login {
    /// Signed in: `token` goes into the session cookie.
    Ok { token: String },
    /// Unknown e-mail, wrong password, no password set or a disabled account: the same
    /// answer for all, so accounts cannot be probed.
    Invalid,
    /// Too many failed logins: try again after this time (UTC).
    Locked { until: NaiveDateTime },
}

fn staff_actor(user: &StaffUserRow) -> StaffActor {
    StaffActor {
        id: StaffUserId(user.id),
        role: Role::from_db(&user.role),
        municipality: user.municipality_id.map(MunicipalityId),
        department: user.department_id.map(DepartmentId),
    }
}

/// A well-formed hash of a password nobody has, verified when the e-mail is unknown so
/// that both answers take as long.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("kyoso-no-such-user-password").unwrap_or_default())
}

/// Writes a sign-in (or a failed one) to the audit log. The e-mail typed for an unknown
/// account is not kept: people type passwords into the wrong field.
fn audit_sign_in(
    conn: &mut storage::AnyConnection,
    user: Option<&StaffUserRow>,
    ok: bool,
    reason: &str,
) -> AppResult<()> {
    let actor = match user {
        Some(u) => Actor::Staff(staff_actor(u)),
        None => Actor::Anonymous,
    };
    audit::record(
        conn,
        Some(&actor),
        if ok { "sign_in" } else { "sign_in_failed" },
        Target {
            kind: "staff_user",
            id: user.map(|u| u.id),
            label: user.map_or("", |u| u.email.as_str()),
            municipality: user.and_then(|u| u.municipality_id),
        },
        if reason.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::json!({ "reason": reason })
        },
    )
}

/// Signs a staff user in with e-mail and password.
pub fn login(db: &Db, email: &str, password: &str) -> AppResult<Login> {
    let email = email.trim().to_lowercase();
    let user = db.read(|conn| Ok(store::staff_by_email(conn, &email)?))?;
    let at = now();
    let Some(user) = user else {
        verify_password(password, dummy_hash());
        db.write(|conn| audit_sign_in(conn, None, false, "unknown_account"))?;
        return Ok(Login::Invalid);
    };
    if let Some(until) = user.locked_until.filter(|u| *u > at) {
        db.write(|conn| audit_sign_in(conn, Some(&user), false, "locked"))?;
        return Ok(Login::Locked { until });
    }
    let good = match &user.password_hash {
        Some(h) => verify_password(password, h),
        None => {
            verify_password(password, dummy_hash());
            false
        }
    };
    if !good || user.status != "active" {
        let reason = if good { "disabled" } else { "wrong_password" };
        return db.write(|conn| {
            audit_sign_in(conn, Some(&user), false, reason)?;
            record_failure(conn, user.id, at)
        });
    }
    let token = random_token()?;
    let csrf_token = random_token()?;
    db.write(|conn| {
        store::set_login_failures(conn, user.id, 0, None)?;
        store::delete_expired(conn, at, at - TimeDelta::hours(IDLE_HOURS))?;
        store::insert(
            conn,
            &NewSession {
                token_hash: &hash_token(&token),
                staff_user_id: user.id,
                csrf_token: &csrf_token,
                created_at: at,
                last_seen_at: at,
                expires_at: at + TimeDelta::hours(ABSOLUTE_HOURS),
            },
        )?;
        // A session of a user who must choose a new password is limited to that page
        // by `session` (StaffSession::must_change_password), which reads the flag.
        audit_sign_in(conn, Some(&user), true, "")
    })?;
    Ok(Login::Ok { token })
}

/// Counts a wrong password, in the database inside the caller's write transaction so
/// that parallel attempts cannot get past the limit; the fifth in a row locks the
/// account and ends its sessions.
fn record_failure(
    conn: &mut storage::AnyConnection,
    staff_user_id: i64,
    at: NaiveDateTime,
) -> AppResult<Login> {
    let fresh = storage::staff::find(conn, staff_user_id)?.ok_or(AppError::Unauthenticated)?;
    let failures = if fresh.locked_until.is_some() {
        1
    } else {
        fresh.failed_logins + 1
    };
    if failures >= MAX_FAILED_LOGINS {
        let until = at + TimeDelta::minutes(LOCK_MINUTES);
        store::set_login_failures(conn, staff_user_id, 0, Some(until))?;
        store::delete_of_staff(conn, staff_user_id)?;
        Ok(Login::Locked { until })
    } else {
        store::set_login_failures(conn, staff_user_id, failures, None)?;
        Ok(Login::Invalid)
    }
}

/// The live session a cookie token names, or `None` (unknown, expired, or the staff
/// user disabled). An expired session is deleted on the way.
pub fn session(db: &Db, token: &str) -> AppResult<Option<StaffSession>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let hash = hash_token(token);
    let at = now();
    let found = db.read(|conn| {
        let Some((s, user)) = store::find(conn, &hash)? else {
            return Ok(None);
        };
        let municipality = match user.municipality_id {
            Some(m) => {
                let m = storage::municipalities::by_id(conn, m)?;
                Some((m.code, m.name))
            }
            None => None,
        };
        Ok(Some((s, user, municipality)))
    })?;
    let Some((s, user, municipality)) = found else {
        return Ok(None);
    };
    let expired = s.expires_at <= at || s.last_seen_at + TimeDelta::hours(IDLE_HOURS) <= at;
    if expired || user.status != "active" {
        db.write(|conn| Ok(store::delete_by_id(conn, s.id)?))?;
        return Ok(None);
    }
    // Record use at most once a minute: a write per page would serialise SQLite readers.
    if at - s.last_seen_at > TimeDelta::minutes(1) {
        db.write(|conn| Ok(store::touch(conn, s.id, at)?))?;
    }
    let staff = staff_actor(&user);
    Ok(Some(StaffSession {
        actor: Actor::Staff(staff.clone()),
        staff,
        display_name: user.display_name,
        email: user.email,
        municipality,
        csrf_token: s.csrf_token,
        must_change_password: user.must_change_password,
    }))
}

/// Ends the session a cookie token names (nothing happens for an unknown token).
pub fn logout(db: &Db, token: &str) -> AppResult<()> {
    let hash = hash_token(token);
    db.write(|conn| Ok(store::delete(conn, &hash).map(drop)?))
}

/// Sets a staff user's password and ends the user's sessions; `actor` is `None` for
/// the CLI, which runs with the operator's authority, or an admin of the user's
/// municipality (a deployment admin for anyone).
///
/// An admin's reset of *another* user's password is a reset: it also revokes the user's
/// API keys, uses up any open invitation, and makes the user choose a new password at
/// the next sign-in — the admin knows the password they typed, so it must not stay the
/// user's credential. The operator's CLI sets passwords for first sign-ins and does not.
pub fn set_password(db: &Db, actor: Option<&Actor>, email: &str, password: &str) -> AppResult<()> {
    check_password(password)?;
    let hash = hash_password(password)?;
    let email = email.trim().to_lowercase();
    db.write(|conn| {
        let user = store::staff_by_email(conn, &email)?.ok_or(AppError::NotFound("staff user"))?;
        let mut reset = false;
        if let Some(a) = actor {
            let own = a.staff().is_some_and(|s| s.id.0 == user.id);
            reset = !own;
            if !own {
                match user.municipality_id {
                    Some(m) => {
                        a.require_staff_of(MunicipalityId(m), super::actor::ADMINS)?;
                    }
                    None => {
                        a.require_deployment_admin()?;
                    }
                }
            }
        }
        store::set_password_hash(conn, user.id, &hash, now())?;
        let sessions_ended = store::delete_of_staff(conn, user.id)?;
        let mut keys_revoked = 0;
        if reset {
            keys_revoked = storage::api_keys::revoke_of_staff(conn, user.id)?;
            storage::invitations::expire_of_staff(conn, user.id, now())?;
        }
        storage::staff::set_must_change_password(conn, user.id, reset)?;
        audit::record(
            conn,
            actor,
            if reset {
                "password_reset"
            } else {
                "password_set"
            },
            Target {
                kind: "staff_user",
                id: Some(user.id),
                label: &user.email,
                municipality: user.municipality_id,
            },
            serde_json::json!({
                "sessions_ended": sessions_ended,
                "api_keys_revoked": keys_revoked,
                "must_change_password": reset,
            }),
        )
    })
}

/// Changes the signed-in user's own password. The current password must be given: a
/// wrong one counts as a failed login (five in a row lock the account and end its
/// sessions), so an unattended session cannot be used to guess it. The user's other
/// sessions end; the one `keep_token` names stays signed in.
pub fn change_own_password(
    db: &Db,
    staff: StaffUserId,
    current: &str,
    new: &str,
    keep_token: &str,
) -> AppResult<()> {
    let user = db.read(|conn| Ok(storage::staff::find(conn, staff.0)?))?;
    let user = user.ok_or(AppError::Unauthenticated)?;
    if user.must_change_password && current == new {
        return Err(AppError::field_ja(
            "new_password",
            "unchanged",
            "choose a password other than the one an administrator set",
            "管理者が設定したものとは別のパスワードにしてください",
        ));
    }
    let good = user
        .password_hash
        .as_deref()
        .is_some_and(|h| verify_password(current, h));
    let at = now();
    if !good {
        let outcome = db.write(|conn| record_failure(conn, user.id, at))?;
        return Err(match outcome {
            Login::Locked { .. } => AppError::Unauthenticated,
            _ => AppError::field_ja(
                "current_password",
                "wrong",
                "the current password is not correct",
                "正しくありません",
            ),
        });
    }
    check_password(new)?;
    let hash = hash_password(new)?;
    let keep = hash_token(keep_token);
    db.write(|conn| {
        store::set_password_hash(conn, user.id, &hash, at)?;
        store::set_login_failures(conn, user.id, 0, None)?;
        store::delete_of_staff_except(conn, user.id, &keep)?;
        storage::staff::set_must_change_password(conn, user.id, false)?;
        audit::record(
            conn,
            Some(&Actor::Staff(staff_actor(&user))),
            "password_set",
            Target {
                kind: "staff_user",
                id: Some(user.id),
                label: &user.email,
                municipality: user.municipality_id,
            },
            serde_json::json!({ "own": true }),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert!(check_password("short").is_err());
        assert!(check_password("long enough password").is_ok());
    }
}
