//! Notifications: who is told what, and how. Each notice is rendered from its template
//! in the recipient's language and written to the mail outbox in the transaction of its
//! cause, as `immediate` or held for the recipient's daily or weekly digest — or not at
//! all when the recipient turned that kind off.

pub mod alerts;
pub mod digest;
pub mod new_proposals;
pub mod preferences;
pub mod proposals;
pub mod reminders;
pub mod saved_searches;
pub mod unsubscribe;

use crate::domain::error::AppResult;
use crate::domain::vocab::{Locale, Role};
use crate::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
use crate::mail::templates;
use crate::storage::AnyConnection;
use crate::storage::subscriptions::{self, Subscriber};

/// The kinds of notice a recipient can choose a delivery for, and the choices: both
/// vocabularies (`values::vocab`), so their spellings, labels and OpenAPI schema come
/// from one declaration.
pub use crate::values::vocab::{DeliveryChoice as Choice, NoticeKind as Kind};

impl Kind {
    /// What a recipient gets before choosing: answers about their own proposals at once,
    /// alerts and saved searches in the daily digest, the weekly report weekly. (Admins
    /// start with `new_proposal` off: `default_for`.)
    pub fn default_delivery(self) -> Choice {
        match self {
            Kind::MatchAlert | Kind::SavedSearch => Choice::Daily,
            Kind::WeeklyReport => Choice::Weekly,
            _ => Choice::Immediate,
        }
    }

    /// The choices this kind offers: the weekly report is a weekly mail or nothing.
    pub fn choices(self) -> &'static [Choice] {
        match self {
            Kind::WeeklyReport => &[Choice::Weekly, Choice::Off],
            _ => Choice::ALL,
        }
    }

    /// The kinds a staff member of `role` can receive, in the order settings list them.
    /// Partner-only kinds (acknowledgements, state changes and answers to the proposer)
    /// are left out; the desk's own two (new proposals, the weekly report) go to the desk
    /// and admins only, proposals handed back as 所管外 to desk staff only. A deployment
    /// admin (no municipality) gets none of them: they are sent per municipality.
    pub fn for_staff(role: Role, deployment_admin: bool) -> Vec<Kind> {
        let mut kinds = vec![
            Kind::ProposalRouted,
            Kind::DeadlineReminder,
            Kind::NeedExpired,
            Kind::MatchAlert,
            Kind::SavedSearch,
        ];
        if matches!(role, Role::Desk | Role::Admin) && !deployment_admin {
            kinds.splice(0..0, [Kind::NewProposal, Kind::WeeklyReport]);
        }
        if role == Role::Desk && !deployment_admin {
            kinds.insert(1, Kind::ProposalReturned);
        }
        kinds
    }
}

/// Who receives the desk's own notices (new proposals, the weekly report): the active
/// desk and admin staff of municipality `m`.
pub fn desk_and_admins(conn: &mut AnyConnection, m: i64) -> AppResult<Vec<(Role, Recipient)>> {
    let mut out = vec![];
    for s in crate::storage::staff::list(conn, Some(m))? {
        let role = Role::from_db(&s.role)?;
        if matches!(role, Role::Desk | Role::Admin)
            && let Some(r) = Recipient::staff(conn, s.id)?
        {
            out.push((role, r));
        }
    }
    Ok(out)
}

/// Someone to notify.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub who: RecipientRef,
    pub email: String,
    pub name: Option<String>,
    pub locale: Locale,
}

impl Recipient {
    pub fn staff(conn: &mut AnyConnection, id: i64) -> AppResult<Option<Recipient>> {
        crate::storage::staff::find(conn, id)?
            .filter(|s| s.status == "active")
            .map(|s| {
                Ok(Recipient {
                    who: RecipientRef::Staff(s.id),
                    locale: Locale::from_db(&s.locale)?,
                    email: s.email,
                    name: Some(s.display_name),
                })
            })
            .transpose()
    }

    /// The partner, if its current contact address is verified: the one rule that keeps
    /// every notice (acknowledgements, answers, alerts, saved searches, and so digests)
    /// from an address its owner never confirmed (`domain::email_verification`).
    pub fn partner(conn: &mut AnyConnection, id: i64) -> AppResult<Option<Recipient>> {
        crate::storage::partners::find(conn, id)?
            .filter(|p| p.email_verified_at.is_some())
            .map(|p| {
                Ok(Recipient {
                    who: RecipientRef::Partner(p.id),
                    locale: Locale::from_db(&p.locale)?,
                    email: p.contact_email,
                    name: Some(p.contact_name),
                })
            })
            .transpose()
    }

    pub fn guest(email: &str, name: Option<&str>) -> Recipient {
        Recipient {
            who: RecipientRef::Guest,
            email: email.to_owned(),
            name: name.map(str::to_owned),
            locale: Locale::Ja,
        }
    }
}

/// Who hears for a department: its shared mailbox, if it has one, and its staff accounts.
pub fn department_recipients(
    conn: &mut AnyConnection,
    dept: &crate::storage::models::DepartmentRow,
) -> AppResult<Vec<Recipient>> {
    let mut recipients: Vec<Recipient> = vec![];
    if let Some(email) = &dept.email {
        recipients.push(Recipient::guest(email, Some(&dept.name)));
    }
    for s in crate::storage::staff::list(conn, Some(dept.municipality_id))? {
        if s.role == crate::domain::vocab::Role::Department.as_str()
            && s.department_id == Some(dept.id)
            && let Some(r) = Recipient::staff(conn, s.id)?
        {
            recipients.push(r);
        }
    }
    Ok(recipients)
}

/// A date as Japanese notices write it (2027年1月29日).
pub fn date_ja(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Whose choices are stored for `who`: guests have none.
fn subscriber(who: RecipientRef) -> Option<Subscriber> {
    match who {
        RecipientRef::Staff(id) => Some(Subscriber::Staff(id)),
        RecipientRef::Partner(id) => Some(Subscriber::Partner(id)),
        RecipientRef::Guest => None,
    }
}

/// The default for `who`: admins are told of new proposals only when they ask for it
/// (the desk routes them; an admin's inbox would fill with what others handle).
fn default_for(conn: &mut AnyConnection, who: RecipientRef, kind: Kind) -> AppResult<Choice> {
    if let (Kind::NewProposal, RecipientRef::Staff(id)) = (kind, who)
        && crate::storage::staff::find(conn, id)?.is_some_and(|s| s.role == Role::Admin.as_str())
    {
        return Ok(Choice::Off);
    }
    Ok(kind.default_delivery())
}

/// The recipient's choice for `kind`: their stored preference or the default.
pub fn choice_for(conn: &mut AnyConnection, who: RecipientRef, kind: Kind) -> AppResult<Choice> {
    let stored = match subscriber(who) {
        Some(s) => subscriptions::delivery(conn, s, kind.as_str())?,
        None => None,
    };
    match stored.as_deref().and_then(Choice::parse) {
        Some(c) => Ok(c),
        None => default_for(conn, who, kind),
    }
}

/// Queues one notice for `to`, rendered from template `kind` with `values` (the
/// recipient's name is added as `recipient_name`). Returns whether anything was queued.
pub fn notify(
    conn: &mut AnyConnection,
    to: &Recipient,
    kind: Kind,
    dedupe_key: &str,
    values: &[(&str, &str)],
) -> AppResult<bool> {
    notify_as(conn, to, kind, kind.into(), dedupe_key, values)
}

/// `notify` with a message of its own for a variant of `kind` (the routing notice to a
/// related department is a `proposal_routed` notice, chosen with it, in other words).
pub fn notify_as(
    conn: &mut AnyConnection,
    to: &Recipient,
    kind: Kind,
    template: templates::Template,
    dedupe_key: &str,
    values: &[(&str, &str)],
) -> AppResult<bool> {
    let delivery = match choice_for(conn, to.who, kind)? {
        Choice::Off => return Ok(false),
        Choice::Immediate => Delivery::Immediate,
        Choice::Daily => Delivery::Daily,
        Choice::Weekly => Delivery::Weekly,
    };
    let name = to.name.clone().unwrap_or_else(|| to.email.clone());
    let mut all: Vec<(&str, &str)> = vec![("recipient_name", &name)];
    all.extend_from_slice(values);
    let message = templates::render(template, to.locale, &all);
    let queued = outbox::enqueue(
        conn,
        &Outgoing {
            dedupe_key: format!("{dedupe_key}:{}", to.email.to_lowercase()),
            kind: template,
            recipient: to.who,
            recipient_email: &to.email,
            recipient_name: to.name.as_deref(),
            locale: to.locale,
            delivery,
            message,
        },
    )?;
    Ok(queued)
}
