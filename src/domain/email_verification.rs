//! Partners prove their contact address: one-time links (32 random bytes, stored only as a
//! SHA-256 hash, valid for [`LINK_VALID`] and once), sent when a partner registers or
//! changes its address, and on request at most once per [`RESEND_INTERVAL`]. Until the
//! current address is proven, kyoso mails it nothing but these links
//! (`notifications::Recipient::partner` applies that rule to every notice).
//!
//! The mail deliberately carries no text the registrant chose (no organisation or contact
//! name): an address someone else typed in receives one plain, kyoso-signed question,
//! never a message that reads as the municipality's.

use base64::Engine;
use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::actor::Actor;
use super::api_keys::random_bytes;
use super::error::{AppError, AppResult, Message};
use super::ids::PartnerId;
use super::utc;
use super::vocab::Locale;
use crate::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
use crate::mail::{links, templates};
use crate::storage::models::PartnerRow;
use crate::storage::{self, AnyConnection, Db, now};

/// How long a link works.
pub const LINK_VALID: TimeDelta = TimeDelta::hours(72);
/// How often a partner may ask for a new link.
pub const RESEND_INTERVAL: TimeDelta = TimeDelta::minutes(10);
/// Longest token accepted before hashing; real ones are 43 characters.
const TOKEN_MAX: usize = 100;

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The page the mail links to (it asks before verifying: scanners prefetch links).
pub fn link(token: &str) -> String {
    format!("{}/api/v1/partners/verify?token={token}", links::base())
}

/// Issues a link for the partner's current address and queues its mail, in the caller's
/// transaction. Earlier unused links stop working.
pub(crate) fn send_link(conn: &mut AnyConnection, partner: &PartnerRow) -> AppResult<()> {
    withdraw_unsent(conn, partner.id)?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let token_hash = hash(&token);
    let at = now();
    let expires = at + LINK_VALID;
    let id = storage::partners::add_verification(
        conn,
        partner.id,
        &partner.contact_email,
        &token_hash,
        at,
        expires,
    )?;
    let locale = Locale::from_db(&partner.locale)?;
    let expires_text = match locale {
        Locale::Ja => crate::domain::calendar::japan_time(expires)
            .format("%Y年%-m月%-d日 %H:%M")
            .to_string(),
        Locale::En => format!("{} UTC", expires.format("%Y-%m-%d %H:%M")),
    };
    let link = link(&token);
    let message = templates::render(
        templates::Template::EmailVerification,
        locale,
        &[("link", &link), ("expires_at", &expires_text)],
    );
    outbox::enqueue(
        conn,
        &Outgoing {
            // Names the link by its row, never by its token.
            dedupe_key: format!("email_verification:{}:{id}", partner.id),
            kind: templates::Template::EmailVerification,
            // Known by address only: there is nothing to unsubscribe from.
            recipient: RecipientRef::Guest,
            recipient_email: &partner.contact_email,
            recipient_name: None,
            locale,
            delivery: Delivery::Immediate,
            message,
        },
    )?;
    Ok(())
}

/// Withdraws the partner's link mails still waiting: their links no longer work.
fn withdraw_unsent(conn: &mut AnyConnection, partner_id: i64) -> AppResult<()> {
    // Every link mail of the partner is named by its link's row (see `send_link`).
    let keys: Vec<String> = storage::partners::verification_ids(conn, partner_id)?
        .into_iter()
        .map(|id| format!("email_verification:{partner_id}:{id}"))
        .collect();
    outbox::withdraw_pending(conn, templates::Template::EmailVerification, &keys)?;
    Ok(())
}

/// The calling partner asks for a new link to its current address.
pub fn resend(db: &Db, actor: &Actor) -> AppResult<()> {
    let id = actor.require_partner()?;
    db.write(|conn| {
        storage::partners::lock(conn, id.0)?;
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        if row.email_verified_at.is_some() {
            return Err(AppError::Conflict(Message::new(
                "this address is verified already",
                "このメールアドレスは確認済みです。",
            )));
        }
        // At most one link every 10 minutes: the answer says how long to wait.
        if let Some(last) = storage::partners::last_verification_sent(conn, id.0)?
            && now() < last + RESEND_INTERVAL
        {
            let wait = (last + RESEND_INTERVAL - now()).num_seconds().max(1);
            return Err(AppError::RateLimited {
                retry_after_secs: wait.unsigned_abs(),
            });
        }
        send_link(conn, &row)
    })
}

/// The outcome of a used link.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verified {
    pub partner_id: PartnerId,
    pub email: String,
    pub verified_at: chrono::DateTime<chrono::Utc>,
}

fn refused(code: &'static str, en: &str, ja: &str) -> AppError {
    AppError::field_ja("token", code, en, ja)
}

/// Uses a link: the address it was sent to becomes verified, if it is still the
/// partner's. Unknown, used, expired and outdated links are 422s naming `token`.
pub fn confirm(db: &Db, token: &str) -> AppResult<Verified> {
    let token = token.trim();
    if token.is_empty() || token.len() > TOKEN_MAX {
        return Err(refused(
            "invalid",
            "this link is not valid",
            "このリンクは無効です。",
        ));
    }
    let token_hash = hash(token);
    db.write(|conn| {
        let Some(v) = storage::partners::verification_by_hash(conn, &token_hash)? else {
            return Err(refused(
                "invalid",
                "this link is not valid",
                "このリンクは無効です。",
            ));
        };
        storage::partners::lock(conn, v.partner_id)?;
        let at = now();
        if v.used_at.is_some() {
            return Err(refused(
                "used",
                "this link was used already",
                "このリンクは使用済みです。",
            ));
        }
        if at >= v.expires_at {
            return Err(refused(
                "expired",
                "this link has expired; ask for a new one",
                "このリンクは有効期限が切れています。確認メールを再送してください。",
            ));
        }
        // Marked used first: of two parallel uses, one wins and the other sees it used.
        if !storage::partners::use_verification(conn, v.id, at)? {
            return Err(refused(
                "used",
                "this link was used already",
                "このリンクは使用済みです。",
            ));
        }
        if !storage::partners::set_email_verified(conn, v.partner_id, &v.email, at)? {
            return Err(refused(
                "invalid",
                "the partner's address has changed since this link was sent",
                "このリンクの送信後にメールアドレスが変更されています。",
            ));
        }
        Ok(Verified {
            partner_id: PartnerId(v.partner_id),
            email: v.email,
            verified_at: utc(at),
        })
    })
}

/// A deployment admin marks a partner's current address verified (checked another way,
/// e.g. by phone); a link mail still waiting is withdrawn. The demo loader and seeded
/// test partners use it too.
pub fn confirm_by_admin(db: &Db, actor: &Actor, id: PartnerId) -> AppResult<NaiveDateTime> {
    actor.require_deployment_admin()?;
    db.write(|conn| {
        storage::partners::lock(conn, id.0)?;
        let row = storage::partners::find(conn, id.0)?.ok_or(AppError::NotFound("partner"))?;
        if let Some(at) = row.email_verified_at {
            return Ok(at);
        }
        let at = now();
        storage::partners::set_email_verified(conn, id.0, &row.contact_email, at)?;
        withdraw_unsent(conn, id.0)?;
        Ok(at)
    })
}
