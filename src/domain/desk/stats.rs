//! The desk's statistics for a municipality and period, computed from the proposals and
//! their audit trail: intake by month, channel, field and department; time to routing
//! and to first response; share answered within target; adoption; the "owner not yet
//! known" queue. Also as CSV for Japanese Excel. The weekly report's figures come from
//! here too (`activity`, `open_queues`).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use super::municipality_of;
use crate::domain::actor::Actor;
use crate::domain::calendar::{self, business_days_between};
use crate::domain::csv::Csv;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::MunicipalityId;
use crate::domain::proposals::{local_date, local_midnight};
use crate::domain::validate::Check;
use crate::domain::vocab::{Channel, EventKind, PolicyField, ProposalState, Role};
use crate::storage::models::{ProposalEventRow, ProposalRow};
use crate::storage::proposals::ProposalFilter;
use crate::storage::{self, AnyConnection, Db, now};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// First local date of the period; default: start of the current fiscal year (April 1).
    pub from: Option<NaiveDate>,
    /// Last local date of the period (inclusive); default today.
    pub to: Option<NaiveDate>,
    /// Deployment admins: which municipality.
    pub municipality: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Durations {
    /// Proposals measured.
    pub count: u64,
    pub median_hours: Option<f64>,
    pub median_business_days: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WithinTarget {
    /// Proposals answered, or unanswered for longer than the first-response target.
    pub due: u64,
    pub answered_in_time: u64,
    pub share: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Adoption {
    pub key: String,
    pub label: String,
    pub adopted: u64,
    pub declined: u64,
    pub withdrawn: u64,
    /// adopted / (adopted + declined).
    pub rate: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queue {
    /// Open proposals with no department (受付済・所管未定), now.
    pub count: u64,
    pub oldest_days: Option<i64>,
    pub median_age_days: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeskStats {
    pub municipality_code: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub received: u64,
    pub by_month: Vec<Count>,
    pub by_channel: Vec<Count>,
    pub by_policy_field: Vec<Count>,
    pub by_department: Vec<Count>,
    pub time_to_routing: Durations,
    pub time_to_first_response: Durations,
    pub first_response_within_target: WithinTarget,
    pub adoption: Adoption,
    pub adoption_by_policy_field: Vec<Adoption>,
    pub adoption_by_department: Vec<Adoption>,
    pub unassigned_queue: Queue,
    /// Open proposals with a clock past its due date (期限超過), now; the inbox's
    /// overdue queue counts the same.
    pub overdue_now: u64,
    /// Outcome reports dated in the fiscal year of `to` (アウトカム).
    pub outcomes: OutcomeFigures,
}

/// The fiscal year's outcomes: what the reports dated in it say.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomeFigures {
    /// 年度: April of this year to March of the next.
    pub fiscal_year: i32,
    /// Adopted proposals with at least one outcome report dated in the year.
    pub adopted_with_outcomes: u64,
    /// The sum of the 効果額 (yen) of the reports dated in the year.
    pub effect_yen: i64,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let upper = *v.get(v.len() / 2)?;
    Some(if v.len() % 2 == 1 {
        upper
    } else {
        // An even, non-empty list has an element before the upper middle.
        let lower = *v.get(v.len() / 2 - 1)?;
        (lower + upper) / 2.0
    })
}

fn durations(pairs: &[(NaiveDateTime, NaiveDateTime)]) -> Durations {
    let hours = pairs
        .iter()
        .map(|(a, b)| (*b - *a).num_seconds() as f64 / 3600.0)
        .collect();
    let days = pairs
        .iter()
        .map(|(a, b)| business_days_between(local_date(*a), local_date(*b)) as f64)
        .collect();
    Durations {
        count: pairs.len() as u64,
        median_hours: median(hours).map(|h| (h * 10.0).round() / 10.0),
        median_business_days: median(days),
    }
}

#[derive(Default)]
struct Tally {
    adopted: u64,
    declined: u64,
    withdrawn: u64,
}

impl Tally {
    fn add(&mut self, s: ProposalState) {
        match s {
            ProposalState::Adopted => self.adopted += 1,
            ProposalState::Declined => self.declined += 1,
            ProposalState::Withdrawn => self.withdrawn += 1,
            _ => {}
        }
    }

    fn view(&self, key: String, label: String) -> Adoption {
        let decided = self.adopted + self.declined;
        Adoption {
            key,
            label,
            adopted: self.adopted,
            declined: self.declined,
            withdrawn: self.withdrawn,
            rate: (decided > 0).then(|| self.adopted as f64 / decided as f64),
        }
    }
}

fn fiscal_year_start(d: NaiveDate) -> NaiveDate {
    let y = if d.month() >= 4 {
        d.year()
    } else {
        d.year() - 1
    };
    // April 1 exists in every year chrono knows; the fallback only keeps this total.
    NaiveDate::from_ymd_opt(y, 4, 1).unwrap_or(d)
}

/// Proposals by channel (key: the channel's spelling; label: Japanese).
fn channel_counts(rows: &[ProposalRow]) -> AppResult<Vec<Count>> {
    let mut by_channel: BTreeMap<&str, u64> = BTreeMap::new();
    for p in rows {
        *by_channel
            .entry(Channel::from_db(&p.channel)?.as_str())
            .or_default() += 1;
    }
    Ok(by_channel
        .into_iter()
        .map(|(k, c)| Count {
            key: k.to_owned(),
            // The keys are spellings of read channels (above).
            label: Channel::parse(k).map_or(k, Channel::label_ja).to_owned(),
            count: c,
        })
        .collect())
}

fn field_label(k: &str) -> String {
    PolicyField::parse(k)
        .map(|f| f.label_ja().to_owned())
        .unwrap_or_else(|| "分野未設定".to_owned())
}

/// Proposals by policy field (key `none` for those without one).
fn field_counts(rows: &[ProposalRow]) -> Vec<Count> {
    let mut by_field: BTreeMap<String, u64> = BTreeMap::new();
    for p in rows {
        *by_field
            .entry(p.policy_field.clone().unwrap_or_default())
            .or_default() += 1;
    }
    by_field
        .into_iter()
        .map(|(k, c)| Count {
            label: field_label(&k),
            key: if k.is_empty() { "none".into() } else { k },
            count: c,
        })
        .collect()
}

/// The proposals of municipality `m` received on local dates `from..=to`.
fn received_between(
    conn: &mut AnyConnection,
    m: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ProposalRow>> {
    Ok(storage::proposals::list(
        conn,
        &ProposalFilter {
            municipality_id: Some(m),
            received_from: Some(local_midnight(from)),
            received_to: Some(local_midnight(to + chrono::TimeDelta::days(1))),
            limit: i64::MAX,
            ..Default::default()
        },
    )?)
}

/// What happened at a desk over some local dates: what came in, what was routed and
/// decided then, and how long those took. Counted by the events of the period (a
/// proposal received before it and routed in it counts as routed in it), unlike
/// `DeskStats`, which follows the proposals received in its period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub received: u64,
    pub by_channel: Vec<Count>,
    pub by_policy_field: Vec<Count>,
    /// First routings (a re-routing is not counted again).
    pub routed: u64,
    pub adopted: u64,
    pub declined: u64,
    pub withdrawn: u64,
    /// From receipt to the first routing, for the routings of the period.
    pub time_to_routing: Durations,
    /// From receipt to adoption or decline, for the decisions of the period.
    pub time_to_decision: Durations,
}

/// The desk's activity of municipality `m` on local dates `from..=to`.
pub fn activity(
    conn: &mut AnyConnection,
    m: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Activity> {
    let rows = received_between(conn, m, from, to)?;
    let events = storage::proposals::events_between(
        conn,
        m,
        &[EventKind::Routed.as_str(), EventKind::StateChanged.as_str()],
        local_midnight(from),
        local_midnight(to + chrono::TimeDelta::days(1)),
    )?;
    let mut tally = Tally::default();
    let (mut to_routing, mut to_decision) = (vec![], vec![]);
    for (e, received_at) in &events {
        if e.kind == EventKind::Routed.as_str() {
            to_routing.push((*received_at, e.created_at));
            continue;
        }
        let Some(state) = e.to_state.as_deref() else {
            continue;
        };
        let state = ProposalState::from_db(state)?;
        tally.add(state);
        if matches!(state, ProposalState::Adopted | ProposalState::Declined) {
            to_decision.push((*received_at, e.created_at));
        }
    }
    Ok(Activity {
        received: rows.len() as u64,
        by_channel: channel_counts(&rows)?,
        by_policy_field: field_counts(&rows),
        routed: to_routing.len() as u64,
        adopted: tally.adopted,
        declined: tally.declined,
        withdrawn: tally.withdrawn,
        time_to_routing: durations(&to_routing),
        time_to_decision: durations(&to_decision),
    })
}

/// Open proposals of municipality `m` with a running clock due before `day` (the same
/// count as the inbox's 期限超過 queue and `DeskStats::overdue_now`), and open ones
/// waiting for their proposer (資料待ち), as they stand now.
pub fn open_queues(conn: &mut AnyConnection, m: i64, day: NaiveDate) -> AppResult<(u64, u64)> {
    let overdue = storage::proposals::count_filtered(
        conn,
        &crate::domain::proposals::find::overdue_filter(m, day),
    )?;
    let waiting = storage::proposals::count_filtered(
        conn,
        &ProposalFilter {
            municipality_id: Some(m),
            paused: true,
            ..Default::default()
        },
    )?;
    Ok((
        u64::try_from(overdue).unwrap_or_default(),
        u64::try_from(waiting).unwrap_or_default(),
    ))
}

pub fn compute(db: &Db, actor: &Actor, q: &StatsQuery) -> AppResult<DeskStats> {
    let mut c = Check::new();
    calendar::check_date(&mut c, "from", q.from);
    calendar::check_date(&mut c, "to", q.to);
    c.finish()?;
    let today = local_date(now());
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or_else(|| fiscal_year_start(today));
    if from > to {
        return Err(AppError::field(
            "from",
            "out_of_range",
            "must not be after `to`",
        ));
    }
    db.read(|conn| {
        let m = municipality_of(conn, actor, q.municipality.as_deref())?;
        actor.require_staff_of(MunicipalityId(m), &[Role::Desk, Role::Admin])?;
        let municipality = storage::municipalities::by_id(conn, m)?;
        let rows = received_between(conn, m, from, to)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut events: HashMap<i64, Vec<ProposalEventRow>> = HashMap::new();
        for e in storage::proposals::events_of(conn, &ids)? {
            events.entry(e.proposal_id).or_default().push(e);
        }
        let departments: HashMap<i64, String> = storage::municipalities::departments_of(conn, m)?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();

        let mut by_month: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_department: BTreeMap<Option<i64>, u64> = BTreeMap::new();
        let mut to_routing = vec![];
        let mut to_response = vec![];
        let (mut due, mut in_time) = (0u64, 0u64);
        let mut all = Tally::default();
        let mut per_field: BTreeMap<String, Tally> = BTreeMap::new();
        let mut per_department: BTreeMap<Option<i64>, Tally> = BTreeMap::new();
        for p in &rows {
            let day = local_date(p.received_at);
            *by_month
                .entry(format!("{:04}-{:02}", day.year(), day.month()))
                .or_default() += 1;
            *by_department.entry(p.primary_department_id).or_default() += 1;
            let trail = events.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            // The audit trail says when it was first routed, and when the proposer first
            // heard from the municipality (a reply, a state change or a pause by staff).
            if let Some(e) = trail.iter().find(|e| e.kind == EventKind::Routed.as_str()) {
                to_routing.push((p.received_at, e.created_at));
            }
            let answered = trail.iter().find(|e| {
                !e.internal
                    && e.actor_staff_id.is_some()
                    && [EventKind::Reply, EventKind::StateChanged, EventKind::Paused]
                        .iter()
                        .any(|k| k.as_str() == e.kind)
            });
            if let Some(e) = answered {
                to_response.push((p.received_at, e.created_at));
            }
            // Within target means answered within the municipality's number of business
            // days; extensions granted later do not rewrite the record.
            let target = i64::from(municipality.first_response_days);
            let received = local_date(p.received_at);
            match answered {
                Some(e) => {
                    due += 1;
                    if business_days_between(received, local_date(e.created_at)) <= target {
                        in_time += 1;
                    }
                }
                None if business_days_between(received, today) > target => due += 1,
                None => {}
            }
            let state = ProposalState::from_db(&p.state)?;
            all.add(state);
            per_field
                .entry(p.policy_field.clone().unwrap_or_default())
                .or_default()
                .add(state);
            per_department
                .entry(p.primary_department_id)
                .or_default()
                .add(state);
        }
        let department_label = |d: &Option<i64>| match d {
            Some(d) => departments.get(d).cloned().unwrap_or_default(),
            None => "所管未定".to_owned(),
        };
        let department_key = |d: &Option<i64>| {
            d.map(|d| d.to_string())
                .unwrap_or_else(|| "unassigned".to_owned())
        };

        // The same filter as the inbox's 所管未定 queue, so both count alike.
        let queue_rows =
            storage::proposals::list(conn, &crate::domain::proposals::find::unassigned_filter(m))?;
        let ages: Vec<i64> = queue_rows
            .iter()
            .map(|p| (today - local_date(p.received_at)).num_days())
            .collect();

        let overdue_now = storage::proposals::count_filtered(
            conn,
            &crate::domain::proposals::find::overdue_filter(m, today),
        )?;
        let outcomes = outcome_figures(conn, m, to)?;
        Ok(DeskStats {
            outcomes,
            municipality_code: municipality.code,
            from,
            to,
            received: rows.len() as u64,
            by_month: by_month
                .into_iter()
                .map(|(k, c)| Count {
                    label: k.clone(),
                    key: k,
                    count: c,
                })
                .collect(),
            by_channel: channel_counts(&rows)?,
            by_policy_field: field_counts(&rows),
            by_department: by_department
                .iter()
                .map(|(d, c)| Count {
                    key: department_key(d),
                    label: department_label(d),
                    count: *c,
                })
                .collect(),
            time_to_routing: durations(&to_routing),
            time_to_first_response: durations(&to_response),
            first_response_within_target: WithinTarget {
                due,
                answered_in_time: in_time,
                share: (due > 0).then(|| in_time as f64 / due as f64),
            },
            adoption: all.view("all".into(), "全体".into()),
            adoption_by_policy_field: per_field
                .iter()
                .map(|(k, t)| {
                    t.view(
                        if k.is_empty() {
                            "none".into()
                        } else {
                            k.clone()
                        },
                        field_label(k),
                    )
                })
                .collect(),
            adoption_by_department: per_department
                .iter()
                .map(|(d, t)| t.view(department_key(d), department_label(d)))
                .collect(),
            unassigned_queue: Queue {
                count: queue_rows.len() as u64,
                oldest_days: ages.iter().copied().max(),
                median_age_days: median(ages.iter().map(|a| *a as f64).collect()),
            },
            overdue_now: u64::try_from(overdue_now).unwrap_or_default(),
        })
    })
}

fn outcome_figures(
    conn: &mut storage::AnyConnection,
    municipality: i64,
    day: NaiveDate,
) -> AppResult<OutcomeFigures> {
    let fiscal_year = crate::domain::proposals::fiscal_year(day);
    let start = fiscal_year_start(day);
    let end = NaiveDate::from_ymd_opt(fiscal_year.saturating_add(1), 4, 1).unwrap_or(day);
    let reports = storage::outcomes::reported_between(conn, municipality, start, end)?;
    let mut with: Vec<i64> = reports.iter().map(|(p, _)| *p).collect();
    with.sort_unstable();
    with.dedup();
    // Each report is bounded by the database (≤ 10^12 yen); saturating keeps the sum total.
    let effect_yen = reports
        .iter()
        .filter_map(|(_, y)| *y)
        .fold(0i64, i64::saturating_add);
    Ok(OutcomeFigures {
        fiscal_year,
        adopted_with_outcomes: with.len() as u64,
        effect_yen,
    })
}

/// The statistics as one CSV table (区分, 項目, 値) that opens correctly in Excel.
pub fn to_csv(s: &DeskStats) -> String {
    let mut c = Csv::new(&["区分", "項目", "値"]);
    let mut row = |a: &str, b: &str, v: String| c.row([a.to_owned(), b.to_owned(), v]);
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    row("期間", "開始日", s.from.to_string());
    row("期間", "終了日", s.to.to_string());
    row("受付", "受付件数", s.received.to_string());
    for x in &s.by_month {
        row("月別受付件数", &x.label, x.count.to_string());
    }
    for x in &s.by_channel {
        row("受付経路別件数", &x.label, x.count.to_string());
    }
    for x in &s.by_policy_field {
        row("政策分野別件数", &x.label, x.count.to_string());
    }
    for x in &s.by_department {
        row("所管課別件数", &x.label, x.count.to_string());
    }
    row(
        "所要時間",
        "回付までの時間（中央値・時間）",
        opt(s.time_to_routing.median_hours),
    );
    row(
        "所要時間",
        "回付までの開庁日数（中央値）",
        opt(s.time_to_routing.median_business_days),
    );
    row(
        "所要時間",
        "初回回答までの時間（中央値・時間）",
        opt(s.time_to_first_response.median_hours),
    );
    row(
        "所要時間",
        "初回回答までの開庁日数（中央値）",
        opt(s.time_to_first_response.median_business_days),
    );
    row(
        "期限内回答",
        "対象件数",
        s.first_response_within_target.due.to_string(),
    );
    row(
        "期限内回答",
        "期限内回答件数",
        s.first_response_within_target.answered_in_time.to_string(),
    );
    row(
        "期限内回答",
        "期限内回答率",
        opt(s.first_response_within_target.share),
    );
    for a in std::iter::once(&s.adoption)
        .chain(&s.adoption_by_policy_field)
        .chain(&s.adoption_by_department)
    {
        row("採択", &format!("{} 採択", a.label), a.adopted.to_string());
        row(
            "採択",
            &format!("{} 見送り", a.label),
            a.declined.to_string(),
        );
        row("採択", &format!("{} 採択率", a.label), opt(a.rate));
    }
    row("所管未定", "件数", s.unassigned_queue.count.to_string());
    row("期限超過", "件数", s.overdue_now.to_string());
    row(
        "アウトカム",
        &format!(
            "{}年度 アウトカム報告のある採択提案",
            s.outcomes.fiscal_year
        ),
        s.outcomes.adopted_with_outcomes.to_string(),
    );
    row(
        "アウトカム",
        &format!("{}年度 効果額（円）", s.outcomes.fiscal_year),
        s.outcomes.effect_yen.to_string(),
    );
    row(
        "所管未定",
        "最長経過日数",
        s.unassigned_queue
            .oldest_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    row(
        "所管未定",
        "経過日数（中央値）",
        opt(s.unassigned_queue.median_age_days),
    );
    c.finish()
}
