//! The audit log: who signed in (or failed to), and who did which administrative action
//! to what, when and from where. `record` writes one event inside the caller's write
//! transaction, so an event exists exactly when its action was committed. Admins read
//! their municipality's events (deployment admins all) as pages or as CSV.
//!
//! The source address is kept per thread for the duration of one domain call
//! (`with_source`): the HTTP layers wrap an audited call in it, and every other caller
//! (the CLI, the demo loader) is the operator at a terminal, recorded as `cli`. Passing
//! the address through every domain function would add a parameter to a dozen
//! signatures that have nothing else to do with HTTP.

use std::cell::RefCell;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use super::actor::Actor;
use super::csv::Csv;
use super::error::{AppError, AppResult};
use super::pagination::{Page, PageRequest};
use super::utc;
use super::validate::Check;
use super::vocab::Role;
use crate::storage::audit::{AuditEventRow, AuditFilter, NewAuditEvent};
use crate::storage::{self, AnyConnection, Db, now};

thread_local! {
    static SOURCE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// What a caller outside HTTP is recorded as.
pub const CLI_SOURCE: &str = "cli";

/// Runs `f` with `source` (the client's address) as the source of events it records.
pub fn with_source<T>(source: &str, f: impl FnOnce() -> T) -> T {
    let previous = SOURCE.with(|s| s.replace(Some(source.to_owned())));
    // Restored even if `f` unwinds, so a pooled thread never carries an old address.
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SOURCE.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

fn current_source() -> String {
    SOURCE
        .with(|s| s.borrow().clone())
        .unwrap_or_else(|| CLI_SOURCE.to_owned())
}

/// Every action code, with its Japanese and English labels (the console's filter).
pub const ACTIONS: &[(&str, &str, &str)] = &[
    ("sign_in", "ログイン", "Sign-in"),
    ("sign_in_failed", "ログイン失敗", "Failed sign-in"),
    ("staff_created", "職員の追加", "Staff user created"),
    ("staff_changed", "職員の変更", "Staff user changed"),
    ("staff_disabled", "職員の無効化", "Staff user disabled"),
    ("staff_enabled", "職員の有効化", "Staff user enabled"),
    (
        "password_reset",
        "パスワードの再設定（管理者）",
        "Password reset by an admin",
    ),
    ("password_set", "パスワードの設定", "Password set"),
    ("invitation_sent", "招待メールの送信", "Invitation sent"),
    ("invitation_used", "招待リンクの使用", "Invitation used"),
    ("api_key_issued", "APIキーの発行", "API key issued"),
    ("api_key_revoked", "APIキーの失効", "API key revoked"),
    ("partner_suspended", "パートナーの停止", "Partner suspended"),
    (
        "partner_reinstated",
        "パートナーの再開",
        "Partner reinstated",
    ),
    ("department_created", "課の追加", "Department created"),
    ("department_changed", "課の変更", "Department changed"),
    (
        "rule_created",
        "振り分けルールの追加",
        "Routing rule created",
    ),
    (
        "proposals_exported",
        "提案一覧の出力",
        "Proposal list exported",
    ),
    (
        "rule_deleted",
        "振り分けルールの削除",
        "Routing rule deleted",
    ),
    ("template_created", "定型文の追加", "Reply template created"),
    ("template_changed", "定型文の変更", "Reply template changed"),
    ("template_deleted", "定型文の削除", "Reply template deleted"),
];

/// The label of an action code in the console's language.
pub fn action_label(code: &str, ja: bool) -> &str {
    ACTIONS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(code, |(_, j, e)| if ja { j } else { e })
}

/// What an event is about.
pub struct Target<'a> {
    /// `staff_user`, `partner`, `api_key`, `department`, `rule`.
    pub kind: &'a str,
    pub id: Option<i64>,
    /// A human-readable name (a staff user's e-mail, a partner's name).
    pub label: &'a str,
    /// The municipality the event belongs to; `None` only deployment admins see.
    pub municipality: Option<i64>,
}

/// Who did it: the actor as the log names it.
fn who(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
) -> AppResult<(&'static str, Option<i64>, String)> {
    Ok(match actor {
        None => ("operator", None, CLI_SOURCE.to_owned()),
        Some(Actor::Anonymous) => ("anonymous", None, String::new()),
        Some(Actor::Partner(p)) => {
            let name = storage::partners::find(conn, p.0)?
                .map(|r| r.name)
                .unwrap_or_default();
            ("partner", Some(p.0), name)
        }
        Some(Actor::Staff(s)) => {
            let email = storage::staff::find(conn, s.id.0)?
                .map(|r| r.email)
                .unwrap_or_default();
            ("staff", Some(s.id.0), email)
        }
    })
}

/// Records one event inside the caller's transaction. `actor` is `None` for the CLI
/// (the operator); `detail` is a short JSON object and must never hold a secret.
pub fn record(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    action: &str,
    target: Target,
    detail: serde_json::Value,
) -> AppResult<()> {
    let (actor_type, actor_id, actor_label) = who(conn, actor)?;
    storage::audit::insert(
        conn,
        &NewAuditEvent {
            at: now(),
            actor_type,
            actor_id,
            actor_label: &actor_label,
            municipality_id: target.municipality,
            source: &current_source(),
            action,
            target_type: target.kind,
            target_id: target.id,
            target_label: target.label,
            detail: &detail.to_string(),
        },
    )?;
    Ok(())
}

/// One event as admins read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `staff`, `partner`, `operator` (the CLI) or `anonymous`.
    pub actor_type: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub municipality_code: Option<String>,
    /// The client's address, or `cli`.
    pub source: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub target_label: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Which events to read: all optional.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// An action code (e.g. `sign_in_failed`).
    pub action: Option<String>,
    /// First day (JST), inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (JST), inclusive.
    pub until: Option<NaiveDate>,
    /// A municipality code; deployment admins only (others see their own anyway).
    pub municipality: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The filter an admin may use: their municipality's events, or for a deployment admin
/// all (or one chosen municipality's). Anyone else is refused.
fn filter(conn: &mut AnyConnection, actor: &Actor, q: &AuditQuery) -> AppResult<AuditFilter> {
    let s = actor.require_staff()?;
    if s.role != Role::Admin {
        return Err(AppError::Forbidden("only admins read the audit log"));
    }
    let chosen = match q.municipality.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => Some(
            super::municipalities::find_by_code(conn, code)
                .map_err(|_| AppError::NotFound("municipality"))?
                .id,
        ),
        _ => None,
    };
    let municipality = match (s.municipality, chosen) {
        (Some(own), Some(c)) if own.0 != c => return Err(AppError::NotFound("municipality")),
        (Some(own), _) => Some(own.0),
        (None, c) => c,
    };
    let mut c = Check::new();
    super::calendar::check_date(&mut c, "from", q.from);
    super::calendar::check_date(&mut c, "until", q.until);
    let action = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty());
    if let Some(a) = action
        && !ACTIONS.iter().any(|(code, _, _)| *code == a)
    {
        c.push_ja(
            "action",
            "unknown",
            "no such action",
            "その操作はありません",
        );
    }
    c.finish()?;
    Ok(AuditFilter {
        municipality,
        action: action.map(str::to_owned),
        from: q.from.map(super::calendar::local_midnight),
        until: q
            .until
            .map(|d| super::calendar::local_midnight(d) + TimeDelta::days(1)),
        before_id: None,
    })
}

fn entries(conn: &mut AnyConnection, rows: Vec<AuditEventRow>) -> AppResult<Vec<AuditEntry>> {
    let mut codes: Vec<(i64, String)> = vec![];
    rows.into_iter()
        .map(|r| {
            let municipality_code = match r.municipality_id {
                None => None,
                Some(m) => match codes.iter().find(|(id, _)| *id == m) {
                    Some((_, code)) => Some(code.clone()),
                    None => {
                        let code = storage::municipalities::by_id(conn, m)?.code;
                        codes.push((m, code.clone()));
                        Some(code)
                    }
                },
            };
            Ok(AuditEntry {
                id: r.id,
                at: utc(r.at),
                actor_type: r.actor_type,
                actor_id: r.actor_id,
                actor_label: r.actor_label,
                municipality_code,
                source: r.source,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                target_label: r.target_label,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

/// One page of the log, newest first.
pub fn list(db: &Db, actor: &Actor, q: &AuditQuery) -> AppResult<Page<AuditEntry>> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    db.read(|conn| {
        let mut f = filter(conn, actor, q)?;
        f.before_id = page.before_id;
        let rows = storage::audit::list(conn, &f, page.fetch())?;
        page.finish(rows, |r| r.id, |rows| entries(conn, rows))
    })
}

/// The most rows one CSV export holds; narrow the period for more.
pub const CSV_MAX_ROWS: i64 = 50_000;

/// The log as CSV for spreadsheets (UTF-8 with BOM, CRLF, formulas neutralised by
/// `domain::csv`), newest first, with the same filters as `list`.
pub fn to_csv(db: &Db, actor: &Actor, q: &AuditQuery) -> AppResult<String> {
    db.read(|conn| {
        let f = filter(conn, actor, q)?;
        let rows = storage::audit::list(conn, &f, CSV_MAX_ROWS)?;
        let entries = entries(conn, rows)?;
        let mut csv = Csv::new(&[
            "日時(JST)",
            "操作",
            "操作コード",
            "実行者の種別",
            "実行者",
            "自治体コード",
            "接続元",
            "対象の種別",
            "対象ID",
            "対象",
            "詳細",
        ]);
        for e in entries {
            let jst = super::calendar::japan_time(e.at.naive_utc());
            csv.row([
                jst.format("%Y-%m-%d %H:%M:%S").to_string(),
                action_label(&e.action, true).to_owned(),
                e.action,
                e.actor_type,
                e.actor_label,
                e.municipality_code.unwrap_or_default(),
                e.source,
                e.target_type,
                e.target_id.map(|i| i.to_string()).unwrap_or_default(),
                e.target_label,
                e.detail.to_string(),
            ]);
        }
        Ok(csv.finish())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_is_scoped_and_restored() {
        assert_eq!(current_source(), CLI_SOURCE);
        with_source("192.0.2.1", || {
            assert_eq!(current_source(), "192.0.2.1");
            with_source("192.0.2.2", || assert_eq!(current_source(), "192.0.2.2"));
            assert_eq!(current_source(), "192.0.2.1");
        });
        assert_eq!(current_source(), CLI_SOURCE);
        let _ = std::panic::catch_unwind(|| with_source("192.0.2.3", || panic!("boom")));
        assert_eq!(current_source(), CLI_SOURCE);
    }

    #[test]
    fn jst_days() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
        assert_eq!(
            crate::domain::calendar::local_midnight(d).to_string(),
            "2026-12-06 15:00:00"
        );
    }
}
