//! Freshness of needs: a need is open until its open-until date (募集期限). Past it, the
//! need leaves the board of open needs and matching — it is closed, as its department
//! would close it — and the department (its mailbox and staff, as for a routed
//! proposal; the desk when it has neither) is told in the same transaction, with a link
//! to publish it again with a new date. Each (need, date) is told once. Run by the
//! scheduler; safe to run twice or on several nodes at once: each need is closed by a
//! conditional update that only one run wins, and the notice is deduplicated too.

use chrono::NaiveDate;

use super::error::AppResult;
use super::notifications::{Kind, Recipient, date_ja, department_recipients, notify};
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
        let mut closed = 0;
        for need in &expired {
            // Each need is claimed by the update that closes it: a run on another node
            // that read it as open too finds it closed and leaves it (and its notice).
            if !storage::needs::close_expired(conn, need.id, today, at)? {
                continue;
            }
            closed += 1;
            index_log::record(conn, DocType::Need, need.id)?;
            let department = storage::municipalities::department(conn, need.department_id)?;
            let municipality = storage::municipalities::by_id(conn, need.municipality_id)?;
            let mut recipients = match &department {
                Some(d) => department_recipients(conn, d)?,
                None => vec![],
            };
            // A department without a mailbox or staff accounts is looked after by the desk.
            if recipients.is_empty() {
                for s in storage::staff::list(conn, Some(need.municipality_id))? {
                    if s.role == Role::Desk.as_str()
                        && let Some(r) = Recipient::staff(conn, s.id)?
                    {
                        recipients.push(r);
                    }
                }
            }
            let until = need.open_until.map(date_ja).unwrap_or_default();
            let link = format!("{}/admin/needs/{}", links::base(), need.id);
            let department = department.map(|d| d.name).unwrap_or_default();
            for to in recipients {
                notify(
                    conn,
                    &to,
                    Kind::NeedExpired,
                    &format!(
                        "need_expired:{}:{}",
                        need.id,
                        need.open_until.unwrap_or_default()
                    ),
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
        Ok(closed)
    })
}
