//! Open data: the published needs of every municipality (or one), as JSON and CSV, for
//! anyone to reuse.

use chrono::NaiveDate;
use serde::Serialize;

use super::actor::Actor;
use super::csv::Csv;
use super::error::AppResult;
use super::needs::{self, NeedQuery};
use super::vocab::PolicyField;
use crate::storage::Db;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenNeed {
    pub id: i64,
    pub municipality_code: String,
    pub municipality: String,
    pub department: String,
    pub title: String,
    pub body: String,
    pub policy_field: PolicyField,
    pub policy_field_label: String,
    pub zone: Option<String>,
    pub desired_partner_kinds: Vec<String>,
    pub open_until: Option<NaiveDate>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every open public need, oldest first, optionally of one municipality.
pub fn needs(db: &Db, municipality: Option<String>) -> AppResult<Vec<OpenNeed>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = NeedQuery {
            municipality: municipality.clone(),
            cursor: cursor.take(),
            limit: Some(100),
            ..Default::default()
        };
        let page = needs::list(db, &Actor::Anonymous, q)?;
        out.extend(page.items.into_iter().map(|n| {
            OpenNeed {
                id: n.id.0,
                municipality_code: n.municipality.code,
                municipality: n.municipality.name,
                department: n.department.name,
                title: n.title,
                body: n.body,
                policy_field: n.policy_field,
                policy_field_label: n.policy_field.label_ja().to_owned(),
                zone: n.zone,
                desired_partner_kinds: n
                    .desired_partner_kinds
                    .iter()
                    .map(|k| k.as_str().to_owned())
                    .collect(),
                open_until: n.open_until,
                published_at: n.published_at,
            }
        }));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out.reverse();
    Ok(out)
}

pub fn needs_csv(rows: &[OpenNeed]) -> String {
    let mut c = Csv::new(&[
        "ID",
        "団体コード",
        "自治体名",
        "所管課",
        "件名",
        "内容",
        "政策分野",
        "地域",
        "求める連携先",
        "募集期限",
        "公開日時",
    ]);
    for n in rows {
        c.row([
            n.id.to_string(),
            n.municipality_code.clone(),
            n.municipality.clone(),
            n.department.clone(),
            n.title.clone(),
            n.body.clone(),
            n.policy_field_label.clone(),
            n.zone.clone().unwrap_or_default(),
            n.desired_partner_kinds.join(" "),
            n.open_until.map(|d| d.to_string()).unwrap_or_default(),
            n.published_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ]);
    }
    c.finish()
}
