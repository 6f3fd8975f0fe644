//! Full-text search over needs and offers, with the same visibility rules as the lists:
//! outsiders see public needs and active offers; staff also their own municipality's
//! internal needs. Drafts and proposals never appear here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use search_index::{DocType, Filters, SearchRequest, VisibilityScope};

use super::{SearchEngine, index_error};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::needs::{self, NeedView};
use crate::domain::offers::{self, OfferView};
use crate::domain::validate::Check;
use crate::domain::vocab::{NeedStatus, OfferStatus, PartnerKind, PolicyField};
use crate::storage::{self, Db};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words (all should match, best first), "quoted phrases", -exclusions.
    pub q: Option<String>,
    /// `need` or `offer`; default both.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Policy field.
    pub field: Option<String>,
    /// A municipality or prefecture code.
    pub municipality: Option<String>,
    pub zone: Option<String>,
    pub partner_kind: Option<String>,
    /// `open` / `closed` for needs, `active` / `archived` (staff) for offers; default open and active.
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Need(Box<NeedView>),
    Offer(Box<OfferView>),
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub score: f32,
    /// HTML: matched words in `<mark>`, the rest escaped.
    pub title_snippet: String,
    pub body_snippet: String,
    pub record: Record,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    /// Exact number of matching records.
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// Facet name → counts, most frequent first.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    pub next_cursor: Option<String>,
}

pub fn search(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    q: SearchQuery,
) -> AppResult<SearchPage> {
    let mut c = Check::new();
    let doc_types = match q.doc_type.as_deref() {
        None | Some("") => vec![DocType::Need, DocType::Offer],
        Some("need") => vec![DocType::Need],
        Some("offer") => vec![DocType::Offer],
        Some(_) => {
            c.push("type", "unknown_value", "must be one of: need, offer");
            vec![]
        }
    };
    let field = q
        .field
        .as_deref()
        .and_then(|f| c.one_of("field", f, PolicyField::parse, &PolicyField::expected()));
    let partner_kind = q.partner_kind.as_deref().and_then(|k| {
        c.one_of(
            "partner_kind",
            k,
            PartnerKind::parse,
            &PartnerKind::expected(),
        )
    });
    let municipality = c.municipality_filter("municipality", q.municipality.as_deref());
    let staff = actor.staff();
    let status = match q.status.as_deref() {
        None => vec![
            NeedStatus::Open.as_str().to_owned(),
            OfferStatus::Active.as_str().to_owned(),
        ],
        Some(s @ ("open" | "closed" | "active")) => vec![s.to_owned()],
        Some("archived") if staff.is_some() => vec!["archived".to_owned()],
        Some(_) => {
            c.push(
                "status",
                "unknown_value",
                "must be one of: open, closed, active (archived for staff)",
            );
            vec![]
        }
    };
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        c.push("limit", "out_of_range", "must be between 1 and 100");
    }
    let text = q.q.clone().unwrap_or_default();
    if text.chars().any(|ch| ch.is_control() && ch != '\t') {
        c.push(
            "q",
            "control_characters",
            "must not contain control characters",
        );
    }
    c.finish()?;
    // Only a municipality's staff needs the database here (for its code); partners and
    // the deployment's operators do not open a transaction for nothing.
    let visibility = match staff {
        Some(s) => match s.municipality {
            Some(m) => VisibilityScope::PublicPlusInternalOf(db.read(|conn| -> AppResult<_> {
                Ok(storage::municipalities::by_id(conn, m.0)?.code)
            })?),
            None => match &municipality {
                Some(code) => VisibilityScope::PublicPlusInternalOf(code.as_str().to_owned()),
                None => VisibilityScope::PublicOnly,
            },
        },
        None => VisibilityScope::PublicOnly,
    };
    let request = SearchRequest {
        query: text,
        doc_types,
        filters: Filters {
            policy_field: field.map(|f| f.as_str().to_owned()),
            municipality: municipality.map(|m| m.as_str().to_owned()),
            zone: q.zone.clone().filter(|z| !z.trim().is_empty()),
            partner_kind: partner_kind.map(|k| k.as_str().to_owned()),
            status,
            department_id: None,
            owner_id: None,
            visibility,
        },
        limit,
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
    };
    let results = engine.index.search(&request).map_err(|e| match e {
        search_index::Error::Query(q) if q.code() == "query_bad_cursor" => {
            AppError::field("cursor", "format", q.to_string())
        }
        other => index_error(other),
    })?;
    // Each hit is read back through the same rules as a direct read (`needs::get`,
    // `offers::get`), so a stale index can never show what the caller may not see; a
    // page is read in one transaction with a fixed number of queries per document type.
    let (need_ids, offer_ids) = ids_by_type(results.hits.iter().map(|h| (h.doc_type, h.id)));
    let (mut found_needs, mut found_offers) = db.read(|conn| -> AppResult<_> {
        Ok((
            needs::visible_many(conn, actor, &need_ids)?,
            offers::visible_many(conn, actor, &offer_ids)?,
        ))
    })?;
    let mut hits = Vec::with_capacity(results.hits.len());
    for h in results.hits {
        let record = match h.doc_type {
            DocType::Need => found_needs.remove(&h.id).map(|n| Record::Need(Box::new(n))),
            DocType::Offer => found_offers
                .remove(&h.id)
                .map(|o| Record::Offer(Box::new(o))),
            DocType::Proposal => None,
        };
        if let Some(record) = record {
            hits.push(SearchHit {
                score: h.score,
                title_snippet: h.title_snippet,
                body_snippet: h.body_snippet,
                record,
            });
        }
    }
    Ok(SearchPage {
        total: results.total,
        hits,
        facets: results
            .facets
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.into_iter()
                        .map(|(value, count)| FacetCount { value, count })
                        .collect(),
                )
            })
            .collect(),
        next_cursor: results.next_cursor,
    })
}

/// The need ids and the offer ids of a page of hits, each in hit order.
fn ids_by_type(hits: impl Iterator<Item = (DocType, i64)>) -> (Vec<i64>, Vec<i64>) {
    let (mut needs, mut offers) = (vec![], vec![]);
    for (t, id) in hits {
        match t {
            DocType::Need => needs.push(id),
            DocType::Offer => offers.push(id),
            DocType::Proposal => {}
        }
    }
    (needs, offers)
}
