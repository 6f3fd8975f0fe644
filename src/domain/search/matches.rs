//! Two-way matching: offers for a need, needs for an offer, ranked with an explanation
//! (the terms that matched and a normalised score); staff feedback on a pair is stored
//! and used (good matches rank higher, rejected ones disappear).

use serde::{Deserialize, Serialize};

use search_index::{DocType, MatchRequest};

use super::{SearchEngine, documents, index_error};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::{MunicipalityId, NeedId, OfferId};
use crate::domain::needs::{self, NeedView};
use crate::domain::offers::{self, OfferView};
use crate::domain::validate::Check;
use crate::domain::vocab::Role;
use crate::storage::{self, Db};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    /// The source's telling terms found in this record, most telling first.
    pub matched_terms: Vec<String>,
    /// 0..1: the weighted share of the source's selected terms found here.
    pub normalized_score: f32,
    /// The ranking score, comparable within one answer only.
    pub score: f32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferMatch {
    pub offer: OfferView,
    pub explanation: Explanation,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NeedMatch {
    pub need: NeedView,
    pub explanation: Explanation,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MatchQuery {
    /// 1..=50, default 10.
    pub limit: Option<usize>,
}

fn limit(q: &MatchQuery) -> AppResult<usize> {
    let l = q.limit.unwrap_or(10);
    if !(1..=50).contains(&l) {
        return Err(AppError::field(
            "limit",
            "out_of_range",
            "must be between 1 and 50",
        ));
    }
    Ok(l)
}

/// Matches `source`, with the staff's verdicts on other records (id, `good` or
/// `not_relevant`) boosting or excluding them; fetches extra to fill `limit` after the
/// caller's visibility checks.
fn ranked(
    engine: &SearchEngine,
    source: search_index::Document,
    limit: usize,
    verdicts: Vec<(i64, String)>,
) -> AppResult<Vec<search_index::MatchHit>> {
    let pick = |v: &str| {
        verdicts
            .iter()
            .filter(|(_, x)| x == v)
            .map(|(id, _)| *id)
            .collect::<Vec<_>>()
    };
    engine
        .index
        .match_documents(&MatchRequest {
            source,
            limit: (limit + verdicts.len()).min(100),
            boost_ids: pick("good"),
            exclude_ids: pick("not_relevant"),
        })
        .map_err(index_error)
}

fn explanation(h: &search_index::MatchHit) -> Explanation {
    Explanation {
        matched_terms: h.matched_terms.clone(),
        normalized_score: h.normalized,
        score: h.score,
    }
}

/// Offers that fit a need the caller may see: active, serving its municipality, of a
/// kind it asks for.
pub fn offers_for_need(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    id: NeedId,
    q: MatchQuery,
) -> AppResult<Vec<OfferMatch>> {
    let limit = limit(&q)?;
    let (source, feedback) = db.read(|conn| -> AppResult<_> {
        let row = storage::needs::find(conn, id.0)?
            .filter(|n| needs::may_see(actor, n))
            .ok_or(AppError::NotFound("need"))?;
        Ok((
            documents::need(conn, &row)?,
            storage::matching::feedback_for(conn, Some(id.0), None)?,
        ))
    })?;
    let others = feedback
        .into_iter()
        .map(|(_, offer, verdict)| (offer, verdict))
        .collect();
    let hits: Vec<_> = ranked(engine, source, limit, others)?
        .into_iter()
        .filter(|h| h.doc_type == DocType::Offer)
        .collect();
    // One batched read for the whole page, through the same rule as `offers::get`.
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    let mut found = db.read(|conn| offers::visible_many(conn, actor, &ids))?;
    Ok(hits
        .iter()
        .filter_map(|h| {
            found
                .remove(&h.id)
                .filter(|o| o.status == crate::domain::vocab::OfferStatus::Active)
                .map(|offer| OfferMatch {
                    offer,
                    explanation: explanation(h),
                })
        })
        .take(limit)
        .collect())
}

/// Open public needs that fit an offer.
pub fn needs_for_offer(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    id: OfferId,
    q: MatchQuery,
) -> AppResult<Vec<NeedMatch>> {
    let limit = limit(&q)?;
    let (source, feedback) = db.read(|conn| -> AppResult<_> {
        let row = storage::offers::find(conn, id.0)?
            .filter(|o| offers::may_see(actor, o))
            .ok_or(AppError::NotFound("offer"))?;
        Ok((
            documents::offer(conn, &row)?,
            storage::matching::feedback_for(conn, None, Some(id.0))?,
        ))
    })?;
    let others = feedback
        .into_iter()
        .map(|(need, _, verdict)| (need, verdict))
        .collect();
    let hits: Vec<_> = ranked(engine, source, limit, others)?
        .into_iter()
        .filter(|h| h.doc_type == DocType::Need)
        .collect();
    // One batched read for the whole page, through the same rule as `needs::get`.
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    let mut found = db.read(|conn| needs::visible_many(conn, actor, &ids))?;
    Ok(hits
        .iter()
        .filter_map(|h| {
            found
                .remove(&h.id)
                .filter(|n| n.status == crate::domain::vocab::NeedStatus::Open)
                .map(|need| NeedMatch {
                    need,
                    explanation: explanation(h),
                })
        })
        .take(limit)
        .collect())
}

/// The staff's verdicts on a need's matches (offer, `good` or `not_relevant`): internal,
/// and given by staff of the need's municipality ([`feedback`]), so only they get them;
/// anyone else who may see the need gets `None` (and is not offered to judge).
pub fn verdicts_for_need(
    db: &Db,
    actor: &Actor,
    id: NeedId,
) -> AppResult<Option<Vec<(OfferId, String)>>> {
    db.read(|conn| {
        let n = storage::needs::find(conn, id.0)?
            .filter(|n| needs::may_see(actor, n))
            .ok_or(AppError::NotFound("need"))?;
        if actor
            .require_staff_of(
                MunicipalityId(n.municipality_id),
                &[Role::Department, Role::Desk, Role::Admin],
            )
            .is_err()
        {
            return Ok(None);
        }
        Ok(Some(
            storage::matching::feedback_for(conn, Some(id.0), None)?
                .into_iter()
                .map(|(_, offer, verdict)| (OfferId(offer), verdict))
                .collect(),
        ))
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// `good` or `not_relevant`.
    pub verdict: String,
}

/// Staff of the need's municipality mark a suggested pair.
pub fn feedback(
    db: &Db,
    actor: &Actor,
    need: NeedId,
    offer: OfferId,
    input: FeedbackInput,
) -> AppResult<()> {
    let mut c = Check::new();
    if !matches!(input.verdict.as_str(), "good" | "not_relevant") {
        c.push(
            "verdict",
            "unknown_value",
            "must be one of: good, not_relevant",
        );
    }
    c.finish()?;
    let staff = actor.require_staff()?.id;
    db.write(|conn| {
        let n = storage::needs::find(conn, need.0)?
            .filter(|n| needs::may_see(actor, n))
            .ok_or(AppError::NotFound("need"))?;
        actor.require_staff_of(
            MunicipalityId(n.municipality_id),
            &[Role::Department, Role::Desk, Role::Admin],
        )?;
        storage::offers::find(conn, offer.0)?.ok_or(AppError::NotFound("offer"))?;
        Ok(storage::matching::set_feedback(
            conn,
            need.0,
            offer.0,
            staff.0,
            &input.verdict,
        )?)
    })
}
