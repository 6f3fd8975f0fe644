//! Municipalities, their zones (地域区分) and departments (所管課) with the policy fields
//! each owns. Anyone reads them; a municipality's admins manage its own; deployment
//! admins add municipalities.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::actor::{ADMINS, Actor};
use super::codes::MunicipalityCode;
use super::error::{AppError, AppResult, Message};
use super::ids::{DepartmentId, MunicipalityId, ZoneId};
use super::validate::Check;
use super::vocab::PolicyField;
use crate::storage::models::{DepartmentRow, MunicipalityRow, NewDepartment, NewMunicipality};
use crate::storage::{self, AnyConnection, Db, now};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMunicipalityInput {
    /// 全国地方公共団体コード, 6 digits with its check digit.
    pub code: String,
    pub name: String,
    pub prefecture: String,
    /// First-response target in business days; default 10.
    pub first_response_days: Option<i32>,
    /// Decision target in business days; default 40.
    pub decision_days: Option<i32>,
    #[serde(default)]
    pub zones: Vec<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMunicipalityInput {
    pub name: Option<String>,
    pub first_response_days: Option<i32>,
    pub decision_days: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    pub name: String,
    pub email: Option<String>,
    #[serde(default)]
    pub policy_fields: Vec<String>,
    /// Whether this department is the co-creation desk (共創窓口).
    #[serde(default)]
    pub is_desk: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneInput {
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ZoneView {
    pub id: ZoneId,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartmentView {
    pub id: DepartmentId,
    pub municipality_code: String,
    pub name: String,
    pub email: Option<String>,
    pub is_desk: bool,
    pub policy_fields: Vec<PolicyField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MunicipalityView {
    pub id: MunicipalityId,
    pub code: String,
    pub name: String,
    pub prefecture: String,
    pub first_response_days: i32,
    pub decision_days: i32,
    pub zones: Vec<ZoneView>,
    pub departments: Vec<DepartmentView>,
}

fn department_views(
    conn: &mut AnyConnection,
    code: &str,
    rows: Vec<DepartmentRow>,
) -> AppResult<Vec<DepartmentView>> {
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let mut fields: HashMap<i64, Vec<PolicyField>> = HashMap::new();
    for (id, f) in storage::municipalities::department_fields(conn, &ids)? {
        fields
            .entry(id)
            .or_default()
            .push(PolicyField::from_db(&f)?);
    }
    Ok(rows
        .into_iter()
        .map(|d| DepartmentView {
            id: DepartmentId(d.id),
            municipality_code: code.to_owned(),
            policy_fields: fields.remove(&d.id).unwrap_or_default(),
            name: d.name,
            email: d.email,
            is_desk: d.is_desk,
        })
        .collect())
}

fn view(conn: &mut AnyConnection, m: MunicipalityRow) -> AppResult<MunicipalityView> {
    let zones = storage::municipalities::zones_of(conn, m.id)?
        .into_iter()
        .map(|z| ZoneView {
            id: ZoneId(z.id),
            name: z.name,
        })
        .collect();
    let departments = storage::municipalities::departments_of(conn, m.id)?;
    let departments = department_views(conn, &m.code, departments)?;
    Ok(MunicipalityView {
        id: MunicipalityId(m.id),
        code: m.code,
        name: m.name,
        prefecture: m.prefecture,
        first_response_days: m.first_response_days,
        decision_days: m.decision_days,
        zones,
        departments,
    })
}

/// Finds a municipality by code; a malformed code is a 404 too (it names nothing).
pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> AppResult<MunicipalityRow> {
    let code =
        MunicipalityCode::parse(code.trim()).map_err(|_| AppError::NotFound("municipality"))?;
    storage::municipalities::by_code(conn, code.as_str())?.ok_or(AppError::NotFound("municipality"))
}

fn check_days(c: &mut Check, field: &str, v: i32, max: i32) -> i32 {
    if !(1..=max).contains(&v) {
        c.push_ja(
            field,
            "out_of_range",
            format!("must be between 1 and {max} business days"),
            format!("1〜{max}営業日の範囲で指定してください"),
        );
    }
    v
}

pub fn list(db: &Db) -> AppResult<Vec<MunicipalityView>> {
    db.read(|conn| {
        storage::municipalities::list(conn)?
            .into_iter()
            .map(|m| view(conn, m))
            .collect()
    })
}

pub fn get(db: &Db, code: &str) -> AppResult<MunicipalityView> {
    db.read(|conn| {
        let m = find_by_code(conn, code)?;
        view(conn, m)
    })
}

pub fn create(db: &Db, actor: &Actor, input: NewMunicipalityInput) -> AppResult<MunicipalityView> {
    actor.require_deployment_admin()?;
    let mut c = Check::new();
    let code = match MunicipalityCode::parse(input.code.trim()) {
        Ok(code) => Some(code),
        Err(e) => {
            c.push(
                "code",
                "check_digit",
                format!("not a valid local government code: {e}"),
            );
            None
        }
    };
    let name = c.line("name", &input.name, 100);
    let prefecture = c.line("prefecture", &input.prefecture, 10);
    let first = check_days(
        &mut c,
        "first_response_days",
        input.first_response_days.unwrap_or(10),
        365,
    );
    let decision = check_days(
        &mut c,
        "decision_days",
        input.decision_days.unwrap_or(40),
        730,
    );
    let zones: Vec<String> = input
        .zones
        .iter()
        .enumerate()
        .map(|(i, z)| c.line(&format!("zones/{i}"), z, 100))
        .collect();
    c.finish()?;
    let code = Check::checked(code, "code")?;
    db.write(|conn| {
        let at = now();
        let m = storage::municipalities::insert(
            conn,
            &NewMunicipality {
                code: code.as_str(),
                name: &name,
                prefecture: &prefecture,
                first_response_days: first,
                decision_days: decision,
                created_at: at,
                updated_at: at,
            },
        )
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict(Message::new(
                format!("municipality {code} already exists"),
                format!("団体コード {code} の自治体はすでに登録されています。"),
            )),
            e => e,
        })?;
        for z in &zones {
            storage::municipalities::insert_zone(conn, m.id, z)?;
        }
        view(conn, m)
    })
}

pub fn update(
    db: &Db,
    actor: &Actor,
    code: &str,
    input: UpdateMunicipalityInput,
) -> AppResult<MunicipalityView> {
    db.write(|conn| {
        let m = find_by_code(conn, code)?;
        actor.require_staff_of(MunicipalityId(m.id), ADMINS)?;
        let mut c = Check::new();
        let name = c.line("name", input.name.as_deref().unwrap_or(&m.name), 100);
        let first = check_days(
            &mut c,
            "first_response_days",
            input.first_response_days.unwrap_or(m.first_response_days),
            365,
        );
        let decision = check_days(
            &mut c,
            "decision_days",
            input.decision_days.unwrap_or(m.decision_days),
            730,
        );
        c.finish()?;
        storage::municipalities::update(conn, m.id, &name, first, decision)?;
        let m = storage::municipalities::by_id(conn, m.id)?;
        view(conn, m)
    })
}

pub fn add_zone(db: &Db, actor: &Actor, code: &str, input: ZoneInput) -> AppResult<ZoneView> {
    db.write(|conn| {
        let m = find_by_code(conn, code)?;
        actor.require_staff_of(MunicipalityId(m.id), ADMINS)?;
        let mut c = Check::new();
        let name = c.line("name", &input.name, 100);
        c.finish()?;
        let z = storage::municipalities::insert_zone(conn, m.id, &name).map_err(|e| {
            match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict(Message::new(
                    "a zone of this name already exists",
                    "同じ名前の地域区分がすでにあります。",
                )),
                e => e,
            }
        })?;
        Ok(ZoneView {
            id: ZoneId(z.id),
            name: z.name,
        })
    })
}

fn check_department(
    c: &mut Check,
    input: &DepartmentInput,
) -> (String, Option<String>, Vec<&'static str>) {
    let name = c.line("name", &input.name, 100);
    let email = input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| c.email("email", e));
    let mut fields = Vec::new();
    for (i, f) in input.policy_fields.iter().enumerate() {
        match PolicyField::parse(f) {
            Some(p) if !fields.contains(&p.as_str()) => fields.push(p.as_str()),
            Some(_) => {}
            None => c.push(
                format!("policy_fields/{i}"),
                "unknown_value",
                format!("must be one of: {}", PolicyField::expected()),
            ),
        }
    }
    (name, email, fields)
}

fn duplicate_department(e: storage::QueryError) -> AppError {
    match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(Message::new(
            "a department of this name already exists in the municipality",
            "同じ名前の課がこの自治体にすでにあります。",
        )),
        e => e,
    }
}

pub fn list_departments(db: &Db, code: &str) -> AppResult<Vec<DepartmentView>> {
    db.read(|conn| {
        let m = find_by_code(conn, code)?;
        let rows = storage::municipalities::departments_of(conn, m.id)?;
        department_views(conn, &m.code, rows)
    })
}

pub fn get_department(db: &Db, id: DepartmentId) -> AppResult<DepartmentView> {
    db.read(|conn| {
        let d = storage::municipalities::department(conn, id.0)?
            .ok_or(AppError::NotFound("department"))?;
        let m = storage::municipalities::by_id(conn, d.municipality_id)?;
        department_views(conn, &m.code, vec![d])?
            .pop()
            .ok_or(AppError::NotFound("department"))
    })
}

pub fn create_department(
    db: &Db,
    actor: &Actor,
    code: &str,
    input: DepartmentInput,
) -> AppResult<DepartmentView> {
    db.write(|conn| {
        let m = find_by_code(conn, code)?;
        actor.require_staff_of(MunicipalityId(m.id), ADMINS)?;
        let mut c = Check::new();
        let (name, email, fields) = check_department(&mut c, &input);
        c.finish()?;
        let at = now();
        let d = storage::municipalities::insert_department(
            conn,
            &NewDepartment {
                municipality_id: m.id,
                name: &name,
                email: email.as_deref(),
                is_desk: input.is_desk,
                created_at: at,
                updated_at: at,
            },
        )
        .map_err(duplicate_department)?;
        storage::municipalities::set_department_fields(conn, d.id, &fields)?;
        super::audit::record(
            conn,
            Some(actor),
            "department_created",
            super::audit::Target {
                kind: "department",
                id: Some(d.id),
                label: &d.name,
                municipality: Some(m.id),
            },
            serde_json::json!({ "policy_fields": fields, "is_desk": input.is_desk }),
        )?;
        department_views(conn, &m.code, vec![d])?
            .pop()
            .ok_or(AppError::NotFound("department"))
    })
}

pub fn update_department(
    db: &Db,
    actor: &Actor,
    id: DepartmentId,
    input: DepartmentInput,
) -> AppResult<DepartmentView> {
    db.write(|conn| {
        let d = storage::municipalities::department(conn, id.0)?
            .ok_or(AppError::NotFound("department"))?;
        actor.require_staff_of(MunicipalityId(d.municipality_id), ADMINS)?;
        let mut c = Check::new();
        let (name, email, fields) = check_department(&mut c, &input);
        c.finish()?;
        storage::municipalities::update_department(
            conn,
            d.id,
            &name,
            email.as_deref(),
            input.is_desk,
        )
        .map_err(duplicate_department)?;
        storage::municipalities::set_department_fields(conn, d.id, &fields)?;
        let m = storage::municipalities::by_id(conn, d.municipality_id)?;
        super::audit::record(
            conn,
            Some(actor),
            "department_changed",
            super::audit::Target {
                kind: "department",
                id: Some(d.id),
                label: &name,
                municipality: Some(m.id),
            },
            serde_json::json!({
                "name": [d.name, name],
                "policy_fields": fields,
                "is_desk": input.is_desk,
            }),
        )?;
        let d = storage::municipalities::department(conn, d.id)?
            .ok_or(AppError::NotFound("department"))?;
        department_views(conn, &m.code, vec![d])?
            .pop()
            .ok_or(AppError::NotFound("department"))
    })
}
