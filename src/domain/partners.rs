//! Partners (企業・大学・NPO・その他団体): self-registration with a first API key, the
//! profile, and who may see a partner's contact details (the partner and staff only).
//!
//! A registration proves nothing about who registers, so two things stay unconfirmed until
//! proven: the contact address (a one-time link, `email_verification`; no other mail goes
//! to it before) and the 法人番号. A stated number is a *claim*: any number of partners may
//! claim one, nobody learns whether another partner holds it (registration and profile
//! changes answer alike), and only a deployment admin's confirmation makes it the
//! partner's (`corporate_number`, unique among confirmed numbers only). Confirming a number
//! another partner holds moves it over and leaves the other partner a claim again.

use serde::{Deserialize, Serialize};

use super::actor::Actor;
use super::api_keys::{self, IssuedKey, KeyOwner};
use super::codes::{CorporateNumber, Region};
use super::email_verification;
use super::error::{AppError, AppResult, Message};
use super::ids::PartnerId;
use super::utc;
use super::validate::Check;
use super::vocab::{Locale, PartnerKind, PartnerStatus};
use crate::storage::models::{PartnerRow, PartnerWrite};
use crate::storage::{self, Db, now};
use chrono::{DateTime, Utc};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPartner {
    pub kind: String,
    /// Organisation name, e.g. 株式会社みなと測量.
    pub name: String,
    /// 法人番号, 13 digits with its check digit.
    pub corporate_number: Option<String>,
    pub contact_name: String,
    pub contact_email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    /// `nationwide`, prefecture codes or municipality codes; default nationwide.
    pub regions: Option<Vec<String>>,
    /// `ja` (default) or `en`, for mail.
    pub locale: Option<String>,
    /// Label of the first API key; default "初期キー".
    pub key_label: Option<String>,
}

/// A partial update: absent fields stay as they are; `null` clears optional ones.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartner {
    pub kind: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    pub corporate_number: Option<Option<String>>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::nullable")]
    pub website: Option<Option<String>>,
    pub description: Option<String>,
    pub regions: Option<Vec<String>>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub name: String,
    pub email: String,
    /// Whether `email` was proven by its one-time link; until then kyoso mails it nothing
    /// else.
    pub email_verified: bool,
    pub phone: Option<String>,
}

/// How far a partner's 法人番号 is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorporateNumberStatus {
    /// No number given.
    None,
    /// Stated by the partner, not confirmed: shown to the partner and staff only.
    Claimed,
    /// Confirmed by a deployment admin: the partner's, shown to everyone.
    Confirmed,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerView {
    pub id: PartnerId,
    pub kind: PartnerKind,
    pub name: String,
    /// The confirmed 法人番号; the partner itself and staff also see an unconfirmed claim.
    pub corporate_number: Option<String>,
    pub corporate_number_status: CorporateNumberStatus,
    pub description: String,
    pub website: Option<String>,
    pub regions: Vec<String>,
    pub status: PartnerStatus,
    pub locale: Locale,
    /// Only for the partner itself and for municipal staff.
    pub contact: Option<Contact>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// 採択実績: the partner's adopted proposals with outcomes whose publication it
    /// consented to, newest first (in the profile only; the same for every caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopted_cases: Option<Vec<crate::domain::outcomes::cases::CaseView>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub partner: PartnerView,
    pub api_key: IssuedKey,
}

/// Checks a list of region codes; empty or absent means nationwide.
pub fn parse_regions(check: &mut Check, field: &str, regions: Option<&[String]>) -> Vec<String> {
    let Some(regions) = regions.filter(|r| !r.is_empty()) else {
        return vec![Region::NATIONWIDE.to_owned()];
    };
    if regions.len() > 100 {
        check.push(field, "too_long", "at most 100 regions");
        return vec![];
    }
    let mut out: Vec<String> = Vec::new();
    for (i, r) in regions.iter().enumerate() {
        match Region::parse(r.trim()) {
            Ok(region) if !out.iter().any(|o| o == region.as_str()) => {
                out.push(region.as_str().to_owned())
            }
            Ok(_) => {}
            Err(e) => check.push(
                format!("{field}/{i}"),
                "format",
                format!("`nationwide` or a 6-digit local government code: {e}"),
            ),
        }
    }
    out
}

struct Profile {
    kind: PartnerKind,
    name: String,
    corporate_number: Option<String>,
    contact_name: String,
    contact_email: String,
    phone: Option<String>,
    website: Option<String>,
    description: String,
    regions: Vec<String>,
    locale: Locale,
}

impl Profile {
    /// The row to store: `confirmed` is the number a deployment admin confirmed (kept only
    /// while the partner still states it); any other stated number is a claim.
    fn write<'a>(
        &'a self,
        confirmed: Option<&'a str>,
        email_verified_at: Option<chrono::NaiveDateTime>,
    ) -> PartnerWrite<'a> {
        let stated = self.corporate_number.as_deref();
        let confirmed = confirmed.filter(|c| Some(*c) == stated);
        PartnerWrite {
            kind: self.kind.as_str(),
            name: &self.name,
            corporate_number: confirmed,
            corporate_number_claim: stated.filter(|_| confirmed.is_none()),
            email_verified_at,
            contact_name: &self.contact_name,
            contact_email: &self.contact_email,
            phone: self.phone.as_deref(),
            website: self.website.as_deref(),
            description: &self.description,
            locale: self.locale.as_str(),
            updated_at: now(),
        }
    }
}

fn check_profile(
    c: &mut Check,
    kind: &str,
    corporate_number: Option<&str>,
    locale: Option<&str>,
) -> (Option<PartnerKind>, Option<String>, Locale) {
    let kind = c.one_of("kind", kind, PartnerKind::parse, &PartnerKind::expected());
    let corporate_number = match corporate_number.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(n) => match CorporateNumber::parse(n) {
            Ok(n) => Some(n.as_str().to_owned()),
            Err(e) => {
                c.push(
                    "corporate_number",
                    "check_digit",
                    format!("not a valid 法人番号: {e}"),
                );
                None
            }
        },
    };
    let locale = c
        .one_of(
            "locale",
            locale.unwrap_or("ja"),
            Locale::parse,
            &Locale::expected(),
        )
        .unwrap_or(Locale::Ja);
    (kind, corporate_number, locale)
}

/// Registers a partner and issues its first API key, in one transaction, and queues the
/// one mail its contact address gets before it is verified: the verification link. A
/// stated 法人番号 is stored as a claim, whoever holds it (see the module comment).
pub fn register(db: &Db, input: RegisterPartner) -> AppResult<Registered> {
    let mut c = Check::new();
    let (kind, corporate_number, locale) = check_profile(
        &mut c,
        &input.kind,
        input.corporate_number.as_deref(),
        input.locale.as_deref(),
    );
    let profile = Profile {
        kind: kind.unwrap_or(PartnerKind::Other),
        name: c.line("name", &input.name, 200),
        corporate_number,
        contact_name: c.line("contact_name", &input.contact_name, 100),
        contact_email: c.email("contact_email", &input.contact_email),
        phone: c.opt_line("phone", input.phone.as_deref(), 30),
        website: c.url("website", input.website.as_deref()),
        description: c.text(
            "description",
            input.description.as_deref().unwrap_or(""),
            4000,
            true,
        ),
        regions: parse_regions(&mut c, "regions", input.regions.as_deref()),
        locale,
    };
    let label = c.line(
        "key_label",
        input.key_label.as_deref().unwrap_or("初期キー"),
        100,
    );
    c.finish()?;
    db.write(|conn| {
        let row = storage::partners::insert(conn, &profile.write(None, None), now())?;
        let regions: Vec<&str> = profile.regions.iter().map(String::as_str).collect();
        storage::partners::set_regions(conn, row.id, &regions)?;
        let api_key = api_keys::issue(conn, KeyOwner::Partner(PartnerId(row.id)), &label)?;
        email_verification::send_link(conn, &row)?;
        Ok(Registered {
            partner: view(row, profile.regions.clone(), true)?,
            api_key,
        })
    })
}

fn view(r: PartnerRow, regions: Vec<String>, with_contact: bool) -> AppResult<PartnerView> {
    let corporate_number_status = match (&r.corporate_number, &r.corporate_number_claim) {
        (Some(_), _) => CorporateNumberStatus::Confirmed,
        (None, Some(_)) => CorporateNumberStatus::Claimed,
        (None, None) => CorporateNumberStatus::None,
    };
    Ok(PartnerView {
        id: PartnerId(r.id),
        kind: PartnerKind::from_db(&r.kind)?,
        corporate_number: match with_contact {
            true => r.corporate_number.or(r.corporate_number_claim),
            false => r.corporate_number,
        },
        corporate_number_status,
        description: r.description,
        website: r.website,
        regions,
        status: PartnerStatus::from_db(&r.status)?,
        locale: Locale::from_db(&r.locale)?,
        contact: with_contact.then_some(Contact {
            name: r.contact_name,
            email: r.contact_email,
            email_verified: r.email_verified_at.is_some(),
            phone: r.phone,
        }),
        name: r.name,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        adopted_cases: None,
    })
}

/// A partner's profile; suspended partners are hidden from outsiders.
pub fn get(db: &Db, actor: &Actor, id: PartnerId) -> AppResult<PartnerView> {
    db.read(|conn| {
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        let own = actor.partner() == Some(id);
        let staff = actor.staff().is_some();
        if row.status == PartnerStatus::Suspended.as_str() && !own && !staff {
            return Err(AppError::NotFound("partner"));
        }
        let regions = storage::partners::regions(conn, id.0)?;
        let mut v = view(row, regions, own || staff)?;
        v.adopted_cases = Some(crate::domain::outcomes::cases::of_partner(conn, id)?);
        Ok(v)
    })
}

/// Changes the caller's own profile. A new contact address is unverified and gets its
/// own link; a changed 法人番号 is a claim again.
pub fn update_own(db: &Db, actor: &Actor, input: UpdatePartner) -> AppResult<PartnerView> {
    let id = actor.require_partner()?;
    db.write(|conn| {
        storage::partners::lock(conn, id.0)?;
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        let current_regions = storage::partners::regions(conn, id.0)?;
        let mut c = Check::new();
        let corporate = match &input.corporate_number {
            Some(v) => v.clone(),
            None => row
                .corporate_number
                .clone()
                .or(row.corporate_number_claim.clone()),
        };
        let (kind, corporate_number, locale) = check_profile(
            &mut c,
            input.kind.as_deref().unwrap_or(&row.kind),
            corporate.as_deref(),
            Some(input.locale.as_deref().unwrap_or(&row.locale)),
        );
        let profile = Profile {
            kind: kind.unwrap_or(PartnerKind::Other),
            name: c.line("name", input.name.as_deref().unwrap_or(&row.name), 200),
            corporate_number,
            contact_name: c.line(
                "contact_name",
                input.contact_name.as_deref().unwrap_or(&row.contact_name),
                100,
            ),
            contact_email: c.email(
                "contact_email",
                input.contact_email.as_deref().unwrap_or(&row.contact_email),
            ),
            phone: c.opt_line(
                "phone",
                input.phone.clone().unwrap_or(row.phone.clone()).as_deref(),
                30,
            ),
            website: c.url(
                "website",
                input
                    .website
                    .clone()
                    .unwrap_or(row.website.clone())
                    .as_deref(),
            ),
            description: c.text(
                "description",
                input.description.as_deref().unwrap_or(&row.description),
                4000,
                true,
            ),
            regions: match &input.regions {
                Some(r) => parse_regions(&mut c, "regions", Some(r)),
                None => current_regions,
            },
            locale,
        };
        c.finish()?;
        let email_changed = profile.contact_email != row.contact_email;
        let verified_at = row.email_verified_at.filter(|_| !email_changed);
        storage::partners::update(
            conn,
            id.0,
            &profile.write(row.corporate_number.as_deref(), verified_at),
        )?;
        let regions: Vec<&str> = profile.regions.iter().map(String::as_str).collect();
        storage::partners::set_regions(conn, id.0, &regions)?;
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        if email_changed {
            email_verification::send_link(conn, &row)?;
        }
        view(row, profile.regions.clone(), true)
    })
}

/// Suspends a partner (`Suspended`) or lifts the suspension (`Active`): deployment
/// administrators only, since a partner serves every municipality. A suspended partner's
/// keys stop working and its offers leave outsiders' lists and searches; the index
/// change of each offer is recorded in the same transaction.
pub fn set_status(
    db: &Db,
    actor: &Actor,
    id: PartnerId,
    status: PartnerStatus,
) -> AppResult<PartnerView> {
    actor.require_deployment_admin()?;
    db.write(|conn| {
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        if row.status != status.as_str() {
            storage::partners::set_status(conn, id.0, status.as_str())?;
            let offers = storage::offers::list(
                conn,
                &storage::offers::OfferFilter {
                    partner_id: Some(id.0),
                    statuses: vec!["active".into(), "archived".into()],
                    limit: 100_000,
                    ..Default::default()
                },
            )?;
            for o in offers {
                storage::index_log::record(conn, storage::index_log::DocType::Offer, o.id)?;
            }
            super::audit::record(
                conn,
                Some(actor),
                match status {
                    PartnerStatus::Suspended => "partner_suspended",
                    _ => "partner_reinstated",
                },
                super::audit::Target {
                    kind: "partner",
                    id: Some(row.id),
                    label: &row.name,
                    municipality: None,
                },
                serde_json::json!({ "from": row.status, "to": status.as_str() }),
            )?;
        }
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        let regions = storage::partners::regions(conn, id.0)?;
        view(row, regions, true)
    })
}

/// Suspends a partner; see [`set_status`].
pub fn suspend(db: &Db, actor: &Actor, id: PartnerId) -> AppResult<PartnerView> {
    set_status(db, actor, id, PartnerStatus::Suspended)
}

/// A deployment admin confirms the 法人番号 a partner claims (having checked it, e.g. in
/// the National Tax Agency's register and with a document from the company). A partner
/// that held the number confirmed keeps it only as a claim.
pub fn confirm_corporate_number(db: &Db, actor: &Actor, id: PartnerId) -> AppResult<PartnerView> {
    actor.require_deployment_admin()?;
    db.write(|conn| {
        storage::partners::lock(conn, id.0)?;
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        let Some(number) = row.corporate_number_claim.clone() else {
            return Err(AppError::Conflict(Message::new(
                "this partner claims no unconfirmed corporate number",
                "このパートナーには確認待ちの法人番号がありません。",
            )));
        };
        if let Some(holder) = storage::partners::holder_of(conn, &number)?
            && holder != id.0
        {
            storage::partners::lock(conn, holder)?;
            storage::partners::set_corporate_number(conn, holder, None, Some(&number))?;
        }
        storage::partners::set_corporate_number(conn, id.0, Some(&number), None)?;
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        let regions = storage::partners::regions(conn, id.0)?;
        view(row, regions, true)
    })
}
