//! "新しい提案": the desk is told that a proposal arrived, through any channel, in the
//! transaction that receives it. Each desk member (and each admin who turned it on)
//! gets it as they chose: at once, in the daily or weekly digest, or not at all. The
//! mail carries what the desk needs to route the proposal and no more: receipt number,
//! title, channel, the kind of proposer and the policy field — never the proposer's
//! name or contact details, which stay behind the console's login.

use super::{Kind, desk_and_admins, notify};
use crate::domain::error::AppResult;
use crate::domain::proposals::receipt_number;
use crate::domain::vocab::{Channel, Locale, PartnerKind, PolicyField};
use crate::storage::models::ProposalRow;
use crate::storage::{self, AnyConnection};

/// Who proposed, as a kind: a registered partner's kind, or an organisation or a person
/// the desk recorded without an account.
fn proposer_kind(conn: &mut AnyConnection, p: &ProposalRow, locale: Locale) -> AppResult<String> {
    let partner = match p.partner_id {
        Some(id) => storage::partners::find(conn, id)?,
        None => None,
    };
    Ok(match (partner, locale) {
        (Some(partner), Locale::Ja) => format!(
            "登録パートナー（{}）",
            PartnerKind::from_db(&partner.kind)?.label(locale)
        ),
        (Some(partner), Locale::En) => format!(
            "Registered partner ({})",
            PartnerKind::from_db(&partner.kind)?.label(locale)
        ),
        (None, Locale::Ja) if p.submitter_org.is_some() => "団体（パートナー未登録）".into(),
        (None, Locale::Ja) => "個人（パートナー未登録）".into(),
        (None, Locale::En) if p.submitter_org.is_some() => {
            "An organisation (not a registered partner)".into()
        }
        (None, Locale::En) => "A person (not a registered partner)".into(),
    })
}

/// Tells the desk of `p`'s municipality that it arrived. `recorded_by` is the staff
/// member who recorded it (phone, visit…): they know already, so they are left out.
pub fn arrived(
    conn: &mut AnyConnection,
    p: &ProposalRow,
    recorded_by: Option<i64>,
    public_url: &str,
) -> AppResult<()> {
    let municipality = storage::municipalities::by_id(conn, p.municipality_id)?.name;
    let number = receipt_number(p.receipt_year, p.receipt_seq);
    let received = crate::domain::calendar::japan_time(p.received_at)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let channel = Channel::from_db(&p.channel)?;
    let field = p
        .policy_field
        .as_deref()
        .map(PolicyField::from_db)
        .transpose()?;
    let link = format!("{public_url}/admin/proposals/{}", p.id);
    for (_, to) in desk_and_admins(conn, p.municipality_id)? {
        if recorded_by.is_some_and(|id| to.who == crate::mail::outbox::RecipientRef::Staff(id)) {
            continue;
        }
        let kind = proposer_kind(conn, p, to.locale)?;
        let field = match (field, to.locale) {
            (Some(f), l) => f.label(l).to_owned(),
            (None, Locale::Ja) => "未設定".to_owned(),
            (None, Locale::En) => "not given".to_owned(),
        };
        notify(
            conn,
            &to,
            Kind::NewProposal,
            &format!("new_proposal:{}", p.id),
            &[
                ("municipality", &municipality),
                ("receipt_number", &number),
                ("title", &p.title),
                ("received_at", &received),
                ("channel", channel.label(to.locale)),
                ("proposer_kind", &kind),
                ("policy_field", &field),
                ("link", &link),
            ],
        )?;
    }
    Ok(())
}
