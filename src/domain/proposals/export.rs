//! The proposal list export (提案一覧の出力): every proposal matching the inbox's
//! filter that the caller may see, as CSV (UTF-8 with BOM, CRLF, for Japanese Excel) or
//! as XLSX with the field dictionary (項目定義) as its second sheet. The rows come from
//! the same query as the inbox (`find::scope`, so the same permissions: department
//! staff only what is routed to their department), read in chunks in one transaction,
//! at most [`MAX_ROWS`]. Internal notes, the body, contact data and the history are
//! never exported. Each export is recorded in the audit log (who, filter, row count).

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::find::scope;
use super::{Access, ProposalQuery, ProposalView, local_date, views};
use crate::domain::actor::Actor;
use crate::domain::audit;
use crate::domain::calendar::business_days_between;
use crate::domain::csv::Csv;
use crate::domain::error::{AppError, AppResult, Message};
use crate::domain::search::SearchEngine;
use crate::domain::vocab::{Channel, DeclineReason, PartnerKind, PolicyField, ProposalState};
use crate::storage::proposals::{Direction, ListOrder};
use crate::storage::{self, Db};

/// Most rows one export holds. A filter matching more is refused with a message asking
/// to narrow it, rather than cut silently.
pub const MAX_ROWS: i64 = 100_000;
/// Rows read from the database at a time.
const CHUNK: i64 = 1_000;

/// What a proposal without a registered partner (phoned in, a visit) is, as its
/// proposer kind.
pub const UNREGISTERED_KIND: &str = "未登録（窓口で記録）";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One column: its Japanese name, meaning, type and allowed values.
pub struct Field {
    pub name: &'static str,
    pub meaning: &'static str,
    pub kind: &'static str,
    /// Fixed allowed values (each `code: label` or a description); empty when free.
    pub values: fn() -> String,
}

fn free() -> String {
    String::new()
}

fn labels<T: Copy>(all: &[T], label: fn(T) -> &'static str) -> String {
    all.iter().map(|v| label(*v)).collect::<Vec<_>>().join("／")
}

fn kinds() -> String {
    format!(
        "{}／{UNREGISTERED_KIND}",
        labels(PartnerKind::ALL, PartnerKind::label_ja)
    )
}

fn outcomes() -> String {
    labels(
        &[
            ProposalState::Adopted,
            ProposalState::Declined,
            ProposalState::Withdrawn,
        ],
        ProposalState::label_ja,
    ) + "（結論前は空欄）"
}

/// The columns, in order: the header row and the field dictionary.
pub const FIELDS: [Field; 19] = [
    Field {
        name: "受付番号",
        meaning: "自治体ごとの通し番号（年度-連番）",
        kind: "文字列（例 2026-000123）",
        values: free,
    },
    Field {
        name: "受付日時",
        meaning: "提案を受け付けた日時（日本時間）",
        kind: "日時（YYYY-MM-DD HH:MM）",
        values: free,
    },
    Field {
        name: "受付経路",
        meaning: "提案が届いた経路",
        kind: "区分",
        values: || labels(Channel::ALL, Channel::label_ja),
    },
    Field {
        name: "状態",
        meaning: "現在の対応状況",
        kind: "区分",
        values: || labels(ProposalState::ALL, ProposalState::label_ja),
    },
    Field {
        name: "提案者区分",
        meaning: "提案者の種類（登録パートナーの区分）",
        kind: "区分",
        values: kinds,
    },
    Field {
        name: "提案者団体名",
        meaning: "提案者の企業・団体名",
        kind: "文字列（任意）",
        values: free,
    },
    Field {
        name: "提案者氏名",
        meaning: "提案者（担当者）の氏名",
        kind: "文字列",
        values: free,
    },
    Field {
        name: "件名",
        meaning: "提案の件名",
        kind: "文字列",
        values: free,
    },
    Field {
        name: "政策分野",
        meaning: "提案の政策分野",
        kind: "区分（任意）",
        values: || labels(PolicyField::ALL, PolicyField::label_ja),
    },
    Field {
        name: "所管課",
        meaning: "提案を所管する課（所管未定は空欄）",
        kind: "文字列",
        values: free,
    },
    Field {
        name: "関係課",
        meaning: "所管課のほかに回付された課（「、」区切り）",
        kind: "文字列（複数）",
        values: free,
    },
    Field {
        name: "所管課回答期限",
        meaning: "所管課が窓口へ回答する期限",
        kind: "日付（YYYY-MM-DD、任意）",
        values: free,
    },
    Field {
        name: "初回回答期限",
        meaning: "提案者へ初めて回答する期限",
        kind: "日付（YYYY-MM-DD、任意）",
        values: free,
    },
    Field {
        name: "結論期限",
        meaning: "採否を決める目標日",
        kind: "日付（YYYY-MM-DD、任意）",
        values: free,
    },
    Field {
        name: "結論",
        meaning: "採否の結論",
        kind: "区分（任意）",
        values: outcomes,
    },
    Field {
        name: "結論日",
        meaning: "結論が出た日（日本時間）",
        kind: "日付（YYYY-MM-DD、任意）",
        values: free,
    },
    Field {
        name: "見送り理由区分",
        meaning: "見送りの理由の区分",
        kind: "区分（見送りのみ）",
        values: || labels(DeclineReason::ALL, DeclineReason::label_ja),
    },
    Field {
        name: "見送り理由",
        meaning: "提案者へ伝えた見送りの理由（本文）",
        kind: "文字列（見送りのみ）",
        values: free,
    },
    Field {
        name: "所要開庁日数",
        meaning: "受付から結論までの開庁日数（土日祝・年末年始を除く）",
        kind: "整数（結論前は空欄）",
        values: free,
    },
];

/// The exported proposals, each as its cells in [`FIELDS`] order.
pub struct Export {
    pub rows: Vec<Vec<String>>,
}

fn jst(t: NaiveDateTime) -> String {
    crate::domain::calendar::japan_time(t)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn cells(p: ProposalView, kind: &str) -> Vec<String> {
    let primary = p
        .departments
        .iter()
        .find(|d| d.primary)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let related: Vec<&str> = p
        .departments
        .iter()
        .filter(|d| !d.primary)
        .map(|d| d.name.as_str())
        .collect();
    let decided = matches!(
        p.state,
        ProposalState::Adopted | ProposalState::Declined | ProposalState::Withdrawn
    );
    let received = p.received_at.naive_utc();
    let decided_on = p.decided_at.map(|d| local_date(d.naive_utc()));
    let days = match decided_on {
        Some(d) if decided => business_days_between(local_date(received), d).to_string(),
        _ => String::new(),
    };
    vec![
        p.receipt_number,
        jst(received),
        p.channel.label_ja().to_owned(),
        p.state.label_ja().to_owned(),
        kind.to_owned(),
        p.submitter.organisation.unwrap_or_default(),
        p.submitter.name,
        p.title,
        p.policy_field
            .map(|f| f.label_ja().to_owned())
            .unwrap_or_default(),
        primary,
        related.join("、"),
        date(p.clocks.department_due_on),
        date(p.clocks.proposer_due_on),
        date(p.clocks.decision_due_on),
        if decided {
            p.state.label_ja().to_owned()
        } else {
            String::new()
        },
        date(decided_on.filter(|_| decided)),
        p.decline
            .as_ref()
            .map(|d| d.code.label_ja().to_owned())
            .unwrap_or_default(),
        p.decline.and_then(|d| d.text).unwrap_or_default(),
        days,
    ]
}

/// The filter as the audit log keeps it (a keyword with an `@` is not kept: it could
/// be an e-mail address, which logs never hold).
fn filter_detail(q: &ProposalQuery) -> serde_json::Value {
    serde_json::json!({
        "state": q.state,
        "channel": q.channel,
        "policy_field": q.policy_field,
        "department_id": q.department_id,
        "unassigned": q.unassigned,
        "from": q.from,
        "to": q.to,
        "municipality": q.municipality,
        "q": q.q.as_deref().map(|t| if t.contains('@') { "[omitted]" } else { t }),
    })
}

/// Every proposal matching `q` that `actor` (staff only) may see, oldest received
/// first; refused when more than `cap` match. Records the export in the audit log.
pub fn collect(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    q: &ProposalQuery,
    format: Format,
    cap: i64,
) -> AppResult<Export> {
    let staff = actor.require_staff()?;
    let (rows, municipality) = db.read(|conn| {
        let (mut filter, access, _capped) = scope(conn, engine, actor, q)?;
        // Department staff's rows and the desk's only: `scope` gives partners
        // `Access::Proposer`, which `require_staff` above has already refused.
        if access == Access::Proposer {
            return Err(AppError::Forbidden("only municipal staff can do this"));
        }
        let total = storage::proposals::count_filtered(conn, &filter)?;
        if total > cap {
            return Err(AppError::Conflict(Message::new(
                format!(
                    "{total} proposals match; an export holds at most {cap}: narrow the filter"
                ),
                format!(
                    "条件に一致する提案が{total}件あります。一度に出力できるのは{cap}件までです。期間などで絞り込んでください。"
                ),
            )));
        }
        filter.order = ListOrder::Received(Direction::Asc);
        filter.limit = CHUNK;
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            filter.offset = offset;
            let chunk = storage::proposals::list(conn, &filter)?;
            let n = chunk.len() as i64;
            let mut partner_ids: Vec<i64> = chunk.iter().filter_map(|r| r.partner_id).collect();
            partner_ids.sort_unstable();
            partner_ids.dedup();
            let kinds: HashMap<i64, String> = storage::partners::find_many(conn, &partner_ids)?
                .into_iter()
                .map(|p| {
                    let kind = PartnerKind::parse(&p.kind)
                        .map(|k| k.label_ja().to_owned())
                        .unwrap_or(p.kind);
                    (p.id, kind)
                })
                .collect();
            for v in views(conn, chunk, access, false)? {
                let kind = v
                    .partner_id
                    .and_then(|p| kinds.get(&p.0).cloned())
                    .unwrap_or_else(|| UNREGISTERED_KIND.to_owned());
                out.push(cells(v, &kind));
            }
            if n < CHUNK || out.len() as i64 >= cap {
                break;
            }
            offset += CHUNK;
        }
        Ok((out, filter.municipality_id))
    })?;
    let count = rows.len();
    db.write(|conn| {
        audit::record(
            conn,
            Some(actor),
            "proposals_exported",
            audit::Target {
                kind: "proposal_export",
                id: None,
                label: format.as_str(),
                municipality: municipality.or(staff.municipality.map(|m| m.0)),
            },
            serde_json::json!({
                "format": format.as_str(),
                "rows": count,
                "filter": filter_detail(q),
            }),
        )
    })?;
    Ok(Export { rows })
}

/// [`collect`] with the [`MAX_ROWS`] cap.
pub fn export(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    q: &ProposalQuery,
    format: Format,
) -> AppResult<Export> {
    collect(db, engine, actor, q, format, MAX_ROWS)
}

impl Export {
    /// CSV for Japanese Excel (BOM, CRLF, RFC 4180 quoting, formula cells neutralised).
    pub fn to_csv(&self) -> String {
        let header: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        let mut c = Csv::new(&header);
        for r in &self.rows {
            c.row(r.iter().cloned());
        }
        c.finish()
    }

    /// XLSX with two sheets: 提案一覧 (the rows) and 項目定義 (the field dictionary).
    /// Cells are written as text cells, which a spreadsheet never evaluates, so no
    /// apostrophe is added as in the CSV.
    pub fn to_xlsx(&self) -> AppResult<Vec<u8>> {
        use rust_xlsxwriter::{Format as CellFormat, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!(e));
        let mut book = Workbook::new();
        let bold = CellFormat::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name("提案一覧").map_err(err)?;
        for (c, f) in FIELDS.iter().enumerate() {
            let c = col(c)?;
            sheet
                .write_string_with_format(0, c, f.name, &bold)
                .map_err(err)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|e| AppError::Internal(e.into()))?;
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r, col(c)?, v).map_err(err)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        let dict = book.add_worksheet();
        dict.set_name("項目定義").map_err(err)?;
        for (c, h) in ["項目名", "意味", "型", "値"].iter().enumerate() {
            dict.write_string_with_format(0, col(c)?, *h, &bold)
                .map_err(err)?;
        }
        for (r, f) in FIELDS.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|e| AppError::Internal(e.into()))?;
            for (c, v) in [
                f.name.to_owned(),
                f.meaning.to_owned(),
                f.kind.to_owned(),
                (f.values)(),
            ]
            .iter()
            .enumerate()
            {
                dict.write_string(r, col(c)?, v).map_err(err)?;
            }
        }
        book.save_to_buffer().map_err(err)
    }
}

fn col(c: usize) -> AppResult<u16> {
    u16::try_from(c).map_err(|e| AppError::Internal(e.into()))
}

/// The field dictionary as a Markdown table (for the README).
pub fn dictionary_markdown() -> String {
    let mut s = String::from("| 項目名 | 意味 | 型 | 値 |\n|---|---|---|---|\n");
    for f in &FIELDS {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            f.name,
            f.meaning,
            f.kind,
            (f.values)()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_lists_every_vocabulary_value() {
        let md = dictionary_markdown();
        for s in ProposalState::ALL {
            assert!(md.contains(s.label_ja()));
        }
        for c in Channel::ALL {
            assert!(md.contains(c.label_ja()));
        }
        for r in DeclineReason::ALL {
            assert!(md.contains(r.label_ja()));
        }
        assert_eq!(md.lines().count(), FIELDS.len() + 2);
        println!("{md}");
    }

    #[test]
    fn xlsx_of_nothing_has_the_header() {
        let x = Export { rows: vec![] }.to_xlsx().expect("xlsx");
        assert!(x.starts_with(b"PK"));
    }

    #[test]
    fn times_are_japan_time() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 3, 31)
            .and_then(|d| d.and_hms_opt(15, 30, 0))
            .expect("date");
        assert_eq!(jst(t), "2026-04-01 00:30");
    }
}
