//! Offers (提供できること): what a partner can give. A partner manages its own; anyone
//! reads active ones; archived ones are seen by their owner and by staff.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::actor::Actor;
use super::codes::{MunicipalityCode, Region};
use super::error::{AppError, AppResult};
use super::ids::{OfferId, PartnerId};
use super::pagination::{Page, PageRequest};
use super::partners::parse_regions;
use super::utc;
use super::validate::Check;
use super::vocab::{OfferKind, OfferStatus, PartnerKind, PolicyField};
use crate::storage::index_log::{self, DocType};
use crate::storage::models::{NewOffer, OfferChanges, OfferRow};
use crate::storage::offers::OfferFilter;
use crate::storage::{self, AnyConnection, Db, now};
use chrono::{DateTime, Utc};

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 10_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfferInput {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub policy_fields: Vec<String>,
    /// Default: the partner's own regions.
    pub regions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOfferInput {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub policy_fields: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    /// `active` or `archived`.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerRef {
    pub id: PartnerId,
    pub name: String,
    pub kind: PartnerKind,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub id: OfferId,
    pub partner: PartnerRef,
    pub kind: OfferKind,
    pub title: String,
    pub body: String,
    pub policy_fields: Vec<PolicyField>,
    pub regions: Vec<String>,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// List filters as the API receives them.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfferQuery {
    /// Offer kind.
    pub kind: Option<String>,
    pub policy_field: Option<String>,
    /// A municipality or prefecture code: offers that serve it (or nationwide).
    pub region: Option<String>,
    pub partner_kind: Option<String>,
    pub partner_id: Option<i64>,
    /// `active` (default) or `archived` (own offers, or staff).
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn parse_fields(c: &mut Check, fields: &[String]) -> Vec<PolicyField> {
    if fields.is_empty() {
        c.push(
            "policy_fields",
            "required",
            "give at least one policy field",
        );
    }
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        match PolicyField::parse(f) {
            Some(p) if !out.contains(&p) => out.push(p),
            Some(_) => {}
            None => c.push(
                format!("policy_fields/{i}"),
                "unknown_value",
                format!("must be one of: {}", PolicyField::expected()),
            ),
        }
    }
    out
}

/// Turns rows into views, loading partners, fields and regions in three queries.
fn views(conn: &mut AnyConnection, rows: Vec<OfferRow>) -> AppResult<Vec<OfferView>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let partner_ids: Vec<i64> = rows.iter().map(|r| r.partner_id).collect();
    let partners: HashMap<i64, _> = storage::partners::find_many(conn, &partner_ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut fields: HashMap<i64, Vec<PolicyField>> = HashMap::new();
    for (id, f) in storage::offers::fields_of(conn, &ids)? {
        fields
            .entry(id)
            .or_default()
            .push(PolicyField::from_db(&f)?);
    }
    let mut regions: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, r) in storage::offers::regions_of(conn, &ids)? {
        regions.entry(id).or_default().push(r);
    }
    rows.into_iter()
        .map(|r| {
            let p = partners.get(&r.partner_id).ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("offer {} without partner", r.id))
            })?;
            Ok(OfferView {
                id: OfferId(r.id),
                partner: PartnerRef {
                    id: PartnerId(p.id),
                    name: p.name.clone(),
                    kind: PartnerKind::from_db(&p.kind)?,
                },
                kind: OfferKind::from_db(&r.kind)?,
                policy_fields: fields.remove(&r.id).unwrap_or_default(),
                regions: regions.remove(&r.id).unwrap_or_default(),
                status: OfferStatus::from_db(&r.status)?,
                created_at: utc(r.created_at),
                updated_at: utc(r.updated_at),
                archived_at: r.archived_at.map(utc),
                title: r.title,
                body: r.body,
            })
        })
        .collect()
}

fn one_view(conn: &mut AnyConnection, row: OfferRow) -> AppResult<OfferView> {
    views(conn, vec![row])?
        .pop()
        .ok_or(AppError::NotFound("offer"))
}

/// Whether `actor` may read this offer at all.
pub(crate) fn may_see(actor: &Actor, row: &OfferRow) -> bool {
    row.status == OfferStatus::Active.as_str()
        || actor.partner() == Some(PartnerId(row.partner_id))
        || actor.staff().is_some()
}

pub fn create(db: &Db, actor: &Actor, input: NewOfferInput) -> AppResult<OfferView> {
    let partner = actor.require_partner()?;
    let mut c = Check::new();
    let kind = c.one_of(
        "kind",
        &input.kind,
        OfferKind::parse,
        &OfferKind::expected(),
    );
    let title = c.line("title", &input.title, TITLE_MAX);
    let body = c.text("body", &input.body, BODY_MAX, false);
    let fields = parse_fields(&mut c, &input.policy_fields);
    let regions = input
        .regions
        .as_ref()
        .map(|r| parse_regions(&mut c, "regions", Some(r)));
    c.finish()?;
    db.write(|conn| {
        let regions = match regions {
            Some(r) => r,
            None => storage::partners::regions(conn, partner.0)?,
        };
        let at = now();
        let row = storage::offers::insert(
            conn,
            &NewOffer {
                partner_id: partner.0,
                kind: kind.map_or("other", OfferKind::as_str),
                title: &title,
                body: &body,
                status: OfferStatus::Active.as_str(),
                created_at: at,
                updated_at: at,
                archived_at: None,
            },
        )?;
        let f: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        storage::offers::set_fields(conn, row.id, &f)?;
        let r: Vec<&str> = regions.iter().map(String::as_str).collect();
        storage::offers::set_regions(conn, row.id, &r)?;
        index_log::record(conn, DocType::Offer, row.id)?;
        one_view(conn, row)
    })
}

pub fn get(db: &Db, actor: &Actor, id: OfferId) -> AppResult<OfferView> {
    db.read(|conn| {
        let row = storage::offers::find(conn, id.0)?
            .filter(|r| may_see(actor, r))
            .ok_or(AppError::NotFound("offer"))?;
        one_view(conn, row)
    })
}

/// The offers among `ids` that `actor` may see, in the order of `ids`, in one read:
/// as [`get`] for each id, without the round trips.
pub fn get_many(db: &Db, actor: &Actor, ids: &[OfferId]) -> AppResult<Vec<OfferView>> {
    let raw: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let mut found = db.read(|conn| visible_many(conn, actor, &raw))?;
    Ok(raw.iter().filter_map(|i| found.remove(i)).collect())
}

/// The offers among `ids` that `actor` may see, by id, read with a fixed number of
/// queries whatever the number of ids: a page of search hits or matches. The same rule
/// as [`get`] drops the others, so an index that is behind the database never shows
/// what the caller may not read.
pub(crate) fn visible_many(
    conn: &mut AnyConnection,
    actor: &Actor,
    ids: &[i64],
) -> AppResult<HashMap<i64, OfferView>> {
    let rows: Vec<OfferRow> = storage::offers::find_many(conn, ids)?
        .into_iter()
        .filter(|r| may_see(actor, r))
        .collect();
    Ok(views(conn, rows)?
        .into_iter()
        .map(|v| (v.id.0, v))
        .collect())
}

/// Changes one of the caller's own offers. Another partner's offer is forbidden (it is
/// public, so hiding it as "not found" would tell nothing).
pub fn update(
    db: &Db,
    actor: &Actor,
    id: OfferId,
    input: UpdateOfferInput,
) -> AppResult<OfferView> {
    let partner = actor.require_partner()?;
    db.write(|conn| {
        let row = storage::offers::find(conn, id.0)?
            .filter(|r| may_see(actor, r))
            .ok_or(AppError::NotFound("offer"))?;
        if row.partner_id != partner.0 {
            return Err(AppError::Forbidden("this offer belongs to another partner"));
        }
        let mut c = Check::new();
        let kind = c.one_of(
            "kind",
            input.kind.as_deref().unwrap_or(&row.kind),
            OfferKind::parse,
            &OfferKind::expected(),
        );
        let title = c.line(
            "title",
            input.title.as_deref().unwrap_or(&row.title),
            TITLE_MAX,
        );
        let body = c.text(
            "body",
            input.body.as_deref().unwrap_or(&row.body),
            BODY_MAX,
            false,
        );
        let status = c.one_of(
            "status",
            input.status.as_deref().unwrap_or(&row.status),
            OfferStatus::parse,
            &OfferStatus::expected(),
        );
        let fields = input
            .policy_fields
            .as_ref()
            .map(|f| parse_fields(&mut c, f));
        let regions = input
            .regions
            .as_ref()
            .map(|r| parse_regions(&mut c, "regions", Some(r)));
        c.finish()?;
        let status = status.unwrap_or(OfferStatus::Active);
        let archived_at = match status {
            OfferStatus::Archived => Some(row.archived_at.unwrap_or_else(now)),
            OfferStatus::Active => None,
        };
        storage::offers::update(
            conn,
            row.id,
            &OfferChanges {
                kind: kind.map_or("other", OfferKind::as_str),
                title: &title,
                body: &body,
                status: status.as_str(),
                updated_at: now(),
                archived_at,
            },
        )?;
        if let Some(fields) = fields {
            let f: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
            storage::offers::set_fields(conn, row.id, &f)?;
        }
        if let Some(regions) = regions {
            let r: Vec<&str> = regions.iter().map(String::as_str).collect();
            storage::offers::set_regions(conn, row.id, &r)?;
        }
        index_log::record(conn, DocType::Offer, row.id)?;
        let row = storage::offers::find(conn, row.id)?.ok_or(AppError::NotFound("offer"))?;
        one_view(conn, row)
    })
}

pub fn archive(db: &Db, actor: &Actor, id: OfferId) -> AppResult<OfferView> {
    update(
        db,
        actor,
        id,
        UpdateOfferInput {
            status: Some(OfferStatus::Archived.as_str().into()),
            ..Default::default()
        },
    )
}

pub fn list(db: &Db, actor: &Actor, q: OfferQuery) -> AppResult<Page<OfferView>> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let mut c = Check::new();
    let kind = q
        .kind
        .as_deref()
        .and_then(|k| c.one_of("kind", k, OfferKind::parse, &OfferKind::expected()));
    let policy_field = q.policy_field.as_deref().and_then(|f| {
        c.one_of(
            "policy_field",
            f,
            PolicyField::parse,
            &PolicyField::expected(),
        )
    });
    let partner_kind = q.partner_kind.as_deref().and_then(|k| {
        c.one_of(
            "partner_kind",
            k,
            PartnerKind::parse,
            &PartnerKind::expected(),
        )
    });
    let status = q
        .status
        .as_deref()
        .and_then(|s| c.one_of("status", s, OfferStatus::parse, &OfferStatus::expected()));
    let region_codes = match q.region.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(Region::NATIONWIDE) => Some(vec![Region::NATIONWIDE.to_owned()]),
        Some(code) => match MunicipalityCode::parse(code) {
            Ok(m) => Some(Region::covering(&m)),
            Err(e) => {
                c.push(
                    "region",
                    "format",
                    format!("a 6-digit local government code or `nationwide`: {e}"),
                );
                None
            }
        },
    };
    c.finish()?;
    let mut filter = OfferFilter {
        kind: kind.map(|k| k.as_str().into()),
        policy_field: policy_field.map(|f| f.as_str().into()),
        region_codes,
        partner_kind: partner_kind.map(|k| k.as_str().into()),
        partner_id: q.partner_id,
        statuses: vec![status.unwrap_or(OfferStatus::Active).as_str().into()],
        hide_suspended_except: actor
            .staff()
            .is_none()
            .then(|| actor.partner().map(|p| p.0)),
        before_id: page.before_id,
        limit: page.fetch(),
    };
    if status == Some(OfferStatus::Archived) && actor.staff().is_none() {
        // Outsiders see no archived offers; a partner sees its own.
        let own = actor.partner().ok_or(AppError::Forbidden(
            "archived offers are visible to their owner and to staff only",
        ))?;
        if filter.partner_id.is_some_and(|p| p != own.0) {
            return Err(AppError::Forbidden(
                "archived offers are visible to their owner and to staff only",
            ));
        }
        filter.partner_id = Some(own.0);
    }
    db.read(|conn| {
        let rows = storage::offers::list(conn, &filter)?;
        page.finish(rows, |r| r.id, |rows| views(conn, rows))
    })
}
