//! Deadline reminders: for every running clock that is due within two business days or
//! overdue, one notice to those responsible — the department for its clock, the desk for
//! the proposer's and the decision clock. Each (clock, due date, state) is told once.

use crate::domain::calendar::business_days_between;
use crate::domain::desk::deadlines::{Clock, running_clocks};
use crate::domain::error::AppResult;
use crate::domain::proposals::{OPEN_STATES, local_date, receipt_number};
use crate::domain::vocab::{Locale, Role};
use crate::mail::links;
use crate::storage::proposals::ProposalFilter;
use crate::storage::{self, Db, now};

use super::{Kind, Recipient, notify};

/// Business days before the due date when "due soon" is sent.
pub const DUE_SOON_DAYS: i64 = 2;

pub fn run(db: &Db) -> AppResult<usize> {
    let today = local_date(now());
    db.write(|conn| {
        let open = storage::proposals::list(
            conn,
            &ProposalFilter {
                states: Some(OPEN_STATES.iter().map(|s| s.as_str().to_owned()).collect()),
                limit: i64::MAX,
                ..Default::default()
            },
        )?;
        let mut sent = 0;
        for p in open {
            for (clock, due) in running_clocks(&p)? {
                let left = business_days_between(today, due);
                let overdue = due < today;
                if !overdue && left > DUE_SOON_DAYS {
                    continue;
                }
                let staff = storage::staff::list(conn, Some(p.municipality_id))?;
                let recipients: Vec<i64> = staff
                    .iter()
                    .filter(|s| match clock {
                        Clock::Department => {
                            s.role == Role::Department.as_str()
                                && s.department_id.is_some()
                                && s.department_id == p.primary_department_id
                        }
                        Clock::Proposer | Clock::Decision => s.role == Role::Desk.as_str(),
                    })
                    .map(|s| s.id)
                    .collect();
                let number = receipt_number(p.receipt_year, p.receipt_seq);
                let link = format!("{}/admin/proposals/{}", links::base(), p.id);
                let state = if overdue { "overdue" } else { "due_soon" };
                for id in recipients {
                    let Some(to) = Recipient::staff(conn, id)? else {
                        continue;
                    };
                    let (status, sentence, clock_name) = match (to.locale, overdue) {
                        (Locale::Ja, true) => ("超過", "過ぎています", clock_ja(clock)),
                        (Locale::Ja, false) => ("間近", "近づいています", clock_ja(clock)),
                        (Locale::En, true) => ("overdue", "has passed", clock_en(clock)),
                        (Locale::En, false) => ("due soon", "is near", clock_en(clock)),
                    };
                    let due_text = due.to_string();
                    let queued = notify(
                        conn,
                        &to,
                        Kind::DeadlineReminder,
                        &format!("deadline:{}:{clock:?}:{due}:{state}", p.id),
                        &[
                            ("status", status),
                            ("status_sentence", sentence),
                            ("clock", clock_name),
                            ("receipt_number", &number),
                            ("title", &p.title),
                            ("due_on", &due_text),
                            ("link", &link),
                        ],
                    )?;
                    sent += usize::from(queued);
                }
            }
        }
        Ok(sent)
    })
}

fn clock_ja(c: Clock) -> &'static str {
    match c {
        Clock::Department => "所管課から窓口への回答",
        Clock::Proposer => "提案者への初回回答",
        Clock::Decision => "採否の決定",
    }
}

fn clock_en(c: Clock) -> &'static str {
    match c {
        Clock::Department => "department's answer",
        Clock::Proposer => "first answer to the proposer",
        Clock::Decision => "decision",
    }
}
