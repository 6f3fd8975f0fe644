//! Saved inbox filters (保存した絞り込み): a staff member keeps the inbox's current
//! filter — words, state, department, channel, field, dates, view, sort — under a name
//! and finds it again beside the built-in views. Each filter belongs to one user: only
//! they list, use or delete it, and a user keeps at most [`MAX_PER_USER`]. What is kept
//! is the inbox's query string, built here from known keys only, so a saved filter can
//! only ever be a link to the inbox.

use serde::Serialize;

use super::actor::Actor;
use super::error::{AppError, AppResult};
use super::validate::Check;
use crate::storage::Db;
use crate::storage::inbox_filters::{self as store, InboxFilterRow};

/// How many filters one user keeps: enough for a desk's routines, few enough to list.
pub const MAX_PER_USER: i64 = 20;
pub const NAME_MAX: usize = 60;
/// The longest query string kept (the keyword box takes 200 characters, encoded ×9).
const QUERY_MAX: usize = 4_000;

/// The inbox parameters a filter keeps, in the order they are written; paging is not a
/// filter and is left out, so a saved filter always opens at its first page.
pub const KEYS: &[&str] = &[
    "q",
    "state",
    "channel",
    "field",
    "department",
    "from",
    "to",
    "unassigned",
    "assignee",
    "due",
    "paused",
    "m",
    "sort",
    "dir",
];

#[derive(Debug, Clone, Serialize)]
pub struct InboxFilterView {
    pub id: i64,
    pub name: String,
    /// The inbox's query string (without `?`), percent-encoded.
    pub query: String,
}

fn view(r: InboxFilterRow) -> InboxFilterView {
    InboxFilterView {
        id: r.id,
        name: r.name,
        query: r.query,
    }
}

/// Percent-encodes a query value (unreserved characters stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The query string of `params`: known keys only, in [`KEYS`] order, blanks dropped.
pub fn query_string(params: &[(String, String)]) -> String {
    KEYS.iter()
        .filter_map(|k| {
            params
                .iter()
                .find(|(pk, v)| pk == k && !v.trim().is_empty())
                .map(|(_, v)| format!("{k}={}", encode(v.trim())))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn owner(actor: &Actor) -> AppResult<i64> {
    Ok(actor.require_staff()?.id.0)
}

/// The caller's own filters, by name.
pub fn list(db: &Db, actor: &Actor) -> AppResult<Vec<InboxFilterView>> {
    let me = owner(actor)?;
    db.read(|conn| Ok(store::list_of(conn, me)?.into_iter().map(view).collect()))
}

/// Saves `params` (the inbox's parameters as the user has them) under `name`. A filter
/// of the same name is replaced — saving again is how a user updates one.
pub fn save(
    db: &Db,
    actor: &Actor,
    name: &str,
    params: &[(String, String)],
) -> AppResult<InboxFilterView> {
    let me = owner(actor)?;
    let mut c = Check::new();
    let name = c.line("name", name, NAME_MAX);
    let query = query_string(params);
    if query.is_empty() {
        c.push_ja(
            "filter",
            "required",
            "choose at least one filter before saving",
            "絞り込みの条件を選んでから保存してください",
        );
    } else if query.len() > QUERY_MAX {
        c.push_ja(
            "filter",
            "too_long",
            "the filter is too long to save",
            "条件が長すぎて保存できません",
        );
    }
    c.finish()?;
    db.write(|conn| {
        if let Some(existing) = store::find_named(conn, me, &name)? {
            store::set_query(conn, me, existing.id, &query)?;
            return Ok(InboxFilterView {
                id: existing.id,
                name,
                query,
            });
        }
        if store::count_of(conn, me)? >= MAX_PER_USER {
            return Err(AppError::field_ja(
                "name",
                "limit",
                format!("at most {MAX_PER_USER} saved filters; delete one first"),
                format!(
                    "保存できる絞り込みは{MAX_PER_USER}件までです。不要なものを削除してください"
                ),
            ));
        }
        Ok(view(store::insert(conn, me, &name, &query)?))
    })
}

/// Deletes one of the caller's filters; another user's is "not found".
pub fn delete(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    let me = owner(actor)?;
    db.write(|conn| match store::delete_owned(conn, me, id)? {
        0 => Err(AppError::NotFound("saved filter")),
        _ => Ok(()),
    })
}
