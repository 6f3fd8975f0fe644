//! Queries on municipalities, their zones and departments.

use diesel::prelude::*;

use super::models::{DepartmentRow, MunicipalityRow, NewDepartment, NewMunicipality, ZoneRow};
use super::schema::{department_policy_fields as dpf, departments, municipalities, zones};
use super::{AnyConnection, now};

pub fn insert(conn: &mut AnyConnection, new: &NewMunicipality) -> QueryResult<MunicipalityRow> {
    diesel::insert_into(municipalities::table)
        .values(new)
        .returning(municipalities::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            municipalities::table
                .find(id)
                .select(MunicipalityRow::as_select())
                .first(conn)
        })
}

pub fn by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<MunicipalityRow>> {
    municipalities::table
        .filter(municipalities::code.eq(code))
        .select(MunicipalityRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<MunicipalityRow> {
    municipalities::table
        .find(id)
        .select(MunicipalityRow::as_select())
        .first(conn)
}

/// The municipalities with these ids: one query for a page of records that name them.
pub fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<MunicipalityRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    municipalities::table
        .filter(municipalities::id.eq_any(ids))
        .select(MunicipalityRow::as_select())
        .load(conn)
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<MunicipalityRow>> {
    municipalities::table
        .select(MunicipalityRow::as_select())
        .order(municipalities::code)
        .load(conn)
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    first_response_days: i32,
    decision_days: i32,
) -> QueryResult<()> {
    diesel::update(municipalities::table.find(id))
        .set((
            municipalities::name.eq(name),
            municipalities::first_response_days.eq(first_response_days),
            municipalities::decision_days.eq(decision_days),
            municipalities::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn zones_of(conn: &mut AnyConnection, municipality_id: i64) -> QueryResult<Vec<ZoneRow>> {
    zones::table
        .filter(zones::municipality_id.eq(municipality_id))
        .select(ZoneRow::as_select())
        .order(zones::id)
        .load(conn)
}

pub fn zone(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ZoneRow>> {
    zones::table
        .find(id)
        .select(ZoneRow::as_select())
        .first(conn)
        .optional()
}

/// The zones with these ids: one query for a page of needs.
pub fn zones_by_ids(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<ZoneRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    zones::table
        .filter(zones::id.eq_any(ids))
        .select(ZoneRow::as_select())
        .load(conn)
}

pub fn insert_zone(
    conn: &mut AnyConnection,
    municipality_id: i64,
    name: &str,
) -> QueryResult<ZoneRow> {
    diesel::insert_into(zones::table)
        .values((
            zones::municipality_id.eq(municipality_id),
            zones::name.eq(name),
        ))
        .returning(zones::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            zones::table
                .find(id)
                .select(ZoneRow::as_select())
                .first(conn)
        })
}

pub fn insert_department(
    conn: &mut AnyConnection,
    new: &NewDepartment,
) -> QueryResult<DepartmentRow> {
    diesel::insert_into(departments::table)
        .values(new)
        .returning(departments::id)
        .get_result::<i64>(conn)
        .and_then(|id| {
            departments::table
                .find(id)
                .select(DepartmentRow::as_select())
                .first(conn)
        })
}

pub fn department(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<DepartmentRow>> {
    departments::table
        .find(id)
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()
}

/// The departments with these ids: one query for a page of needs or proposals.
pub fn departments_by_ids(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<Vec<DepartmentRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    departments::table
        .filter(departments::id.eq_any(ids))
        .select(DepartmentRow::as_select())
        .load(conn)
}

pub fn departments_of(
    conn: &mut AnyConnection,
    municipality_id: i64,
) -> QueryResult<Vec<DepartmentRow>> {
    departments::table
        .filter(departments::municipality_id.eq(municipality_id))
        .select(DepartmentRow::as_select())
        .order(departments::id)
        .load(conn)
}

pub fn update_department(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    email: Option<&str>,
    is_desk: bool,
) -> QueryResult<()> {
    diesel::update(departments::table.find(id))
        .set((
            departments::name.eq(name),
            departments::email.eq(email),
            departments::is_desk.eq(is_desk),
            departments::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces a department's policy fields.
pub fn set_department_fields(
    conn: &mut AnyConnection,
    department_id: i64,
    fields: &[&str],
) -> QueryResult<()> {
    diesel::delete(dpf::table.filter(dpf::department_id.eq(department_id))).execute(conn)?;
    for f in fields {
        diesel::insert_into(dpf::table)
            .values((
                dpf::department_id.eq(department_id),
                dpf::policy_field.eq(*f),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// (department id, policy field) pairs for the given departments.
pub fn department_fields(
    conn: &mut AnyConnection,
    department_ids: &[i64],
) -> QueryResult<Vec<(i64, String)>> {
    dpf::table
        .filter(dpf::department_id.eq_any(department_ids))
        .select((dpf::department_id, dpf::policy_field))
        .order((dpf::department_id, dpf::policy_field))
        .load(conn)
}
