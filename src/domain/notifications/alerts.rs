//! Match alerts: when a need is published or changed, partners whose active offers fit it
//! strongly are told; when an offer is created or changed, the departments of open needs
//! it fits are told. "Strongly" is the matcher's normalised score at or above the
//! configured threshold. A pair is alerted at most once (`match_alerts`). The job follows
//! the index change log behind the index's own checkpoint, so what it matches against is
//! already searchable.

use search_index::{DocType, MatchHit, MatchRequest};

use super::{Kind, Recipient, notify};
use crate::domain::error::AppResult;
use crate::domain::search::{SearchEngine, documents, index_error};
use crate::domain::vocab::{NeedStatus, OfferStatus, Role, Visibility};
use crate::mail::links;
use crate::storage::{self, AnyConnection, Db, index_log, job_state};

const CHECKPOINT: &str = "match_alerts_checkpoint";
/// Default threshold of the normalised match score.
pub const DEFAULT_THRESHOLD: f32 = 0.35;

/// Processes the changes since the last run; returns how many alerts were queued.
pub fn run(db: &Db, engine: &SearchEngine, threshold: f32) -> AppResult<usize> {
    let upto = engine.checkpoint()?;
    let start = db.write(|conn| -> AppResult<_> {
        // The first run starts from now: history is not alerted.
        Ok(job_state::get_or_init(conn, CHECKPOINT, &upto.to_string())?
            .parse::<i64>()
            .unwrap_or(upto))
    })?;
    if start >= upto {
        return Ok(0);
    }
    let changes =
        db.read(|conn| -> AppResult<_> { Ok(index_log::pending(conn, start, upto - start)?) })?;
    let mut seen = std::collections::BTreeSet::new();
    let mut queued = 0;
    for ch in changes.iter().filter(|c| c.id <= upto) {
        let Some(t) = DocType::parse(&ch.doc_type) else {
            continue;
        };
        if t == DocType::Proposal || !seen.insert((ch.doc_type.clone(), ch.doc_id)) {
            continue;
        }
        queued += db.write(|conn| match t {
            DocType::Need => need_changed(conn, engine, ch.doc_id, threshold),
            _ => offer_changed(conn, engine, ch.doc_id, threshold),
        })?;
    }
    // Raised, never lowered: a node whose index lags must not move the checkpoint back
    // under one that got further (the alerts are deduplicated per pair either way).
    db.write(|conn| -> AppResult<_> { Ok(job_state::raise(conn, CHECKPOINT, upto)?) })?;
    Ok(queued)
}

fn need_changed(
    conn: &mut AnyConnection,
    engine: &SearchEngine,
    id: i64,
    threshold: f32,
) -> AppResult<usize> {
    let Some(need) = storage::needs::find(conn, id)? else {
        return Ok(0);
    };
    if need.status != NeedStatus::Open.as_str() || need.visibility != Visibility::Public.as_str() {
        return Ok(0);
    }
    let source = documents::need(conn, &need)?;
    let hits = engine
        .index
        .match_documents(&MatchRequest {
            source,
            limit: 20,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .map_err(index_error)?;
    let municipality = storage::municipalities::by_id(conn, need.municipality_id)?.name;
    let mut queued = 0;
    for h in hits
        .iter()
        .filter(|h| h.doc_type == DocType::Offer && h.normalized >= threshold)
    {
        let Some(offer) = storage::offers::find(conn, h.id)? else {
            continue;
        };
        if offer.status != OfferStatus::Active.as_str()
            || !storage::match_alerts::first_time(conn, need.id, offer.id)?
        {
            continue;
        }
        let Some(to) = Recipient::partner(conn, offer.partner_id)? else {
            continue;
        };
        let link = format!("{}/api/v1/needs/{}", links::base(), need.id);
        let terms = shared_terms(h);
        let other = match to.locale {
            crate::domain::vocab::Locale::Ja => "課題",
            crate::domain::vocab::Locale::En => "need",
        };
        queued += usize::from(notify(
            conn,
            &to,
            Kind::MatchAlert,
            &format!("match_alert:need:{}:offer:{}", need.id, offer.id),
            &[
                ("title", &need.title),
                ("other", other),
                ("source_title", &offer.title),
                ("owner", &municipality),
                ("terms", &terms),
                ("link", &link),
            ],
        )?);
    }
    Ok(queued)
}

fn offer_changed(
    conn: &mut AnyConnection,
    engine: &SearchEngine,
    id: i64,
    threshold: f32,
) -> AppResult<usize> {
    let Some(offer) = storage::offers::find(conn, id)? else {
        return Ok(0);
    };
    if offer.status != OfferStatus::Active.as_str() {
        return Ok(0);
    }
    let source = documents::offer(conn, &offer)?;
    let hits = engine
        .index
        .match_documents(&MatchRequest {
            source,
            limit: 20,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .map_err(index_error)?;
    let partner = storage::partners::find(conn, offer.partner_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    let mut queued = 0;
    for h in hits
        .iter()
        .filter(|h| h.doc_type == DocType::Need && h.normalized >= threshold)
    {
        let Some(need) = storage::needs::find(conn, h.id)? else {
            continue;
        };
        if need.status != NeedStatus::Open.as_str()
            || !storage::match_alerts::first_time(conn, need.id, offer.id)?
        {
            continue;
        }
        let staff = storage::staff::list(conn, Some(need.municipality_id))?;
        let link = format!("{}/api/v1/offers/{}", links::base(), offer.id);
        let terms = shared_terms(h);
        for s in staff.iter().filter(|s| {
            s.role == Role::Department.as_str() && s.department_id == Some(need.department_id)
        }) {
            let Some(to) = Recipient::staff(conn, s.id)? else {
                continue;
            };
            let other = match to.locale {
                crate::domain::vocab::Locale::Ja => "提供",
                crate::domain::vocab::Locale::En => "offer",
            };
            queued += usize::from(notify(
                conn,
                &to,
                Kind::MatchAlert,
                &format!("match_alert:need:{}:offer:{}", need.id, offer.id),
                &[
                    ("title", &offer.title),
                    ("other", other),
                    ("source_title", &need.title),
                    ("owner", &partner),
                    ("terms", &terms),
                    ("link", &link),
                ],
            )?);
        }
    }
    Ok(queued)
}

/// The words a match shares with its source, as the alert lists them (eight at most).
fn shared_terms(h: &MatchHit) -> String {
    h.matched_terms
        .iter()
        .take(8)
        .cloned()
        .collect::<Vec<_>>()
        .join("、")
}
