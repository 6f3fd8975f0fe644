//! Queries on offers, their policy fields and regions.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::{NewOffer, OfferChanges, OfferRow};
use super::schema::{offer_policy_fields as opf, offer_regions, offers, partners};

pub fn insert(conn: &mut AnyConnection, new: &NewOffer) -> QueryResult<OfferRow> {
    diesel::insert_into(offers::table)
        .values(new)
        .returning(offers::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            offers::table
                .find(id)
                .select(OfferRow::as_select())
                .first(conn)
        })
}

pub fn update(conn: &mut AnyConnection, id: i64, changes: &OfferChanges) -> QueryResult<()> {
    diesel::update(offers::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<OfferRow>> {
    offers::table
        .find(id)
        .select(OfferRow::as_select())
        .first(conn)
        .optional()
}

/// The offers with these ids (those that exist), in no particular order: one query for
/// a page of search hits or matches.
pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<OfferRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    offers::table
        .filter(offers::id.eq_any(ids))
        .select(OfferRow::as_select())
        .load(conn)
}

/// (id, title) of the given offers: what a proposal's page names, without the bodies.
pub fn titles_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    offers::table
        .filter(offers::id.eq_any(ids))
        .select((offers::id, offers::title))
        .load(conn)
}

pub fn set_fields(conn: &mut AnyConnection, offer_id: i64, fields: &[&str]) -> QueryResult<()> {
    diesel::delete(opf::table.filter(opf::offer_id.eq(offer_id))).execute(conn)?;
    for f in fields {
        diesel::insert_into(opf::table)
            .values((opf::offer_id.eq(offer_id), opf::policy_field.eq(*f)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn set_regions(conn: &mut AnyConnection, offer_id: i64, regions: &[&str]) -> QueryResult<()> {
    diesel::delete(offer_regions::table.filter(offer_regions::offer_id.eq(offer_id)))
        .execute(conn)?;
    for r in regions {
        diesel::insert_into(offer_regions::table)
            .values((
                offer_regions::offer_id.eq(offer_id),
                offer_regions::region_code.eq(*r),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// (offer id, policy field) pairs for the given offers.
pub fn fields_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    opf::table
        .filter(opf::offer_id.eq_any(ids))
        .select((opf::offer_id, opf::policy_field))
        .order((opf::offer_id, opf::policy_field))
        .load(conn)
}

/// (offer id, region code) pairs for the given offers.
pub fn regions_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    offer_regions::table
        .filter(offer_regions::offer_id.eq_any(ids))
        .select((offer_regions::offer_id, offer_regions::region_code))
        .order((offer_regions::offer_id, offer_regions::region_code))
        .load(conn)
}

/// What an offer list may be narrowed by; every field optional.
#[derive(Debug, Default, Clone)]
pub struct OfferFilter {
    pub kind: Option<String>,
    pub policy_field: Option<String>,
    /// Offers whose regions include any of these codes.
    pub region_codes: Option<Vec<String>>,
    pub partner_kind: Option<String>,
    pub partner_id: Option<i64>,
    pub statuses: Vec<String>,
    /// Hide offers of suspended partners (from outsiders), except the viewer's own.
    pub hide_suspended_except: Option<Option<i64>>,
    /// Keyset pagination: only ids below this one.
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Offers newest first, filtered.
pub fn list(conn: &mut AnyConnection, f: &OfferFilter) -> QueryResult<Vec<OfferRow>> {
    let mut q = offers::table
        .select(OfferRow::as_select())
        .order(offers::id.desc())
        .limit(f.limit)
        .into_boxed();
    q = q.filter(offers::status.eq_any(f.statuses.clone()));
    if let Some(viewer) = f.hide_suspended_except {
        let active = partners::table
            .filter(partners::status.eq("active"))
            .select(partners::id);
        q = match viewer {
            Some(v) => q.filter(
                offers::partner_id
                    .eq_any(active)
                    .or(offers::partner_id.eq(v)),
            ),
            None => q.filter(offers::partner_id.eq_any(active)),
        };
    }
    if let Some(k) = &f.kind {
        q = q.filter(offers::kind.eq(k.clone()));
    }
    if let Some(pf) = &f.policy_field {
        // Correlated EXISTS answered by the primary keys (offer_id, …): the newest offers
        // are checked until the page is full, instead of listing every offer of the
        // field or region first (a scan of the whole child table).
        q = q.filter(diesel::dsl::exists(
            opf::table
                .filter(opf::offer_id.eq(offers::id))
                .filter(opf::policy_field.eq(pf.clone())),
        ));
    }
    if let Some(codes) = &f.region_codes {
        q = q.filter(diesel::dsl::exists(
            offer_regions::table
                .filter(offer_regions::offer_id.eq(offers::id))
                .filter(offer_regions::region_code.eq_any(codes.clone())),
        ));
    }
    if let Some(pk) = &f.partner_kind {
        q = q.filter(
            offers::partner_id.eq_any(
                partners::table
                    .filter(partners::kind.eq(pk.clone()))
                    .select(partners::id),
            ),
        );
    }
    if let Some(p) = f.partner_id {
        q = q.filter(offers::partner_id.eq(p));
    }
    if let Some(b) = f.before_id {
        q = q.filter(offers::id.lt(b));
    }
    q.load(conn)
}

/// Ids after `after`, ascending, for walking the whole table.
pub fn ids_after(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<i64>> {
    offers::table
        .filter(offers::id.gt(after))
        .order(offers::id)
        .limit(limit)
        .select(offers::id)
        .load(conn)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    offers::table.count().get_result(conn)
}
