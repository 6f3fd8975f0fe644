//! Outcome reports (アウトカム) on adopted proposals: what was done, the effect in the
//! proposal's own terms (indicators with before and after values), an optional 効果額
//! in yen and the report date. The lead department or the desk records them, when the
//! project ends or at review dates; each report writes an `outcome_recorded` event in
//! the same transaction and marks the proposal for the search index (its case may now
//! be found by other municipalities, see `cases`).
//!
//! Numbers from outside are parsed here, never trusted: indicator values are
//! non-negative decimals kept exactly as canonical text (no floating point anywhere),
//! 効果額 is a whole number of yen up to one trillion, and the report date lies between
//! the proposal's receipt and today (Japan time).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

use crate::domain::actor::Actor;
use crate::domain::calendar::{check_date, local_date};
use crate::domain::error::{AppError, AppResult, Message};
use crate::domain::ids::ProposalId;
use crate::domain::proposals::{Access, load};
use crate::domain::utc;
use crate::domain::validate::Check;
use crate::domain::vocab::{EventKind, ProposalState, Role};
use crate::storage::index_log::{self, DocType};
use crate::storage::models::{
    NewOutcomeIndicator, NewOutcomeReport, NewProposalEvent, OutcomeIndicatorRow, OutcomeReportRow,
    ProposalRow,
};
use crate::storage::{self, AnyConnection, Db, now};

/// At most this many indicators per report.
pub const MAX_INDICATORS: usize = 10;
/// 効果額 above one trillion yen is a typing error, not an effect.
pub const MAX_EFFECT_YEN: i64 = 1_000_000_000_000;
/// Digits before and after the decimal point of an indicator value.
const MAX_INT_DIGITS: usize = 15;
const MAX_FRACTION_DIGITS: usize = 6;
const MAX_DONE_CHARS: usize = 4000;

/// One indicator as sent: values as JSON strings (`"1200"`, `"12.5"`) or numbers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    /// What is measured, e.g. 「見守り対象世帯の訪問時間」. 1..=100 characters.
    pub name: String,
    /// The unit, e.g. 「時間／月」; up to 20 characters.
    pub unit: Option<String>,
    /// Before the project: a non-negative decimal (up to 15 digits, 6 after the point).
    #[schema(value_type = Option<String>)]
    pub before: Option<Value>,
    /// After the project, as `before`.
    #[schema(value_type = Option<String>)]
    pub after: Option<Value>,
}

/// An outcome report as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// What was done (実施内容), 1..=4000 characters.
    pub done: String,
    /// The effect in the proposal's own terms; at most 10.
    #[serde(default)]
    pub indicators: Vec<IndicatorInput>,
    /// 効果額 in yen: a whole number from 0 to 1,000,000,000,000 (string or number).
    #[schema(value_type = Option<String>)]
    pub effect_yen: Option<Value>,
    /// 報告日, YYYY-MM-DD: not before the proposal was received, not after today.
    pub reported_on: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    pub name: String,
    pub unit: String,
    /// Exact decimal text, e.g. "1200" or "12.5".
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeReportView {
    pub id: i64,
    pub done: String,
    pub indicators: Vec<IndicatorView>,
    pub effect_yen: Option<i64>,
    pub reported_on: NaiveDate,
    /// The staff member who recorded it (staff views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Reads a decimal given as a JSON string or number: digits with at most one point,
/// full-width digits and thousands separators accepted, nothing negative, no exponent,
/// no NaN or infinity. Returns the canonical text ("012.50" → "12.5").
pub fn parse_decimal(c: &mut Check, field: &str, raw: Option<&Value>) -> Option<String> {
    let text = match raw {
        None | Some(Value::Null) => return None,
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            c.push_ja(
                field,
                "format",
                "must be a decimal number, e.g. \"12.5\"",
                "数値（例：12.5）で入力してください",
            );
            return None;
        }
    };
    let t = normalise_digits(&text);
    if t.is_empty() {
        return None;
    }
    if t.starts_with('-') || t.starts_with('−') {
        c.push_ja(
            field,
            "negative",
            "must not be negative; give the values before and after instead of a change",
            "負の値は入力できません。変化量ではなく、前と後の値を入力してください",
        );
        return None;
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        c.push_ja(
            field,
            "format",
            "must be a plain decimal number such as 1200 or 12.5 (no exponent, NaN or infinity)",
            "1200 や 12.5 のような数値で入力してください",
        );
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.map(|f| f.trim_end_matches('0')).unwrap_or("");
    if int.len() > MAX_INT_DIGITS {
        c.push_ja(
            field,
            "out_of_range",
            format!("must have at most {MAX_INT_DIGITS} digits before the decimal point"),
            format!("整数部分は{MAX_INT_DIGITS}桁以内で入力してください"),
        );
        return None;
    }
    if frac.len() > MAX_FRACTION_DIGITS {
        c.push_ja(
            field,
            "too_precise",
            format!("must have at most {MAX_FRACTION_DIGITS} digits after the decimal point"),
            format!("小数点以下は{MAX_FRACTION_DIGITS}桁以内で入力してください"),
        );
        return None;
    }
    let int = if int.is_empty() { "0" } else { int };
    Some(if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    })
}

/// 効果額: a whole number of yen, 0..=[`MAX_EFFECT_YEN`]; 「円」 and separators allowed.
pub fn parse_yen(c: &mut Check, field: &str, raw: Option<&Value>) -> Option<i64> {
    let text = match raw {
        None | Some(Value::Null) => return None,
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => String::from("?"),
    };
    let t = normalise_digits(&text);
    let t = t.strip_suffix('円').unwrap_or(&t).trim();
    if t.is_empty() {
        return None;
    }
    if t.starts_with('-') || t.starts_with('−') {
        c.push_ja(
            field,
            "negative",
            "must not be negative",
            "効果額に負の値は入力できません",
        );
        return None;
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        c.push_ja(
            field,
            "format",
            "must be a whole number of yen, e.g. 1200000",
            "効果額は円単位の整数（例：1200000）で入力してください",
        );
        return None;
    }
    match t.parse::<i64>() {
        Ok(v) if v <= MAX_EFFECT_YEN => Some(v),
        _ => {
            c.push_ja(
                field,
                "out_of_range",
                format!("must be at most {MAX_EFFECT_YEN} yen"),
                "効果額は1兆円以下で入力してください",
            );
            None
        }
    }
}

/// Full-width digits and point to ASCII; thousands separators and spaces removed.
fn normalise_digits(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '\u{3000}'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' => '-',
            other => other,
        })
        .collect()
}

struct Checked {
    done: String,
    indicators: Vec<(String, String, Option<String>, Option<String>)>,
    effect_yen: Option<i64>,
    reported_on: NaiveDate,
}

fn check(input: &OutcomeInput, received_on: NaiveDate, today: NaiveDate) -> AppResult<Checked> {
    let mut c = Check::new();
    let done = c.text("done", &input.done, MAX_DONE_CHARS, false);
    if input.indicators.len() > MAX_INDICATORS {
        c.push_ja(
            "indicators",
            "too_many",
            format!("at most {MAX_INDICATORS} indicators"),
            format!("指標は{MAX_INDICATORS}個までです"),
        );
    }
    let mut indicators = vec![];
    for (i, x) in input.indicators.iter().take(MAX_INDICATORS).enumerate() {
        let name = c.line(&format!("indicators[{i}].name"), &x.name, 100);
        let unit = c
            .opt_line(&format!("indicators[{i}].unit"), x.unit.as_deref(), 20)
            .unwrap_or_default();
        let before = parse_decimal(
            &mut c,
            &format!("indicators[{i}].before"),
            x.before.as_ref(),
        );
        let after = parse_decimal(&mut c, &format!("indicators[{i}].after"), x.after.as_ref());
        indicators.push((name, unit, before, after));
    }
    let effect_yen = parse_yen(&mut c, "effect_yen", input.effect_yen.as_ref());
    let reported_on = match NaiveDate::parse_from_str(input.reported_on.trim(), "%Y-%m-%d") {
        Ok(d) => {
            check_date(&mut c, "reported_on", Some(d));
            if d < received_on {
                c.push_ja(
                    "reported_on",
                    "before_receipt",
                    format!("must not be before the proposal was received ({received_on})"),
                    format!("報告日は受付日（{received_on}）以降の日付にしてください"),
                );
            } else if d > today {
                c.push_ja(
                    "reported_on",
                    "in_future",
                    format!("must not be after today ({today})"),
                    format!("報告日は今日（{today}）以前の日付にしてください"),
                );
            }
            Some(d)
        }
        Err(_) => {
            c.push_ja(
                "reported_on",
                "format",
                "give the report date as YYYY-MM-DD",
                "報告日を YYYY-MM-DD の形で入力してください",
            );
            None
        }
    };
    c.finish()?;
    Ok(Checked {
        done,
        indicators,
        effect_yen,
        reported_on: Check::checked(reported_on, "reported_on")?,
    })
}

/// Who may record: the desk (and admins) of the proposal's municipality, or staff of
/// its lead department. A related department and the proposer may not (403).
fn may_record(actor: &Actor, p: &ProposalRow, access: Access) -> AppResult<()> {
    match access {
        Access::Desk => Ok(()),
        Access::Department => {
            let lead = actor.staff().is_some_and(|s| {
                s.role == Role::Department && s.department.map(|d| d.0) == p.primary_department_id
            });
            if lead {
                Ok(())
            } else {
                Err(AppError::Forbidden(
                    "only the lead department or the desk records outcomes",
                ))
            }
        }
        Access::Proposer => Err(AppError::Forbidden("outcomes are recorded by staff")),
    }
}

/// Records an outcome report on an adopted proposal.
pub fn record(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    input: OutcomeInput,
) -> AppResult<OutcomeReportView> {
    db.write(|conn| {
        storage::proposals::lock(conn, id.0)?;
        let (p, access) = load(conn, actor, id)?;
        may_record(actor, &p, access)?;
        let state = ProposalState::from_db(&p.state)?;
        if state != ProposalState::Adopted {
            return Err(AppError::Conflict(Message::new(
                format!(
                    "only adopted proposals get outcome reports; this one is {}",
                    state.as_str()
                ),
                format!(
                    "アウトカムは採択された提案にだけ記録できます（この提案は「{}」です）。",
                    state.label_ja()
                ),
            )));
        }
        let x = check(&input, local_date(p.received_at), local_date(now()))?;
        let at = now();
        let row = storage::outcomes::insert(
            conn,
            &NewOutcomeReport {
                proposal_id: p.id,
                done_text: &x.done,
                effect_yen: x.effect_yen,
                reported_on: x.reported_on,
                reported_by_staff_id: actor.staff().map(|s| s.id.0),
                created_at: at,
            },
            &x.indicators
                .iter()
                .enumerate()
                .map(|(i, (name, unit, before, after))| NewOutcomeIndicator {
                    report_id: 0,
                    seq: i32::try_from(i).unwrap_or(i32::MAX),
                    name,
                    unit,
                    before_value: before.as_deref(),
                    after_value: after.as_deref(),
                })
                .collect::<Vec<_>>(),
        )?;
        let summary = event_text(&x);
        storage::proposals::add_event(
            conn,
            &NewProposalEvent {
                proposal_id: p.id,
                kind: EventKind::OutcomeRecorded.as_str(),
                actor_staff_id: actor.staff().map(|s| s.id.0),
                actor_partner_id: None,
                from_state: None,
                to_state: None,
                department_id: None,
                body: Some(&summary),
                // Staff's record of the project: not a message to the proposer.
                internal: true,
                created_at: at,
            },
        )?;
        // The proposal's document now carries its final state, so that other
        // municipalities can find it as a case.
        index_log::record(conn, DocType::Proposal, p.id)?;
        views(conn, vec![row], true)?
            .pop()
            .ok_or(AppError::NotFound("outcome"))
    })
}

/// The history's line: the report date, the 効果額 and the indicators, then the text.
fn event_text(x: &Checked) -> String {
    let mut s = format!("アウトカムを記録（報告日 {}）", x.reported_on);
    if let Some(y) = x.effect_yen {
        s.push_str(&format!(" 効果額 {}円", group_thousands(y)));
    }
    for (name, unit, before, after) in &x.indicators {
        s.push_str(&format!(
            "\n・{name}: {} → {}{}",
            before.as_deref().unwrap_or("—"),
            after.as_deref().unwrap_or("—"),
            unit
        ));
    }
    s.push_str("\n\n");
    s.push_str(&x.done);
    s
}

/// 1234567 → "1,234,567".
pub fn group_thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// The reports of a proposal, oldest report date first: for staff who may open it.
pub fn list(db: &Db, actor: &Actor, id: ProposalId) -> AppResult<Vec<OutcomeReportView>> {
    db.read(|conn| {
        let (p, access) = load(conn, actor, id)?;
        if access == Access::Proposer {
            return Err(AppError::Forbidden("outcome reports are for staff"));
        }
        let rows = storage::outcomes::reports_of(conn, &[p.id])?;
        views(conn, rows, true)
    })
}

/// Views of reports; `staff` adds who recorded each.
pub(super) fn views(
    conn: &mut AnyConnection,
    rows: Vec<OutcomeReportRow>,
    staff: bool,
) -> AppResult<Vec<OutcomeReportView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut indicators: HashMap<i64, Vec<IndicatorView>> = HashMap::new();
    for i in storage::outcomes::indicators_of(conn, &ids)? {
        let OutcomeIndicatorRow {
            report_id,
            name,
            unit,
            before_value,
            after_value,
            ..
        } = i;
        indicators
            .entry(report_id)
            .or_default()
            .push(IndicatorView {
                name,
                unit,
                before: before_value,
                after: after_value,
            });
    }
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let reported_by = match (staff, r.reported_by_staff_id) {
            (true, Some(s)) => {
                if let std::collections::hash_map::Entry::Vacant(v) = names.entry(s)
                    && let Some(u) = storage::staff::find(conn, s)?
                {
                    v.insert(u.display_name);
                }
                names.get(&s).cloned()
            }
            _ => None,
        };
        out.push(OutcomeReportView {
            id: r.id,
            done: r.done_text,
            indicators: indicators.remove(&r.id).unwrap_or_default(),
            effect_yen: r.effect_yen,
            reported_on: r.reported_on,
            reported_by,
            created_at: utc(r.created_at),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(v: Value) -> Result<Option<String>, AppError> {
        let mut c = Check::new();
        let out = parse_decimal(&mut c, "x", Some(&v));
        c.finish().map(|_| out)
    }

    fn yen(v: Value) -> Result<Option<i64>, AppError> {
        let mut c = Check::new();
        let out = parse_yen(&mut c, "y", Some(&v));
        c.finish().map(|_| out)
    }

    #[test]
    fn decimals_are_exact_and_bounded() {
        use serde_json::json;
        assert_eq!(dec(json!("012.50")).ok().flatten().as_deref(), Some("12.5"));
        assert_eq!(
            dec(json!("１，２００")).ok().flatten().as_deref(),
            Some("1200")
        );
        assert_eq!(dec(json!(0.1)).ok().flatten().as_deref(), Some("0.1"));
        assert_eq!(dec(json!("0")).ok().flatten().as_deref(), Some("0"));
        assert_eq!(dec(json!("")).ok().flatten(), None);
        assert_eq!(
            dec(json!("999999999999999.999999"))
                .ok()
                .flatten()
                .as_deref(),
            Some("999999999999999.999999")
        );
        for bad in [
            json!("-1"),
            json!(-3),
            json!("NaN"),
            json!("inf"),
            json!("1e5"),
            json!(1e300),
            json!("1000000000000000"),
            json!("1.0000001"),
            json!("1.2.3"),
            json!([1]),
            json!(".5"),
        ] {
            assert!(dec(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn yen_are_whole_and_bounded() {
        use serde_json::json;
        assert_eq!(yen(json!("1,200,000円")).ok().flatten(), Some(1_200_000));
        assert_eq!(yen(json!(0)).ok().flatten(), Some(0));
        assert_eq!(
            yen(json!(MAX_EFFECT_YEN)).ok().flatten(),
            Some(MAX_EFFECT_YEN)
        );
        for bad in [
            json!(-1),
            json!("1.5"),
            json!(1e20),
            json!("99999999999999999999999"),
            json!(MAX_EFFECT_YEN + 1),
            json!("NaN"),
            json!(true),
        ] {
            assert!(yen(bad.clone()).is_err(), "{bad}");
        }
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(0), "0");
    }
}
