//! The weekly report mail (週次レポート): every Monday morning, Japan time, each
//! municipality's desk and admin staff who keep it on get the week just ended (Monday to
//! Sunday): new proposals by channel and policy field, routings, decisions, overdue and
//! waiting (資料待ち) items at the week's end, median business days to routing and to
//! decision — each beside the previous week's figure and the difference — with the same
//! figures as a CSV attachment. The figures come from `stats` (`activity`,
//! `open_queues`); this module owns the week, the comparison, the words and the run.
//!
//! A run claims (municipality, week) in `weekly_report_runs` in the transaction that
//! queues the mails, so two nodes never both send a week, and a crash before the commit
//! leaves the week to the next try: the scheduler tries every few minutes from Monday
//! 07:00 until the following Monday 07:00, which is also the catch-up for a node that
//! was down on Monday morning.
//!
//! Overdue and waiting items are counted as they stand when the report is made (the
//! due dates against the Monday after the week, the states as they are), and kept with
//! the run: the previous week's figures come from the previous run, and are blank when
//! there was none. The other figures of the previous week are counted again from the
//! proposals and their events.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

use super::stats::{self, Activity, Count};
use crate::domain::calendar::japan_time;
use crate::domain::csv::{Cell, Csv};
use crate::domain::error::AppResult;
use crate::domain::notifications::{Choice, Kind, choice_for, desk_and_admins};
use crate::domain::vocab::{Channel, Locale, PolicyField};
use crate::mail::outbox::{self, Attachment, Delivery, Outgoing};
use crate::mail::templates::{self, Template};
use crate::storage::models::MunicipalityRow;
use crate::storage::{self, AnyConnection, Db, weekly_reports};

/// From this local time on Monday the week just ended is reported.
pub const SEND_HOUR: u32 = 7;

/// The Monday of the week a run at `at` (UTC) reports: the week just ended once Monday
/// 07:00 (Japan time) has come, else the week before it.
pub fn reported_week(at: NaiveDateTime) -> NaiveDate {
    let local = japan_time(at);
    let this_monday =
        local.date() - TimeDelta::days(i64::from(local.weekday().num_days_from_monday()));
    let last = this_monday - TimeDelta::days(7);
    if local.weekday() == chrono::Weekday::Mon && local.hour() < SEND_HOUR {
        last - TimeDelta::days(7)
    } else {
        last
    }
}

/// One week's figures as the report gives them and the next week's report reads them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekFigures {
    pub week_start: NaiveDate,
    pub activity: Activity,
    /// Open proposals with a clock due before the Monday after the week.
    pub overdue: u64,
    /// Open proposals waiting for their proposer (資料待ち).
    pub waiting: u64,
}

/// A week's report: its figures and the previous week's.
#[derive(Debug, Clone)]
pub struct Report {
    pub this: WeekFigures,
    pub previous: Activity,
    /// The previous week's overdue and waiting counts, from its report.
    pub previous_queues: Option<(u64, u64)>,
}

/// Computes the report of the week starting on Monday `week_start` for municipality `m`.
pub fn report(conn: &mut AnyConnection, m: i64, week_start: NaiveDate) -> AppResult<Report> {
    let week_end = week_start + TimeDelta::days(6);
    let activity = stats::activity(conn, m, week_start, week_end)?;
    let (overdue, waiting) = stats::open_queues(conn, m, week_end + TimeDelta::days(1))?;
    let before = week_start - TimeDelta::days(7);
    let previous = stats::activity(conn, m, before, week_start - TimeDelta::days(1))?;
    let previous_queues = weekly_reports::figures(conn, m, before)?
        .and_then(|json| serde_json::from_str::<WeekFigures>(&json).ok())
        .map(|f| (f.overdue, f.waiting));
    Ok(Report {
        this: WeekFigures {
            week_start,
            activity,
            overdue,
            waiting,
        },
        previous,
        previous_queues,
    })
}

/// One line of the report: a figure this week and the previous week.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub group: (&'static str, &'static str),
    pub item: (String, String),
    pub this: Option<f64>,
    pub previous: Option<f64>,
    /// A median of days (shown with a decimal) rather than a count.
    pub days: bool,
}

impl Line {
    pub fn difference(&self) -> Option<f64> {
        Some(self.this? - self.previous?)
    }
}

fn count_of(list: &[Count], key: &str) -> f64 {
    list.iter()
        .find(|c| c.key == key)
        .map_or(0.0, |c| c.count as f64)
}

/// The report's lines, in the order the mail and the CSV give them.
pub fn lines(r: &Report) -> Vec<Line> {
    let (a, p) = (&r.this.activity, &r.previous);
    let mut out = vec![];
    let mut push = |group, item: (String, String), this, previous, days| {
        out.push(Line {
            group,
            item,
            this,
            previous,
            days,
        })
    };
    let count = |ja: &str, en: &str| (ja.to_owned(), en.to_owned());
    push(
        ("受付", "Received"),
        count("新規提案", "New proposals"),
        Some(a.received as f64),
        Some(p.received as f64),
        false,
    );
    for c in Channel::ALL {
        push(
            ("受付経路別", "By channel"),
            count(c.label_ja(), c.label_en()),
            Some(count_of(&a.by_channel, c.as_str())),
            Some(count_of(&p.by_channel, c.as_str())),
            false,
        );
    }
    // Every field either week had, in the vocabulary's order, then "none".
    let seen = |k: &str| {
        a.by_policy_field.iter().any(|c| c.key == k) || p.by_policy_field.iter().any(|c| c.key == k)
    };
    for f in PolicyField::ALL.iter().filter(|f| seen(f.as_str())) {
        push(
            ("政策分野別", "By policy field"),
            count(f.label_ja(), f.label_en()),
            Some(count_of(&a.by_policy_field, f.as_str())),
            Some(count_of(&p.by_policy_field, f.as_str())),
            false,
        );
    }
    if seen("none") {
        push(
            ("政策分野別", "By policy field"),
            count("分野未設定", "No field given"),
            Some(count_of(&a.by_policy_field, "none")),
            Some(count_of(&p.by_policy_field, "none")),
            false,
        );
    }
    push(
        ("回付", "Routed"),
        count("所管課へ回付", "Routed to a department"),
        Some(a.routed as f64),
        Some(p.routed as f64),
        false,
    );
    for (ja, en, this, prev) in [
        ("採択", "Adopted", a.adopted, p.adopted),
        ("見送り", "Declined", a.declined, p.declined),
        ("取り下げ", "Withdrawn", a.withdrawn, p.withdrawn),
    ] {
        push(
            ("結論", "Decided"),
            count(ja, en),
            Some(this as f64),
            Some(prev as f64),
            false,
        );
    }
    let pq = r.previous_queues;
    push(
        ("週末時点", "At the week's end"),
        count("期限超過", "Overdue"),
        Some(r.this.overdue as f64),
        pq.map(|q| q.0 as f64),
        false,
    );
    push(
        ("週末時点", "At the week's end"),
        count("資料待ち", "Waiting for the proposer"),
        Some(r.this.waiting as f64),
        pq.map(|q| q.1 as f64),
        false,
    );
    push(
        ("所要日数（開庁日・中央値）", "Business days (median)"),
        count("受付から回付まで", "Receipt to routing"),
        a.time_to_routing.median_business_days,
        p.time_to_routing.median_business_days,
        true,
    );
    push(
        ("所要日数（開庁日・中央値）", "Business days (median)"),
        count("受付から結論まで", "Receipt to decision"),
        a.time_to_decision.median_business_days,
        p.time_to_decision.median_business_days,
        true,
    );
    out
}

fn number(v: Option<f64>, days: bool) -> String {
    match v {
        None => String::new(),
        Some(v) if days => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn signed(v: Option<f64>, days: bool) -> String {
    match v {
        Some(v) if v > 0.0 => format!("+{}", number(Some(v), days)),
        Some(v) if v < 0.0 => number(Some(v), days),
        Some(_) => "±0".to_owned(),
        None => String::new(),
    }
}

/// The lines as a CSV table (区分, 項目, 今週, 前週, 差) for Japanese Excel; the figures
/// are numbers, the difference signed only when negative, so the sheet can sum them.
pub fn to_csv(r: &Report, municipality: &MunicipalityRow, locale: Locale) -> String {
    let ja = locale == Locale::Ja;
    let mut c = if ja {
        Csv::new(&["区分", "項目", "今週", "前週", "差"])
    } else {
        Csv::new(&["Group", "Item", "This week", "Previous week", "Difference"])
    };
    let week = r.this.week_start;
    let span = |from: NaiveDate| format!("{from}/{}", from + TimeDelta::days(6));
    c.row([
        if ja { "期間" } else { "Week" }.to_owned(),
        municipality.name.clone(),
        span(week),
        span(week - TimeDelta::days(7)),
        String::new(),
    ]);
    for l in lines(r) {
        let pick = |(j, e): (&str, &str)| if ja { j.to_owned() } else { e.to_owned() };
        let decimals = if l.days { 1 } else { 0 };
        c.cells([
            Cell::Text(pick(l.group)),
            Cell::Text(pick((&l.item.0, &l.item.1))),
            Cell::number(l.this, decimals),
            Cell::number(l.previous, decimals),
            Cell::number(l.difference(), decimals),
        ]);
    }
    c.finish()
}

/// The lines as the mail's text, grouped.
pub fn to_text(r: &Report, locale: Locale) -> String {
    let mut text = String::new();
    let mut group = "";
    for l in lines(r) {
        let (g, item) = match locale {
            Locale::Ja => (l.group.0, &l.item.0),
            Locale::En => (l.group.1, &l.item.1),
        };
        if g != group {
            if !group.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("■ {g}\n"));
            group = g;
        }
        let unit = match (locale, l.days) {
            (Locale::Ja, true) => "日",
            (Locale::Ja, false) => "件",
            (Locale::En, _) => "",
        };
        let show = |v: Option<f64>| match v {
            Some(_) => format!("{}{unit}", number(v, l.days)),
            None => "—".to_owned(),
        };
        let diff = match l.difference() {
            Some(_) => signed(l.difference(), l.days),
            None => "—".to_owned(),
        };
        text.push_str(&match locale {
            Locale::Ja => format!(
                "  {item}：{}（前週 {}、差 {diff}）\n",
                show(l.this),
                show(l.previous)
            ),
            Locale::En => format!(
                "  {item}: {} (previous week {}, difference {diff})\n",
                show(l.this),
                show(l.previous)
            ),
        });
    }
    text
}

fn span_label(from: NaiveDate, locale: Locale) -> String {
    let to = from + TimeDelta::days(6);
    match locale {
        Locale::Ja => format!(
            "{}年{}月{}日〜{}月{}日",
            from.year(),
            from.month(),
            from.day(),
            to.month(),
            to.day()
        ),
        Locale::En => format!("{from} to {to}"),
    }
}

/// Makes and queues municipality `m`'s report of the week starting `week_start`, in one
/// transaction with its claim. Returns the number of mails queued, or `None` when the
/// week was already claimed.
fn make(
    conn: &mut AnyConnection,
    m: &MunicipalityRow,
    week_start: NaiveDate,
    public_url: &str,
) -> AppResult<Option<usize>> {
    let mut recipients = vec![];
    for (_, to) in desk_and_admins(conn, m.id)? {
        if choice_for(conn, to.who, Kind::WeeklyReport)? != Choice::Off {
            recipients.push(to);
        }
    }
    let r = report(conn, m.id, week_start)?;
    let figures = serde_json::to_string(&r.this)
        .map_err(|e| crate::domain::error::AppError::Internal(e.into()))?;
    let count = i32::try_from(recipients.len()).unwrap_or(i32::MAX);
    if !weekly_reports::claim(conn, m.id, week_start, &figures, count)? {
        return Ok(None);
    }
    let link = format!("{public_url}/admin/dashboard");
    for to in &recipients {
        let name = to.name.clone().unwrap_or_else(|| to.email.clone());
        let message = templates::render(
            Template::WeeklyReport,
            to.locale,
            &[
                ("recipient_name", &name),
                ("municipality", &m.name),
                ("week", &span_label(week_start, to.locale)),
                (
                    "previous_week",
                    &span_label(week_start - TimeDelta::days(7), to.locale),
                ),
                ("figures", &to_text(&r, to.locale)),
                ("link", &link),
            ],
        );
        let csv = to_csv(&r, m, to.locale);
        outbox::enqueue_with(
            conn,
            &Outgoing {
                dedupe_key: format!(
                    "weekly_report:{}:{week_start}:{}",
                    m.code,
                    to.email.to_lowercase()
                ),
                kind: Template::WeeklyReport,
                recipient: to.who,
                recipient_email: &to.email,
                recipient_name: to.name.as_deref(),
                locale: to.locale,
                delivery: Delivery::Immediate,
                message,
            },
            Some(&Attachment {
                name: format!("weekly-report-{}-{week_start}.csv", m.code),
                content_type: "text/csv; charset=utf-8".to_owned(),
                bytes: csv.into_bytes(),
            }),
        )?;
    }
    Ok(Some(recipients.len()))
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Municipalities whose report this run made.
    pub made: usize,
    /// Municipalities whose report for the week was made already (by any process).
    pub skipped: usize,
    pub mails: usize,
}

/// Makes the report of the week starting on Monday `week_start` for every municipality
/// whose report of that week was not made yet.
pub fn run_week(db: &Db, week_start: NaiveDate, public_url: &str) -> AppResult<RunReport> {
    let mut out = RunReport::default();
    for m in db.read(|conn| -> AppResult<_> { Ok(storage::municipalities::list(conn)?) })? {
        // A cheap look first: most runs of the week find every report made.
        if db
            .read(|conn| -> AppResult<_> { Ok(weekly_reports::exists(conn, m.id, week_start)?) })?
        {
            out.skipped += 1;
            continue;
        }
        match db.write(|conn| make(conn, &m, week_start, public_url))? {
            Some(n) => {
                out.made += 1;
                out.mails += n;
            }
            None => out.skipped += 1,
        }
    }
    Ok(out)
}

/// The scheduler's call: the week due at `at` (`reported_week`).
pub fn run(db: &Db, at: NaiveDateTime) -> AppResult<RunReport> {
    run_week(db, reported_week(at), crate::mail::links::base())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn the_week_just_ended_from_monday_seven_japan_time() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap_or_default();
        // Monday 2026-11-23 06:59 JST is Sunday 21:59 UTC: still the week before.
        assert_eq!(
            reported_week(utc("2026-11-22 21:59")),
            monday - TimeDelta::days(7)
        );
        // Monday 07:00 JST: the week of 16–22 November.
        assert_eq!(reported_week(utc("2026-11-22 22:00")), monday);
        // All week long after that (the catch-up), up to the next Monday 07:00.
        assert_eq!(reported_week(utc("2026-11-29 21:59")), monday);
        assert_eq!(
            reported_week(utc("2026-11-29 22:00")),
            monday + TimeDelta::days(7)
        );
    }
}
