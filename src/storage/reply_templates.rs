//! Queries on the desk's reply templates (定型文). Every query names the municipality,
//! so one municipality's templates are never read or changed through another's.

use diesel::prelude::*;

use super::AnyConnection;
use super::models::ReplyTemplateRow;
use super::schema::reply_templates as rt;

pub fn list(conn: &mut AnyConnection, municipality_id: i64) -> QueryResult<Vec<ReplyTemplateRow>> {
    rt::table
        .filter(rt::municipality_id.eq(municipality_id))
        .select(ReplyTemplateRow::as_select())
        .order((rt::name, rt::id))
        .load(conn)
}

pub fn find(
    conn: &mut AnyConnection,
    municipality_id: i64,
    id: i64,
) -> QueryResult<Option<ReplyTemplateRow>> {
    rt::table
        .filter(rt::id.eq(id).and(rt::municipality_id.eq(municipality_id)))
        .select(ReplyTemplateRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut AnyConnection,
    municipality_id: i64,
    name: &str,
    body: &str,
) -> QueryResult<ReplyTemplateRow> {
    let at = super::now();
    let id: i64 = diesel::insert_into(rt::table)
        .values((
            rt::municipality_id.eq(municipality_id),
            rt::name.eq(name),
            rt::body.eq(body),
            rt::created_at.eq(at),
            rt::updated_at.eq(at),
        ))
        .returning(rt::id)
        .get_result(conn)?;
    rt::table
        .find(id)
        .select(ReplyTemplateRow::as_select())
        .first(conn)
}

/// Changes a template of this municipality; the number of rows changed (0 or 1).
pub fn update(
    conn: &mut AnyConnection,
    municipality_id: i64,
    id: i64,
    name: &str,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(rt::table.filter(rt::id.eq(id).and(rt::municipality_id.eq(municipality_id))))
        .set((
            rt::name.eq(name),
            rt::body.eq(body),
            rt::updated_at.eq(super::now()),
        ))
        .execute(conn)
}

/// Deletes a template of this municipality; the number of rows deleted (0 or 1).
pub fn delete(conn: &mut AnyConnection, municipality_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(rt::table.filter(rt::id.eq(id).and(rt::municipality_id.eq(municipality_id))))
        .execute(conn)
}
