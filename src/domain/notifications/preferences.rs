//! Each recipient chooses, per kind of notice, immediate, daily digest, weekly digest or
//! off, and the language of their mail (ja by default, or en).

use serde::{Deserialize, Serialize};

use super::{Choice, Kind, choice_for, subscriber};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::validate::Check;
use crate::domain::vocab::Locale;
use crate::mail::outbox::RecipientRef;
use crate::storage::{self, AnyConnection, Db};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KindPreference {
    pub kind: Kind,
    pub label: String,
    pub delivery: Choice,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preferences {
    pub locale: Locale,
    pub kinds: Vec<KindPreference>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// `ja` or `en`.
    pub locale: Option<String>,
    /// Kind → `immediate`, `daily`, `weekly` or `off`.
    #[serde(default)]
    pub kinds: std::collections::BTreeMap<String, String>,
    /// `true` voids the unsubscribe link of every mail sent to you so far (for when a
    /// mail was forwarded or leaked); mails sent from now on carry working links.
    #[serde(default)]
    pub revoke_unsubscribe_links: bool,
}

pub fn recipient_of(actor: &Actor) -> AppResult<RecipientRef> {
    match actor {
        Actor::Staff(s) => Ok(RecipientRef::Staff(s.id.0)),
        Actor::Partner(p) => Ok(RecipientRef::Partner(p.0)),
        Actor::Anonymous => Err(AppError::Unauthenticated),
    }
}

fn locale_of(conn: &mut AnyConnection, who: RecipientRef) -> AppResult<Locale> {
    let l: String = match who {
        RecipientRef::Staff(id) => storage::staff::locale_of(conn, id)?,
        RecipientRef::Partner(id) => storage::partners::locale_of(conn, id)?,
        RecipientRef::Guest => "ja".into(),
    };
    Ok(Locale::from_db(&l)?)
}

fn read(conn: &mut AnyConnection, who: RecipientRef) -> AppResult<Preferences> {
    let mut kinds = vec![];
    for &k in Kind::ALL {
        kinds.push(KindPreference {
            kind: k,
            label: k.label_ja().to_owned(),
            delivery: choice_for(conn, who, k)?,
        });
    }
    Ok(Preferences {
        locale: locale_of(conn, who)?,
        kinds,
    })
}

/// The kinds `actor` can receive, as the console's settings list them: staff see the
/// staff kinds of their role (`Kind::for_staff`), partners every kind but the staff
/// ones. The API lists and accepts every kind for everyone, as before.
pub fn kinds_for(actor: &Actor) -> Vec<Kind> {
    match actor {
        Actor::Staff(s) => Kind::for_staff(s.role, s.is_deployment_admin()),
        _ => vec![
            Kind::ProposalReceived,
            Kind::ProposalStatus,
            Kind::ProposalReply,
            Kind::MatchAlert,
            Kind::SavedSearch,
        ],
    }
}

pub fn get(db: &Db, actor: &Actor) -> AppResult<Preferences> {
    let who = recipient_of(actor)?;
    db.read(|conn| read(conn, who))
}

/// Stores one recipient's choice for one kind.
pub fn set_choice(
    conn: &mut AnyConnection,
    who: RecipientRef,
    kind: Kind,
    choice: Choice,
) -> AppResult<()> {
    if let Some(s) = subscriber(who) {
        storage::subscriptions::set(conn, s, kind.as_str(), choice.as_str())?;
    }
    Ok(())
}

pub fn update(db: &Db, actor: &Actor, input: PreferencesInput) -> AppResult<Preferences> {
    let who = recipient_of(actor)?;
    let mut c = Check::new();
    let locale = input
        .locale
        .as_deref()
        .and_then(|l| c.one_of("locale", l, Locale::parse, &Locale::expected()));
    let mut changes = vec![];
    for (k, v) in &input.kinds {
        match (Kind::parse(k), Choice::parse(v)) {
            (Some(kind), Some(choice)) if !kind.choices().contains(&choice) => c.push(
                format!("kinds/{k}"),
                "unknown_value",
                "this kind is sent weekly or not at all: weekly or off",
            ),
            (Some(kind), Some(choice)) => changes.push((kind, choice)),
            (None, _) => c.push(
                format!("kinds/{k}"),
                "unknown_value",
                "not a kind of notice",
            ),
            (_, None) => c.push(
                format!("kinds/{k}"),
                "unknown_value",
                "must be one of: immediate, daily, weekly, off",
            ),
        }
    }
    c.finish()?;
    db.write(|conn| {
        for (kind, choice) in changes {
            set_choice(conn, who, kind, choice)?;
        }
        if input.revoke_unsubscribe_links {
            super::unsubscribe::revoke_links(conn, who)?;
        }
        if let Some(l) = locale {
            match who {
                RecipientRef::Staff(id) => storage::staff::set_locale(conn, id, l.as_str())?,
                RecipientRef::Partner(id) => storage::partners::set_locale(conn, id, l.as_str())?,
                RecipientRef::Guest => {}
            }
        }
        read(conn, who)
    })
}
