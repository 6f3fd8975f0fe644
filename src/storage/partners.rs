//! Queries on partners and the regions they serve.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::{PartnerRow, PartnerWrite};
use super::schema::{partner_regions, partners};

pub fn insert(
    conn: &mut AnyConnection,
    new: &PartnerWrite,
    created_at: chrono::NaiveDateTime,
) -> QueryResult<PartnerRow> {
    diesel::insert_into(partners::table)
        .values((new, partners::created_at.eq(created_at)))
        .returning(partners::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            partners::table
                .find(id)
                .select(PartnerRow::as_select())
                .first(conn)
        })
}

pub fn update(conn: &mut AnyConnection, id: i64, changes: &PartnerWrite) -> QueryResult<()> {
    diesel::update(partners::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<PartnerRow>> {
    partners::table
        .find(id)
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<PartnerRow>> {
    partners::table
        .filter(partners::id.eq_any(ids))
        .select(PartnerRow::as_select())
        .load(conn)
}

pub fn set_status(conn: &mut AnyConnection, id: i64, status: &str) -> QueryResult<()> {
    diesel::update(partners::table.find(id))
        .set((
            partners::status.eq(status),
            partners::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_regions(conn: &mut AnyConnection, partner_id: i64, regions: &[&str]) -> QueryResult<()> {
    diesel::delete(partner_regions::table.filter(partner_regions::partner_id.eq(partner_id)))
        .execute(conn)?;
    for r in regions {
        diesel::insert_into(partner_regions::table)
            .values((
                partner_regions::partner_id.eq(partner_id),
                partner_regions::region_code.eq(*r),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn regions(conn: &mut AnyConnection, partner_id: i64) -> QueryResult<Vec<String>> {
    partner_regions::table
        .filter(partner_regions::partner_id.eq(partner_id))
        .select(partner_regions::region_code)
        .order(partner_regions::region_code)
        .load(conn)
}
