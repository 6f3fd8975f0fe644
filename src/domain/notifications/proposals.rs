//! Notices about a proposal's life: its receipt to the proposer, routing to the lead
//! department and to the related ones (関係課, told that they are not the lead), state
//! changes (with decline reasons) and answers to the proposer.

use super::{Kind, Recipient, date_ja, department_recipients, notify, notify_as};
use crate::domain::error::AppResult;
use crate::domain::proposals::receipt_number;
use crate::domain::vocab::{DeclineReason, Locale, ProposalState};
use crate::storage::models::ProposalRow;
use crate::storage::{self, AnyConnection};

/// Who hears back about a proposal: its partner, or the address the desk recorded.
pub fn proposer(conn: &mut AnyConnection, p: &ProposalRow) -> AppResult<Option<Recipient>> {
    if let Some(id) = p.partner_id {
        return Recipient::partner(conn, id);
    }
    Ok(p.submitter_email
        .as_deref()
        .map(|e| Recipient::guest(e, Some(&p.submitter_name))))
}

fn municipality_name(conn: &mut AnyConnection, p: &ProposalRow) -> AppResult<String> {
    Ok(storage::municipalities::by_id(conn, p.municipality_id)?.name)
}

/// The acknowledgement with the receipt number.
pub fn received(conn: &mut AnyConnection, p: &ProposalRow) -> AppResult<()> {
    let Some(to) = proposer(conn, p)? else {
        return Ok(());
    };
    let municipality = municipality_name(conn, p)?;
    let number = receipt_number(p.receipt_year, p.receipt_seq);
    let received = crate::domain::calendar::japan_time(p.received_at)
        .format("%Y年%-m月%-d日 %H:%M")
        .to_string();
    let due = p.proposer_due_on.map(date_ja).unwrap_or_default();
    let name = to.name.clone().unwrap_or_default();
    notify(
        conn,
        &to,
        Kind::ProposalReceived,
        &format!("proposal_received:{}", p.id),
        &[
            ("submitter_name", &name),
            ("municipality", &municipality),
            ("receipt_number", &number),
            ("title", &p.title),
            ("received_at", &received),
            ("proposer_due_on", &due),
        ],
    )?;
    Ok(())
}

/// The routing notice: to the lead department (its mailbox and its staff), then to each
/// related department with a text that names the lead and says the lead or the desk
/// decides. One dedupe key per routing and address, so an address that hears as the
/// lead is not told again as a related department.
pub fn routed(
    conn: &mut AnyConnection,
    p: &ProposalRow,
    department_id: i64,
    related: &[i64],
    note: Option<&str>,
    public_url: &str,
    event_id: i64,
) -> AppResult<()> {
    let Some(dept) = storage::municipalities::department(conn, department_id)? else {
        return Ok(());
    };
    let municipality = municipality_name(conn, p)?;
    let number = receipt_number(p.receipt_year, p.receipt_seq);
    let due = p.department_due_on.map(date_ja).unwrap_or_default();
    let submitter = match &p.submitter_org {
        Some(org) => format!("{org} {}", p.submitter_name),
        None => p.submitter_name.clone(),
    };
    let note = note
        .map(|n| format!("窓口からのメモ：\n{n}\n"))
        .unwrap_or_default();
    let link = format!("{public_url}/admin/proposals/{}", p.id);
    for to in department_recipients(conn, &dept)? {
        notify(
            conn,
            &to,
            Kind::ProposalRouted,
            &format!("proposal_routed:{}:{event_id}", p.id),
            &[
                ("department", &dept.name),
                ("department_due_on", &due),
                ("receipt_number", &number),
                ("title", &p.title),
                ("submitter", &submitter),
                ("note", &note),
                ("link", &link),
                ("municipality", &municipality),
            ],
        )?;
    }
    for &id in related.iter().filter(|&&id| id != department_id) {
        let Some(other) = storage::municipalities::department(conn, id)? else {
            continue;
        };
        for to in department_recipients(conn, &other)? {
            notify_as(
                conn,
                &to,
                Kind::ProposalRouted,
                crate::mail::templates::Template::ProposalRoutedRelated,
                &format!("proposal_routed:{}:{event_id}", p.id),
                &[
                    ("department", &other.name),
                    ("lead_department", &dept.name),
                    ("receipt_number", &number),
                    ("title", &p.title),
                    ("submitter", &submitter),
                    ("note", &note),
                    ("link", &link),
                    ("municipality", &municipality),
                ],
            )?;
        }
    }
    Ok(())
}

/// A change of state, sent to the proposer; a decline carries its reasons.
pub fn status(
    conn: &mut AnyConnection,
    p: &ProposalRow,
    to_state: ProposalState,
    text: Option<&str>,
    event_id: i64,
) -> AppResult<()> {
    let Some(to) = proposer(conn, p)? else {
        return Ok(());
    };
    let municipality = municipality_name(conn, p)?;
    let number = receipt_number(p.receipt_year, p.receipt_seq);
    // Labels in the recipient's language, never the stored spelling.
    let state = to_state.label(to.locale).to_owned();
    let reason_label = p
        .decline_reason_code
        .as_deref()
        .map(|c| DeclineReason::from_db(c).map(|d| d.label(to.locale).to_owned()))
        .transpose()?;
    let mut message = String::new();
    if let (ProposalState::Declined, Some(label)) = (to_state, reason_label) {
        message.push_str(match to.locale {
            Locale::Ja => "見送りの理由：",
            Locale::En => "Reason: ",
        });
        message.push_str(&label);
        message.push('\n');
    }
    if let Some(t) = text {
        message.push_str(t);
    }
    notify(
        conn,
        &to,
        Kind::ProposalStatus,
        &format!("proposal_status:{}:{event_id}", p.id),
        &[
            ("municipality", &municipality),
            ("receipt_number", &number),
            ("title", &p.title),
            ("state", &state),
            ("message", &message),
        ],
    )?;
    Ok(())
}

/// An answer from the municipality to the proposer.
pub fn reply(
    conn: &mut AnyConnection,
    p: &ProposalRow,
    text: &str,
    event_id: i64,
) -> AppResult<()> {
    let Some(to) = proposer(conn, p)? else {
        return Ok(());
    };
    let municipality = municipality_name(conn, p)?;
    let number = receipt_number(p.receipt_year, p.receipt_seq);
    notify(
        conn,
        &to,
        Kind::ProposalReply,
        &format!("proposal_reply:{}:{event_id}", p.id),
        &[
            ("municipality", &municipality),
            ("receipt_number", &number),
            ("title", &p.title),
            ("message", text),
        ],
    )?;
    Ok(())
}

/// A department handed the proposal back as not theirs (所管外): its desk staff are told,
/// with the reason, to route it again.
pub fn returned(
    conn: &mut AnyConnection,
    p: &ProposalRow,
    department_id: i64,
    reason: &str,
    public_url: &str,
    event_id: i64,
) -> AppResult<()> {
    let department = storage::municipalities::department(conn, department_id)?
        .map(|d| d.name)
        .unwrap_or_default();
    let municipality = municipality_name(conn, p)?;
    let number = receipt_number(p.receipt_year, p.receipt_seq);
    let link = format!("{public_url}/admin/proposals/{}", p.id);
    for s in storage::staff::list(conn, Some(p.municipality_id))? {
        if s.role == crate::domain::vocab::Role::Desk.as_str()
            && let Some(to) = Recipient::staff(conn, s.id)?
        {
            notify(
                conn,
                &to,
                Kind::ProposalReturned,
                &format!("proposal_returned:{}:{event_id}", p.id),
                &[
                    ("department", &department),
                    ("receipt_number", &number),
                    ("title", &p.title),
                    ("reason", reason),
                    ("link", &link),
                    ("municipality", &municipality),
                ],
            )?;
        }
    }
    Ok(())
}
