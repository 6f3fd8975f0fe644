//! Needs (課題・ニーズ): what a municipality's departments ask partners for. Staff of the
//! municipality manage them; public, non-draft needs are readable by anyone; internal
//! and draft needs only by the municipality's own staff.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::actor::{Actor, NEED_EDITORS};
use super::codes::MunicipalityCode;
use super::error::{AppError, AppResult};
use super::ids::{DepartmentId, MunicipalityId, NeedId};
use super::pagination::{Page, PageRequest};
use super::utc;
use super::validate::Check;
use super::vocab::{NeedStatus, PartnerKind, PolicyField, Visibility};
use crate::storage::index_log::{self, DocType};
use crate::storage::models::{NeedChanges, NeedRow, NewNeed};
use crate::storage::needs::NeedFilter;
use crate::storage::{self, AnyConnection, Db, now};
use chrono::{DateTime, Utc};

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 10_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNeedInput {
    /// Default: the caller's own municipality.
    pub municipality_code: Option<String>,
    /// Default: the caller's own department.
    pub department_id: Option<i64>,
    /// A zone (地域区分) of the municipality, by name.
    pub zone: Option<String>,
    pub title: String,
    pub body: String,
    pub policy_field: String,
    /// Default: every kind.
    pub desired_partner_kinds: Option<Vec<String>>,
    /// `public` (default) or `internal`.
    pub visibility: Option<String>,
    /// `draft` (default) or `open`.
    pub status: Option<String>,
    /// Last day the need is open for proposals (YYYY-MM-DD).
    pub open_until: Option<NaiveDate>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNeedInput {
    pub department_id: Option<i64>,
    #[serde(default, deserialize_with = "super::nullable")]
    pub zone: Option<Option<String>>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub policy_field: Option<String>,
    pub desired_partner_kinds: Option<Vec<String>>,
    pub visibility: Option<String>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    pub open_until: Option<Option<NaiveDate>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MunicipalityRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartmentRef {
    pub id: DepartmentId,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    pub id: NeedId,
    pub municipality: MunicipalityRef,
    pub department: DepartmentRef,
    pub zone: Option<String>,
    pub title: String,
    pub body: String,
    pub policy_field: PolicyField,
    pub desired_partner_kinds: Vec<PartnerKind>,
    pub visibility: Visibility,
    pub status: NeedStatus,
    pub open_until: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NeedQuery {
    /// Municipality code.
    pub municipality: Option<String>,
    pub department_id: Option<i64>,
    /// Zone name; needs `municipality`.
    pub zone: Option<String>,
    pub policy_field: Option<String>,
    /// `open` (default), `closed`, `draft` (own municipality's staff) or `all`.
    pub status: Option<String>,
    /// `public` or `internal` (own municipality's staff).
    pub visibility: Option<String>,
    /// Needs that welcome this kind of partner.
    pub partner_kind: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Sorted, without repeats: the ids a batch of rows names.
fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Turns rows into views with one query per table they name (partner kinds,
/// municipalities, departments, zones), however many rows there are.
fn views(conn: &mut AnyConnection, rows: Vec<NeedRow>) -> AppResult<Vec<NeedView>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut kinds: HashMap<i64, Vec<PartnerKind>> = HashMap::new();
    for (id, k) in storage::needs::partner_kinds_of(conn, &ids)? {
        kinds.entry(id).or_default().push(PartnerKind::from_db(&k)?);
    }
    let municipalities: HashMap<i64, MunicipalityRef> =
        storage::municipalities::by_ids(conn, &distinct(rows.iter().map(|r| r.municipality_id)))?
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    MunicipalityRef {
                        code: m.code,
                        name: m.name,
                    },
                )
            })
            .collect();
    let departments: HashMap<i64, String> = storage::municipalities::departments_by_ids(
        conn,
        &distinct(rows.iter().map(|r| r.department_id)),
    )?
    .into_iter()
    .map(|d| (d.id, d.name))
    .collect();
    let zones: HashMap<i64, String> = storage::municipalities::zones_by_ids(
        conn,
        &distinct(rows.iter().filter_map(|r| r.zone_id)),
    )?
    .into_iter()
    .map(|z| (z.id, z.name))
    .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let m = municipalities
            .get(&r.municipality_id)
            .ok_or(AppError::NotFound("municipality"))?;
        out.push(NeedView {
            id: NeedId(r.id),
            municipality: MunicipalityRef {
                code: m.code.clone(),
                name: m.name.clone(),
            },
            department: DepartmentRef {
                id: DepartmentId(r.department_id),
                name: departments
                    .get(&r.department_id)
                    .cloned()
                    .ok_or(AppError::NotFound("department"))?,
            },
            zone: r.zone_id.and_then(|z| zones.get(&z).cloned()),
            desired_partner_kinds: kinds.remove(&r.id).unwrap_or_default(),
            policy_field: PolicyField::from_db(&r.policy_field)?,
            visibility: Visibility::from_db(&r.visibility)?,
            status: NeedStatus::from_db(&r.status)?,
            open_until: r.open_until,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            published_at: r.published_at.map(utc),
            closed_at: r.closed_at.map(utc),
            title: r.title,
            body: r.body,
        });
    }
    Ok(out)
}

fn one_view(conn: &mut AnyConnection, row: NeedRow) -> AppResult<NeedView> {
    views(conn, vec![row])?
        .pop()
        .ok_or(AppError::NotFound("need"))
}

/// Whether `actor` may read this need at all.
pub fn may_see(actor: &Actor, row: &NeedRow) -> bool {
    (row.visibility == Visibility::Public.as_str() && row.status != NeedStatus::Draft.as_str())
        || actor.sees_internal_of(MunicipalityId(row.municipality_id))
}

fn parse_kinds(c: &mut Check, kinds: Option<&[String]>) -> Vec<PartnerKind> {
    let Some(kinds) = kinds.filter(|k| !k.is_empty()) else {
        return PartnerKind::ALL.to_vec();
    };
    let mut out = Vec::new();
    for (i, k) in kinds.iter().enumerate() {
        match PartnerKind::parse(k) {
            Some(p) if !out.contains(&p) => out.push(p),
            Some(_) => {}
            None => c.push(
                format!("desired_partner_kinds/{i}"),
                "unknown_value",
                format!("must be one of: {}", PartnerKind::expected()),
            ),
        }
    }
    out
}

/// Resolves a department id within municipality `m`, as a field error when it is not one of its.
fn department_in(
    conn: &mut AnyConnection,
    c: &mut Check,
    m: i64,
    id: Option<i64>,
) -> AppResult<Option<i64>> {
    let Some(id) = id else {
        c.push("department_id", "required", "give the owning department");
        return Ok(None);
    };
    match storage::municipalities::department(conn, id)? {
        Some(d) if d.municipality_id == m => Ok(Some(d.id)),
        _ => {
            c.push(
                "department_id",
                "not_found",
                "no such department in this municipality",
            );
            Ok(None)
        }
    }
}

fn zone_in(
    conn: &mut AnyConnection,
    c: &mut Check,
    m: i64,
    name: Option<&str>,
) -> AppResult<Option<i64>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let zone = storage::municipalities::zones_of(conn, m)?
        .into_iter()
        .find(|z| z.name == name);
    if zone.is_none() {
        c.push(
            "zone",
            "not_found",
            "no zone of this name in the municipality",
        );
    }
    Ok(zone.map(|z| z.id))
}

/// Publication timestamps implied by a status.
/// An open need must be open today: publishing or re-opening one whose open-until date
/// has passed would only close it again at the next freshness run. A need that is
/// already open may keep its date while other fields change.
fn check_open_until(
    c: &mut Check,
    status: Option<NeedStatus>,
    open_until: Option<NaiveDate>,
    row: Option<&NeedRow>,
) {
    // A stored date is not re-checked: only what this request brings must be in range.
    if row.is_none_or(|r| r.open_until != open_until) {
        super::calendar::check_date(c, "open_until", open_until);
    }
    let already_open = row.is_some_and(|r| r.status == NeedStatus::Open.as_str())
        && row.is_some_and(|r| r.open_until == open_until);
    let today = super::proposals::local_date(now());
    if status == Some(NeedStatus::Open) && !already_open && open_until.is_some_and(|d| d < today) {
        c.push_ja(
            "open_until",
            "past",
            format!("an open need's open-until date cannot be before today ({today})"),
            "募集中にするニーズの募集期限は今日以降にしてください",
        );
    }
}

fn stamps(
    status: NeedStatus,
    row: Option<&NeedRow>,
) -> (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) {
    let published = row.and_then(|r| r.published_at);
    match status {
        NeedStatus::Draft => (published, None),
        NeedStatus::Open => (published.or_else(|| Some(now())), None),
        NeedStatus::Closed => (
            published,
            Some(row.and_then(|r| r.closed_at).unwrap_or_else(now)),
        ),
    }
}

pub fn create(db: &Db, actor: &Actor, input: NewNeedInput) -> AppResult<NeedView> {
    let staff = actor.require_staff()?.clone();
    db.write(|conn| {
        let m = match (&input.municipality_code, staff.municipality) {
            (Some(code), _) => {
                let code = MunicipalityCode::parse(code.trim())
                    .map_err(|e| AppError::field("municipality_code", "format", e.to_string()))?;
                storage::municipalities::by_code(conn, code.as_str())?
                    .ok_or_else(|| {
                        AppError::field("municipality_code", "not_found", "no such municipality")
                    })?
                    .id
            }
            (None, Some(own)) => own.0,
            (None, None) => {
                return Err(AppError::field(
                    "municipality_code",
                    "required",
                    "give the municipality",
                ));
            }
        };
        actor.require_staff_of(MunicipalityId(m), NEED_EDITORS)?;
        let mut c = Check::new();
        let department = department_in(
            conn,
            &mut c,
            m,
            input.department_id.or(staff.department.map(|d| d.0)),
        )?;
        let zone = zone_in(conn, &mut c, m, input.zone.as_deref())?;
        let title = c.line("title", &input.title, TITLE_MAX);
        let body = c.text("body", &input.body, BODY_MAX, false);
        let field = c.one_of(
            "policy_field",
            &input.policy_field,
            PolicyField::parse,
            &PolicyField::expected(),
        );
        let kinds = parse_kinds(&mut c, input.desired_partner_kinds.as_deref());
        let visibility = c.one_of(
            "visibility",
            input.visibility.as_deref().unwrap_or("public"),
            Visibility::parse,
            &Visibility::expected(),
        );
        let status = c.one_of(
            "status",
            input.status.as_deref().unwrap_or("draft"),
            NeedStatus::parse,
            &NeedStatus::expected(),
        );
        check_open_until(&mut c, status, input.open_until, None);
        c.finish()?;
        let (department, field, visibility, status) = (
            Check::checked(department, "department_id")?,
            Check::checked(field, "policy_field")?,
            Check::checked(visibility, "visibility")?,
            Check::checked(status, "status")?,
        );
        let (published_at, closed_at) = stamps(status, None);
        let at = now();
        let row = storage::needs::insert(
            conn,
            &NewNeed {
                municipality_id: m,
                department_id: department,
                zone_id: zone,
                title: &title,
                body: &body,
                policy_field: field.as_str(),
                visibility: visibility.as_str(),
                status: status.as_str(),
                open_until: input.open_until,
                created_by: Some(staff.id.0),
                created_at: at,
                updated_at: at,
                published_at,
                closed_at,
            },
        )?;
        let k: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        storage::needs::set_partner_kinds(conn, row.id, &k)?;
        index_log::record(conn, DocType::Need, row.id)?;
        one_view(conn, row)
    })
}

/// Reads one need; needs the caller may not see are "not found", so their existence
/// does not leak.
pub fn get(db: &Db, actor: &Actor, id: NeedId) -> AppResult<NeedView> {
    db.read(|conn| {
        let row = storage::needs::find(conn, id.0)?
            .filter(|r| may_see(actor, r))
            .ok_or(AppError::NotFound("need"))?;
        one_view(conn, row)
    })
}

/// The needs among `ids` that `actor` may see, by id, read with a fixed number of
/// queries whatever the number of ids: a page of search hits or matches. The same rule
/// as [`get`] ([`may_see`]) drops the others, so an index that is behind the database
/// never shows what the caller may not read.
pub(crate) fn visible_many(
    conn: &mut AnyConnection,
    actor: &Actor,
    ids: &[i64],
) -> AppResult<HashMap<i64, NeedView>> {
    let rows: Vec<NeedRow> = storage::needs::find_many(conn, ids)?
        .into_iter()
        .filter(|r| may_see(actor, r))
        .collect();
    Ok(views(conn, rows)?
        .into_iter()
        .map(|v| (v.id.0, v))
        .collect())
}

pub fn update(db: &Db, actor: &Actor, id: NeedId, input: UpdateNeedInput) -> AppResult<NeedView> {
    actor.require_staff()?;
    db.write(|conn| {
        let row = storage::needs::find(conn, id.0)?
            .filter(|r| may_see(actor, r))
            .ok_or(AppError::NotFound("need"))?;
        let m = row.municipality_id;
        actor.require_staff_of(MunicipalityId(m), NEED_EDITORS)?;
        let mut c = Check::new();
        let department = department_in(
            conn,
            &mut c,
            m,
            Some(input.department_id.unwrap_or(row.department_id)),
        )?;
        let zone = match &input.zone {
            None => row.zone_id,
            Some(z) => zone_in(conn, &mut c, m, z.as_deref())?,
        };
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
        let field = c.one_of(
            "policy_field",
            input.policy_field.as_deref().unwrap_or(&row.policy_field),
            PolicyField::parse,
            &PolicyField::expected(),
        );
        let kinds = input
            .desired_partner_kinds
            .as_ref()
            .map(|k| parse_kinds(&mut c, Some(k)));
        let visibility = c.one_of(
            "visibility",
            input.visibility.as_deref().unwrap_or(&row.visibility),
            Visibility::parse,
            &Visibility::expected(),
        );
        let status = c.one_of(
            "status",
            input.status.as_deref().unwrap_or(&row.status),
            NeedStatus::parse,
            &NeedStatus::expected(),
        );
        let open_until = input.open_until.unwrap_or(row.open_until);
        check_open_until(&mut c, status, open_until, Some(&row));
        c.finish()?;
        let (department, field, visibility, status) = (
            Check::checked(department, "department_id")?,
            Check::checked(field, "policy_field")?,
            Check::checked(visibility, "visibility")?,
            Check::checked(status, "status")?,
        );
        let (published_at, closed_at) = stamps(status, Some(&row));
        storage::needs::update(
            conn,
            row.id,
            &NeedChanges {
                department_id: department,
                zone_id: zone,
                title: &title,
                body: &body,
                policy_field: field.as_str(),
                visibility: visibility.as_str(),
                status: status.as_str(),
                open_until,
                updated_at: now(),
                published_at,
                closed_at,
            },
        )?;
        if let Some(kinds) = kinds {
            let k: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            storage::needs::set_partner_kinds(conn, row.id, &k)?;
        }
        index_log::record(conn, DocType::Need, row.id)?;
        let row = storage::needs::find(conn, row.id)?.ok_or(AppError::NotFound("need"))?;
        one_view(conn, row)
    })
}

pub fn set_status(db: &Db, actor: &Actor, id: NeedId, status: NeedStatus) -> AppResult<NeedView> {
    update(
        db,
        actor,
        id,
        UpdateNeedInput {
            status: Some(status.as_str().into()),
            ..Default::default()
        },
    )
}

pub fn list(db: &Db, actor: &Actor, q: NeedQuery) -> AppResult<Page<NeedView>> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let mut c = Check::new();
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
    let visibility = q
        .visibility
        .as_deref()
        .and_then(|v| c.one_of("visibility", v, Visibility::parse, &Visibility::expected()));
    let statuses = match q.status.as_deref() {
        None => Some(vec![NeedStatus::Open.as_str().to_owned()]),
        Some("all") => None,
        Some(s) => c
            .one_of(
                "status",
                s,
                NeedStatus::parse,
                &format!("{}, all", NeedStatus::expected()),
            )
            .map(|s| vec![s.as_str().to_owned()]),
    };
    let code = c.municipality_filter("municipality", q.municipality.as_deref());
    if q.zone.is_some() && q.municipality.is_none() {
        c.push("zone", "required", "filtering by zone needs `municipality`");
    }
    c.finish()?;
    db.read(|conn| {
        let municipality_id = match &code {
            None => None,
            Some(code) => match storage::municipalities::by_code(conn, code.as_str())? {
                Some(m) => Some(m.id),
                None => {
                    return Ok(super::pagination::Page {
                        items: vec![],
                        next_cursor: None,
                    });
                }
            },
        };
        let zone_id = match (municipality_id, q.zone.as_deref()) {
            (Some(m), Some(name)) => match storage::municipalities::zones_of(conn, m)?
                .into_iter()
                .find(|z| z.name == name.trim())
            {
                Some(z) => Some(z.id),
                None => {
                    return Err(AppError::field(
                        "zone",
                        "not_found",
                        "no zone of this name in the municipality",
                    ));
                }
            },
            _ => None,
        };
        let staff = actor.staff();
        let filter = NeedFilter {
            municipality_id,
            department_id: q.department_id,
            zone_id,
            policy_field: policy_field.map(|f| f.as_str().into()),
            statuses,
            visibility: visibility.map(|v| v.as_str().into()),
            partner_kind: partner_kind.map(|k| k.as_str().into()),
            internal_of: staff.and_then(|s| s.municipality.map(|m| m.0)),
            all_internal: staff.is_some_and(|s| s.is_deployment_admin()),
            before_id: page.before_id,
            limit: page.fetch(),
        };
        let rows = storage::needs::list(conn, &filter)?;
        page.finish(rows, |r| r.id, |rows| views(conn, rows))
    })
}
