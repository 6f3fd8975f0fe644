//! Signing in to the staff console: passwords hashed with argon2id (the crate's default
//! parameters), sessions made from 32 random bytes of which only a SHA-256 hash is
//! stored, one CSRF token per session, expiry (8 hours idle, 24 hours at most) and the
//! defences against guessing: a per-account count of failed logins kept in the database
//! (atomic, so it holds across parallel attempts and nodes), a progressive lock, a
//! per-source throttle and a bound on password hashes running at once
//! (`domain::throttle`). The caller a session stands for is built exactly as an API
//! key's staff owner is, so the console and the API share every permission rule.
//!
//! Why the lock is not a denial-of-service tool (NIST SP 800-63B 5.2.2, OWASP ASVS
//! V2.2.1): every 5th failure in a row locks the account, 15 minutes the first time and
//! twice as long each time after (at most a day; from 100 failures in a row until a new
//! password is set); failures while locked are not counted, so guessing cannot speed
//! the locks up. A lock neither ends the account's sessions nor blocks a browser that
//! logged in to the account before (a signed device cookie, OWASP's "device cookies"):
//! a stranger can pause logins from new places, not shut the owner out. Every answer —
//! unknown address, wrong password, disabled or locked account — is the same and costs
//! one argon2 verification, so neither existence nor lock shows.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{NaiveDateTime, TimeDelta};
use sha2::{Digest, Sha256};

use super::actor::{Actor, StaffActor};
use super::audit::{self, Target};
use super::error::{AppError, AppResult};
use super::ids::{DepartmentId, MunicipalityId, StaffUserId};
use super::throttle::{Guards, HashPermit};
use super::vocab::Role;
use crate::storage::models::StaffUserRow;
use crate::storage::sessions::{self as store, NewSession};
use crate::storage::{self, Db, now};

/// Every this many failed logins in a row lock the account.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long the first lock lasts; each further lock in a row lasts twice as long.
pub const LOCK_MINUTES: i64 = 15;
/// The longest lock short of the last one.
pub const LOCK_MAX_HOURS: i64 = 24;
/// Failed logins in a row after which the account stays locked until a new password is
/// set (NIST SP 800-63B 5.2.2: at most 100).
pub const MAX_CONSECUTIVE_FAILURES: i32 = 100;
/// How long a browser that logged in stays trusted past a lock.
pub const DEVICE_DAYS: i64 = 30;
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
    /// The console's single-key shortcuts are on for this user.
    pub keyboard_shortcuts: bool,
}

fn staff_actor(user: &StaffUserRow) -> AppResult<StaffActor> {
    Ok(StaffActor {
        id: StaffUserId(user.id),
        role: Role::from_db(&user.role)?,
        municipality: user.municipality_id.map(MunicipalityId),
        department: user.department_id.map(DepartmentId),
    })
}

/// The outcome of a login attempt.
#[derive(Debug)]
pub enum Login {
    /// Signed in: `token` goes into the session cookie, `device` into the long-lived
    /// cookie that lets this browser past a later lock of the account.
    Ok { token: String, device: String },
    /// Unknown e-mail, wrong password, no password set, a disabled or a locked account:
    /// the same answer for all, so accounts cannot be probed.
    Invalid,
}

/// Where a login attempt comes from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The client's address, for the per-source throttle.
    pub address: String,
    /// The device cookie the browser sent, if any.
    pub device: Option<String>,
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
        Some(u) => Actor::Staff(staff_actor(u)?),
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

/// Signs a staff user in with e-mail and password. Refused with `rate_limited` before
/// any work when the source has failed too often lately or too many hashes are running.
pub fn login(
    db: &Db,
    guards: &Guards,
    source: &Source,
    email: &str,
    password: &str,
) -> AppResult<Login> {
    // A browser that logged in to this account before is throttled on its own, not
    // with its address: behind a NAT or a proxy many people share one address, and a
    // stranger's failures there must not keep the account's owner out.
    let throttle_key = match trusted_device_for(db, source, email)? {
        Some(device) => format!("device:{device}"),
        None => source.address.clone(),
    };
    // The throttle counts this attempt now (so a parallel burst cannot all pass the
    // check) and takes it back if the login succeeds or no work is done.
    guards
        .login_failures
        .hit(&throttle_key, guards.limits.login_failures_per_source)?;
    let permit = match guards.hashes.enter() {
        Ok(p) => p,
        Err(e) => {
            guards.login_failures.undo(&throttle_key);
            return Err(e);
        }
    };
    let outcome = attempt(db, source, email, password, permit);
    if matches!(outcome, Ok(Login::Ok { .. })) {
        guards.login_failures.undo(&throttle_key);
    }
    outcome
}

/// The source's device cookie, if it is a valid one for the account `email` names (a
/// read: no signing key yet means no cookie was ever issued).
fn trusted_device_for<'a>(db: &Db, source: &'a Source, email: &str) -> AppResult<Option<&'a str>> {
    let Some(device) = source.device.as_deref() else {
        return Ok(None);
    };
    let email = email.trim().to_lowercase();
    let trusted = db.read(|conn| -> AppResult<_> {
        let Some(key) = crate::mail::signing::existing_key(conn)? else {
            return Ok(false);
        };
        let Some(user) = store::staff_by_email(conn, &email)? else {
            return Ok(false);
        };
        Ok(trusted_device(&key, device, user.id, now()))
    })?;
    Ok(trusted.then_some(device))
}

fn attempt(
    db: &Db,
    source: &Source,
    email: &str,
    password: &str,
    permit: HashPermit<'_>,
) -> AppResult<Login> {
    let email = email.trim().to_lowercase();
    if email.len() > 320 || password.len() > PASSWORD_MAX * 4 {
        // Still one hash, so that a long input is not a quicker way to be told no.
        verify_password(password, dummy_hash());
        db.write(|conn| audit_sign_in(conn, None, false, "unknown_account"))?;
        return Ok(Login::Invalid);
    }
    let user = db.read(|conn| -> AppResult<_> { Ok(store::staff_by_email(conn, &email)?) })?;
    // One argon2 verification whatever the account's state: the real hash where there
    // is one (a locked or disabled account too), a dummy otherwise.
    let good = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(h) => verify_password(password, h),
        None => {
            verify_password(password, dummy_hash());
            false
        }
    };
    drop(permit);
    let Some(user) = user else {
        db.write(|conn| audit_sign_in(conn, None, false, "unknown_account"))?;
        return Ok(Login::Invalid);
    };
    // The published demo password signs in only the demo's own accounts.
    let good = good
        && db
            .read(|conn| crate::domain::demo_records::password_allowed(conn, user.id, password))?;
    // The lock is decided now, after the hash, inside the write: a lock set by a
    // parallel attempt while this one was hashing is seen.
    let at = now();
    if !good || user.status != "active" {
        let reason = if good { "disabled" } else { "wrong_password" };
        db.write(|conn| {
            audit_sign_in(conn, Some(&user), false, reason)?;
            record_failure(conn, &user, at, false)
        })?;
        return Ok(Login::Invalid);
    }
    let token = random_token()?;
    let csrf_token = random_token()?;
    db.write(|conn| {
        let key = crate::mail::signing::key(conn)?;
        let trusted = source
            .device
            .as_deref()
            .is_some_and(|d| trusted_device(&key, d, user.id, at));
        if !store::clear_failures(conn, user.id, at, trusted)? {
            return Ok(Login::Invalid);
        }
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
        audit_sign_in(conn, Some(&user), true, "")?;
        let device = crate::mail::signing::sign(
            &key,
            &format!("login-device:{}:{}", user.id, at.and_utc().timestamp()),
        );
        Ok(Login::Ok {
            token: token.clone(),
            device,
        })
    })
}

/// Whether `device` is a device cookie this deployment signed for `staff_user_id` less
/// than `DEVICE_DAYS` ago.
fn trusted_device(key: &[u8], device: &str, staff_user_id: i64, at: NaiveDateTime) -> bool {
    if device.len() > 200 {
        return false;
    }
    let Some(signed) = crate::mail::signing::verify(key, device) else {
        return false;
    };
    let mut parts = signed.payload.split(':');
    let (Some("login-device"), Some(id), Some(issued), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let issued = issued
        .parse::<i64>()
        .ok()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0));
    id.parse::<i64>().is_ok_and(|id| id == staff_user_id)
        && issued.is_some_and(|t| {
            let t = t.naive_utc();
            t <= at && at - t < TimeDelta::days(DEVICE_DAYS)
        })
}

/// How long the lock that the `failures`-th failure in a row sets lasts, if it sets
/// one: every `MAX_FAILED_LOGINS`-th failure locks, each lock twice as long as the one
/// before up to `LOCK_MAX_HOURS`; from `MAX_CONSECUTIVE_FAILURES` on, for good (until a
/// new password is set).
pub fn lock_for(failures: i32) -> Option<TimeDelta> {
    if failures <= 0 || failures % MAX_FAILED_LOGINS != 0 {
        return None;
    }
    if failures >= MAX_CONSECUTIVE_FAILURES {
        return Some(TimeDelta::days(365 * 50));
    }
    let nth = u32::try_from(failures / MAX_FAILED_LOGINS - 1).unwrap_or(u32::MAX);
    let minutes = LOCK_MINUTES.saturating_mul(1i64.checked_shl(nth.min(20)).unwrap_or(i64::MAX));
    Some(TimeDelta::minutes(minutes.min(LOCK_MAX_HOURS * 60)))
}

/// Counts a wrong password (atomically, in the caller's write transaction) unless the
/// account is locked; the failure that reaches a lock sets it and queues one notice to
/// the account's owner in the same transaction. Returns whether this call locked the
/// account. `end_sessions`: a lock also ends the account's sessions (when the guess
/// came from inside a session, on the account page). `None`: the account was already
/// locked, nothing was counted.
fn record_failure(
    conn: &mut storage::AnyConnection,
    user: &StaffUserRow,
    at: NaiveDateTime,
    end_sessions: bool,
) -> AppResult<Option<bool>> {
    let Some(failures) = store::count_failure(conn, user.id, at)? else {
        return Ok(None);
    };
    let Some(length) = lock_for(failures) else {
        return Ok(Some(false));
    };
    let until = at + length;
    store::lock_logins(conn, user.id, until)?;
    log::warn!(
        "console login: staff user {} locked until {until} after {failures} failed logins in a row",
        user.id
    );
    if end_sessions {
        store::delete_of_staff(conn, user.id)?;
    }
    let locale = super::vocab::Locale::from_db(&user.locale)?;
    let until_local = if failures >= MAX_CONSECUTIVE_FAILURES {
        match locale {
            super::vocab::Locale::Ja => "管理者がパスワードを設定し直す".to_owned(),
            super::vocab::Locale::En => "an administrator sets a new password".to_owned(),
        }
    } else {
        super::calendar::japan_time(until)
            .format("%Y-%m-%d %H:%M (JST)")
            .to_string()
    };
    let link = format!("{}/admin/login", crate::mail::links::base());
    let failures_text = failures.to_string();
    let message = crate::mail::templates::render(
        crate::mail::templates::Template::LoginLocked,
        locale,
        &[
            ("recipient_name", &user.display_name),
            ("email", &user.email),
            ("failures", &failures_text),
            ("until", &until_local),
            ("link", &link),
        ],
    );
    // One notice per lock: only the failure whose count reached the lock gets here, and
    // the dedupe key names the lock.
    crate::mail::outbox::enqueue(
        conn,
        &crate::mail::outbox::Outgoing {
            dedupe_key: format!(
                "login_locked:{}:{failures}:{}",
                user.id,
                until.and_utc().timestamp()
            ),
            kind: crate::mail::templates::Template::LoginLocked,
            recipient: crate::mail::outbox::RecipientRef::Staff(user.id),
            recipient_email: &user.email,
            recipient_name: Some(&user.display_name),
            locale,
            delivery: crate::mail::outbox::Delivery::Immediate,
            message,
        },
    )?;
    Ok(Some(true))
}

/// The live session a cookie token names, or `None` (unknown, expired, or the staff
/// user disabled). An expired session is deleted on the way.
pub fn session(db: &Db, token: &str) -> AppResult<Option<StaffSession>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let hash = hash_token(token);
    let at = now();
    let found = db.read(|conn| -> AppResult<_> {
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
        db.write(|conn| -> AppResult<_> { Ok(store::delete_by_id(conn, s.id)?) })?;
        return Ok(None);
    }
    // Record use at most once a minute: a write per page would serialise SQLite readers.
    if at - s.last_seen_at > TimeDelta::minutes(1) {
        db.write(|conn| -> AppResult<_> { Ok(store::touch(conn, s.id, at)?) })?;
    }
    let staff = staff_actor(&user)?;
    Ok(Some(StaffSession {
        actor: Actor::Staff(staff.clone()),
        staff,
        display_name: user.display_name,
        email: user.email,
        municipality,
        csrf_token: s.csrf_token,
        must_change_password: user.must_change_password,
        keyboard_shortcuts: user.keyboard_shortcuts,
    }))
}

/// Ends the session a cookie token names (nothing happens for an unknown token).
pub fn logout(db: &Db, token: &str) -> AppResult<()> {
    let hash = hash_token(token);
    db.write(|conn| Ok(store::delete(conn, &hash).map(drop)?))
}

/// Sets a staff user's password and ends the user's sessions; `actor` is `None` for
/// the CLI, which runs with the operator's authority, or an admin of the user's
/// municipality (a deployment admin for anyone) — never for the admin's own account.
///
/// An admin's reset of another user's password is a reset: it also revokes the user's
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
            // One's own password changes only on the account page, with the current
            // password: a session left open must not be enough to take the account.
            if a.staff().is_some_and(|s| s.id.0 == user.id) {
                return Err(AppError::Forbidden(
                    "change your own password on the account page, with the current password",
                ));
            }
            reset = true;
            match user.municipality_id {
                Some(m) => {
                    a.require_staff_of(MunicipalityId(m), super::actor::ADMINS)?;
                }
                None => {
                    a.require_deployment_admin()?;
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
    let user = db.read(|conn| -> AppResult<_> { Ok(storage::staff::find(conn, staff.0)?) })?;
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
        // A wrong guess from inside a session while the account is locked (by someone
        // else's guesses, say) is not merely uncounted: the session ends, so a session
        // left open cannot be used to guess past the lock.
        let counted = db.write(|conn| -> AppResult<_> {
            let counted = record_failure(conn, &user, at, true)?;
            if counted.is_none() {
                store::delete_of_staff(conn, user.id)?;
            }
            Ok(counted)
        })?;
        return Err(match counted {
            None | Some(true) => AppError::Unauthenticated,
            Some(false) => AppError::field_ja(
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
            Some(&Actor::Staff(staff_actor(&user)?)),
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
    fn locks_come_every_fifth_failure_and_grow() {
        assert_eq!(lock_for(0), None);
        assert_eq!(lock_for(4), None);
        assert_eq!(lock_for(5), Some(TimeDelta::minutes(15)));
        assert_eq!(lock_for(6), None);
        assert_eq!(lock_for(10), Some(TimeDelta::minutes(30)));
        assert_eq!(lock_for(15), Some(TimeDelta::hours(1)));
        assert_eq!(lock_for(50), Some(TimeDelta::hours(24)), "capped at a day");
        assert!(
            lock_for(100).unwrap() > TimeDelta::days(3650),
            "for good at 100"
        );
        assert_eq!(lock_for(i32::MAX), None);
        assert!(lock_for(i32::MAX - 2).is_some());
    }

    #[test]
    fn device_cookies_are_bound_to_account_and_age() {
        let key = b"k".repeat(32);
        let at = now();
        let t = at.and_utc().timestamp();
        let good = crate::mail::signing::sign(&key, &format!("login-device:7:{t}"));
        assert!(trusted_device(&key, &good, 7, at));
        assert!(!trusted_device(&key, &good, 8, at), "another account");
        assert!(!trusted_device(
            &key,
            &good,
            7,
            at + TimeDelta::days(DEVICE_DAYS)
        ));
        assert!(
            !trusted_device(&b"x".repeat(32), &good, 7, at),
            "another key"
        );
        let forged = crate::mail::signing::sign(&key, &format!("unsubscribe:7:{t}"));
        assert!(!trusted_device(&key, &forged, 7, at), "another purpose");
        assert!(!trusted_device(&key, "garbage", 7, at));
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
