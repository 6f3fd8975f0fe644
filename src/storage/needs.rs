//! Queries on needs and the partner kinds they ask for.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::{NeedChanges, NeedRow, NewNeed};
use super::schema::{need_partner_kinds as npk, needs};

pub fn insert(conn: &mut AnyConnection, new: &NewNeed) -> QueryResult<NeedRow> {
    diesel::insert_into(needs::table)
        .values(new)
        .returning(needs::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            needs::table
                .find(id)
                .select(NeedRow::as_select())
                .first(conn)
        })
}

pub fn update(conn: &mut AnyConnection, id: i64, changes: &NeedChanges) -> QueryResult<()> {
    diesel::update(needs::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

/// Open needs whose open-until date lies before `today`.
pub fn open_past(conn: &mut AnyConnection, today: chrono::NaiveDate) -> QueryResult<Vec<NeedRow>> {
    needs::table
        .filter(needs::status.eq("open"))
        .filter(needs::open_until.lt(today))
        .order(needs::id)
        .select(NeedRow::as_select())
        .load(conn)
}

/// Closes a need still open past its open-until date (before `today`); false when it
/// is not (any more): another run closed it, or staff republished it with a new date
/// since it was read. The condition is checked on the row itself, so of two
/// concurrent runs exactly one closes it.
pub fn close_expired(
    conn: &mut AnyConnection,
    id: i64,
    today: chrono::NaiveDate,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        needs::table
            .find(id)
            .filter(needs::status.eq("open"))
            .filter(needs::open_until.lt(today)),
    )
    .set((
        needs::status.eq("closed"),
        needs::closed_at.eq(Some(at)),
        needs::updated_at.eq(at),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<NeedRow>> {
    needs::table
        .find(id)
        .select(NeedRow::as_select())
        .first(conn)
        .optional()
}

/// The needs with these ids (those that exist), in no particular order: one query for
/// a page of search hits or matches.
pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<NeedRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    needs::table
        .filter(needs::id.eq_any(ids))
        .select(NeedRow::as_select())
        .load(conn)
}

/// (id, title) of the given needs: what a proposal's page names, without the bodies.
pub fn titles_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    needs::table
        .filter(needs::id.eq_any(ids))
        .select((needs::id, needs::title))
        .load(conn)
}

pub fn set_partner_kinds(
    conn: &mut AnyConnection,
    need_id: i64,
    kinds: &[&str],
) -> QueryResult<()> {
    diesel::delete(npk::table.filter(npk::need_id.eq(need_id))).execute(conn)?;
    for k in kinds {
        diesel::insert_into(npk::table)
            .values((npk::need_id.eq(need_id), npk::partner_kind.eq(*k)))
            .execute(conn)?;
    }
    Ok(())
}

/// (need id, partner kind) pairs for the given needs.
pub fn partner_kinds_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    npk::table
        .filter(npk::need_id.eq_any(ids))
        .select((npk::need_id, npk::partner_kind))
        .order((npk::need_id, npk::partner_kind))
        .load(conn)
}

/// Who may see what: public non-draft needs everywhere, plus everything of the
/// municipalities listed in `internal_of` (all of them when `all_internal`).
#[derive(Debug, Default, Clone)]
pub struct NeedFilter {
    pub municipality_id: Option<i64>,
    pub department_id: Option<i64>,
    pub zone_id: Option<i64>,
    pub policy_field: Option<String>,
    pub statuses: Option<Vec<String>>,
    pub visibility: Option<String>,
    pub partner_kind: Option<String>,
    pub internal_of: Option<i64>,
    pub all_internal: bool,
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut AnyConnection, f: &NeedFilter) -> QueryResult<Vec<NeedRow>> {
    let mut q = needs::table
        .select(NeedRow::as_select())
        .order(needs::id.desc())
        .limit(f.limit)
        .into_boxed();
    if !f.all_internal {
        let public = needs::visibility
            .eq("public")
            .and(needs::status.ne("draft"));
        q = match f.internal_of {
            Some(m) => q.filter(public.or(needs::municipality_id.eq(m))),
            None => q.filter(public),
        };
    }
    if let Some(m) = f.municipality_id {
        q = q.filter(needs::municipality_id.eq(m));
    }
    if let Some(d) = f.department_id {
        q = q.filter(needs::department_id.eq(d));
    }
    if let Some(z) = f.zone_id {
        q = q.filter(needs::zone_id.eq(z));
    }
    if let Some(p) = &f.policy_field {
        q = q.filter(needs::policy_field.eq(p.clone()));
    }
    if let Some(s) = &f.statuses {
        q = q.filter(needs::status.eq_any(s.clone()));
    }
    if let Some(v) = &f.visibility {
        q = q.filter(needs::visibility.eq(v.clone()));
    }
    if let Some(k) = &f.partner_kind {
        // A correlated EXISTS answered by the primary key (need_id, partner_kind): the
        // newest needs are checked one by one until the page is full, instead of listing
        // every need of the kind first (a scan of the whole table at 100,000 needs).
        q = q.filter(diesel::dsl::exists(
            npk::table
                .filter(npk::need_id.eq(needs::id))
                .filter(npk::partner_kind.eq(k.clone())),
        ));
    }
    if let Some(b) = f.before_id {
        q = q.filter(needs::id.lt(b));
    }
    q.load(conn)
}

/// Ids after `after`, ascending, for walking the whole table.
pub fn ids_after(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<i64>> {
    needs::table
        .filter(needs::id.gt(after))
        .order(needs::id)
        .limit(limit)
        .select(needs::id)
        .load(conn)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    needs::table.count().get_result(conn)
}
