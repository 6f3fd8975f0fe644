//! Keeping the index in step with the database. Every change of searchable text wrote a
//! row to the index change log in its own transaction; `catch_up` applies the rows after
//! the index's checkpoint in batches and commits the new checkpoint with them, so after a
//! crash at any point the next run re-applies what the index lacks (applying twice is
//! harmless: documents are replaced whole). `rebuild` refills the index from the tables,
//! also when the log was pruned past the index's checkpoint (see `housekeeping`).
//!
//! Ids are handed out by a sequence when a change is written, but become visible when
//! its transaction commits. On SQLite writers are serialised, so ids commit in order
//! and a hole in them can only be a rollback: it is passed at once. On PostgreSQL id 11
//! may commit before id 10, and id 10 may commit any time later — seconds or hours —
//! so no waiting time tells a slow transaction from a rolled-back one. Snapshots do:
//!
//! * `index_log::record` gives the writing transaction its xid before it draws the
//!   change id. So if id G is missing from a read whose snapshot S shows a later id,
//!   G's transaction already had an xid when S was taken and had not committed (or it
//!   rolled back).
//! * That xid need not appear in S: a snapshot's `xmax` is one past the newest
//!   transaction that had *ended*, and a writer that got its xid after the one that
//!   committed G+1 (but drew G before it) is at or above `xmax`, listed nowhere, even
//!   with `xmin == xmax`. So the follower asks, in S's transaction and after S was
//!   taken, for an xid of its own (`View::horizon`): it is above the xid of every
//!   writer holding a missing id. It does so only when a read skips ids.
//! * Once a later read's snapshot has `xmin >= horizon`, every transaction that held a
//!   missing id has ended. If G is still absent in that read, it never will appear:
//!   the gap is passed. If it appeared, it is applied like any other change.
//!
//! (This relies on the sequence handing out ids in order, i.e. `CACHE 1`, the default
//! for `BIGSERIAL`.) Transaction ids belong to the whole server, so a long transaction
//! anywhere on it — another database included — delays passing a rolled-back gap, not
//! applying the changes after it. So nothing depends on time. Changes beyond an open gap are applied
//! at once; only the index's persisted checkpoint stays before the oldest open gap, so
//! a restart re-reads from there (applying twice is harmless). The follower reads on
//! from its own frontier, not from the checkpoint, so a gap that stays open while more
//! than a batch of later changes arrives does not stall it; it asks about its open
//! gaps by id range in the same snapshot.

use std::time::{Duration, Instant};

use search_index::DocType;

use super::{SearchEngine, documents, index_error};
use crate::domain::error::AppResult;
use crate::domain::housekeeping::{self, PRUNED_THROUGH};
use crate::storage::{self, Db, index_log};

/// Changes applied per commit.
pub const BATCH: i64 = 500;

fn doc_type(s: &str) -> Option<DocType> {
    DocType::parse(s)
}

/// Ids missing from the log, `from..=to`, first seen missing in a read whose horizon
/// was `seen_before`: they can be passed once a snapshot's `xmin` reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Gap {
    from: i64,
    to: i64,
    seen_before: u64,
}

/// State the follower keeps between rounds. `base` is the index checkpoint this state
/// belongs to; when the checkpoint moves otherwise (a rebuild, another follower), the
/// state is dropped and the log re-read from the checkpoint.
#[derive(Default)]
pub struct Follower {
    base: Option<i64>,
    /// Every change up to here has been applied or is inside an open gap.
    frontier: i64,
    /// Open gaps after the checkpoint, oldest first.
    gaps: Vec<Gap>,
}

impl Follower {
    /// Applies one batch of pending changes (and those that filled open gaps); returns
    /// how many were read. An index whose checkpoint lies before changes already pruned
    /// from the log is rebuilt.
    pub fn step(&mut self, db: &Db, engine: &SearchEngine) -> AppResult<usize> {
        let started = Instant::now();
        engine.with_writer(|writer| {
            let locked = started.elapsed();
            let checkpoint = engine.checkpoint()?;
            if self.base != Some(checkpoint) {
                *self = Follower {
                    base: Some(checkpoint),
                    frontier: checkpoint,
                    gaps: vec![],
                };
            }
            let ranges: Vec<(i64, i64)> = self.gaps.iter().map(|g| (g.from, g.to)).collect();
            let view = index_log::follow_view(db, self.frontier, &ranges, BATCH, PRUNED_THROUGH)?;
            let read = started.elapsed();
            // Read in the same snapshot as the changes: if a change this follower
            // still lacks was pruned, the pruned point says so.
            if checkpoint < view.pruned_through {
                log::warn!(
                    "the search index stopped at change {checkpoint}, but changes up to {} \
                     were pruned from the log; rebuilding it from the database",
                    view.pruned_through
                );
                self.base = None;
                return rebuild_with(writer, db, |_, _| {}).map(|n| n as usize);
            }
            let (gaps, frontier) = self.advance(&view);
            let safe = gaps.first().map_or(frontier, |g| g.from - 1);
            let changes: Vec<&index_log::Change> = view.filled.iter().chain(&view.next).collect();
            if changes.is_empty() && safe == checkpoint {
                self.gaps = gaps;
                return Ok(0);
            }
            let mut done = std::collections::BTreeSet::new();
            let docs = db.read(|conn| -> AppResult<_> {
                let mut out = vec![];
                for ch in &changes {
                    let Some(t) = doc_type(&ch.doc_type) else {
                        continue;
                    };
                    if done.insert((ch.doc_type.clone(), ch.doc_id)) {
                        out.push((t, ch.doc_id, documents::load(conn, t, ch.doc_id)?));
                    }
                }
                Ok(out)
            })?;
            let loaded = started.elapsed();
            for (t, id, doc) in &docs {
                match doc {
                    Some(d) => writer.upsert(d).map_err(index_error)?,
                    None => writer.delete(*t, *id),
                }
            }
            let indexed = started.elapsed();
            // On failure the state is left as it was before this step: the next one
            // repeats it.
            writer
                .commit_with_checkpoint(safe as u64)
                .map_err(index_error)?;
            // Where a step's time goes (KYOSO_LOG=kyoso::domain::search::follow=debug).
            // Documents are analysed on tantivy's indexing thread: that time is part of
            // the commit, with writing the segment, its fsyncs and the reload.
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            log::debug!(
                "applied {} changes, checkpoint {safe} (frontier {frontier}, {} open gaps): \
                 writer lock {:.1} ms, log read {:.1} ms, documents {:.1} ms, queueing {:.1} ms, \
                 commit {:.1} ms",
                changes.len(),
                gaps.len(),
                ms(locked),
                ms(read - locked),
                ms(loaded - read),
                ms(indexed - loaded),
                ms(started.elapsed() - indexed),
            );
            self.base = Some(safe);
            self.frontier = frontier;
            self.gaps = gaps;
            Ok(changes.len())
        })
    }

    /// The gaps still open and the new frontier after `view`.
    fn advance(&self, view: &index_log::View) -> (Vec<Gap>, i64) {
        let mut gaps = vec![];
        // Old gaps: take out the ids that filled; pass the rest once every
        // transaction that could still have filled them has ended.
        for g in &self.gaps {
            let ended = view.snapshot.is_none_or(|s| s.xmin >= g.seen_before);
            if ended {
                continue;
            }
            let mut from = g.from;
            for ch in view
                .filled
                .iter()
                .filter(|c| c.id >= g.from && c.id <= g.to)
            {
                if ch.id > from {
                    gaps.push(Gap {
                        to: ch.id - 1,
                        from,
                        seen_before: g.seen_before,
                    });
                }
                from = ch.id + 1;
            }
            if from <= g.to {
                gaps.push(Gap {
                    from,
                    to: g.to,
                    seen_before: g.seen_before,
                });
            }
        }
        // New gaps: holes between the changes read now. On SQLite there are none to
        // wait for (no `horizon`): a hole there is a rollback. On PostgreSQL even a
        // snapshot with nothing in progress (`xmin == xmax`) does not show that a hole
        // is a rollback: its writer may have an xid at or above `xmax`.
        let mut frontier = self.frontier;
        for ch in &view.next {
            if let Some(horizon) = view.horizon
                && ch.id > frontier + 1
            {
                gaps.push(Gap {
                    from: frontier + 1,
                    to: ch.id - 1,
                    seen_before: horizon,
                });
            }
            frontier = frontier.max(ch.id);
        }
        (gaps, frontier)
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
pub fn rebuild(db: &Db, engine: &SearchEngine, progress: impl FnMut(u64, u64)) -> AppResult<u64> {
    engine.with_writer(|writer| rebuild_with(writer, db, progress))
}

fn rebuild_with(
    writer: &mut search_index::Writer,
    db: &Db,
    mut progress: impl FnMut(u64, u64),
) -> AppResult<u64> {
    let (newest, horizon) = index_log::max_id_with_horizon(db)?;
    // A change below `newest` may belong to a transaction still in progress; the tables
    // are read only once all of those have ended, or the checkpoint would pass a change
    // the tables read did not contain.
    if let Some(h) = horizon {
        wait_for_transactions_before(db, h)?;
    }
    let (upto, total) = db.read(|c| -> AppResult<_> {
        let upto = newest.max(housekeeping::pruned_through_in(c)?);
        let total =
            storage::needs::count(c)? + storage::offers::count(c)? + storage::proposals::count(c)?;
        Ok((upto, total as u64))
    })?;
    writer.delete_all().map_err(index_error)?;
    let mut done = 0u64;
    progress(0, total);
    for t in [DocType::Need, DocType::Offer, DocType::Proposal] {
        let mut after = 0;
        loop {
            let docs = db.read(|c| documents::page_after(c, t, after, 200))?;
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
}

/// Waits until every PostgreSQL transaction with an xid below `xmax` has ended.
fn wait_for_transactions_before(db: &Db, xmax: u64) -> AppResult<()> {
    let started = std::time::Instant::now();
    let mut warned = false;
    loop {
        let now = db.read(index_log::current_snapshot)?;
        if now.is_none_or(|s| s.xmin >= xmax) {
            return Ok(());
        }
        if !warned && started.elapsed() > Duration::from_secs(10) {
            log::warn!(
                "search index rebuild: waiting for a database transaction that has been open \
                 for a long time to end (see pg_stat_activity)"
            );
            warned = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// What the follower job needs of storage to wake on other nodes' commits (which
// database it follows, the line to the other nodes), named here so that jobs reach
// storage only through the domain, as every layer above it does.
pub use crate::storage::connection::DatabaseTarget;
pub use crate::storage::index_signal::Peers;

/// The longest the follower waits for the index signal (`storage::index_signal`) before
/// it reads the log anyway: what a change written by another process that does not
/// signal (a CLI command; a node whose NOTIFY line is down) waits at most, and how often
/// an open gap is looked at again.
pub const IDLE: Duration = Duration::from_millis(100);

/// Applies pending changes to the index without committing, then drops them as a crash
/// would: the tests use this to show that nothing is lost.
#[doc(hidden)]
pub fn apply_without_commit_for_tests(db: &Db, engine: &SearchEngine) -> AppResult<usize> {
    engine.with_writer(|writer| {
        let checkpoint = engine.checkpoint()?;
        let changes =
            db.read(|c| -> AppResult<_> { Ok(index_log::pending(c, checkpoint, BATCH)?) })?;
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
