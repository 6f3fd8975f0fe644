//! The index follower: one thread per process that applies the index change log to the
//! search index, so a saved change is searchable within a fraction of a second. It
//! steps when the process's index signal moves (a local commit with changes, or another
//! node's NOTIFY on PostgreSQL, see `storage::index_signal`) and at least every `IDLE`.
//! On PostgreSQL a second thread keeps the process's line to the other nodes.

use std::time::{Duration, Instant};

pub use super::{Job, Running};
use crate::domain::Db;
use crate::domain::search::SearchEngine;
use crate::domain::search::follow::{BATCH, DatabaseTarget, Follower, IDLE, Peers};

/// How often the peers thread looks for other nodes' notifications: diesel cannot block
/// on them, so this bounds the delay they add (a look is a non-blocking socket read).
const PEERS_POLL: Duration = Duration::from_millis(5);

/// The shortest time from one step that applied changes to the next: a commit costs
/// about the same for one change as for a hundred (the new segment's files are synced
/// one by one), so while changes keep coming they are gathered for this long, as the old
/// fixed poll did, instead of being committed back to back at the cost of the requests'
/// CPU. The first change after a quiet spell is applied at once.
const COMMIT_SPACING: Duration = Duration::from_millis(100);

/// How long the peers thread waits before connecting again after losing its connection.
const PEERS_RECONNECT: Duration = Duration::from_secs(1);

pub fn spawn(db: Db, engine: SearchEngine) -> Running {
    Running::spawn("index-follower", move |job: &Job| {
        // Stopped (and joined) when this body returns, or restarted with it.
        let _peers = match db.target() {
            DatabaseTarget::Postgres(url) => Some(spawn_peers(db.clone(), url.clone())),
            DatabaseTarget::Sqlite(_) => None,
        };
        let signal = db.index_signal().clone();
        let mut follower = Follower::default();
        let mut failing = false;
        let mut applied_at: Option<Instant> = None;
        while !job.should_stop() {
            if let Some(wait) = applied_at.and_then(|t| COMMIT_SPACING.checked_sub(t.elapsed())) {
                std::thread::sleep(wait);
            }
            // Taken before the step reads the log: a change committed after this point
            // moves the signal, so the wait below does not sleep through it.
            let seen = signal.any();
            match follower.step(&db, &engine) {
                // A full batch means more is waiting: go on at once.
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(n) => {
                    failing = false;
                    applied_at = (n > 0).then(Instant::now);
                }
                Err(e) => {
                    if !failing {
                        log::error!("search index follower: {e}; retrying");
                    }
                    failing = true;
                    std::thread::sleep(IDLE);
                    continue;
                }
            }
            signal.wait_any(seen, IDLE);
        }
    })
}

/// The thread that NOTIFYs the other nodes after this process's commits and moves this
/// process's signal when they NOTIFY. Without it (connection lost) the followers still
/// poll every `IDLE`.
fn spawn_peers(db: Db, url: String) -> Running {
    Running::spawn("index-peers", move |job: &Job| {
        let signal = db.index_signal().clone();
        let mut peers: Option<Peers> = None;
        let mut next_attempt = Instant::now();
        let mut failing = false;
        let mut announced = signal.local();
        while !job.should_stop() {
            let local = signal.wait_local(announced, PEERS_POLL);
            let Some(p) = peers.as_mut() else {
                if Instant::now() >= next_attempt {
                    match Peers::connect(&url) {
                        Ok(p) => {
                            if failing {
                                log::info!("index peers: connected again");
                            }
                            failing = false;
                            peers = Some(p);
                            // Changes may have come while nobody listened.
                            signal.remote_change();
                        }
                        Err(e) => {
                            if !failing {
                                log::warn!(
                                    "index peers: cannot listen for other nodes' changes ({e}); \
                                     polling every {IDLE:?} meanwhile"
                                );
                            }
                            failing = true;
                            next_attempt = Instant::now() + PEERS_RECONNECT;
                        }
                    }
                }
                announced = local;
                continue;
            };
            let result = (|| {
                if local != announced {
                    p.announce()?;
                }
                p.heard()
            })();
            announced = local;
            match result {
                Ok(true) => signal.remote_change(),
                Ok(false) => {}
                Err(e) => {
                    log::warn!("index peers: lost the connection ({e}); connecting again");
                    failing = true;
                    peers = None;
                    next_attempt = Instant::now() + PEERS_RECONNECT;
                }
            }
        }
    })
}
