//! How records of the database become documents of the search index. The database is
//! the source of truth; these are derived from it whenever its text changes.

use std::collections::HashMap;

use search_index::{DocType, Document};

use crate::domain::error::AppResult;
use crate::domain::vocab::PartnerStatus;
use crate::storage::models::{NeedRow, OfferRow, ProposalRow};
use crate::storage::{self, AnyConnection};

/// Offers of suspended partners are indexed with this status, which no outsider's search
/// asks for.
pub const SUSPENDED: &str = "suspended";

pub fn need(conn: &mut AnyConnection, n: &NeedRow) -> AppResult<Document> {
    let m = storage::municipalities::by_id(conn, n.municipality_id)?;
    let zone = match n.zone_id {
        Some(z) => storage::municipalities::zone(conn, z)?.map(|z| z.name),
        None => None,
    };
    let kinds = storage::needs::partner_kinds_of(conn, &[n.id])?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    Ok(Document {
        doc_type: DocType::Need,
        id: n.id,
        title: n.title.clone(),
        body: n.body.clone(),
        policy_fields: vec![n.policy_field.clone()],
        municipality_codes: vec![m.code],
        zone,
        partner_kind: None,
        partner_kinds_wanted: kinds,
        status: n.status.clone(),
        visibility: n.visibility.clone(),
        department_id: Some(n.department_id),
        owner_id: None,
        updated_at_unix: n.updated_at.and_utc().timestamp(),
    })
}

pub fn offer(conn: &mut AnyConnection, o: &OfferRow) -> AppResult<Document> {
    let partner = storage::partners::find(conn, o.partner_id)?;
    let fields = storage::offers::fields_of(conn, &[o.id])?
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let regions = storage::offers::regions_of(conn, &[o.id])?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let suspended = match &partner {
        Some(p) => PartnerStatus::from_db(&p.status)? == PartnerStatus::Suspended,
        None => true,
    };
    Ok(Document {
        doc_type: DocType::Offer,
        id: o.id,
        title: o.title.clone(),
        body: o.body.clone(),
        policy_fields: fields,
        municipality_codes: regions,
        zone: None,
        partner_kind: partner.map(|p| p.kind),
        partner_kinds_wanted: vec![],
        status: if suspended {
            SUSPENDED.to_owned()
        } else {
            o.status.clone()
        },
        visibility: "public".to_owned(),
        department_id: None,
        owner_id: Some(o.partner_id),
        updated_at_unix: o.updated_at.and_utc().timestamp(),
    })
}

pub fn proposal(conn: &mut AnyConnection, p: &ProposalRow) -> AppResult<Document> {
    let m = storage::municipalities::by_id(conn, p.municipality_id)?;
    Ok(Document {
        doc_type: DocType::Proposal,
        id: p.id,
        title: p.title.clone(),
        body: p.body.clone(),
        policy_fields: p.policy_field.iter().cloned().collect(),
        municipality_codes: vec![m.code],
        zone: None,
        partner_kind: None,
        partner_kinds_wanted: vec![],
        status: p.state.clone(),
        visibility: "internal".to_owned(),
        department_id: p.primary_department_id,
        owner_id: p.partner_id,
        updated_at_unix: p.updated_at.and_utc().timestamp(),
    })
}

/// The current document of a record, or `None` when the record is gone.
pub fn load(conn: &mut AnyConnection, doc_type: DocType, id: i64) -> AppResult<Option<Document>> {
    Ok(match doc_type {
        DocType::Need => match storage::needs::find(conn, id)? {
            Some(n) => Some(need(conn, &n)?),
            None => None,
        },
        DocType::Offer => match storage::offers::find(conn, id)? {
            Some(o) => Some(offer(conn, &o)?),
            None => None,
        },
        DocType::Proposal => match storage::proposals::find(conn, id)? {
            Some(p) => Some(proposal(conn, &p)?),
            None => None,
        },
    })
}

/// Loads many records of one type at once (for rebuilding).
pub fn load_many(
    conn: &mut AnyConnection,
    doc_type: DocType,
    ids: &[i64],
) -> AppResult<Vec<Document>> {
    let mut cache: HashMap<i64, Document> = HashMap::new();
    for id in ids {
        if let Some(d) = load(conn, doc_type, *id)? {
            cache.insert(*id, d);
        }
    }
    Ok(ids.iter().filter_map(|id| cache.remove(id)).collect())
}

/// One page of documents of a type, by id after `after`, for walking a whole table (a
/// rebuild, a consistency check): the page's last id (`None` when the table is done)
/// and its documents.
pub fn page_after(
    conn: &mut AnyConnection,
    doc_type: DocType,
    after: i64,
    size: i64,
) -> AppResult<(Option<i64>, Vec<Document>)> {
    let ids = match doc_type {
        DocType::Need => storage::needs::ids_after(conn, after, size)?,
        DocType::Offer => storage::offers::ids_after(conn, after, size)?,
        DocType::Proposal => storage::proposals::ids_after(conn, after, size)?,
    };
    Ok((ids.last().copied(), load_many(conn, doc_type, &ids)?))
}
