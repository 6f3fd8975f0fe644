//! The `demo_records` table: which municipalities, partners and staff accounts the demo
//! loader created (`record_type` is `municipality`, `partner` or `staff`).

use diesel::dsl::exists;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{demo_records, municipalities, partners, staff_users};

pub fn mark(conn: &mut AnyConnection, record_type: &str, record_id: i64) -> QueryResult<()> {
    diesel::insert_into(demo_records::table)
        .values((
            demo_records::record_type.eq(record_type),
            demo_records::record_id.eq(record_id),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The ids marked as the demo's of one type.
pub fn marked(conn: &mut AnyConnection, record_type: &str) -> QueryResult<Vec<i64>> {
    demo_records::table
        .filter(demo_records::record_type.eq(record_type))
        .select(demo_records::record_id)
        .load::<i64>(conn)
}

pub fn is_marked(conn: &mut AnyConnection, record_type: &str, record_id: i64) -> QueryResult<bool> {
    diesel::select(exists(
        demo_records::table.filter(
            demo_records::record_type
                .eq(record_type)
                .and(demo_records::record_id.eq(record_id)),
        ),
    ))
    .get_result(conn)
}

/// Every id of the tables the demo marks: (municipalities, partners, staff users).
pub fn all_ids(conn: &mut AnyConnection) -> QueryResult<(Vec<i64>, Vec<i64>, Vec<i64>)> {
    Ok((
        municipalities::table
            .select(municipalities::id)
            .load(conn)?,
        partners::table.select(partners::id).load(conn)?,
        staff_users::table.select(staff_users::id).load(conn)?,
    ))
}
