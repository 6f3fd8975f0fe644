//! Daily and weekly digests. Notices a recipient chose to get in a digest wait in the
//! outbox; a digest run gathers each recipient's waiting notices into one mail, grouped
//! by kind, newest first, and marks them digested in the same transaction — so each item
//! appears once, never also immediately or in a later digest, and no digest is empty.
//! A run claims its period in `digest_runs` first: the scheduler and `kyoso digest run`
//! can both fire without sending a period twice.

use chrono::{Datelike, NaiveDateTime, Weekday};
use std::collections::BTreeMap;

use super::Kind;
use crate::domain::error::{AppError, AppResult};
use crate::domain::proposals::local_date;
use crate::domain::vocab::Locale;
use crate::mail::outbox::{self, Delivery, MailRow, Outgoing, RecipientRef};
use crate::mail::templates::{self, Rendered};
use crate::storage::{Db, digest_runs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
}

impl Period {
    fn delivery(self) -> Delivery {
        match self {
            Period::Daily => Delivery::Daily,
            Period::Weekly => Delivery::Weekly,
        }
    }

    /// The key of the period a run at `at` (UTC) covers, in Japan's calendar.
    pub fn key(self, at: NaiveDateTime) -> String {
        let d = local_date(at);
        match self {
            Period::Daily => format!("daily:{d}"),
            Period::Weekly => {
                let w = d.iso_week();
                format!("weekly:{}-W{:02}", w.year(), w.week())
            }
        }
    }
}

/// When digests go out, in Japan time.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub hour: u32,
    pub minute: u32,
    pub weekday: Weekday,
}

impl Schedule {
    /// The periods due at `at`: the daily one once the time of day has passed, the
    /// weekly one on its weekday.
    pub fn due(&self, at: NaiveDateTime) -> Vec<Period> {
        let local = crate::domain::calendar::japan_time(at);
        let time = local.time();
        let past = (time.hour_(), time.minute_()) >= (self.hour, self.minute);
        let mut out = vec![];
        if past {
            out.push(Period::Daily);
            if local.weekday() == self.weekday {
                out.push(Period::Weekly);
            }
        }
        out
    }
}

trait HourMinute {
    fn hour_(&self) -> u32;
    fn minute_(&self) -> u32;
}

impl HourMinute for chrono::NaiveTime {
    fn hour_(&self) -> u32 {
        chrono::Timelike::hour(self)
    }
    fn minute_(&self) -> u32 {
        chrono::Timelike::minute(self)
    }
}

/// Recipients whose digests are composed in one transaction.
const RECIPIENTS_PER_BATCH: i64 = 500;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DigestReport {
    /// Already run for this period (by this or another process): nothing was done.
    pub skipped: bool,
    pub digests: usize,
    pub items: usize,
}

fn kind_label(kind: &str, locale: Locale) -> String {
    // The related departments' routing notice is a routing notice under its own text.
    let kind = if kind == templates::Template::ProposalRoutedRelated.name() {
        Kind::ProposalRouted.as_str()
    } else {
        kind
    };
    match Kind::parse(kind) {
        Some(k) => k.label(locale).to_owned(),
        None => kind.replace('_', " "),
    }
}

/// One recipient's digest text from their waiting items.
fn compose(
    items: &[MailRow],
    period: Period,
    locale: Locale,
    name: &str,
    unsubscribe: &str,
) -> Rendered {
    let mut groups: BTreeMap<&str, Vec<&MailRow>> = BTreeMap::new();
    for it in items {
        groups.entry(it.kind.as_str()).or_default().push(it);
    }
    let mut text = String::new();
    for (kind, mut list) in groups {
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        text.push_str(&format!(
            "■ {}（{}件）\n\n",
            kind_label(kind, locale),
            list.len()
        ));
        for it in list {
            let at = crate::domain::calendar::japan_time(it.created_at).format("%Y-%m-%d %H:%M");
            text.push_str(&format!("◆ {}  [{at}]\n", it.subject));
            // The item's own text without its greeting line.
            let body: Vec<&str> = it
                .body_text
                .lines()
                .skip_while(|l| l.trim().is_empty() || l.ends_with('様') || l.starts_with("Dear "))
                .collect();
            text.push_str(body.join("\n").trim_end());
            text.push_str("\n\n");
        }
    }
    let period_label = match (period, locale) {
        (Period::Daily, Locale::Ja) => "本日",
        (Period::Weekly, Locale::Ja) => "今週",
        (Period::Daily, Locale::En) => "daily",
        (Period::Weekly, Locale::En) => "weekly",
    };
    let count = items.len().to_string();
    templates::render(
        templates::Template::Digest,
        locale,
        &[
            ("recipient_name", name),
            ("period", period_label),
            ("count", &count),
            ("items", &text),
            ("unsubscribe", unsubscribe),
        ],
    )
}

/// Runs the digest of `period` for the period containing `at`, unless it already ran.
pub fn run(db: &Db, period: Period, at: NaiveDateTime) -> AppResult<DigestReport> {
    let key = period.key(at);
    let claimed = db.write(|conn| Ok(digest_runs::claim(conn, &key)?));
    // On PostgreSQL a unique violation aborts the transaction; it surfaces as a conflict.
    let claimed = match claimed {
        Ok(c) => c,
        Err(AppError::Conflict(_)) => false,
        Err(e) => return Err(e),
    };
    if !claimed {
        return Ok(DigestReport {
            skipped: true,
            ..Default::default()
        });
    }
    // Items that waited until `at`, in pages of recipients: one query and one
    // transaction per page.
    let mut report = DigestReport::default();
    let mut after = String::new();
    loop {
        let emails: Vec<String> = db.read(|conn| -> AppResult<_> {
            Ok(outbox::digest_recipients(
                conn,
                period.delivery(),
                at,
                &after,
                RECIPIENTS_PER_BATCH,
            )?)
        })?;
        let Some(last) = emails.last().cloned() else {
            break;
        };
        let (digests, items) = db.write(|conn| -> AppResult<_> {
            let rows = outbox::digest_items(conn, period.delivery(), at, &emails)?;
            let signing_key = crate::mail::signing::key(conn)?;
            let mut by_recipient: BTreeMap<&str, Vec<&MailRow>> = BTreeMap::new();
            for r in &rows {
                by_recipient
                    .entry(r.recipient_email.as_str())
                    .or_default()
                    .push(r);
            }
            let (mut digests, mut count) = (0, 0);
            for (email, items) in by_recipient {
                // Each list got its first item when its entry was made.
                let Some(&first) = items.first() else {
                    continue;
                };
                let locale = Locale::from_db(&first.locale)?;
                let name = first
                    .recipient_name
                    .clone()
                    .unwrap_or_else(|| email.to_owned());
                let who = RecipientRef::from_parts(&first.recipient_type, first.recipient_id);
                let unsubscribe = match who {
                    RecipientRef::Staff(id) | RecipientRef::Partner(id) => {
                        let (t, _) = who.parts();
                        let token = crate::mail::signing::sign(
                            &signing_key,
                            &format!("v1.{t}.{id}.digest"),
                        );
                        format!(
                            "{}/api/v1/unsubscribe?token={token}",
                            crate::mail::links::base()
                        )
                    }
                    RecipientRef::Guest => String::new(),
                };
                let owned: Vec<MailRow> = items.iter().map(|r| (*r).clone()).collect();
                let message = compose(&owned, period, locale, &name, &unsubscribe);
                outbox::enqueue(
                    conn,
                    &Outgoing {
                        dedupe_key: format!("digest:{key}:{}", email.to_lowercase()),
                        kind: templates::Template::Digest,
                        recipient: who,
                        recipient_email: email,
                        recipient_name: first.recipient_name.as_deref(),
                        locale,
                        delivery: Delivery::Immediate,
                        message,
                    },
                )?;
                digests += 1;
                count += items.len();
            }
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            outbox::mark_digested(conn, &ids)?;
            Ok((digests, count))
        })?;
        report.digests += digests;
        report.items += items;
        after = last;
    }
    let done = report.digests as i32;
    db.write(|conn| -> AppResult<_> { Ok(digest_runs::finish(conn, &key, done)?) })?;
    Ok(report)
}

/// Runs every period due at `at` under `schedule`.
pub fn run_due(
    db: &Db,
    schedule: &Schedule,
    at: NaiveDateTime,
) -> AppResult<Vec<(Period, DigestReport)>> {
    schedule
        .due(at)
        .into_iter()
        .map(|p| run(db, p, at).map(|r| (p, r)))
        .collect()
}
