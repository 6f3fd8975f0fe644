//! Whether the search index equals the database: every need, offer and proposal is in
//! the index as its current version, and the index holds nothing else. The follower
//! promises this once it has caught up; the crash tests check the promise after killing
//! the process many times.

use std::collections::BTreeMap;

use search_index::DocType;

use super::{SearchEngine, documents, index_error};
use crate::domain::error::AppResult;
use crate::storage::Db;

/// How the index differs from the database; keys as the index names them ("need:12").
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IndexDrift {
    /// In the database, not in the index.
    pub missing: Vec<String>,
    /// In the index, not in the database.
    pub extra: Vec<String>,
    /// In both, but the index holds an older (or newer) version.
    pub stale: Vec<String>,
    /// How many documents the database has (and the index should have).
    pub expected: usize,
}

impl IndexDrift {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.stale.is_empty()
    }
}

/// Compares the engine's last commit with the tables, as `follow::rebuild` would fill
/// the index from them. Only meaningful when no writes run meanwhile.
#[doc(hidden)]
pub fn compare_with_database(db: &Db, engine: &SearchEngine) -> AppResult<IndexDrift> {
    engine.index.reload().map_err(index_error)?;
    let mut want: BTreeMap<(u64, i64), (DocType, i64)> = BTreeMap::new();
    for t in [DocType::Need, DocType::Offer, DocType::Proposal] {
        let mut after = 0;
        loop {
            let (last, docs) = db.read(|c| documents::page_after(c, t, after, 200))?;
            let Some(last) = last else { break };
            for d in docs {
                want.insert((rank(t), d.id), (t, d.updated_at_unix));
            }
            after = last;
        }
    }
    let mut drift = IndexDrift {
        expected: want.len(),
        ..IndexDrift::default()
    };
    for (t, id, updated) in engine.index.inventory().map_err(index_error)? {
        match want.remove(&(rank(t), id)) {
            None => drift.extra.push(t.key(id)),
            Some((_, at)) if at != updated => drift.stale.push(t.key(id)),
            Some(_) => {}
        }
    }
    drift.missing = want
        .into_iter()
        .map(|((_, id), (t, _))| t.key(id))
        .collect();
    Ok(drift)
}

/// A sort key per type (the index crate keeps its codes to itself).
fn rank(t: DocType) -> u64 {
    match t {
        DocType::Need => 0,
        DocType::Offer => 1,
        DocType::Proposal => 2,
    }
}
