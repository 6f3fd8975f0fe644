//! Intake: every proposal is accepted. Partners submit through the API (with an optional
//! Idempotency-Key); the desk records what arrives by phone, visit, e-mail or at an
//! event. Nothing valid is refused for lacking a need, a field or a department. Each
//! proposal gets its receipt number and its acknowledgement mail in the same transaction.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Access, ProposalView, fiscal_year, local_date, views};
use crate::domain::actor::Actor;
use crate::domain::calendar::add_business_days;
use crate::domain::codes::MunicipalityCode;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::MunicipalityId;
use crate::domain::needs::may_see as may_see_need;
use crate::domain::notifications;
use crate::domain::validate::Check;
use crate::domain::vocab::{Channel, EventKind, PolicyField, ProposalState, Role};
use crate::storage::models::{MunicipalityRow, NewProposal, NewProposalEvent, ProposalRow};
use crate::storage::{self, AnyConnection, Db, now};

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 20_000;

/// Statements a proposer makes with the proposal; stored with the time they were made.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declarations {
    /// 反社会的勢力でないことの表明.
    #[serde(default)]
    pub no_antisocial_forces: bool,
    /// Consent to be contacted about the proposal.
    #[serde(default)]
    pub consent_to_contact: bool,
    /// Consent to publish the proposer's name and the proposal's title in the open
    /// outcome register (`/api/v1/opendata/outcomes.csv`); without it both stay blank
    /// there. Left out of the idempotency hash while false, so retries of requests made
    /// before this field existed still match.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent_to_publish: bool,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitProposal {
    /// Which municipality; may be left out when `need_id` is given.
    pub municipality_code: Option<String>,
    /// The need this answers (テーマ型); none for a free proposal (フリー型).
    pub need_id: Option<i64>,
    /// One of the partner's own offers this builds on.
    pub offer_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub policy_field: Option<String>,
    #[serde(default)]
    pub declarations: Declarations,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordProposal {
    /// `phone`, `visit`, `email` or `event`.
    pub channel: String,
    pub submitter_name: String,
    pub submitter_org: Option<String>,
    pub submitter_email: Option<String>,
    pub submitter_phone: Option<String>,
    /// When the proposer is a registered partner.
    pub partner_id: Option<i64>,
    pub need_id: Option<i64>,
    pub offer_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub policy_field: Option<String>,
    /// When it actually arrived, if earlier than now (e.g. a call yesterday evening).
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Deployment admins: which municipality.
    pub municipality_code: Option<String>,
    #[serde(default)]
    pub declarations: Declarations,
}

/// The outcome of a submission: a new proposal, or the one an earlier request with the
/// same Idempotency-Key created.
pub struct Submitted {
    pub proposal: ProposalView,
    pub replayed: bool,
}

fn check_key(key: Option<&str>) -> AppResult<Option<String>> {
    match key.map(str::trim) {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_owned()))
        }
        Some(_) => Err(AppError::field(
            "Idempotency-Key",
            "format",
            "1 to 200 visible ASCII characters",
        )),
    }
}

fn request_hash(input: &SubmitProposal) -> String {
    let json = serde_json::to_vec(input).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Everything intake needs once input has been checked.
struct Intake<'a> {
    municipality: &'a MunicipalityRow,
    channel: Channel,
    partner_id: Option<i64>,
    submitter_name: &'a str,
    submitter_org: Option<&'a str>,
    submitter_email: Option<&'a str>,
    submitter_phone: Option<&'a str>,
    need_id: Option<i64>,
    offer_id: Option<i64>,
    title: &'a str,
    body: &'a str,
    policy_field: Option<PolicyField>,
    declarations: &'a Declarations,
    idempotency: Option<(&'a str, &'a str)>,
    staff_id: Option<i64>,
    received_at: NaiveDateTime,
}

/// Writes the proposal, its receipt number, its first event and its acknowledgement.
fn receive(conn: &mut AnyConnection, i: Intake) -> AppResult<ProposalRow> {
    let day = local_date(i.received_at);
    let year = fiscal_year(day);
    let seq = storage::proposals::next_receipt_seq(conn, i.municipality.id, year)?;
    let at = now();
    let declared = |yes: bool| yes.then_some(at);
    let row = storage::proposals::insert(
        conn,
        &NewProposal {
            municipality_id: i.municipality.id,
            receipt_year: year,
            receipt_seq: seq,
            channel: i.channel.as_str(),
            partner_id: i.partner_id,
            submitter_name: i.submitter_name,
            submitter_org: i.submitter_org,
            submitter_email: i.submitter_email,
            submitter_phone: i.submitter_phone,
            need_id: i.need_id,
            offer_id: i.offer_id,
            title: i.title,
            body: i.body,
            policy_field: i.policy_field.map(PolicyField::as_str),
            state: ProposalState::Received.as_str(),
            declared_no_antisocial_at: declared(i.declarations.no_antisocial_forces),
            consented_contact_at: declared(i.declarations.consent_to_contact),
            consented_publication_at: declared(i.declarations.consent_to_publish),
            proposer_due_on: Some(add_business_days(
                day,
                i.municipality.first_response_days as u32,
            )),
            decision_due_on: Some(add_business_days(day, i.municipality.decision_days as u32)),
            received_at: i.received_at,
            updated_at: at,
        },
    )?;
    storage::proposals::add_event(
        conn,
        &NewProposalEvent {
            proposal_id: row.id,
            kind: EventKind::Received.as_str(),
            actor_staff_id: i.staff_id,
            actor_partner_id: if i.staff_id.is_none() {
                i.partner_id
            } else {
                None
            },
            from_state: None,
            to_state: Some(ProposalState::Received.as_str()),
            department_id: None,
            body: Some(&format!("{}で受付", i.channel.label_ja())),
            internal: false,
            created_at: at,
        },
    )?;
    if let (Some((key, hash)), Some(partner)) = (i.idempotency, i.partner_id) {
        storage::proposals::remember_idempotency_key(conn, partner, key, hash, row.id)?;
    }
    storage::index_log::record(conn, storage::index_log::DocType::Proposal, row.id)?;
    notifications::proposals::received(conn, &row)?;
    notifications::new_proposals::arrived(conn, &row, i.staff_id, crate::mail::links::base())?;
    Ok(row)
}

fn municipality_for(
    conn: &mut AnyConnection,
    code: Option<&str>,
    need: Option<&crate::storage::models::NeedRow>,
) -> AppResult<MunicipalityRow> {
    match (code, need) {
        (Some(code), need) => {
            let code = MunicipalityCode::parse(code.trim())
                .map_err(|e| AppError::field("municipality_code", "format", e.to_string()))?;
            let m = storage::municipalities::by_code(conn, code.as_str())?.ok_or_else(|| {
                AppError::field(
                    "municipality_code",
                    "not_found",
                    "no such municipality on kyoso",
                )
            })?;
            if need.is_some_and(|n| n.municipality_id != m.id) {
                return Err(AppError::field(
                    "need_id",
                    "not_found",
                    "this need belongs to another municipality",
                ));
            }
            Ok(m)
        }
        (None, Some(n)) => Ok(storage::municipalities::by_id(conn, n.municipality_id)?),
        (None, None) => Err(AppError::field(
            "municipality_code",
            "required",
            "give the municipality or the need the proposal answers",
        )),
    }
}

fn field_of(c: &mut Check, f: Option<&str>) -> Option<PolicyField> {
    f.map(str::trim).filter(|s| !s.is_empty()).and_then(|f| {
        c.one_of(
            "policy_field",
            f,
            PolicyField::parse,
            &PolicyField::expected(),
        )
    })
}

/// A partner submits a proposal through the API.
pub fn submit(
    db: &Db,
    actor: &Actor,
    input: SubmitProposal,
    idempotency_key: Option<&str>,
) -> AppResult<Submitted> {
    let partner_id = actor.require_partner()?;
    let key = check_key(idempotency_key)?;
    let hash = request_hash(&input);
    let mut c = Check::new();
    let title = c.line("title", &input.title, TITLE_MAX);
    let body = c.text("body", &input.body, BODY_MAX, false);
    let field = field_of(&mut c, input.policy_field.as_deref());
    c.finish()?;
    let replay = |conn: &mut AnyConnection, key: &str| -> AppResult<Option<Submitted>> {
        let Some((existing, first_hash)) =
            storage::proposals::by_idempotency_key(conn, partner_id.0, key)?
        else {
            return Ok(None);
        };
        if first_hash != hash {
            return Err(AppError::field(
                "Idempotency-Key",
                "reused",
                "this key was used for a different request",
            ));
        }
        let proposal = views(conn, vec![existing], Access::Proposer, true)?
            .pop()
            .ok_or(AppError::NotFound("proposal"))?;
        Ok(Some(Submitted {
            proposal,
            replayed: true,
        }))
    };
    let result = db.write(|conn| {
        if let Some(k) = &key
            && let Some(done) = replay(conn, k)?
        {
            return Ok(done);
        }
        let partner =
            storage::partners::find(conn, partner_id.0)?.ok_or(AppError::Unauthenticated)?;
        let need = match input.need_id {
            None => None,
            Some(id) => Some(
                storage::needs::find(conn, id)?
                    .filter(|n| may_see_need(actor, n))
                    .ok_or_else(|| {
                        AppError::field("need_id", "not_found", "no such public need")
                    })?,
            ),
        };
        let municipality =
            municipality_for(conn, input.municipality_code.as_deref(), need.as_ref())?;
        if let Some(o) = input.offer_id {
            let own = storage::offers::find(conn, o)?.is_some_and(|o| o.partner_id == partner_id.0);
            if !own {
                return Err(AppError::field(
                    "offer_id",
                    "not_found",
                    "not one of your offers",
                ));
            }
        }
        let row = receive(
            conn,
            Intake {
                municipality: &municipality,
                channel: Channel::Api,
                partner_id: Some(partner_id.0),
                submitter_name: &partner.contact_name,
                submitter_org: Some(&partner.name),
                submitter_email: Some(&partner.contact_email),
                submitter_phone: partner.phone.as_deref(),
                need_id: need.as_ref().map(|n| n.id),
                offer_id: input.offer_id,
                title: &title,
                body: &body,
                policy_field: match (field, need.as_ref()) {
                    (Some(f), _) => Some(f),
                    (None, Some(n)) => Some(PolicyField::from_db(&n.policy_field)?),
                    (None, None) => None,
                },
                declarations: &input.declarations,
                idempotency: key.as_deref().map(|k| (k, hash.as_str())),
                staff_id: None,
                received_at: now(),
            },
        )?;
        let proposal = views(conn, vec![row], Access::Proposer, true)?
            .pop()
            .ok_or(AppError::NotFound("proposal"))?;
        Ok(Submitted {
            proposal,
            replayed: false,
        })
    });
    match (result, &key) {
        // Two requests with one key raced: the loser's insert hit the unique key; answer
        // with the winner's proposal.
        (Err(AppError::Conflict(_)), Some(k)) => db.read(|conn| {
            replay(conn, k)?.ok_or_else(|| AppError::Conflict("retry the request".into()))
        }),
        (r, _) => r,
    }
}

/// The desk records a proposal that arrived by phone, visit, e-mail or at an event.
pub fn record(db: &Db, actor: &Actor, input: RecordProposal) -> AppResult<ProposalView> {
    let staff = actor.require_staff()?.clone();
    if !matches!(staff.role, Role::Desk | Role::Admin) {
        return Err(AppError::Forbidden(
            "only the desk records proposals on behalf of others",
        ));
    }
    let mut c = Check::new();
    let channel = c.one_of(
        "channel",
        &input.channel,
        Channel::parse,
        "phone, visit, email, event",
    );
    if channel == Some(Channel::Api) {
        c.push(
            "channel",
            "unknown_value",
            "must be one of: phone, visit, email, event",
        );
    }
    let name = c.line("submitter_name", &input.submitter_name, 100);
    let org = c.opt_line("submitter_org", input.submitter_org.as_deref(), 200);
    let email = input
        .submitter_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| c.email("submitter_email", e));
    let phone = c.opt_line("submitter_phone", input.submitter_phone.as_deref(), 30);
    let title = c.line("title", &input.title, TITLE_MAX);
    let body = c.text("body", &input.body, BODY_MAX, false);
    let field = field_of(&mut c, input.policy_field.as_deref());
    let received_at = input.received_at.map(|t| t.naive_utc()).unwrap_or_else(now);
    if received_at > now() + chrono::TimeDelta::minutes(5) {
        c.push_ja(
            "received_at",
            "out_of_range",
            "must not be in the future",
            "未来の日時は指定できません",
        );
    } else {
        // The receipt number's year and the clocks come from this date.
        crate::domain::calendar::check_date(&mut c, "received_at", Some(local_date(received_at)));
    }
    c.finish()?;
    let channel = Check::checked(channel, "channel")?;
    db.write(|conn| {
        // A named municipality is the one recorded in, so staff naming another one are
        // refused below rather than silently recording in their own.
        let code = match (&input.municipality_code, staff.municipality) {
            (Some(code), _) => Some(code.clone()),
            (None, Some(own)) => Some(storage::municipalities::by_id(conn, own.0)?.code),
            (None, None) => None,
        };
        let need = match input.need_id {
            None => None,
            Some(id) => Some(
                storage::needs::find(conn, id)?
                    .ok_or_else(|| AppError::field("need_id", "not_found", "no such need"))?,
            ),
        };
        let municipality = municipality_for(conn, code.as_deref(), need.as_ref())?;
        actor.require_staff_of(MunicipalityId(municipality.id), &[Role::Desk, Role::Admin])?;
        if let Some(p) = input.partner_id {
            storage::partners::find(conn, p)?
                .ok_or_else(|| AppError::field("partner_id", "not_found", "no such partner"))?;
        }
        if let Some(o) = input.offer_id {
            storage::offers::find(conn, o)?
                .ok_or_else(|| AppError::field("offer_id", "not_found", "no such offer"))?;
        }
        let row = receive(
            conn,
            Intake {
                municipality: &municipality,
                channel,
                partner_id: input.partner_id,
                submitter_name: &name,
                submitter_org: org.as_deref(),
                submitter_email: email.as_deref(),
                submitter_phone: phone.as_deref(),
                need_id: need.as_ref().map(|n| n.id),
                offer_id: input.offer_id,
                title: &title,
                body: &body,
                policy_field: match (field, need.as_ref()) {
                    (Some(f), _) => Some(f),
                    (None, Some(n)) => Some(PolicyField::from_db(&n.policy_field)?),
                    (None, None) => None,
                },
                declarations: &input.declarations,
                idempotency: None,
                staff_id: Some(staff.id.0),
                received_at,
            },
        )?;
        views(conn, vec![row], Access::Desk, true)?
            .pop()
            .ok_or(AppError::NotFound("proposal"))
    })
}
