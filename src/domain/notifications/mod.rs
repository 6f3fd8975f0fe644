//! Notifications: who is told what, and how. Each notice is rendered from its template
//! in the recipient's language and written to the mail outbox in the transaction of its
//! cause, as `immediate` or held for the recipient's daily or weekly digest — or not at
//! all when the recipient turned that kind off.

pub mod alerts;
pub mod digest;
pub mod preferences;
pub mod proposals;
pub mod reminders;
pub mod saved_searches;
pub mod unsubscribe;

use crate::domain::error::AppResult;
use crate::domain::vocab::Locale;
use crate::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
use crate::mail::templates;
use crate::storage::AnyConnection;
use crate::storage::subscriptions::{self, Subscriber};

/// The kinds of notice a recipient can choose a delivery for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 受付のお知らせ (to the proposer).
    ProposalReceived,
    /// 回付のお知らせ (to the department).
    ProposalRouted,
    /// State changes and decisions, with decline reasons (to the proposer).
    ProposalStatus,
    /// Answers from the municipality (to the proposer).
    ProposalReply,
    /// Due soon / overdue (to the department and the desk).
    DeadlineReminder,
    /// A need passed its open-until date and was closed (to its department).
    NeedExpired,
    /// A new need or offer that fits yours.
    MatchAlert,
    /// New results of a saved search.
    SavedSearch,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::ProposalReceived,
        Kind::ProposalRouted,
        Kind::ProposalStatus,
        Kind::ProposalReply,
        Kind::DeadlineReminder,
        Kind::NeedExpired,
        Kind::MatchAlert,
        Kind::SavedSearch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ProposalReceived => "proposal_received",
            Kind::ProposalRouted => "proposal_routed",
            Kind::ProposalStatus => "proposal_status",
            Kind::ProposalReply => "proposal_reply",
            Kind::DeadlineReminder => "deadline_reminder",
            Kind::NeedExpired => "need_expired",
            Kind::MatchAlert => "match_alert",
            Kind::SavedSearch => "saved_search",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Kind::ProposalReceived => "提案の受付",
            Kind::ProposalRouted => "提案の回付",
            Kind::ProposalStatus => "提案の状況",
            Kind::ProposalReply => "提案への回答",
            Kind::DeadlineReminder => "期限のお知らせ",
            Kind::NeedExpired => "ニーズの募集期限",
            Kind::MatchAlert => "新着マッチ",
            Kind::SavedSearch => "保存した検索",
        }
    }

    /// What a recipient gets before choosing: answers about their own proposals at once,
    /// alerts and saved searches in the daily digest.
    pub fn default_delivery(self) -> Choice {
        match self {
            Kind::MatchAlert | Kind::SavedSearch => Choice::Daily,
            _ => Choice::Immediate,
        }
    }
}

/// A recipient's choice for one kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Immediate,
    Daily,
    Weekly,
    Off,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Immediate => "immediate",
            Choice::Daily => "daily",
            Choice::Weekly => "weekly",
            Choice::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Choice> {
        [
            Choice::Immediate,
            Choice::Daily,
            Choice::Weekly,
            Choice::Off,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
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
        Ok(crate::storage::staff::find(conn, id)?
            .filter(|s| s.status == "active")
            .map(|s| Recipient {
                who: RecipientRef::Staff(s.id),
                email: s.email,
                name: Some(s.display_name),
                locale: Locale::from_db(&s.locale),
            }))
    }

    /// The partner, if its current contact address is verified: the one rule that keeps
    /// every notice (acknowledgements, answers, alerts, saved searches, and so digests)
    /// from an address its owner never confirmed (`domain::email_verification`).
    pub fn partner(conn: &mut AnyConnection, id: i64) -> AppResult<Option<Recipient>> {
        Ok(crate::storage::partners::find(conn, id)?
            .filter(|p| p.email_verified_at.is_some())
            .map(|p| Recipient {
                who: RecipientRef::Partner(p.id),
                email: p.contact_email,
                name: Some(p.contact_name),
                locale: Locale::from_db(&p.locale),
            }))
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

/// The recipient's choice for `kind`: their stored preference or the default.
pub fn choice_for(conn: &mut AnyConnection, who: RecipientRef, kind: Kind) -> AppResult<Choice> {
    let stored = match subscriber(who) {
        Some(s) => subscriptions::delivery(conn, s, kind.as_str())?,
        None => None,
    };
    Ok(stored
        .as_deref()
        .and_then(Choice::parse)
        .unwrap_or(kind.default_delivery()))
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
    let delivery = match choice_for(conn, to.who, kind)? {
        Choice::Off => return Ok(false),
        Choice::Immediate => Delivery::Immediate,
        Choice::Daily => Delivery::Daily,
        Choice::Weekly => Delivery::Weekly,
    };
    let name = to.name.clone().unwrap_or_else(|| to.email.clone());
    let mut all: Vec<(&str, &str)> = vec![("recipient_name", &name)];
    all.extend_from_slice(values);
    let message = templates::render(kind.as_str(), to.locale, &all)
        .map_err(crate::domain::error::AppError::internal)?;
    let queued = outbox::enqueue(
        conn,
        &Outgoing {
            dedupe_key: format!("{dedupe_key}:{}", to.email.to_lowercase()),
            kind: kind.as_str(),
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
