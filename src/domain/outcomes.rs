//! The open outcome register (提案と結果の一覧): every proposal a municipality received
//! in one fiscal year (April to March, Japan time) with its outcome, as open data under
//! CC BY 4.0, following the conventions of 自治体標準オープンデータセット: the first
//! columns are 全国地方公共団体コード, ID and 地方公共団体名; the CSV is UTF-8 with a BOM and
//! CRLF line ends; every column is documented in [`COLUMNS`]. The proposer's name and
//! the title appear only where the proposer consented at intake; contact data, the
//! proposal's text, internal notes and internal events never appear. A yearly summary
//! per department goes with it.
//!
//! Outcome reports on adopted proposals (`reports`) feed the register's last columns:
//! their figures (report count, latest report date, indicators, total 効果額) are not
//! personal data and are always published; what was done, in the staff's words, only
//! with the proposer's consent. `cases` passes consented outcomes on to other
//! municipalities (横展開).

pub mod cases;
pub mod reports;

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

use super::calendar::business_days_between;
use super::csv::Csv;
use super::error::{AppError, AppResult};
use super::municipalities::find_by_code;
use super::proposals::{local_date, local_midnight, receipt_number};
use super::vocab::{DeclineReason, EventKind, PartnerKind, PolicyField, ProposalState};
use crate::storage::proposals::ProposalFilter;
use crate::storage::{self, Db};

pub const LICENCE: &str = "CC BY 4.0";
pub const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/deed.ja";

/// The register's columns: CSV header (Japanese), JSON key, meaning.
pub const COLUMNS: &[(&str, &str, &str)] = &[
    (
        "全国地方公共団体コード",
        "municipality_code",
        "6桁の全国地方公共団体コード（検査数字付き）",
    ),
    ("ID", "id", "受付番号（年度-連番）。自治体内で一意"),
    ("地方公共団体名", "municipality_name", "自治体名"),
    (
        "受付日",
        "received_on",
        "受け付けた日（日本時間、YYYY-MM-DD）",
    ),
    (
        "提案の種類",
        "kind",
        "need（公開されたニーズへの提案）または free（フリー提案）",
    ),
    ("政策分野", "policy_field", "政策分野（未設定は空欄）"),
    ("所管課", "department", "主管課の名称（未回付は空欄）"),
    (
        "提案者の種別",
        "proposer_kind",
        "company 企業, university 大学・研究機関, npo NPO・市民団体, other その他団体, unregistered 未登録の提案者（窓口受付）",
    ),
    (
        "提案者名",
        "proposer_name",
        "提案者の団体名（個人は氏名）。公開に同意した場合のみ、ほかは空欄",
    ),
    (
        "件名",
        "title",
        "提案の件名。公開に同意した場合のみ、ほかは空欄",
    ),
    (
        "結果",
        "outcome",
        "adopted 採択, declined 見送り, in_dialogue 対話中, withdrawn 取り下げ, received・routed 検討中",
    ),
    (
        "見送り理由コード",
        "decline_reason",
        "見送りの場合の理由区分: out_of_scope, promotion_only, duplicate, not_feasible_now, no_budget, other",
    ),
    (
        "結論日",
        "decided_on",
        "採択・見送り・取り下げの日（日本時間、YYYY-MM-DD）",
    ),
    (
        "所要営業日数",
        "business_days",
        "受付日から結論日までの開庁日数（土日祝・年末年始を除く）",
    ),
    (
        "期限延長回数",
        "extensions",
        "提案者に通知した期限延長の回数",
    ),
    (
        "延長理由",
        "extension_reasons",
        "提案者に通知した延長理由（複数は「／」区切り）",
    ),
    (
        "アウトカム報告件数",
        "outcome_reports",
        "採択後に記録されたアウトカム報告の件数",
    ),
    (
        "最新の報告日",
        "latest_outcome_on",
        "最新のアウトカム報告の報告日（YYYY-MM-DD、報告がなければ空欄）",
    ),
    (
        "効果指標",
        "outcome_indicators",
        "最新の報告の効果指標。「指標名: 前の値→後の値 単位」を「／」区切り。値は小数点表記のまま",
    ),
    (
        "効果額",
        "effect_yen",
        "全報告の効果額（円）の合計。効果額の記載がなければ空欄",
    ),
    (
        "実施内容",
        "outcome_summary",
        "最新の報告の実施内容。公開に同意した場合のみ、ほかは空欄",
    ),
];

/// One proposal in the register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomeRecord {
    pub municipality_code: String,
    /// The receipt number.
    pub id: String,
    pub municipality_name: String,
    pub received_on: NaiveDate,
    /// `need` or `free`.
    pub kind: &'static str,
    pub policy_field: Option<PolicyField>,
    pub department: Option<String>,
    /// A partner kind, or `unregistered`.
    pub proposer_kind: &'static str,
    /// Only with the proposer's consent.
    pub proposer_name: Option<String>,
    /// Only with the proposer's consent.
    pub title: Option<String>,
    pub outcome: ProposalState,
    pub decline_reason: Option<DeclineReason>,
    pub decided_on: Option<NaiveDate>,
    pub business_days: Option<i64>,
    pub extensions: usize,
    pub extension_reasons: Vec<String>,
    /// Outcome reports recorded on the proposal (adopted ones only).
    pub outcome_reports: usize,
    pub latest_outcome_on: Option<NaiveDate>,
    /// The latest report's indicators, as `name: before→after unit`.
    pub outcome_indicators: Vec<String>,
    /// The sum of the reports' 効果額 in yen; null when none states one.
    pub effect_yen: Option<i64>,
    /// The latest report's text: only with the proposer's consent.
    pub outcome_summary: Option<String>,
}

/// One department's year.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartmentSummary {
    pub municipality_code: String,
    pub municipality_name: String,
    pub fiscal_year: i32,
    /// Empty for proposals not routed yet.
    pub department: String,
    pub received: usize,
    pub adopted: usize,
    /// adopted / received, 0 to 1 (rounded to 3 places); null when none was received.
    pub adoption_rate: Option<f64>,
    /// Median business days from receipt to decision of the decided ones (adopted,
    /// declined, withdrawn); null when none was decided.
    pub median_business_days: Option<f64>,
}

/// The register of one municipality and fiscal year.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Register {
    pub licence: &'static str,
    pub licence_url: &'static str,
    pub municipality_code: String,
    pub municipality_name: String,
    /// 年度: April of this year to March of the next, Japan time.
    pub fiscal_year: i32,
    pub records: Vec<OutcomeRecord>,
    pub summary: Vec<DepartmentSummary>,
}

/// The fiscal year parameter: a number from 2000 to 2098 (the calendar's span), else 422.
pub fn parse_year(raw: Option<&str>) -> AppResult<i32> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AppError::field("fiscal_year", "required", "give the fiscal year, e.g. 2026")
        })?;
    match raw.parse::<i32>() {
        Ok(y) if (2000..=2098).contains(&y) => Ok(y),
        _ => Err(AppError::field_ja(
            "fiscal_year",
            "out_of_range",
            "a fiscal year from 2000 to 2098",
            "年度は2000から2098までで指定してください",
        )),
    }
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    v.sort_unstable();
    let n = v.len();
    let mid = n / 2;
    match (n, v.get(mid), mid.checked_sub(1).and_then(|i| v.get(i))) {
        (0, _, _) => None,
        (n, Some(m), _) if n % 2 == 1 => Some(*m as f64),
        (_, Some(m), Some(l)) => Some((*m + *l) as f64 / 2.0),
        _ => None,
    }
}

/// The register of `code` for fiscal year `year` (April `year` to March `year + 1`).
pub fn register(db: &Db, code: &str, year: i32) -> AppResult<Register> {
    let from = NaiveDate::from_ymd_opt(year, 4, 1)
        .ok_or_else(|| AppError::field("fiscal_year", "out_of_range", "no such year"))?;
    let to = NaiveDate::from_ymd_opt(year.saturating_add(1), 4, 1)
        .ok_or_else(|| AppError::field("fiscal_year", "out_of_range", "no such year"))?;
    db.read(|conn| {
        let m = find_by_code(conn, code)?;
        let mut rows = Vec::new();
        let mut before = None;
        loop {
            let page = storage::proposals::list(
                conn,
                &ProposalFilter {
                    municipality_id: Some(m.id),
                    received_from: Some(local_midnight(from)),
                    received_to: Some(local_midnight(to)),
                    before_id: before,
                    limit: 500,
                    ..Default::default()
                },
            )?;
            let done = page.len() < 500;
            before = page.last().map(|r| r.id);
            rows.extend(page);
            if done || before.is_none() {
                break;
            }
        }
        rows.reverse();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut extensions: HashMap<i64, Vec<String>> = HashMap::new();
        // Only extensions the proposer was told of: the department's clock is internal.
        for e in storage::proposals::events_of(conn, &ids)? {
            if e.kind == EventKind::Extended.as_str() && !e.internal {
                extensions
                    .entry(e.proposal_id)
                    .or_default()
                    .push(e.body.unwrap_or_default());
            }
        }
        let mut outcomes: HashMap<i64, Vec<reports::OutcomeReportView>> = HashMap::new();
        let report_rows = storage::outcomes::reports_of(conn, &ids)?;
        let owners: HashMap<i64, i64> = report_rows.iter().map(|r| (r.id, r.proposal_id)).collect();
        for v in reports::views(conn, report_rows, false)? {
            if let Some(p) = owners.get(&v.id) {
                outcomes.entry(*p).or_default().push(v);
            }
        }
        let mut partner_ids: Vec<i64> = rows.iter().filter_map(|r| r.partner_id).collect();
        partner_ids.sort_unstable();
        partner_ids.dedup();
        let kinds: HashMap<i64, PartnerKind> = storage::partners::find_many(conn, &partner_ids)?
            .into_iter()
            .map(|p| Ok((p.id, PartnerKind::from_db(&p.kind)?)))
            .collect::<AppResult<_>>()?;
        let mut departments: HashMap<i64, String> = HashMap::new();
        let mut records = Vec::with_capacity(rows.len());
        for r in rows {
            let department = match r.primary_department_id {
                Some(d) => {
                    if let std::collections::hash_map::Entry::Vacant(v) = departments.entry(d) {
                        v.insert(
                            storage::municipalities::department(conn, d)?
                                .map(|x| x.name)
                                .unwrap_or_default(),
                        );
                    }
                    departments.get(&d).cloned()
                }
                None => None,
            };
            let received_on = local_date(r.received_at);
            let decided_on = r.decided_at.map(local_date);
            let consent = r.consented_publication_at.is_some();
            let reasons = extensions.remove(&r.id).unwrap_or_default();
            let outs = outcomes.remove(&r.id).unwrap_or_default();
            let amounts: Vec<i64> = outs.iter().filter_map(|o| o.effect_yen).collect();
            // Reports come oldest report date first: the last is the latest.
            let latest = outs.last();
            records.push(OutcomeRecord {
                municipality_code: m.code.clone(),
                id: receipt_number(r.receipt_year, r.receipt_seq),
                municipality_name: m.name.clone(),
                received_on,
                kind: if r.need_id.is_some() { "need" } else { "free" },
                policy_field: r
                    .policy_field
                    .as_deref()
                    .map(PolicyField::from_db)
                    .transpose()?,
                department,
                proposer_kind: r
                    .partner_id
                    .and_then(|p| kinds.get(&p))
                    .map_or("unregistered", |k| k.as_str()),
                proposer_name: consent.then(|| {
                    r.submitter_org
                        .clone()
                        .unwrap_or_else(|| r.submitter_name.clone())
                }),
                title: consent.then(|| r.title.clone()),
                outcome: ProposalState::from_db(&r.state)?,
                decline_reason: r
                    .decline_reason_code
                    .as_deref()
                    .map(DeclineReason::from_db)
                    .transpose()?,
                decided_on,
                business_days: decided_on.map(|d| business_days_between(received_on, d)),
                extensions: reasons.len(),
                extension_reasons: reasons,
                outcome_reports: outs.len(),
                latest_outcome_on: latest.map(|o| o.reported_on),
                outcome_indicators: latest
                    .map(|o| o.indicators.iter().map(indicator_text).collect())
                    .unwrap_or_default(),
                effect_yen: (!amounts.is_empty()).then(|| amounts.iter().sum()),
                outcome_summary: latest.filter(|_| consent).map(|o| o.done.clone()),
            });
        }
        let summary = summarise(&m.code, &m.name, year, &records);
        Ok(Register {
            licence: LICENCE,
            licence_url: LICENCE_URL,
            municipality_code: m.code,
            municipality_name: m.name,
            fiscal_year: year,
            records,
            summary,
        })
    })
}

/// One indicator in the register: 「name: before→after unit」.
fn indicator_text(i: &reports::IndicatorView) -> String {
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "—".to_owned());
    let unit = if i.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", i.unit)
    };
    format!("{}: {}→{}{}", i.name, v(&i.before), v(&i.after), unit)
}

fn summarise(
    code: &str,
    name: &str,
    year: i32,
    records: &[OutcomeRecord],
) -> Vec<DepartmentSummary> {
    let mut by: BTreeMap<String, Vec<&OutcomeRecord>> = BTreeMap::new();
    for r in records {
        by.entry(r.department.clone().unwrap_or_default())
            .or_default()
            .push(r);
    }
    by.into_iter()
        .map(|(department, rs)| {
            let received = rs.len();
            let adopted = rs
                .iter()
                .filter(|r| r.outcome == ProposalState::Adopted)
                .count();
            DepartmentSummary {
                municipality_code: code.to_owned(),
                municipality_name: name.to_owned(),
                fiscal_year: year,
                department,
                received,
                adopted,
                adoption_rate: (received > 0)
                    .then(|| (adopted as f64 / received as f64 * 1000.0).round() / 1000.0),
                median_business_days: median(rs.iter().filter_map(|r| r.business_days).collect()),
            }
        })
        .collect()
}

/// The register as CSV (UTF-8 with BOM, CRLF), Japanese headers in [`COLUMNS`] order.
pub fn register_csv(r: &Register) -> String {
    let header: Vec<&str> = COLUMNS.iter().map(|(ja, _, _)| *ja).collect();
    let mut c = Csv::new(&header);
    let opt_date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for x in &r.records {
        c.row([
            x.municipality_code.clone(),
            x.id.clone(),
            x.municipality_name.clone(),
            x.received_on.to_string(),
            x.kind.to_owned(),
            x.policy_field
                .map(|f| f.label_ja().to_owned())
                .unwrap_or_default(),
            x.department.clone().unwrap_or_default(),
            x.proposer_kind.to_owned(),
            x.proposer_name.clone().unwrap_or_default(),
            x.title.clone().unwrap_or_default(),
            x.outcome.as_str().to_owned(),
            x.decline_reason
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            opt_date(x.decided_on),
            x.business_days.map(|d| d.to_string()).unwrap_or_default(),
            x.extensions.to_string(),
            x.extension_reasons.join("／"),
            x.outcome_reports.to_string(),
            opt_date(x.latest_outcome_on),
            x.outcome_indicators.join("／"),
            x.effect_yen.map(|v| v.to_string()).unwrap_or_default(),
            x.outcome_summary.clone().unwrap_or_default(),
        ]);
    }
    c.finish()
}

/// The yearly summary per department as CSV.
pub fn summary_csv(r: &Register) -> String {
    let mut c = Csv::new(&[
        "全国地方公共団体コード",
        "地方公共団体名",
        "年度",
        "所管課",
        "受付件数",
        "採択件数",
        "採択率",
        "所要営業日数の中央値",
    ]);
    for s in &r.summary {
        c.row([
            s.municipality_code.clone(),
            s.municipality_name.clone(),
            s.fiscal_year.to_string(),
            s.department.clone(),
            s.received.to_string(),
            s.adopted.to_string(),
            s.adoption_rate.map(|v| v.to_string()).unwrap_or_default(),
            s.median_business_days
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ]);
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_years() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5]), Some(5.0));
        assert_eq!(median(vec![9, 1, 4]), Some(4.0));
        assert_eq!(median(vec![1, 2, 3, 10]), Some(2.5));
        assert_eq!(parse_year(Some("2026")).ok(), Some(2026));
        assert!(parse_year(Some("99999999999999")).is_err());
        assert!(parse_year(Some("-1")).is_err());
        assert!(parse_year(None).is_err());
    }
}
