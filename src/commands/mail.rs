//! Starting the mail side of a process: the transport the settings name, and the
//! `kyoso digest run` / `kyoso mail send` commands for cron.

use chrono::NaiveDateTime;

use crate::config::Settings;
use crate::domain::desk::weekly_report;
use crate::domain::notifications::digest::{self, Period};
use crate::mail::send::Mailer;
use crate::mail::transport::Transport;
use crate::storage::{Db, now};

/// SMTP when `smtp_url` is set, otherwise .eml files under DATA_DIR/mail.
pub fn mailer(settings: &Settings) -> anyhow::Result<Mailer> {
    let transport = match &settings.smtp_url {
        Some(url) => {
            if Transport::is_plain_smtp(url.expose()) {
                log::warn!(
                    "smtp_url (KYOSO_SMTP_URL) is smtp+plain://: the SMTP login and every mail \
                     travel without TLS; use smtp:// (STARTTLS required) or smtps:// unless the \
                     relay is on this host"
                );
            }
            Transport::smtp(url.expose())
                .map_err(|e| anyhow::anyhow!("smtp_url (KYOSO_SMTP_URL): {e}"))?
        }
        None => Transport::files(settings.data_dir.join("mail")),
    };
    Ok(Mailer::new(
        transport,
        settings.mail_from.clone(),
        settings.public_url.clone(),
    ))
}

/// `kyoso digest run`: the periods due now (or the one named), each at most once.
pub fn run_digests(settings: &Settings, db: &Db, period: Option<Period>) -> anyhow::Result<()> {
    let at: NaiveDateTime = now();
    let runs = match period {
        Some(p) => vec![(p, digest::run(db, p, at)?)],
        None => digest::run_due(db, &settings.digest, at)?,
    };
    if runs.is_empty() {
        println!(
            "no digest is due yet (digest time {:02}:{:02} Japan time)",
            settings.digest.hour, settings.digest.minute
        );
    }
    for (p, r) in runs {
        if r.skipped {
            println!("{p:?} digest of {} already ran", p.key(at));
        } else {
            println!(
                "{p:?} digest of {}: {} mails with {} items",
                p.key(at),
                r.digests,
                r.items
            );
        }
    }
    // The weekly report goes with the due digests, for deployments that run cron
    // rather than the service's scheduler; it claims each week per municipality, so
    // both may run.
    if period.is_none() {
        let week = weekly_report::reported_week(at);
        let r = weekly_report::run(db, at)?;
        println!(
            "weekly report of the week from {week}: {} made ({} mails), {} made before",
            r.made, r.mails, r.skipped
        );
    }
    Ok(())
}

/// `kyoso mail send`: sends what is due now, once.
pub fn send_due(settings: &Settings, db: &Db) -> anyhow::Result<()> {
    let r = mailer(settings)?.send_due(db, 1000)?;
    println!(
        "sent {}, failed {}, taken over by another sender {}",
        r.sent, r.failed, r.lost
    );
    Ok(())
}
