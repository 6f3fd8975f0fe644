//! What the desk's record form (記録) offers to pick by name instead of by number:
//! partners (any registered partner may propose by phone or at the counter) and the
//! needs of the municipality the proposal is recorded in. Matching folds width, case
//! and katakana to hiragana, so かわせみ finds カワセミ and ＡＢＣ finds abc; a number
//! finds the record with that id. Only desk staff of the municipality (and deployment
//! admins for a named one) may look, as only they may record.

use serde::Serialize;

use crate::domain::actor::Actor;
use crate::domain::desk::municipality_of;
use crate::domain::error::{AppError, AppResult};
use crate::domain::ids::MunicipalityId;
use crate::domain::vocab::{NeedStatus, PartnerKind, PartnerStatus, Role};
use crate::storage::needs::NeedFilter;
use crate::storage::{self, Db};

/// The most candidates shown for one search: more means the words need narrowing.
pub const LIMIT: usize = 20;
/// The most needs of one municipality looked through.
const NEEDS_SCANNED: i64 = 5_000;

#[derive(Debug, Clone, Serialize)]
pub struct PartnerChoice {
    pub id: i64,
    pub name: String,
    pub kind: PartnerKind,
    pub status: PartnerStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct NeedChoice {
    pub id: i64,
    pub title: String,
    pub status: NeedStatus,
}

/// Text as compared: NFKC, lower case, katakana as hiragana.
pub fn fold(s: &str) -> String {
    search_index::analysis::normalize::normalize(s)
        .chars()
        .map(|c| match c {
            // ァ..ヶ sit 0x60 above ぁ..ゖ.
            '\u{30A1}'..='\u{30F6}' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Whether `text` holds every word of `words` (already folded).
fn matches(text: &str, words: &[String]) -> bool {
    let t = fold(text);
    words.iter().all(|w| t.contains(w.as_str()))
}

fn words_of(q: &str) -> Vec<String> {
    fold(q).split_whitespace().map(str::to_owned).collect()
}

fn require_desk(
    conn: &mut storage::AnyConnection,
    actor: &Actor,
    code: Option<&str>,
) -> AppResult<i64> {
    let m = municipality_of(conn, actor, code)?;
    actor.require_staff_of(MunicipalityId(m), &[Role::Desk, Role::Admin])?;
    Ok(m)
}

/// Partners whose name holds every word of `q` (or whose id is `q`), at most [`LIMIT`].
pub fn partners(
    db: &Db,
    actor: &Actor,
    code: Option<&str>,
    q: &str,
) -> AppResult<Vec<PartnerChoice>> {
    let words = words_of(q);
    if words.is_empty() {
        return Ok(vec![]);
    }
    let id: Option<i64> = q.trim().trim_start_matches('#').parse().ok();
    db.read(|conn| {
        require_desk(conn, actor, code)?;
        let mut out = Vec::new();
        for (pid, name, kind, status) in storage::partners::directory(conn)? {
            if Some(pid) == id || matches(&name, &words) {
                out.push(PartnerChoice {
                    id: pid,
                    name,
                    kind: PartnerKind::from_db(&kind)?,
                    status: PartnerStatus::from_db(&status)?,
                });
                if out.len() >= LIMIT {
                    break;
                }
            }
        }
        Ok(out)
    })
}

/// The municipality's needs whose title holds every word of `q` (or whose id is `q`),
/// newest first, at most [`LIMIT`]. Drafts are left out: nobody can answer one.
pub fn needs(db: &Db, actor: &Actor, code: Option<&str>, q: &str) -> AppResult<Vec<NeedChoice>> {
    let words = words_of(q);
    if words.is_empty() {
        return Ok(vec![]);
    }
    let id: Option<i64> = q.trim().trim_start_matches('#').parse().ok();
    db.read(|conn| {
        let m = require_desk(conn, actor, code)?;
        let rows = storage::needs::list(
            conn,
            &NeedFilter {
                municipality_id: Some(m),
                all_internal: true,
                limit: NEEDS_SCANNED,
                ..NeedFilter::default()
            },
        )?;
        let mut out = Vec::new();
        for n in rows {
            let status = NeedStatus::from_db(&n.status)?;
            if status == NeedStatus::Draft {
                continue;
            }
            if Some(n.id) == id || matches(&n.title, &words) {
                out.push(NeedChoice {
                    id: n.id,
                    title: n.title,
                    status,
                });
                if out.len() >= LIMIT {
                    break;
                }
            }
        }
        Ok(out)
    })
}

/// The partner and need already chosen on the form, by id, to show them by name; an id
/// that is not there (or a need of another municipality) is simply not shown, and the
/// intake refuses it when the form is sent.
pub fn chosen(
    db: &Db,
    actor: &Actor,
    code: Option<&str>,
    partner: Option<i64>,
    need: Option<i64>,
) -> AppResult<(Option<PartnerChoice>, Option<NeedChoice>)> {
    db.read(|conn| {
        let m = require_desk(conn, actor, code)?;
        let p = match partner {
            None => None,
            Some(id) => match storage::partners::find(conn, id)? {
                None => None,
                Some(p) => Some(PartnerChoice {
                    id: p.id,
                    name: p.name,
                    kind: PartnerKind::from_db(&p.kind)?,
                    status: PartnerStatus::from_db(&p.status)?,
                }),
            },
        };
        let n = match need {
            None => None,
            Some(id) => match storage::needs::find(conn, id)? {
                Some(n) if n.municipality_id == m => Some(NeedChoice {
                    id: n.id,
                    title: n.title,
                    status: NeedStatus::from_db(&n.status)?,
                }),
                _ => None,
            },
        };
        Ok::<_, AppError>((p, n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_kana_width_and_case() {
        assert_eq!(fold("カワセミ"), fold("かわせみ"));
        assert_eq!(fold("ＡＢＣ　ｶﾜｾﾐ"), "abc かわせみ");
        assert!(matches("株式会社カワセミ技研", &words_of("かわせみ 技研")));
        assert!(!matches("株式会社カワセミ技研", &words_of("かわせみ 工業")));
    }
}
