//! Keeping the index in step with the database. Every change of searchable text wrote a
//! row to the index change log in its own transaction; `catch_up` applies the rows after
//! the index's checkpoint in batches and commits the new checkpoint with them, so after a
//! crash at any point the next run re-applies what the index lacks (applying twice is
//! harmless: documents are replaced whole). `rebuild` refills the index from the tables,
//! also when the log was pruned past the index's checkpoint (see `housekeeping`).
//!
//! On PostgreSQL, ids of concurrent transactions can commit out of order: id 11 may be
//! visible before id 10. A gap is therefore not skipped until it is older than
//! `GAP_GRACE` (then it was a rollback); the checkpoint stays before it meanwhile.

use std::collections::BTreeSet;
use std::time::Duration;

use search_index::DocType;

use super::{SearchEngine, documents, index_error};
use crate::domain::error::AppResult;
use crate::domain::housekeeping;
use crate::storage::{self, Db, index_log, now};

/// Changes applied per commit.
pub const BATCH: i64 = 500;
const GAP_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

fn doc_type(s: &str) -> Option<DocType> {
    DocType::parse(s)
}

/// State the follower keeps between rounds: change ids above the checkpoint that were
/// already applied (they lie after a gap that may still fill).
#[derive(Default)]
pub struct Follower {
    applied: BTreeSet<i64>,
}

impl Follower {
    /// Applies one batch of pending changes; returns how many were applied. An index
    /// whose checkpoint lies before changes already pruned from the log is rebuilt.
    pub fn step(&mut self, db: &Db, engine: &SearchEngine) -> AppResult<usize> {
        let pruned = housekeeping::pruned_through(db)?;
        let checkpoint = engine.checkpoint()?;
        if checkpoint < pruned {
            log::warn!(
                "the search index stopped at change {checkpoint}, but changes up to {pruned} \
                 were pruned from the log; rebuilding it from the database"
            );
            self.applied.clear();
            return rebuild(db, engine, |_, _| {}).map(|n| n as usize);
        }
        engine.with_writer(|writer| {
            let checkpoint = engine.checkpoint()?;
            self.applied.retain(|id| *id > checkpoint);
            let changes = db.read(|c| Ok(index_log::pending(c, checkpoint, BATCH)?))?;
            // The checkpoint may advance over contiguous ids and over gaps old enough.
            let mut safe = checkpoint;
            let mut blocked = false;
            for ch in &changes {
                let contiguous = ch.id == safe + 1;
                if !blocked && (contiguous || now() - ch.created_at > GAP_GRACE) {
                    safe = ch.id;
                } else {
                    blocked = true;
                }
            }
            let fresh: Vec<&index_log::Change> = changes
                .iter()
                .filter(|c| !self.applied.contains(&c.id))
                .collect();
            if fresh.is_empty() && safe == checkpoint {
                return Ok(0);
            }
            let mut done = BTreeSet::new();
            let docs = db.read(|conn| {
                let mut out = vec![];
                for ch in &fresh {
                    let Some(t) = doc_type(&ch.doc_type) else {
                        continue;
                    };
                    if done.insert((ch.doc_type.clone(), ch.doc_id)) {
                        out.push((t, ch.doc_id, documents::load(conn, t, ch.doc_id)?));
                    }
                }
                Ok(out)
            })?;
            for (t, id, doc) in &docs {
                match doc {
                    Some(d) => writer.upsert(d).map_err(index_error)?,
                    None => writer.delete(*t, *id),
                }
            }
            writer
                .commit_with_checkpoint(safe as u64)
                .map_err(index_error)?;
            self.applied.extend(fresh.iter().map(|c| c.id));
            Ok(fresh.len())
        })
    }

    /// Applies everything pending now.
    pub fn catch_up(&mut self, db: &Db, engine: &SearchEngine) -> AppResult<usize> {
        let mut total = 0;
        loop {
            let n = self.step(db, engine)?;
            total += n;
            if n < BATCH as usize {
                return Ok(total);
            }
        }
    }
}

/// Applies everything pending, for callers without a follower of their own.
pub fn catch_up(db: &Db, engine: &SearchEngine) -> AppResult<usize> {
    Follower::default().catch_up(db, engine)
}

/// Rebuilds the index from the tables; `progress(done, total)` is called as it goes.
/// The checkpoint is the log's newest id taken before reading (or the newest pruned id
/// when the log is empty: ids are never reused), so changes made during the rebuild are
/// applied afterwards by the follower.
pub fn rebuild(
    db: &Db,
    engine: &SearchEngine,
    mut progress: impl FnMut(u64, u64),
) -> AppResult<u64> {
    engine.with_writer(|writer| {
        let (upto, total) = db.read(|c| {
            let upto = index_log::max_id(c)?.max(housekeeping::pruned_through_in(c)?);
            let total = storage::needs::count(c)?
                + storage::offers::count(c)?
                + storage::proposals::count(c)?;
            Ok((upto, total as u64))
        })?;
        writer.delete_all().map_err(index_error)?;
        let mut done = 0u64;
        progress(0, total);
        for t in [DocType::Need, DocType::Offer, DocType::Proposal] {
            let mut after = 0;
            loop {
                let docs = db.read(|c| {
                    let ids = match t {
                        DocType::Need => storage::needs::ids_after(c, after, 200)?,
                        DocType::Offer => storage::offers::ids_after(c, after, 200)?,
                        DocType::Proposal => storage::proposals::ids_after(c, after, 200)?,
                    };
                    Ok((ids.last().copied(), documents::load_many(c, t, &ids)?))
                })?;
                let (Some(last), docs) = docs else { break };
                for d in &docs {
                    writer.add_new(d).map_err(index_error)?;
                }
                after = last;
                done += docs.len() as u64;
                progress(done, total);
            }
        }
        writer
            .commit_with_checkpoint(upto as u64)
            .map_err(index_error)?;
        Ok(done)
    })
}

/// How long the follower sleeps when nothing is pending.
pub const IDLE: Duration = Duration::from_millis(100);

/// Applies pending changes to the index without committing, then drops them as a crash
/// would: the tests use this to show that nothing is lost.
#[doc(hidden)]
pub fn apply_without_commit_for_tests(db: &Db, engine: &SearchEngine) -> AppResult<usize> {
    engine.with_writer(|writer| {
        let checkpoint = engine.checkpoint()?;
        let changes = db.read(|c| Ok(index_log::pending(c, checkpoint, BATCH)?))?;
        for ch in &changes {
            let Some(t) = doc_type(&ch.doc_type) else {
                continue;
            };
            if let Some(d) = db.read(|c| documents::load(c, t, ch.doc_id))? {
                writer.upsert(&d).map_err(index_error)?;
            }
        }
        writer.rollback().map_err(index_error)?;
        Ok(changes.len())
    })
}
