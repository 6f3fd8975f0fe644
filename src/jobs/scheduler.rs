//! The scheduler: periodic work of a running service — match alerts (every 30 s),
//! deadline reminders, saved searches and closing needs past their open-until date
//! (every 10 min), the weekly report (tried every 10 min; each municipality's week is
//! made once), digests (when their time of day has come) and housekeeping (hourly).
//! Every job is safe to run twice or from several processes: alerts, reminders and
//! expiry notices are deduplicated per cause, digests claim their period first, pruning
//! deletes by age.

use std::time::{Duration, Instant};

use super::{Job, Running};
use crate::domain::desk::weekly_report;
use crate::domain::housekeeping;
use crate::domain::need_freshness;
use crate::domain::notifications::digest::{self, Schedule};
use crate::domain::notifications::{alerts, reminders, saved_searches};
use crate::domain::proposals::local_date;
use crate::domain::search::SearchEngine;
use crate::domain::{Db, now};

pub fn spawn(
    db: Db,
    engine: SearchEngine,
    schedule: Schedule,
    threshold: f32,
    mail_retention_days: u32,
) -> Running {
    Running::spawn("scheduler", move |job: &Job| {
        let mut last_alerts = Instant::now() - Duration::from_secs(3600);
        let mut last_reminders = last_alerts;
        let mut last_digest = last_alerts;
        let mut last_housekeeping = last_alerts;
        while !job.should_stop() {
            if last_alerts.elapsed() >= Duration::from_secs(30) {
                last_alerts = Instant::now();
                if let Err(e) = alerts::run(&db, &engine, threshold) {
                    log::error!("match alerts: {e}");
                }
            }
            if last_reminders.elapsed() >= Duration::from_secs(600) {
                last_reminders = Instant::now();
                if let Err(e) = saved_searches::run(&db, &engine) {
                    log::error!("saved searches: {e}");
                }
                if let Err(e) = reminders::run(&db) {
                    log::error!("deadline reminders: {e}");
                }
                match weekly_report::run(&db, now()) {
                    Ok(r) if r.made > 0 => log::info!(
                        "weekly report: {} municipalities, {} mails",
                        r.made,
                        r.mails
                    ),
                    Ok(_) => {}
                    Err(e) => log::error!("weekly report: {e}"),
                }
                match need_freshness::run(&db, local_date(now())) {
                    Ok(0) => {}
                    Ok(n) => log::info!("closed {n} needs past their open-until date"),
                    Err(e) => log::error!("need freshness: {e}"),
                }
            }
            if last_digest.elapsed() >= Duration::from_secs(60) {
                last_digest = Instant::now();
                match digest::run_due(&db, &schedule, now()) {
                    Ok(runs) => {
                        for (period, r) in runs.iter().filter(|(_, r)| !r.skipped) {
                            log::info!(
                                "{period:?} digest: {} mails with {} items",
                                r.digests,
                                r.items
                            );
                        }
                    }
                    Err(e) => log::error!("digests: {e}"),
                }
            }
            if last_housekeeping.elapsed() >= Duration::from_secs(3600) {
                last_housekeeping = Instant::now();
                match housekeeping::run(&db, mail_retention_days, now()) {
                    Ok(p) if p.mails > 0 => log::info!("deleted {} delivered mails", p.mails),
                    Ok(_) => {}
                    Err(e) => log::error!("housekeeping: {e}"),
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    })
}
