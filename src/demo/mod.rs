//! The demo data set (data.json): a few real municipalities with departments, zones and
//! staff, partners of every kind with their offers, and needs. Loaded through the same
//! domain functions the API uses, so it obeys every rule real data does.

use serde::Deserialize;
use std::collections::HashMap;

use crate::domain::Db;
use crate::domain::actor::{Actor, StaffActor};
use crate::domain::demo_records::{self, DemoRecord};
use crate::domain::error::AppError;
use crate::domain::ids::{NeedId, OfferId, PartnerId};
use crate::domain::municipalities::{self, DepartmentInput, NewMunicipalityInput};
use crate::domain::needs::{self, NewNeedInput};
use crate::domain::offers::{self, NewOfferInput};
use crate::domain::partners::{self, RegisterPartner};
use crate::domain::proposals::intake::{self, Declarations, RecordProposal, SubmitProposal};
use crate::domain::staff::{self, NewStaffInput};
use crate::domain::vocab::{PartnerKind, Role};

const DATA: &str = include_str!("data.json");

#[derive(Deserialize)]
struct DemoData {
    municipalities: Vec<DemoMunicipality>,
    partners: Vec<DemoPartner>,
    needs: Vec<DemoNeed>,
    proposals: Vec<DemoProposal>,
}

#[derive(Deserialize)]
struct DemoProposal {
    municipality: String,
    channel: String,
    partner_key: Option<String>,
    submitter_name: String,
    submitter_org: Option<String>,
    submitter_email: Option<String>,
    submitter_phone: Option<String>,
    need_index: Option<usize>,
    offer: Option<(String, usize)>,
    title: String,
    body: String,
    policy_field: Option<String>,
}

#[derive(Deserialize)]
struct DemoMunicipality {
    code: String,
    name: String,
    prefecture: String,
    first_response_days: i32,
    decision_days: i32,
    zones: Vec<String>,
    departments: Vec<DemoDepartment>,
    staff: Vec<DemoStaff>,
}

#[derive(Deserialize)]
struct DemoDepartment {
    key: String,
    name: String,
    email: Option<String>,
    policy_fields: Vec<String>,
    #[serde(default)]
    is_desk: bool,
}

#[derive(Deserialize)]
struct DemoStaff {
    email: String,
    name: String,
    role: String,
    department_key: Option<String>,
}

#[derive(Deserialize)]
struct DemoPartner {
    key: String,
    kind: String,
    name: String,
    corporate_number: Option<String>,
    contact_name: String,
    contact_email: String,
    phone: Option<String>,
    website: Option<String>,
    description: String,
    regions: Vec<String>,
    offers: Vec<DemoOffer>,
}

#[derive(Deserialize)]
struct DemoOffer {
    kind: Option<String>,
    title: String,
    body: String,
    policy_fields: Vec<String>,
    regions: Option<Vec<String>>,
    status: String,
}

#[derive(Deserialize)]
struct DemoNeed {
    municipality: String,
    department_key: String,
    title: String,
    body: String,
    policy_field: String,
    zone: Option<String>,
    desired_partner_kinds: Vec<String>,
    visibility: String,
    status: String,
    open_until: Option<chrono::NaiveDate>,
}

/// The day the demo data was written: its open-until dates are moved forward by the days
/// since, so a demo loaded later still has open calls (an open need past its date would
/// be refused, and closed by the freshness job).
const WRITTEN_ON: (i32, u32, u32) = (2026, 11, 23);

fn as_of_today(date: Option<chrono::NaiveDate>) -> Option<chrono::NaiveDate> {
    let written = chrono::NaiveDate::from_ymd_opt(WRITTEN_ON.0, WRITTEN_ON.1, WRITTEN_ON.2)?;
    let today = crate::domain::proposals::local_date(crate::domain::now());
    let shift = (today - written).max(chrono::TimeDelta::zero());
    date.map(|d| d + shift)
}

pub use crate::domain::demo_records::DEMO_PASSWORD;

/// Why `kyoso demo` would not load: the database holds data that is not the demo's (or
/// the demo already). The command exits with [`Refused::EXIT_CODE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Refused {
    pub const EXIT_CODE: u8 = 3;
}

/// What was loaded, and the demo accounts' keys.
pub struct DemoReport {
    pub municipalities: usize,
    pub departments: usize,
    pub partners: usize,
    pub offers: usize,
    pub needs: usize,
    pub proposals: usize,
    /// (who, role, key)
    pub accounts: Vec<(String, String, String)>,
}

impl DemoReport {
    pub fn summary(&self) -> String {
        format!(
            "デモデータを読み込みました / demo data loaded: {} municipalities, {} departments, {} partners, {} offers, {} needs, {} proposals\n\
             職員コンソール / staff console: /admin — e-mail of a demo account, password {DEMO_PASSWORD}\n",
            self.municipalities,
            self.departments,
            self.partners,
            self.offers,
            self.needs,
            self.proposals
        )
    }

    pub fn credentials(&self) -> String {
        let mut s =
            String::from("# kyoso demo accounts: send the key as `Authorization: Bearer <key>`\n");
        s.push_str(&format!(
            "# staff console: /admin, log in with the e-mail and the password {DEMO_PASSWORD}\n"
        ));
        for (who, role, key) in &self.accounts {
            s.push_str(&format!("{role}\t{who}\t{key}\n"));
        }
        s
    }
}

fn step<T>(what: &str, r: Result<T, AppError>) -> anyhow::Result<T> {
    r.map_err(|e| match e {
        AppError::Invalid(errors) => anyhow::anyhow!("demo data, {what}: {errors:?}"),
        e => anyhow::anyhow!("demo data, {what}: {e}"),
    })
}

/// Loads the demo set into an empty database. Refuses ([`Refused`]) a database that
/// holds any municipality, partner or staff account the demo did not create — the demo
/// makes a deployment admin whose password is published — or the demo already.
pub fn load(db: &Db) -> anyhow::Result<DemoReport> {
    let data: DemoData = serde_json::from_str(DATA)?;
    let first = data
        .municipalities
        .first()
        .map(|m| m.code.clone())
        .unwrap_or_default();
    let (m, p, s) = step("check", demo_records::foreign_records(db))?;
    if m + p + s > 0 {
        return Err(Refused(format!(
            "このデータベースにはデモ以外のデータがあるため、デモデータを読み込みません / \
             refusing to load the demo: this database holds data that is not the demo's \
             ({m} municipalities, {p} partners, {s} staff accounts). The demo creates a \
             deployment admin with a published password; load it only into a fresh data \
             directory or database"
        ))
        .into());
    }
    let exists = step(
        "check",
        crate::domain::demo_records::municipality_exists(db, &first),
    )?;
    if exists {
        return Err(Refused(format!(
            "the demo data is already loaded (municipality {first} exists); use a fresh data directory or database"
        ))
        .into());
    }
    let mut report = DemoReport {
        municipalities: 0,
        departments: 0,
        partners: 0,
        offers: 0,
        needs: 0,
        proposals: 0,
        accounts: vec![],
    };

    let operator = step(
        "operator",
        staff::create_with_key(
            db,
            NewStaffInput {
                email: "operator@kyoso.example.jp".into(),
                display_name: "kyoso 運用管理者".into(),
                role: "admin".into(),
                municipality_code: None,
                department_id: None,
                locale: None,
            },
        ),
    )?;
    step(
        "operator",
        demo_records::mark(db, DemoRecord::Staff(operator.staff.id.0)),
    )?;
    step(
        "operator",
        crate::domain::console_auth::set_password(db, None, &operator.staff.email, DEMO_PASSWORD),
    )?;
    report.accounts.push((
        operator.staff.email.clone(),
        "deployment admin".into(),
        operator.api_key.key,
    ));
    let admin = Actor::Staff(StaffActor {
        id: operator.staff.id,
        role: Role::Admin,
        municipality: None,
        department: None,
    });

    let mut departments: HashMap<(String, String), i64> = HashMap::new();
    let mut desks: HashMap<String, Actor> = HashMap::new();
    let mut partner_ids: HashMap<String, PartnerId> = HashMap::new();
    let mut offer_ids: HashMap<(String, usize), OfferId> = HashMap::new();
    let mut need_ids: Vec<NeedId> = vec![];
    for m in &data.municipalities {
        let view = step(
            &m.name,
            municipalities::create(
                db,
                &admin,
                NewMunicipalityInput {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    prefecture: m.prefecture.clone(),
                    first_response_days: Some(m.first_response_days),
                    decision_days: Some(m.decision_days),
                    zones: m.zones.clone(),
                },
            ),
        )?;
        step(
            &m.name,
            demo_records::mark(db, DemoRecord::Municipality(view.id.0)),
        )?;
        report.municipalities += 1;
        for d in &m.departments {
            let dv = step(
                &d.name,
                municipalities::create_department(
                    db,
                    &admin,
                    &m.code,
                    DepartmentInput {
                        name: d.name.clone(),
                        email: d.email.clone(),
                        policy_fields: d.policy_fields.clone(),
                        is_desk: d.is_desk,
                    },
                ),
            )?;
            departments.insert((m.code.clone(), d.key.clone()), dv.id.0);
            report.departments += 1;
        }
        for s in &m.staff {
            let department_id = s
                .department_key
                .as_ref()
                .and_then(|k| departments.get(&(m.code.clone(), k.clone())).copied());
            let created = step(
                &s.email,
                staff::create_with_key(
                    db,
                    NewStaffInput {
                        email: s.email.clone(),
                        display_name: s.name.clone(),
                        role: s.role.clone(),
                        municipality_code: Some(m.code.clone()),
                        department_id,
                        locale: None,
                    },
                ),
            )?;
            step(
                &s.email,
                demo_records::mark(db, DemoRecord::Staff(created.staff.id.0)),
            )?;
            step(
                &s.email,
                crate::domain::console_auth::set_password(db, None, &s.email, DEMO_PASSWORD),
            )?;
            if s.role == "desk" {
                desks
                    .entry(m.code.clone())
                    .or_insert(Actor::Staff(StaffActor {
                        id: created.staff.id,
                        role: Role::Desk,
                        municipality: Some(view.id),
                        department: created.staff.department_id,
                    }));
            }
            report.accounts.push((
                format!("{} {} ({})", view.name, s.name, s.email),
                s.role.clone(),
                created.api_key.key,
            ));
        }
    }

    for p in &data.partners {
        let registered = step(
            &p.name,
            partners::register(
                db,
                RegisterPartner {
                    kind: p.kind.clone(),
                    name: p.name.clone(),
                    corporate_number: p.corporate_number.clone(),
                    contact_name: p.contact_name.clone(),
                    contact_email: p.contact_email.clone(),
                    phone: p.phone.clone(),
                    website: p.website.clone(),
                    description: Some(p.description.clone()),
                    regions: Some(p.regions.clone()),
                    locale: None,
                    key_label: None,
                },
            ),
        )?;
        step(
            &p.name,
            demo_records::mark(db, DemoRecord::Partner(registered.partner.id.0)),
        )?;
        report.partners += 1;
        // The demo's partners stand for established ones: their address and 法人番号
        // are confirmed by the deployment admin, so proposals are acknowledged by mail.
        let partner_id = registered.partner.id;
        step(
            &p.name,
            crate::domain::email_verification::confirm_by_admin(db, &admin, partner_id),
        )?;
        if p.corporate_number.is_some() {
            step(
                &p.name,
                partners::confirm_corporate_number(db, &admin, partner_id),
            )?;
        }
        if report.accounts.iter().filter(|a| a.1 == "partner").count() < 5 {
            report.accounts.push((
                p.name.clone(),
                "partner".into(),
                registered.api_key.key.clone(),
            ));
        }
        let actor = Actor::Partner(registered.partner.id);
        partner_ids.insert(p.key.clone(), registered.partner.id);
        for (index, o) in p.offers.iter().enumerate() {
            let kind = o
                .kind
                .clone()
                .unwrap_or_else(|| default_offer_kind(&p.kind).into());
            let created = step(
                &o.title,
                offers::create(
                    db,
                    &actor,
                    NewOfferInput {
                        kind,
                        title: o.title.clone(),
                        body: o.body.clone(),
                        policy_fields: o.policy_fields.clone(),
                        regions: o.regions.clone(),
                    },
                ),
            )?;
            offer_ids.insert((p.key.clone(), index), created.id);
            if o.status == "archived" {
                step(&o.title, offers::archive(db, &actor, created.id))?;
            }
            report.offers += 1;
        }
    }

    for n in &data.needs {
        let department = departments
            .get(&(n.municipality.clone(), n.department_key.clone()))
            .copied()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "demo need {}: unknown department {}",
                    n.title,
                    n.department_key
                )
            })?;
        let created = step(
            &n.title,
            needs::create(
                db,
                &admin,
                NewNeedInput {
                    municipality_code: Some(n.municipality.clone()),
                    department_id: Some(department),
                    zone: n.zone.clone(),
                    title: n.title.clone(),
                    body: n.body.clone(),
                    policy_field: n.policy_field.clone(),
                    desired_partner_kinds: Some(n.desired_partner_kinds.clone()),
                    visibility: Some(n.visibility.clone()),
                    status: Some(n.status.clone()),
                    open_until: as_of_today(n.open_until),
                },
            ),
        )?;
        need_ids.push(created.id);
        report.needs += 1;
    }

    // Proposals: from partners through the API's intake, the others recorded by the desk.
    for p in &data.proposals {
        let need_id = p.need_index.and_then(|i| need_ids.get(i)).map(|n| n.0);
        let offer_id = p.offer.as_ref().and_then(|o| offer_ids.get(o)).map(|o| o.0);
        let partner = p
            .partner_key
            .as_ref()
            .and_then(|k| partner_ids.get(k))
            .copied();
        match (p.channel.as_str(), partner) {
            ("api", Some(partner)) => {
                let input = |need_id| SubmitProposal {
                    municipality_code: Some(p.municipality.clone()),
                    need_id,
                    offer_id,
                    title: p.title.clone(),
                    body: p.body.clone(),
                    policy_field: p.policy_field.clone(),
                    declarations: Declarations {
                        no_antisocial_forces: true,
                        consent_to_contact: true,
                        consent_to_publish: true,
                    },
                };
                let actor = Actor::Partner(partner);
                // A draft or internal need cannot be answered from outside: keep the
                // proposal, as a free one.
                if intake::submit(db, &actor, input(need_id), None).is_err() {
                    step(&p.title, intake::submit(db, &actor, input(None), None))?;
                }
            }
            _ => {
                let desk = desks.get(&p.municipality).ok_or_else(|| {
                    anyhow::anyhow!("demo proposal {}: no desk in {}", p.title, p.municipality)
                })?;
                step(
                    &p.title,
                    intake::record(
                        db,
                        desk,
                        RecordProposal {
                            channel: p.channel.clone(),
                            submitter_name: p.submitter_name.clone(),
                            submitter_org: p.submitter_org.clone(),
                            submitter_email: p.submitter_email.clone(),
                            submitter_phone: p.submitter_phone.clone(),
                            partner_id: partner.map(|x| x.0),
                            need_id,
                            offer_id,
                            title: p.title.clone(),
                            body: p.body.clone(),
                            policy_field: p.policy_field.clone(),
                            received_at: None,
                            municipality_code: None,
                            declarations: Declarations::default(),
                        },
                    ),
                )?;
            }
        }
        report.proposals += 1;
    }
    Ok(report)
}

/// The usual kind of offer for a kind of partner, where the data does not say.
fn default_offer_kind(partner_kind: &str) -> &'static str {
    match PartnerKind::parse(partner_kind) {
        Some(PartnerKind::University) => "research",
        Some(PartnerKind::Npo) | Some(PartnerKind::Other) => "expertise",
        _ => "technology",
    }
}
