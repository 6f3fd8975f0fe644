//! Which records `kyoso demo` created, kept in `demo_records`: the demo loads only into
//! a database that holds nothing else, and the published demo password signs in only
//! the demo's own staff accounts — a real account whose password someone set to it is
//! refused all the same. Only the demo loader marks records; no API or console form can.

use std::collections::HashSet;

use crate::domain::error::AppResult;
use crate::storage::{self, AnyConnection, Db};

/// The console password of every demo staff account (log in at /admin with the e-mail).
/// It is published in the README and printed by `kyoso demo`, so it works for demo
/// accounts only.
pub const DEMO_PASSWORD: &str = "kyoso-demo-2026";

/// The kinds of record the demo marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoRecord {
    Municipality(i64),
    Partner(i64),
    Staff(i64),
}

impl DemoRecord {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Self::Municipality(id) => ("municipality", id),
            Self::Partner(id) => ("partner", id),
            Self::Staff(id) => ("staff", id),
        }
    }
}

/// Marks a record as the demo's. For the demo loader only.
pub fn mark(db: &Db, record: DemoRecord) -> AppResult<()> {
    let (t, id) = record.parts();
    db.write(|conn| Ok(storage::demo_records::mark(conn, t, id)?))
}

/// The ids the demo marked of one kind.
fn marked(conn: &mut AnyConnection, kind: &str) -> AppResult<HashSet<i64>> {
    Ok(storage::demo_records::marked(conn, kind)?
        .into_iter()
        .collect())
}

/// How many records of each kind are not the demo's: (municipalities, partners, staff).
/// The ids are compared here rather than in SQL: `kyoso demo` runs once, on a database
/// that is empty or nearly so when it is allowed at all.
pub fn foreign_records(db: &Db) -> AppResult<(usize, usize, usize)> {
    db.read(|conn| {
        let count = |ids: Vec<i64>, marked: HashSet<i64>| {
            ids.into_iter().filter(|id| !marked.contains(id)).count()
        };
        let (municipalities, partners, staff) = storage::demo_records::all_ids(conn)?;
        let m = count(municipalities, marked(conn, "municipality")?);
        let p = count(partners, marked(conn, "partner")?);
        let s = count(staff, marked(conn, "staff")?);
        Ok((m, p, s))
    })
}

/// Whether a municipality with this code exists (the demo refuses to load twice).
pub fn municipality_exists(db: &Db, code: &str) -> AppResult<bool> {
    db.read(|conn| Ok(storage::municipalities::by_code(conn, code)?.is_some()))
}

/// Whether the demo loader created this staff account.
pub fn is_demo_staff(conn: &mut AnyConnection, staff_user_id: i64) -> AppResult<bool> {
    Ok(storage::demo_records::is_marked(
        conn,
        "staff",
        staff_user_id,
    )?)
}

/// Whether `password` may sign in the account: anything but the demo password, which
/// only demo accounts may use.
pub fn password_allowed(
    conn: &mut AnyConnection,
    staff_user_id: i64,
    password: &str,
) -> AppResult<bool> {
    if password != DEMO_PASSWORD {
        return Ok(true);
    }
    is_demo_staff(conn, staff_user_id)
}
