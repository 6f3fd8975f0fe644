//! The mail sender: one thread per process sending due mail from the outbox. Several
//! processes may run it against one database, beside `kyoso mail send` from cron: rows
//! are claimed under a token and a renewed lease (`mail::send`), never shared.

use std::time::Duration;

use super::{Job, Running};
use crate::domain::Db;
use crate::mail::send::Mailer;

/// Mails per round; the sender claims them a few at a time (`SenderConfig::batch`).
const BATCH: i64 = 50;
const IDLE: Duration = Duration::from_millis(500);

pub fn spawn(db: Db, mailer: Mailer) -> Running {
    Running::spawn("mail-sender", move |job: &Job| {
        let mut failing = false;
        while !job.should_stop() {
            match mailer.send_due(&db, BATCH) {
                Ok(r) if r.sent + r.failed + r.lost == BATCH as usize => continue,
                Ok(_) => failing = false,
                Err(e) => {
                    if !failing {
                        log::error!("mail sender: {e}; retrying");
                    }
                    failing = true;
                }
            }
            std::thread::sleep(IDLE);
        }
    })
}
