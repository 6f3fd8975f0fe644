//! Queries on the audit log (`audit_events`): append one event, list a scope's events
//! newest first. Events are never updated or deleted here.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::audit_events;

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub at: NaiveDateTime,
    pub actor_type: &'a str,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub municipality_id: Option<i64>,
    pub source: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<i64>,
    pub target_label: &'a str,
    pub detail: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_type: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub municipality_id: Option<i64>,
    pub source: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub target_label: String,
    pub detail: String,
}

pub fn insert(conn: &mut AnyConnection, new: &NewAuditEvent) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this municipality's events; `None` lists every event (deployment admins).
    pub municipality: Option<i64>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    /// Exclusive upper bound.
    pub until: Option<NaiveDateTime>,
    pub before_id: Option<i64>,
}

/// Events matching `f`, newest first, at most `limit`.
pub fn list(
    conn: &mut AnyConnection,
    f: &AuditFilter,
    limit: i64,
) -> QueryResult<Vec<AuditEventRow>> {
    let mut q = audit_events::table
        .select(AuditEventRow::as_select())
        .order(audit_events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(m) = f.municipality {
        q = q.filter(audit_events::municipality_id.eq(m));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_events::at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(audit_events::at.lt(t));
    }
    if let Some(id) = f.before_id {
        q = q.filter(audit_events::id.lt(id));
    }
    q.load(conn)
}
