//! Saved searches: anyone with an account keeps a query with filters and is told of new
//! results — needs and offers published since the search last ran — as a notice of kind
//! `saved_search` (in the daily digest unless they chose otherwise).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Kind, Recipient, notify};
use crate::domain::actor::{Actor, StaffActor};
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::{DepartmentId, MunicipalityId, PartnerId, StaffUserId};
use crate::domain::search::SearchEngine;
use crate::domain::search::query::{self, Record, SearchQuery};
use crate::domain::validate::Check;
use crate::domain::vocab::Role;
use crate::mail::links;
use crate::storage::saved_searches::{self as store, NewSavedSearch, SavedSearchRow as Row};
use crate::storage::{Db, now};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedSearchInput {
    pub name: String,
    /// The query, as typed into search.
    pub q: String,
    /// `need` or `offer`.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub field: Option<String>,
    pub municipality: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SavedSearchView {
    pub id: i64,
    pub name: String,
    pub q: String,
    pub filters: serde_json::Value,
    pub last_checked_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Default)]
struct Filters {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    doc_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    municipality: Option<String>,
}

fn owner(actor: &Actor) -> AppResult<(Option<i64>, Option<i64>)> {
    match actor {
        Actor::Staff(s) => Ok((Some(s.id.0), None)),
        Actor::Partner(p) => Ok((None, Some(p.0))),
        Actor::Anonymous => Err(AppError::Unauthenticated),
    }
}

fn query_of(r: &Row) -> SearchQuery {
    let f: Filters = serde_json::from_str(&r.filters_json).unwrap_or_default();
    SearchQuery {
        q: Some(r.query.clone()),
        doc_type: f.doc_type,
        field: f.field,
        municipality: f.municipality,
        limit: Some(100),
        ..Default::default()
    }
}

fn view(r: Row) -> SavedSearchView {
    SavedSearchView {
        id: r.id,
        name: r.name,
        q: r.query,
        filters: serde_json::from_str(&r.filters_json).unwrap_or(serde_json::Value::Null),
        last_checked_at: r.last_checked_at.and_utc(),
    }
}

/// Saved searches one account may keep: each re-runs every few minutes.
pub const MAX_PER_OWNER: i64 = 20;

/// Saves a search after checking it runs; at most [`MAX_PER_OWNER`] per account.
pub fn create(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    input: SavedSearchInput,
) -> AppResult<SavedSearchView> {
    let (staff, partner) = owner(actor)?;
    let mut c = Check::new();
    let name = c.line("name", &input.name, 100);
    c.finish()?;
    let filters = Filters {
        doc_type: input.doc_type,
        field: input.field,
        municipality: input.municipality,
    };
    let probe = SearchQuery {
        q: Some(input.q.clone()),
        doc_type: filters.doc_type.clone(),
        field: filters.field.clone(),
        municipality: filters.municipality.clone(),
        limit: Some(1),
        ..Default::default()
    };
    query::search(db, engine, actor, probe)?;
    let json = serde_json::to_string(&filters).map_err(AppError::internal)?;
    db.write(|conn| {
        // The owner's row is locked first, so parallel requests count one after the
        // other and the cap holds (SQLite serialises writers anyway).
        match (staff, partner) {
            (Some(s), _) => crate::storage::staff::lock(conn, s)?,
            (None, Some(p)) => crate::storage::partners::lock(conn, p)?,
            (None, None) => return Err(AppError::Unauthenticated),
        };
        let count = store::count_of(conn, staff, partner)?;
        if count >= MAX_PER_OWNER {
            return Err(AppError::field_ja(
                "saved_searches",
                "too_many",
                format!("at most {MAX_PER_OWNER} saved searches per account; delete one first"),
                format!("保存できる検索は1アカウントにつき{MAX_PER_OWNER}件までです。不要なものを削除してから保存してください。"),
            ));
        }
        let row = store::insert(
            conn,
            &NewSavedSearch {
                staff_user_id: staff,
                partner_id: partner,
                name: &name,
                query: input.q.trim(),
                filters_json: &json,
                at: now(),
            },
        )?;
        Ok(view(row))
    })
}

pub fn list(db: &Db, actor: &Actor) -> AppResult<Vec<SavedSearchView>> {
    let (staff, partner) = owner(actor)?;
    db.read(|conn| {
        let rows = store::list_of(conn, staff, partner)?;
        Ok(rows.into_iter().map(view).collect())
    })
}

pub fn delete(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    let (staff, partner) = owner(actor)?;
    db.write(|conn| {
        let n = store::delete_owned(conn, id, staff, partner)?;
        if n == 0 {
            Err(AppError::NotFound("saved search"))
        } else {
            Ok(())
        }
    })
}

/// Runs every saved search; returns how many notices were queued.
pub fn run(db: &Db, engine: &SearchEngine) -> AppResult<usize> {
    let rows: Vec<Row> = db.read(|conn| -> AppResult<_> { Ok(store::all(conn)?) })?;
    let mut queued = 0;
    for r in rows {
        // The owner's own view of the data: the same rules as their own search.
        let actor = db.read(|conn| -> AppResult<Option<Actor>> {
            Ok(match (r.staff_user_id, r.partner_id) {
                (Some(s), _) => crate::storage::staff::find(conn, s)?
                    .filter(|u| u.status == "active")
                    .map(|u| -> AppResult<Actor> {
                        Ok(Actor::Staff(StaffActor {
                            id: StaffUserId(s),
                            role: Role::from_db(&u.role)?,
                            municipality: u.municipality_id.map(MunicipalityId),
                            department: u.department_id.map(DepartmentId),
                        }))
                    })
                    .transpose()?,
                (_, Some(p)) => Some(Actor::Partner(PartnerId(p))),
                _ => None,
            })
        })?;
        let Some(actor) = actor else { continue };
        let since = r.last_checked_at.and_utc();
        let checked = now();
        let page = match query::search(db, engine, &actor, query_of(&r)) {
            Ok(p) => p,
            Err(e) => {
                log::warn!("saved search {}: {e}", r.id);
                continue;
            }
        };
        let fresh: Vec<String> = page
            .hits
            .iter()
            .filter_map(|h| match &h.record {
                Record::Need(n) if n.published_at.unwrap_or(n.created_at) > since => Some(format!(
                    "・{}（{}）\n  {}/api/v1/needs/{}",
                    n.title,
                    n.municipality.name,
                    links::base(),
                    n.id
                )),
                Record::Offer(o) if o.created_at > since => Some(format!(
                    "・{}（{}）\n  {}/api/v1/offers/{}",
                    o.title,
                    o.partner.name,
                    links::base(),
                    o.id
                )),
                _ => None,
            })
            .collect();
        queued += db.write(|conn| -> AppResult<_> {
            // The claim on the period since the last check: a run that lost it (the
            // schedulers of two nodes ran this search at once) queues nothing.
            if !store::advance_checked(conn, r.id, r.last_checked_at, checked)? || fresh.is_empty()
            {
                return Ok(0);
            }
            let to = match (r.staff_user_id, r.partner_id) {
                (Some(s), _) => Recipient::staff(conn, s)?,
                (_, Some(p)) => Recipient::partner(conn, p)?,
                _ => None,
            };
            let Some(to) = to else { return Ok(0) };
            let count = fresh.len().to_string();
            let items = fresh.join("\n") + "\n";
            // Keyed by the period's start: the notice of one period is one row even if
            // two runs both got here.
            let dedupe = format!("saved_search:{}:{}", r.id, since.timestamp_micros());
            Ok(usize::from(notify(
                conn,
                &to,
                Kind::SavedSearch,
                &dedupe,
                &[("query", &r.query), ("count", &count), ("items", &items)],
            )?))
        })?;
    }
    Ok(queued)
}
