//! What the service hands the index: one [`Document`] per need, offer or
//! proposal, and its translation into tantivy fields.

use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::{Facet, Field};

use crate::region::{NATIONWIDE, prefecture_of};
use crate::schema::Fields;

/// Stored in `partner_kind_wanted` for needs that want any kind of partner.
pub const ANY_PARTNER_KIND: &str = "any";

/// The three kinds of searchable records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    Need,
    Offer,
    Proposal,
}

impl DocType {
    pub const ALL: [DocType; 3] = [DocType::Need, DocType::Offer, DocType::Proposal];

    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Need => "need",
            DocType::Offer => "offer",
            DocType::Proposal => "proposal",
        }
    }

    pub fn parse(s: &str) -> Option<DocType> {
        DocType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub(crate) fn code(self) -> u64 {
        match self {
            DocType::Need => 0,
            DocType::Offer => 1,
            DocType::Proposal => 2,
        }
    }

    pub(crate) fn from_code(code: u64) -> Option<DocType> {
        DocType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The unique key of a record in the index ("need:123").
    pub fn key(self, id: i64) -> String {
        format!("{}:{id}", self.as_str())
    }
}

/// One searchable record, as the service's database knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub doc_type: DocType,
    pub id: i64,
    pub title: String,
    pub body: String,
    pub policy_fields: Vec<String>,
    /// A need's or proposal's municipality code; for an offer its regions,
    /// each a six-digit code (municipality or prefecture) or "nationwide".
    pub municipality_codes: Vec<String>,
    pub zone: Option<String>,
    /// An offer's partner kind.
    pub partner_kind: Option<String>,
    /// A need's desired partner kinds (empty: any).
    pub partner_kinds_wanted: Vec<String>,
    pub status: String,
    /// "public" | "internal".
    pub visibility: String,
    pub department_id: Option<i64>,
    /// The partner id for offers, the proposer for proposals.
    pub owner_id: Option<i64>,
    pub updated_at_unix: i64,
}

impl Document {
    pub fn key(&self) -> String {
        self.doc_type.key(self.id)
    }

    pub(crate) fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(f.key, self.key());
        d.add_text(f.doc_type, self.doc_type.as_str());
        d.add_u64(f.kind, self.doc_type.code());
        d.add_i64(f.id, self.id);
        d.add_text(f.title_ja, &self.title);
        d.add_text(f.body_ja, &self.body);
        d.add_text(f.title_bi, &self.title);
        d.add_text(f.body_bi, &self.body);
        add_facet(&mut d, f.facet, "doc_type", self.doc_type.as_str());
        for p in &self.policy_fields {
            d.add_text(f.policy_field, p);
            add_facet(&mut d, f.facet, "policy_field", p);
        }
        let mut prefectures: Vec<String> = Vec::new();
        for m in &self.municipality_codes {
            d.add_text(f.municipality, m);
            add_facet(&mut d, f.facet, "municipality", m);
            if m != NATIONWIDE
                && let Some(p) = prefecture_of(m)
                && !prefectures.contains(&p)
            {
                prefectures.push(p);
            }
        }
        for p in prefectures {
            d.add_text(f.prefecture, p);
        }
        if let Some(z) = &self.zone {
            d.add_text(f.zone, z);
            add_facet(&mut d, f.facet, "zone", z);
        }
        if let Some(k) = &self.partner_kind {
            d.add_text(f.partner_kind, k);
            add_facet(&mut d, f.facet, "partner_kind", k);
        }
        for k in &self.partner_kinds_wanted {
            d.add_text(f.partner_kind_wanted, k);
            add_facet(&mut d, f.facet, "partner_kind", k);
        }
        if self.doc_type == DocType::Need && self.partner_kinds_wanted.is_empty() {
            // A need that names no kind welcomes every kind; the sentinel
            // lets a partner-kind filter say so in one term.
            d.add_text(f.partner_kind_wanted, ANY_PARTNER_KIND);
        }
        d.add_text(f.status, &self.status);
        add_facet(&mut d, f.facet, "status", &self.status);
        d.add_text(f.visibility, &self.visibility);
        if let Some(dep) = self.department_id {
            d.add_i64(f.department, dep);
        }
        if let Some(o) = self.owner_id {
            d.add_i64(f.owner, o);
        }
        d.add_i64(f.updated_at, self.updated_at_unix);
        d
    }
}

/// Facet paths are separated by NUL internally, so NUL is removed from
/// values; an empty value would add a meaningless empty child.
fn add_facet(d: &mut TantivyDocument, field: Field, name: &str, value: &str) {
    let value = value.replace('\0', "");
    if !value.is_empty() {
        d.add_facet(field, Facet::from_path([name, value.as_str()]));
    }
}
