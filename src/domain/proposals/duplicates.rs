//! 重複: closing a proposal as a duplicate of an earlier one of the same municipality.
//! The duplicate is declined with the reason `duplicate` through the workflow's own
//! transition (so the rules, the event and the proposer's status notice are the
//! single action's), points at its original (`duplicate_of_id`), and the history gets
//! 「重複（2026-000123 と同じ）」 as an internal line. The proposer is told that the
//! proposal is considered together with the earlier one, with its receipt number only
//! when the earlier one is also theirs: another proposer's number is never sent.

use serde::Deserialize;

use super::find::receipt_parts;
use super::workflow::{
    Event, Transition, act, body_text, check_decides, log_event, transition_step,
};
use super::{Access, ProposalView, receipt_number};
use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::ProposalId;
use crate::domain::validate::Check;
use crate::domain::vocab::EventKind;
use crate::storage::models::ProposalRow;
use crate::storage::{self, AnyConnection, Db};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateInput {
    /// The original's receipt number (`2026-000123`), a proposal of the same
    /// municipality that is not this one and not itself a duplicate of this one.
    pub original: String,
    /// Anything else for the proposer, sent with the notice (optional).
    pub note: Option<String>,
}

/// A checked duplicate command: the original's receipt number parsed, the note cleaned.
#[derive(Debug, Clone)]
pub struct DuplicateOf {
    year: i32,
    seq: i32,
    note: Option<String>,
}

impl DuplicateInput {
    pub fn parse(self) -> AppResult<DuplicateOf> {
        let mut c = Check::new();
        let note = self
            .note
            .as_deref()
            .map(|n| body_text(&mut c, "note", n))
            .filter(|n| !n.is_empty());
        let number = match receipt_parts(&self.original) {
            Some((Some(year), seq)) => Some((year, seq)),
            _ => {
                c.push_ja(
                    "original",
                    "format",
                    "give the original's receipt number, e.g. 2026-000123",
                    "元の提案の受付番号を「2026-000123」の形で入力してください",
                );
                None
            }
        };
        c.finish()?;
        let (year, seq) = Check::checked(number, "original")?;
        Ok(DuplicateOf { year, seq, note })
    }
}

/// Who may reach [`duplicate_step`]; as for declining, a department must lead.
pub(super) const DUPLICATE_ACCESS: &[Access] = &[Access::Desk, Access::Department];

/// Closes the proposal as a duplicate of the original (重複).
pub fn mark_duplicate(
    db: &Db,
    actor: &Actor,
    id: ProposalId,
    command: DuplicateOf,
) -> AppResult<ProposalView> {
    act(db, actor, id, DUPLICATE_ACCESS, |conn, p| {
        duplicate_step(conn, actor, p, &command)
    })
}

fn refuse(code: &'static str, en: &str, ja: &str) -> AppError {
    AppError::field_ja("original", code, en, ja)
}

/// Whether the original came from the same proposer: the same partner, or (recorded
/// by the desk) the same contact address.
fn same_proposer(p: &ProposalRow, original: &ProposalRow) -> bool {
    match (p.partner_id, original.partner_id) {
        (Some(a), Some(b)) => a == b,
        (None, None) => match (&p.submitter_email, &original.submitter_email) {
            (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
            _ => false,
        },
        _ => false,
    }
}

/// The duplicate of one locked proposal, in the caller's transaction.
pub(super) fn duplicate_step(
    conn: &mut AnyConnection,
    actor: &Actor,
    p: &mut ProposalRow,
    command: &DuplicateOf,
) -> AppResult<()> {
    check_decides(actor, p)?;
    let original =
        storage::proposals::by_receipt(conn, p.municipality_id, command.year, command.seq)?
            .ok_or_else(|| {
                refuse(
                    "not_found",
                    "no proposal of this municipality has this receipt number",
                    "この自治体にこの受付番号の提案はありません",
                )
            })?;
    if original.id == p.id {
        return Err(refuse(
            "self",
            "a proposal cannot be a duplicate of itself",
            "この提案自身は指定できません",
        ));
    }
    // Follow the original's own links: one that leads back here would make a cycle.
    // Bounded, so a cycle left by anything else cannot hold the transaction forever.
    let mut next = storage::proposals::duplicate_of(conn, original.id)?;
    for _ in 0..1_000 {
        let Some(n) = next else { break };
        if n == p.id {
            return Err(refuse(
                "cycle",
                "the original is itself a duplicate of this proposal",
                "指定した提案は、この提案の重複として閉じられています（循環になるため指定できません）",
            ));
        }
        next = storage::proposals::duplicate_of(conn, n)?;
    }
    let number = receipt_number(original.receipt_year, original.receipt_seq);
    // Sent to the proposer: the earlier number only when it is theirs too.
    let reason = if same_proposer(p, &original) {
        format!(
            "この提案は、先にお受けした提案（受付番号 {number}）と同じ内容のため、そちらとあわせて検討します。"
        )
    } else {
        "この提案は、先にお受けした同じ内容の提案とあわせて検討します。".to_owned()
    };
    transition_step(
        conn,
        actor,
        p,
        &Transition::duplicate(reason, command.note.clone()),
    )?;
    storage::proposals::set_duplicate_of(conn, p.id, original.id)?;
    let line = format!("重複（{number} と同じ）");
    log_event(conn, actor, p.id, Event::text(EventKind::Note, &line, true))?;
    Ok(())
}
