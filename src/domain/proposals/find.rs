//! Finding proposals at a desk's volume: one query over every proposal the caller may
//! see (the API's list and the console's inbox), with the filters, a text search, a sort,
//! pages counted in the database and the total; and the desk's two queues (所管未定 and
//! 期限超過), complete and oldest first.
//!
//! The text search asks the search index which proposals say the words (the index holds
//! every proposal with the Japanese analysis: width and case folding, morphology,
//! bigrams; the words are also asked in the other kana script, see [`kana_variants`])
//! and hands at most [`TEXT_CAP`] ids, best first, to the database query, which
//! alone applies the permissions, the filters, the order and the page. The index thus
//! never decides who sees what (a stale index cannot show a proposal to the wrong
//! person), and the filters need not be copied into it. A receipt number (2026-000123,
//! or its sequence 000123) and a part of the submitter's name or organisation are
//! matched in the database.

use chrono::NaiveDate;
use search_index::{DocType, QueryError};
use serde::Serialize;

use super::{Access, OPEN_STATES, ProposalQuery, ProposalView, local_date, local_midnight, views};
use crate::domain::actor::Actor;
use crate::domain::calendar::{add_business_days, business_days_between};
use crate::domain::desk::deadlines::{Clock, running_clocks};
use crate::domain::error::{AppError, AppResult};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::search::{SearchEngine, index_error};
use crate::domain::validate::Check;
use crate::domain::vocab::{Channel, PolicyField, ProposalState, Role};
use crate::storage::proposals::{Direction, ListOrder, ProposalFilter, TextMatch};
use crate::storage::{self, AnyConnection, Db, now};

/// Most proposals a keyword brings from the search index, best first. A keyword that
/// matches more (a word in most proposals) lists only the best this many, and says so
/// ([`Found::capped`]); the filters narrow it further. Bounded so that the database
/// query's id list stays small on both backends.
pub const TEXT_CAP: usize = 5_000;
/// Longest text search, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// 期限間近: a running clock due within this many business days (as the inbox's
/// due-soon list).
pub const DUE_SOON_DAYS: u32 = 3;
/// Rows per page of the console's lists.
pub const PER_PAGE: i64 = 50;

/// The columns a list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Received,
    /// The due date the caller works to: the department's for department staff, the
    /// first answer to the proposer's for the desk.
    Due,
    State,
    Department,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Received,
        SortKey::Due,
        SortKey::State,
        SortKey::Department,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Received => "received",
            SortKey::Due => "due",
            SortKey::State => "state",
            SortKey::Department => "department",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub desc: bool,
}

impl Default for Sort {
    /// Newest first, as the inbox always listed.
    fn default() -> Self {
        Sort {
            key: SortKey::Received,
            desc: true,
        }
    }
}

/// One page of a list, with the total in the database.
#[derive(Debug, Serialize)]
pub struct Found<T> {
    pub items: Vec<T>,
    /// Every proposal matching, over all pages.
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
    /// The keyword matched more than [`TEXT_CAP`] proposals: only the best are listed.
    pub capped: bool,
}

impl<T> Found<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// Full-width digits and hyphens as ASCII, so that a receipt number typed with an IME
/// is still one.
fn ascii_digits(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c),
            '－' | 'ー' | '‐' | '−' | '―' => '-',
            c => c,
        })
        .collect()
}

/// A receipt number in the text: `2026-000123` (year and sequence) or `000123` / `123`
/// (the sequence, in any year).
pub fn receipt_parts(text: &str) -> Option<(Option<i32>, i32)> {
    let t = ascii_digits(text);
    let digits = |s: &str, max: usize| {
        (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i32>().ok())
            .flatten()
    };
    match t.split_once('-') {
        Some((y, s)) if y.len() == 4 => Some((Some(digits(y, 4)?), digits(s, 6)?)),
        Some(_) => None,
        None => Some((None, digits(&t, 6)?)),
    }
}

/// The text search's part of the filter: ids from the index, a receipt number, the
/// submitter. Returns whether the index had more than [`TEXT_CAP`] matches.
fn text_match(
    engine: &SearchEngine,
    text: &str,
    municipality_code: Option<&str>,
    partner_id: Option<i64>,
) -> AppResult<(TextMatch, bool)> {
    let receipt = receipt_parts(text);
    let mut m = TextMatch {
        receipt_year: receipt.and_then(|(y, _)| y),
        receipt_seq: receipt.map(|(_, s)| s),
        submitter: Some(text.trim().to_lowercase()),
        ids: vec![],
    };
    // A whole receipt number names one proposal: its digits are no words to look for.
    if m.receipt_year.is_some() {
        return Ok((m, false));
    }
    // The index folds width and case but keeps hiragana and katakana apart: the words
    // are also looked up written in the other script (かわせみ → カワセミ), and the
    // matches merged, best of the words as typed first.
    let mut ids: Vec<i64> = vec![];
    let mut capped = false;
    for variant in kana_variants(text) {
        let (found, total) = match engine.index.matching_ids(
            &variant,
            DocType::Proposal,
            municipality_code,
            partner_id,
            TEXT_CAP,
        ) {
            Ok(found) => found,
            // Only punctuation or symbols: nothing for the index, the rest still applies.
            Err(search_index::Error::Query(QueryError::NothingSearchable)) => (vec![], 0),
            Err(e) => return Err(index_error(e)),
        };
        capped |= total > TEXT_CAP;
        for id in found {
            if ids.len() < TEXT_CAP && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    m.ids = ids;
    Ok((m, capped))
}

/// The text as typed, then with its hiragana as katakana, then with its katakana as
/// hiragana (each only when it differs).
pub fn kana_variants(text: &str) -> Vec<String> {
    // U+3041..=U+3096 (ぁ..ゖ) and U+30A1..=U+30F6 (ァ..ヶ) are the same letters 0x60 apart.
    let shift = |c: char, from: std::ops::RangeInclusive<char>, up: bool| -> char {
        if from.contains(&c) {
            let n = u32::from(c);
            char::from_u32(if up { n + 0x60 } else { n - 0x60 }).unwrap_or(c)
        } else {
            c
        }
    };
    let katakana: String = text
        .chars()
        .map(|c| shift(c, '\u{3041}'..='\u{3096}', true))
        .collect();
    let hiragana: String = text
        .chars()
        .map(|c| shift(c, '\u{30A1}'..='\u{30F6}', false))
        .collect();
    let mut out = vec![text.to_owned()];
    for v in [katakana, hiragana] {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The checked filters of a query and the caller's rights, as one database filter:
/// a partner its own proposals, department staff those routed to their department
/// (primary or related), desk and admins their municipality's, a deployment admin any
/// municipality's (or the one named). Also the caller's access and whether a keyword
/// was capped.
pub fn scope(
    conn: &mut AnyConnection,
    engine: &SearchEngine,
    actor: &Actor,
    q: &ProposalQuery,
) -> AppResult<(ProposalFilter, Access, bool)> {
    let mut c = Check::new();
    let states = match q.state.as_deref() {
        None => None,
        Some("open") => Some(OPEN_STATES.iter().map(|s| s.as_str().to_owned()).collect()),
        Some(s) => c
            .one_of(
                "state",
                s,
                ProposalState::parse,
                &format!("{}, open", ProposalState::expected()),
            )
            .map(|s| vec![s.as_str().to_owned()]),
    };
    let channel = q
        .channel
        .as_deref()
        .and_then(|s| c.one_of("channel", s, Channel::parse, &Channel::expected()));
    let field = q.policy_field.as_deref().and_then(|s| {
        c.one_of(
            "policy_field",
            s,
            PolicyField::parse,
            &PolicyField::expected(),
        )
    });
    crate::domain::calendar::check_date(&mut c, "from", q.from);
    crate::domain::calendar::check_date(&mut c, "to", q.to);
    let text =
        q.q.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
    if let Some(t) = &text {
        if t.chars().count() > MAX_TEXT_CHARS {
            c.push(
                "q",
                "too_long",
                format!("at most {MAX_TEXT_CHARS} characters"),
            );
        }
        if t.chars().any(char::is_control) {
            c.push(
                "q",
                "control_characters",
                "must not contain control characters",
            );
        }
    }
    let due_soon = match q.due.as_deref() {
        None => false,
        Some("soon") => true,
        Some(_) => {
            c.push("due", "unknown_value", "must be: soon");
            false
        }
    };
    let assignee = match q.assignee.as_deref() {
        None => None,
        Some("me") => actor.staff().map(|s| Some(s.id.0)),
        Some("none") => Some(None),
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                c.push(
                    "assignee",
                    "unknown_value",
                    "must be: me, none or a staff id",
                );
                None
            }
        },
    };
    if q.assignee.is_some() && actor.staff().is_none() {
        c.push(
            "assignee",
            "staff_only",
            "only staff may filter by assignee",
        );
    }
    // The department's clock is internal: a proposer could infer it from this filter.
    if q.due.is_some() && actor.staff().is_none() {
        c.push("due", "staff_only", "only staff may filter by due dates");
    }
    c.finish()?;
    let mut filter = ProposalFilter {
        states,
        assignee: assignee.flatten(),
        no_assignee: assignee == Some(None),
        paused: q.paused.unwrap_or(false),
        // Overdue or due on or before the DUE_SOON_DAYS-th business day from today.
        overdue_before: due_soon.then(|| {
            let last = add_business_days(local_date(now()), DUE_SOON_DAYS);
            last.succ_opt().unwrap_or(last)
        }),
        channel: channel.map(|c| c.as_str().to_owned()),
        policy_field: field.map(|f| f.as_str().to_owned()),
        routed_to: q.department_id,
        need_id: q.need_id,
        unassigned: q.unassigned.unwrap_or(false),
        received_from: q.from.map(local_midnight),
        received_to: q.to.map(local_midnight),
        ..Default::default()
    };
    let access = match actor {
        Actor::Anonymous => return Err(AppError::Unauthenticated),
        Actor::Partner(p) => {
            filter.partner_id = Some(p.0);
            Access::Proposer
        }
        Actor::Staff(s) => {
            filter.municipality_id = match (s.municipality, &q.municipality) {
                (Some(m), _) => Some(m.0),
                (None, Some(code)) => {
                    Some(crate::domain::municipalities::find_by_code(conn, code)?.id)
                }
                (None, None) => None,
            };
            if s.role == Role::Department {
                let own = s
                    .department
                    .ok_or(AppError::Forbidden("your account has no department"))?;
                if q.department_id.is_some_and(|d| d != own.0) {
                    return Err(AppError::Forbidden(
                        "department staff see their own department's proposals",
                    ));
                }
                filter.routed_to = Some(own.0);
                Access::Department
            } else {
                Access::Desk
            }
        }
    };
    let mut capped = false;
    if let Some(t) = &text {
        let code = match filter.municipality_id {
            Some(m) => Some(storage::municipalities::by_id(conn, m)?.code),
            None => None,
        };
        // A partner's words are looked up among its own proposals (the index knows
        // their owner), so that the cap never hides one of them.
        let (m, more) = text_match(engine, t, code.as_deref(), filter.partner_id)?;
        filter.text = Some(m);
        capped = more;
    }
    Ok((filter, access, capped))
}

/// The API's list: newest first, in cursor pages.
pub fn list(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    q: ProposalQuery,
) -> AppResult<Page<ProposalView>> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    db.read(|conn| {
        let (mut filter, access, _) = scope(conn, engine, actor, &q)?;
        filter.before_id = page.before_id;
        filter.limit = page.fetch();
        filter.order = ListOrder::IdDesc;
        let rows = storage::proposals::list(conn, &filter)?;
        page.finish(rows, |r| r.id, |rows| views(conn, rows, access, false))
    })
}

fn direction(desc: bool) -> Direction {
    if desc {
        Direction::Desc
    } else {
        Direction::Asc
    }
}

fn order(sort: Sort, access: Access) -> ListOrder {
    let d = direction(sort.desc);
    match sort.key {
        SortKey::Received => ListOrder::Received(d),
        SortKey::Due if access == Access::Department => ListOrder::DepartmentDue(d),
        SortKey::Due => ListOrder::ProposerDue(d),
        SortKey::State => ListOrder::State(d),
        SortKey::Department => ListOrder::Department(d),
    }
}

/// The page `page` (1-based; past the end gives an empty page) of `filter`, with the total.
fn paged(
    conn: &mut AnyConnection,
    mut filter: ProposalFilter,
    page: i64,
) -> AppResult<(Vec<crate::storage::models::ProposalRow>, i64, i64)> {
    let page = page.clamp(1, 1_000_000);
    let total = storage::proposals::count_filtered(conn, &filter)?;
    filter.limit = PER_PAGE;
    filter.offset = (page - 1).saturating_mul(PER_PAGE);
    let rows = storage::proposals::list(conn, &filter)?;
    Ok((rows, total, page))
}

/// The console's inbox list: everything the caller may see that matches, sorted, one
/// page of [`PER_PAGE`], with the total.
pub fn find(
    db: &Db,
    engine: &SearchEngine,
    actor: &Actor,
    q: &ProposalQuery,
    sort: Sort,
    page: i64,
) -> AppResult<Found<ProposalView>> {
    db.read(|conn| {
        let (mut filter, access, capped) = scope(conn, engine, actor, q)?;
        filter.order = order(sort, access);
        let (rows, total, page) = paged(conn, filter, page)?;
        Ok(Found {
            items: views(conn, rows, access, false)?,
            total,
            page,
            per_page: PER_PAGE,
            capped,
        })
    })
}

/// The 所管未定 queue of a municipality: open proposals no department owns yet. The
/// same filter counts the queue in the statistics (集計).
pub fn unassigned_filter(municipality_id: i64) -> ProposalFilter {
    ProposalFilter {
        municipality_id: Some(municipality_id),
        unassigned: true,
        // Routing is what moves a proposal out of `received`, so every open proposal
        // without a department is `received`.
        states: Some(vec![ProposalState::Received.as_str().to_owned()]),
        order: ListOrder::Received(Direction::Asc),
        limit: i64::MAX,
        ..Default::default()
    }
}

/// Which municipality's queues a staff member works: their own, or for a deployment
/// admin the one named (`None` until one is).
fn queue_municipality(
    conn: &mut AnyConnection,
    actor: &Actor,
    code: Option<&str>,
) -> AppResult<Option<i64>> {
    let s = actor.require_staff()?;
    match (s.municipality, code) {
        (None, None) => Ok(None),
        _ => crate::domain::desk::municipality_of(conn, actor, code).map(Some),
    }
}

/// The 所管未定 queue, oldest first, all of it in pages. Desk and admins only (department
/// staff never see unrouted proposals): others get an empty queue.
pub fn unassigned_queue(
    db: &Db,
    actor: &Actor,
    municipality: Option<&str>,
    page: i64,
) -> AppResult<Found<ProposalView>> {
    db.read(|conn| {
        let desk = actor
            .staff()
            .is_some_and(|s| matches!(s.role, Role::Desk | Role::Admin));
        let m = match queue_municipality(conn, actor, municipality)? {
            Some(m) if desk => m,
            _ => {
                return Ok(Found {
                    items: vec![],
                    total: 0,
                    page: 1,
                    per_page: PER_PAGE,
                    capped: false,
                });
            }
        };
        let (rows, total, page) = paged(conn, unassigned_filter(m), page)?;
        Ok(Found {
            items: views(conn, rows, Access::Desk, false)?,
            total,
            page,
            per_page: PER_PAGE,
            capped: false,
        })
    })
}

/// The 期限超過 queue of a municipality on `today`: open proposals with a clock past its
/// due date, oldest received first. The same filter counts it in the statistics.
pub fn overdue_filter(municipality_id: i64, today: NaiveDate) -> ProposalFilter {
    ProposalFilter {
        municipality_id: Some(municipality_id),
        overdue_before: Some(today),
        order: ListOrder::Received(Direction::Asc),
        limit: i64::MAX,
        ..Default::default()
    }
}

/// A clock past its due date.
#[derive(Debug, Serialize)]
pub struct LateClock {
    pub clock: Clock,
    pub due_on: NaiveDate,
    /// Business days since the due date (at least 1).
    pub business_days_late: i64,
}

#[derive(Debug, Serialize)]
pub struct OverdueItem {
    pub proposal: ProposalView,
    pub late: Vec<LateClock>,
}

/// The 期限超過 queue: open proposals with a clock past its due date (the ones the
/// caller answers for: the department's own for department staff), oldest received
/// first, all of them in pages.
pub fn overdue_queue(
    db: &Db,
    actor: &Actor,
    municipality: Option<&str>,
    page: i64,
) -> AppResult<Found<OverdueItem>> {
    db.read(|conn| {
        let empty = || Found {
            items: vec![],
            total: 0,
            page: 1,
            per_page: PER_PAGE,
            capped: false,
        };
        let Some(m) = queue_municipality(conn, actor, municipality)? else {
            return Ok(empty());
        };
        let staff = actor.require_staff()?;
        let today = local_date(now());
        let mut filter = overdue_filter(m, today);
        let access = if staff.role == Role::Department {
            // No department: nothing routed to it (-1 is no department's id).
            filter.routed_to = Some(staff.department.map(|d| d.0).unwrap_or(-1));
            Access::Department
        } else {
            Access::Desk
        };
        let (rows, total, page) = paged(conn, filter, page)?;
        let late: Vec<Vec<LateClock>> = rows
            .iter()
            .map(|p| -> AppResult<Vec<LateClock>> {
                Ok(running_clocks(p)?
                    .into_iter()
                    .filter(|(_, due)| *due < today)
                    .map(|(clock, due_on)| LateClock {
                        clock,
                        due_on,
                        business_days_late: -business_days_between(today, due_on),
                    })
                    .collect())
            })
            .collect::<AppResult<_>>()?;
        let items = views(conn, rows, access, false)?
            .into_iter()
            .zip(late)
            .map(|(proposal, late)| OverdueItem { proposal, late })
            .collect();
        Ok(Found {
            items,
            total,
            page,
            per_page: PER_PAGE,
            capped: false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_numbers_whole_partial_and_full_width() {
        assert_eq!(receipt_parts("2026-000123"), Some((Some(2026), 123)));
        assert_eq!(
            receipt_parts(" ２０２６－０００１２３ "),
            Some((Some(2026), 123))
        );
        assert_eq!(receipt_parts("000123"), Some((None, 123)));
        assert_eq!(receipt_parts("7"), Some((None, 7)));
        assert_eq!(receipt_parts("1234567"), None);
        assert_eq!(receipt_parts("26-000123"), None);
        assert_eq!(receipt_parts("2026-"), None);
        assert_eq!(receipt_parts("カワセミ"), None);
        assert_eq!(receipt_parts(""), None);
    }

    #[test]
    fn kana_variants_both_ways() {
        assert_eq!(kana_variants("かわせみ"), vec!["かわせみ", "カワセミ"]);
        assert_eq!(kana_variants("カワセミ"), vec!["カワセミ", "かわせみ"]);
        assert_eq!(
            kana_variants("カワセミの川"),
            vec!["カワセミの川", "カワセミノ川", "かわせみの川"]
        );
        assert_eq!(kana_variants("park 2026"), vec!["park 2026"]);
    }
}
