//! Invitations of new staff users: a one-time link, mailed to the new user, on which they
//! choose their own password, so the first credential reaches the user and never the
//! administrator who created the account. The link carries 32 random bytes; only their
//! SHA-256 hash is stored, with an expiry (`VALID_HOURS`) and the time of use.

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::actor::{Actor, StaffActor};
use super::audit::{self, Target};
use super::error::{AppError, AppResult, Message};
use super::ids::{DepartmentId, MunicipalityId, StaffUserId};
use super::vocab::{Locale, Role};
use crate::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
use crate::mail::templates;
use crate::storage::models::StaffUserRow;
use crate::storage::{self, AnyConnection, Db, now};

/// How long an invitation link works.
pub const VALID_HOURS: i64 = 72;

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The one answer for an unknown, used or expired link, so links cannot be probed.
fn invalid() -> AppError {
    AppError::Conflict(Message::new(
        "this invitation link is not valid (unknown, already used or expired); ask an administrator for a new one",
        "この招待リンクは無効です（使用済みか、有効期限が切れています）。管理者に再送を依頼してください。",
    ))
}

/// Creates an invitation for `user` and queues its mail, inside the caller's
/// transaction; earlier unused invitations of the user stop working. Returns when the
/// new link expires.
pub(crate) fn issue(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    user: &StaffUserRow,
) -> AppResult<NaiveDateTime> {
    let token = super::console_auth::new_form_token()?;
    let at = now();
    let expires = at + TimeDelta::hours(VALID_HOURS);
    storage::invitations::expire_of_staff(conn, user.id, at)?;
    let id = storage::invitations::insert(conn, user.id, &hash(&token), at, expires)?;
    let municipality = match user.municipality_id {
        Some(m) => storage::municipalities::by_id(conn, m)?.name,
        None => "kyoso".to_owned(),
    };
    let link = format!(
        "{}/admin/invitation?token={token}",
        crate::mail::links::base()
    );
    let expires_text = crate::domain::calendar::japan_time(expires)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let locale = Locale::from_db(&user.locale)?;
    let message = templates::render(
        templates::Template::StaffInvitation,
        locale,
        &[
            ("recipient_name", &user.display_name),
            ("municipality", &municipality),
            ("link", &link),
            ("expires_at", &expires_text),
            ("email", &user.email),
        ],
    );
    outbox::enqueue(
        conn,
        &Outgoing {
            dedupe_key: format!("staff_invitation:{id}"),
            kind: templates::Template::StaffInvitation,
            recipient: RecipientRef::Staff(user.id),
            recipient_email: &user.email,
            recipient_name: Some(&user.display_name),
            locale,
            delivery: Delivery::Immediate,
            message,
        },
    )?;
    audit::record(
        conn,
        actor,
        "invitation_sent",
        Target {
            kind: "staff_user",
            id: Some(user.id),
            label: &user.email,
            municipality: user.municipality_id,
        },
        json!({ "invitation_id": id, "expires_at": expires.and_utc() }),
    )?;
    Ok(expires)
}

/// Who an invitation link is for, as its page greets them.
#[derive(Debug, Clone)]
pub struct Invited {
    pub email: String,
    pub display_name: String,
}

/// The unused, unexpired invitation `token` names, with its user (who must be active).
fn live(conn: &mut AnyConnection, token: &str) -> AppResult<(i64, StaffUserRow)> {
    if token.is_empty() || token.len() > 100 {
        return Err(invalid());
    }
    let inv = storage::invitations::by_hash(conn, &hash(token))?.ok_or_else(invalid)?;
    if inv.used_at.is_some() || inv.expires_at <= now() {
        return Err(invalid());
    }
    let user = storage::staff::find(conn, inv.staff_user_id)?.ok_or_else(invalid)?;
    if user.status != "active" {
        return Err(invalid());
    }
    Ok((inv.id, user))
}

/// Checks a link before showing its form.
pub fn check(db: &Db, token: &str) -> AppResult<Invited> {
    db.read(|conn| {
        let (_, user) = live(conn, token)?;
        Ok(Invited {
            email: user.email,
            display_name: user.display_name,
        })
    })
}

/// Sets the invited user's password (the console's password rules) and uses up the link.
/// Returns the user's e-mail address, for the login form.
pub fn accept(db: &Db, token: &str, password: &str) -> AppResult<String> {
    super::console_auth::check_password(password)?;
    let hash_pw = super::console_auth::hash_password(password)?;
    db.write(|conn| {
        let (id, user) = live(conn, token)?;
        // The conditional update decides between two parallel uses of one link.
        if !storage::invitations::mark_used(conn, id, now())? {
            return Err(invalid());
        }
        storage::sessions::set_password_hash(conn, user.id, &hash_pw, now())?;
        storage::staff::set_must_change_password(conn, user.id, false)?;
        // A link sent again to an existing user replaces their password: whoever held
        // the old one is signed out.
        storage::sessions::delete_of_staff(conn, user.id)?;
        let me = Actor::Staff(StaffActor {
            id: StaffUserId(user.id),
            role: Role::from_db(&user.role)?,
            municipality: user.municipality_id.map(MunicipalityId),
            department: user.department_id.map(DepartmentId),
        });
        audit::record(
            conn,
            Some(&me),
            "invitation_used",
            Target {
                kind: "staff_user",
                id: Some(user.id),
                label: &user.email,
                municipality: user.municipality_id,
            },
            json!({ "invitation_id": id }),
        )?;
        Ok(user.email)
    })
}
