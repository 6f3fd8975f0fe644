//! Freshness of needs: a need is open until its open-until date (募集期限). Past it, the
//! need leaves the board of open needs and matching — it is closed, as its department
//! would close it — and the department's staff are told in the same transaction, with
//! a link to publish it again with a new date. Each (need, date) is told once. Run by
//! the scheduler; safe to run twice or on several nodes (only open needs are closed,
//! the notice is deduplicated).

use chrono::NaiveDate;

use super::error::AppResult;
use super::notifications::{Kind, Recipient, notify};
use super::vocab::Role;
use crate::mail::links;
use crate::storage::index_log::{self, DocType};
use crate::storage::{self, Db, now};

/// Closes the open needs whose open-until date lies before `today` (Japan time) and
/// tells their departments; returns how many needs were closed.
pub fn run(db: &Db, today: NaiveDate) -> AppResult<usize> {
    db.write(|conn| {
        let expired = storage::needs::open_past(conn, today)?;
        let at = now();
        for need in &expired {
            storage::needs::close(conn, need.id, at)?;
            index_log::record(conn, DocType::Need, need.id)?;
            let department = storage::municipalities::department(conn, need.department_id)?;
            let municipality = storage::municipalities::by_id(conn, need.municipality_id)?;
            let staff = storage::staff::list(conn, Some(need.municipality_id))?;
            let of_department: Vec<i64> = staff
                .iter()
                .filter(|s| {
                    s.role == Role::Department.as_str()
                        && s.department_id == Some(need.department_id)
                })
                .map(|s| s.id)
                .collect();
            // A department without staff accounts is looked after by the desk.
            let recipients = if of_department.is_empty() {
                staff
                    .iter()
                    .filter(|s| s.role == Role::Desk.as_str())
                    .map(|s| s.id)
                    .collect()
            } else {
                of_department
            };
            let until = need.open_until.map(|d| d.to_string()).unwrap_or_default();
            let link = format!("{}/admin/needs/{}", links::base(), need.id);
            let department = department.map(|d| d.name).unwrap_or_default();
            for id in recipients {
                let Some(to) = Recipient::staff(conn, id)? else {
                    continue;
                };
                notify(
                    conn,
                    &to,
                    Kind::NeedExpired,
                    &format!("need_expired:{}:{until}", need.id),
                    &[
                        ("title", &need.title),
                        ("open_until", &until),
                        ("department", &department),
                        ("municipality", &municipality.name),
                        ("link", &link),
                    ],
                )?;
            }
        }
        Ok(expired.len())
    })
}
