//! Staff users (department, desk, admin) and "who am I". Admins create staff through the
//! API or the console: the new user gets a one-time invitation link by mail and chooses
//! their own password, so no credential passes through the admin. The operator's CLI
//! (`kyoso staff add`) creates a user with a first API key, printed at the terminal.
//! Taking access away (disabling, a new role or department) revokes the user's API keys
//! in the same transaction; every change is written to the audit log.

use serde::{Deserialize, Serialize};

use super::actor::{ADMINS, Actor};
use super::api_keys::{self, IssuedKey, KeyOwner};
use super::audit::{self, Target};
use super::error::{AppError, AppResult, Message};
use super::ids::{DepartmentId, MunicipalityId, PartnerId, StaffUserId};
use super::municipalities::find_by_code;
use super::utc;
use super::validate::Check;
use super::vocab::{Locale, Role, StaffStatus};
use crate::storage::models::{NewStaffUser, StaffChanges, StaffUserRow};
use crate::storage::{self, Db, now};
use chrono::{DateTime, Utc};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffInput {
    pub email: String,
    pub display_name: String,
    /// `department`, `desk` or `admin`.
    pub role: String,
    /// Default: the calling admin's municipality. Omit for a deployment admin (only a
    /// deployment admin may create one).
    pub municipality_code: Option<String>,
    /// Required for department staff.
    pub department_id: Option<i64>,
    pub locale: Option<String>,
}

/// A partial update of a staff user: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffUpdate {
    pub display_name: Option<String>,
    /// `department`, `desk` or `admin` (administrators only, not for oneself).
    pub role: Option<String>,
    /// The user's department; `null` removes it (not for department staff).
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub department_id: Option<Option<i64>>,
    /// `ja` or `en`: the language of the user's mail (the console has its own switch).
    pub locale: Option<String>,
    /// `active` or `disabled` (administrators only, not for oneself). A disabled user
    /// cannot sign in, their sessions end and their API keys stop working; enabling
    /// them again restores access.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: StaffUserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub municipality_code: Option<String>,
    pub department_id: Option<DepartmentId>,
    pub locale: Locale,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A staff user created by an admin: no credential here; the user was mailed an
/// invitation link to choose their password.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedStaff {
    pub staff: StaffView,
    /// When the mailed invitation link stops working.
    pub invitation_expires_at: DateTime<Utc>,
}

/// A staff user created by the operator at the terminal, with a first API key (shown
/// once, to the operator who runs the command).
#[derive(Debug, Serialize)]
pub struct OperatorCreatedStaff {
    pub staff: StaffView,
    pub api_key: IssuedKey,
}

/// The caller, as the API describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Me {
    Partner { partner_id: PartnerId },
    Staff { staff: StaffView },
}

fn view(conn: &mut storage::AnyConnection, r: StaffUserRow) -> AppResult<StaffView> {
    let code = match r.municipality_id {
        Some(m) => Some(storage::municipalities::by_id(conn, m)?.code),
        None => None,
    };
    Ok(StaffView {
        id: StaffUserId(r.id),
        email: r.email,
        display_name: r.display_name,
        role: Role::from_db(&r.role)?,
        municipality_code: code,
        department_id: r.department_id.map(DepartmentId),
        locale: Locale::from_db(&r.locale)?,
        status: r.status,
        created_at: utc(r.created_at),
    })
}

/// Creates a staff user and mails them a one-time invitation link (see
/// `domain::invitations`); neither a password nor an API key is made. `actor` is `None`
/// for the CLI, which runs with the operator's authority.
pub fn create(db: &Db, actor: Option<&Actor>, input: NewStaffInput) -> AppResult<CreatedStaff> {
    insert(db, actor, input, |conn, row| {
        let expires = super::invitations::issue(conn, actor, row)?;
        Ok(CreatedStaff {
            staff: view(conn, row.clone())?,
            invitation_expires_at: utc(expires),
        })
    })
}

/// Creates a staff user with a first API key, for the operator's own tools (the CLI's
/// `kyoso staff add`, the demo loader): the key goes to whoever runs the command, who
/// already holds the operator's authority.
pub fn create_with_key(db: &Db, input: NewStaffInput) -> AppResult<OperatorCreatedStaff> {
    insert(db, None, input, |conn, row| {
        let api_key = api_keys::issue(conn, KeyOwner::Staff(StaffUserId(row.id)), "初期キー")?;
        audit::record(
            conn,
            None,
            "api_key_issued",
            Target {
                kind: "staff_user",
                id: Some(row.id),
                label: &row.email,
                municipality: row.municipality_id,
            },
            serde_json::json!({ "key_id": api_key.id.0, "prefix": api_key.prefix }),
        )?;
        Ok(OperatorCreatedStaff {
            staff: view(conn, row.clone())?,
            api_key,
        })
    })
}

/// Checks and inserts a new staff user, records it in the audit log, and runs `then`
/// in the same transaction.
fn insert<T>(
    db: &Db,
    actor: Option<&Actor>,
    input: NewStaffInput,
    then: impl Fn(&mut storage::AnyConnection, &StaffUserRow) -> AppResult<T>,
) -> AppResult<T> {
    let caller = actor.map(Actor::require_staff).transpose()?;
    let mut c = Check::new();
    let email = c.email("email", &input.email).to_lowercase();
    let display_name = c.line("display_name", &input.display_name, 100);
    let role = c.one_of("role", &input.role, Role::parse, &Role::expected());
    let locale = c.one_of(
        "locale",
        input.locale.as_deref().unwrap_or("ja"),
        Locale::parse,
        &Locale::expected(),
    );
    c.finish()?;
    let (role, locale) = (
        Check::checked(role, "role")?,
        Check::checked(locale, "locale")?,
    );
    db.write(|conn| {
        let municipality = match (
            &input.municipality_code,
            caller.and_then(|s| s.municipality),
        ) {
            (Some(code), _) => Some(
                find_by_code(conn, code)
                    .map_err(|_| {
                        AppError::field("municipality_code", "not_found", "no such municipality")
                    })?
                    .id,
            ),
            (None, Some(own)) => Some(own.0),
            (None, None) => None,
        };
        match (municipality, actor) {
            (Some(m), Some(a)) => {
                a.require_staff_of(MunicipalityId(m), ADMINS)?;
            }
            (None, Some(a)) => {
                a.require_deployment_admin()?;
            }
            (_, None) => {}
        }
        if municipality.is_none() && role != Role::Admin {
            return Err(AppError::field(
                "municipality_code",
                "required",
                "department and desk staff belong to a municipality",
            ));
        }
        let department = match input.department_id {
            None if role == Role::Department => {
                return Err(AppError::field_ja(
                    "department_id",
                    "required",
                    "department staff need a department",
                    "所管課の職員には課を指定してください",
                ));
            }
            None => None,
            Some(d) => match storage::municipalities::department(conn, d)? {
                Some(row) if Some(row.municipality_id) == municipality => Some(row.id),
                _ => {
                    return Err(AppError::field(
                        "department_id",
                        "not_found",
                        "no such department in this municipality",
                    ));
                }
            },
        };
        let at = now();
        let row = storage::staff::insert(
            conn,
            &NewStaffUser {
                municipality_id: municipality,
                department_id: department,
                role: role.as_str(),
                email: &email,
                display_name: &display_name,
                locale: locale.as_str(),
                created_at: at,
                updated_at: at,
            },
        )
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict(Message::new(
                "a staff user with this e-mail address already exists",
                "このメールアドレスの職員はすでに登録されています。",
            )),
            e => e,
        })?;
        audit::record(
            conn,
            actor,
            "staff_created",
            Target {
                kind: "staff_user",
                id: Some(row.id),
                label: &row.email,
                municipality: row.municipality_id,
            },
            serde_json::json!({ "role": row.role, "department_id": row.department_id }),
        )?;
        then(conn, &row)
    })
}

/// Staff of the admin's municipality (all staff for a deployment admin).
pub fn list(db: &Db, actor: &Actor) -> AppResult<Vec<StaffView>> {
    let s = actor.require_staff()?;
    if s.role != Role::Admin {
        return Err(AppError::Forbidden("only admins list staff"));
    }
    let scope = s.municipality.map(|m| m.0);
    db.read(|conn| {
        storage::staff::list(conn, scope)?
            .into_iter()
            .map(|r| view(conn, r))
            .collect()
    })
}

/// One staff user, for the user themselves or an administrator of their municipality
/// (a deployment administrator for anyone); others get "not found".
pub fn get(db: &Db, actor: &Actor, id: StaffUserId) -> AppResult<StaffView> {
    db.read(|conn| {
        let row = visible(conn, actor, id)?;
        view(conn, row)
    })
}

/// The staff user `id` if `actor` may see it: themselves, or an administrator serving
/// the user's municipality.
fn visible(
    conn: &mut storage::AnyConnection,
    actor: &Actor,
    id: StaffUserId,
) -> AppResult<StaffUserRow> {
    let s = actor.require_staff()?;
    let row = storage::staff::find(conn, id.0)?.ok_or(AppError::NotFound("staff user"))?;
    let own = s.id == id;
    let administers = s.role == Role::Admin
        && match row.municipality_id {
            Some(m) => s.serves(MunicipalityId(m)),
            None => s.is_deployment_admin(),
        };
    if own || administers {
        Ok(row)
    } else {
        Err(AppError::NotFound("staff user"))
    }
}

/// Changes a staff user. Users may change their own name and locale; administrators
/// also change other users' role, department and status. Nobody changes their own role
/// or status, so an administrator cannot lock themselves (or the last admin) out by
/// mistake. Disabling ends the user's console sessions and revokes their API keys in the
/// same transaction; so does a new role or department, so that access granted under the
/// old one does not live on in a key or a session.
pub fn update(db: &Db, actor: &Actor, id: StaffUserId, input: StaffUpdate) -> AppResult<StaffView> {
    let s = actor.require_staff()?.clone();
    let mut c = Check::new();
    let display_name = input
        .display_name
        .as_deref()
        .map(|v| c.line("display_name", v, 100));
    let role = input
        .role
        .as_deref()
        .and_then(|v| c.one_of("role", v, Role::parse, &Role::expected()));
    let locale = input
        .locale
        .as_deref()
        .and_then(|v| c.one_of("locale", v, Locale::parse, &Locale::expected()));
    let status = input
        .status
        .as_deref()
        .and_then(|v| c.one_of("status", v, StaffStatus::parse, &StaffStatus::expected()));
    c.finish()?;
    db.write(|conn| {
        let row = visible(conn, actor, id)?;
        let role = match role {
            Some(r) => r,
            None => Role::from_db(&row.role)?,
        };
        if row.municipality_id.is_none() && role != Role::Admin {
            return Err(AppError::field_ja(
                "role",
                "invalid",
                "a deployment administrator belongs to no municipality and stays an admin",
                "全体管理者は自治体に属さず、権限も管理者のままです",
            ));
        }
        let department = match input.department_id {
            None => row.department_id,
            Some(None) => None,
            Some(Some(d)) => match storage::municipalities::department(conn, d)? {
                Some(dep) if Some(dep.municipality_id) == row.municipality_id => Some(dep.id),
                _ => {
                    return Err(AppError::field(
                        "department_id",
                        "not_found",
                        "no such department in this municipality",
                    ));
                }
            },
        };
        if role == Role::Department && department.is_none() {
            return Err(AppError::field_ja(
                "department_id",
                "required",
                "department staff need a department",
                "所管課の職員には課を指定してください",
            ));
        }
        let status: &str = match status {
            Some(s) => s.as_str(),
            None => &row.status,
        };
        let changes_access =
            role.as_str() != row.role || department != row.department_id || status != row.status;
        if changes_access && (s.id == id || s.role != Role::Admin) {
            return Err(AppError::Forbidden(
                "role, department and status are changed by another administrator",
            ));
        }
        let updated = storage::staff::update(
            conn,
            row.id,
            &StaffChanges {
                display_name: display_name.as_deref().unwrap_or(&row.display_name),
                role: role.as_str(),
                department_id: department,
                locale: locale.map_or(row.locale.as_str(), |l| l.as_str()),
                status,
                updated_at: now(),
            },
        )?;
        let disabled = updated.status != "active";
        let moved = updated.role != row.role || updated.department_id != row.department_id;
        let (mut sessions_ended, mut keys_revoked) = (0, 0);
        if disabled || moved {
            sessions_ended = storage::sessions::delete_of_staff(conn, row.id)?;
            keys_revoked = storage::api_keys::revoke_of_staff(conn, row.id)?;
        }
        let action = match (row.status.as_str(), updated.status.as_str()) {
            (before, "disabled") if before != "disabled" => "staff_disabled",
            ("disabled", after) if after != "disabled" => "staff_enabled",
            _ => "staff_changed",
        };
        let mut changed = serde_json::Map::new();
        for (field, before, after) in [
            (
                "display_name",
                row.display_name.as_str(),
                updated.display_name.as_str(),
            ),
            ("role", row.role.as_str(), updated.role.as_str()),
            ("locale", row.locale.as_str(), updated.locale.as_str()),
            ("status", row.status.as_str(), updated.status.as_str()),
        ] {
            if before != after {
                changed.insert(field.to_owned(), serde_json::json!([before, after]));
            }
        }
        if row.department_id != updated.department_id {
            changed.insert(
                "department_id".to_owned(),
                serde_json::json!([row.department_id, updated.department_id]),
            );
        }
        if !changed.is_empty() {
            audit::record(
                conn,
                Some(actor),
                action,
                Target {
                    kind: "staff_user",
                    id: Some(row.id),
                    label: &row.email,
                    municipality: row.municipality_id,
                },
                serde_json::json!({
                    "changed": changed,
                    "sessions_ended": sessions_ended,
                    "api_keys_revoked": keys_revoked,
                }),
            )?;
        }
        view(conn, updated)
    })
}

/// Mails a staff user a new invitation link (earlier ones stop working), for a user
/// whose link expired or who lost their password: another administrator of the user's
/// municipality sends it, and the password is still chosen by the user alone.
pub fn invite_again(db: &Db, actor: &Actor, id: StaffUserId) -> AppResult<CreatedStaff> {
    db.write(|conn| {
        let row = visible(conn, actor, id)?;
        let s = actor.require_staff()?;
        if s.role != Role::Admin || s.id == id {
            return Err(AppError::Forbidden(
                "invitations are sent by another administrator",
            ));
        }
        if row.status != "active" {
            return Err(AppError::Conflict(Message::new(
                "a disabled user cannot be invited; enable them first",
                "無効な職員には招待を送れません。先に有効にしてください。",
            )));
        }
        let expires = super::invitations::issue(conn, Some(actor), &row)?;
        Ok(CreatedStaff {
            staff: view(conn, row)?,
            invitation_expires_at: utc(expires),
        })
    })
}

pub fn me(db: &Db, actor: &Actor) -> AppResult<Me> {
    match actor {
        Actor::Anonymous => Err(AppError::Unauthenticated),
        Actor::Partner(p) => Ok(Me::Partner { partner_id: *p }),
        Actor::Staff(s) => db.read(|conn| {
            let row = storage::staff::find(conn, s.id.0)?.ok_or(AppError::Unauthenticated)?;
            Ok(Me::Staff {
                staff: view(conn, row)?,
            })
        }),
    }
}

/// Turns the console's single-key shortcuts (`/`, `j`, `k`, `?`) on or off for the
/// caller themselves: a screen reader's or speech input's own keys must win when the
/// user says so (WCAG 2.1.4). A console preference, not an access right: not audited.
pub fn set_keyboard_shortcuts(db: &Db, actor: &Actor, on: bool) -> AppResult<()> {
    let me = actor.require_staff()?.id.0;
    db.write(
        |conn| match storage::staff::set_keyboard_shortcuts(conn, me, on)? {
            0 => Err(AppError::NotFound("staff user")),
            _ => Ok(()),
        },
    )
}
