//! Waking the index followers when the change log grows, so that a change is searchable
//! on every node without waiting for the next poll.
//!
//! In one process: `index_log::record` counts on the writing thread, and `Db::write`,
//! once its transaction has committed with changes recorded, moves the process's
//! [`IndexSignal`]; the follower waits on it (with the poll interval as timeout, for
//! writers outside this process and for gaps that need a later snapshot).
//!
//! Between processes on one PostgreSQL: each `kyoso serve` keeps one connection of its
//! own ([`Peers`]) that LISTENs on [`CHANNEL`] and NOTIFYs it after local commits, and
//! turns other processes' notifications into a move of its own signal. The NOTIFY is
//! sent in a transaction of its own, after the writer's commit, and not by the writing
//! transaction: PostgreSQL serialises the commits of notifying transactions under one
//! lock held through the commit's WAL flush, which would put every proposal's commit
//! in one queue across the cluster; a separate NOTIFY also coalesces the changes that
//! commit while one is on its way. diesel can only look at a connection's notifications
//! without blocking, so [`Peers::heard`] is polled every few milliseconds; that costs a
//! non-blocking read from the socket, not a query.
//!
//! The signal only shortens waits; nothing depends on it for correctness: the follower
//! still reads the log itself and still polls.

use std::cell::Cell;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::error::StorageError;

/// The PostgreSQL notification channel (per database: a NOTIFY reaches only listeners
/// connected to the same database).
pub const CHANNEL: &str = "kyoso_index_changes";

thread_local! {
    /// Changes recorded by this thread, ever: `Db::write` compares it before and after
    /// its transaction.
    static RECORDED: Cell<u64> = const { Cell::new(0) };
}

/// Called by `index_log::record` (inside the writing transaction).
pub(super) fn note_recorded() {
    RECORDED.with(|r| r.set(r.get().wrapping_add(1)));
}

/// How many changes this thread has recorded so far.
pub(super) fn recorded_here() -> u64 {
    RECORDED.with(Cell::get)
}

#[derive(Debug, Default, Clone, Copy)]
struct Generations {
    /// Commits with changes made in this process.
    local: u64,
    /// Those plus the other processes' announcements heard.
    any: u64,
}

/// Counters that move when changes are committed, with a condition variable to wait
/// on them; one per `Db` (shared by its clones).
#[derive(Debug, Default)]
pub struct IndexSignal {
    generations: Mutex<Generations>,
    changed: Condvar,
}

impl IndexSignal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.generations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A transaction of this process committed changes to the log.
    pub fn local_change(&self) {
        let mut g = self.lock();
        g.local = g.local.wrapping_add(1);
        g.any = g.any.wrapping_add(1);
        self.changed.notify_all();
    }

    /// Another process announced changes.
    pub fn remote_change(&self) {
        let mut g = self.lock();
        g.any = g.any.wrapping_add(1);
        self.changed.notify_all();
    }

    /// The counter of all changes; read it *before* reading the log, then wait with it.
    pub fn any(&self) -> u64 {
        self.lock().any
    }

    /// The counter of this process's changes.
    pub fn local(&self) -> u64 {
        self.lock().local
    }

    /// Waits until the counter of all changes differs from `seen`, or `timeout`;
    /// returns it.
    pub fn wait_any(&self, seen: u64, timeout: Duration) -> u64 {
        self.wait(seen, timeout, |g| g.any)
    }

    /// Waits until the counter of this process's changes differs from `seen`, or
    /// `timeout`; returns it.
    pub fn wait_local(&self, seen: u64, timeout: Duration) -> u64 {
        self.wait(seen, timeout, |g| g.local)
    }

    fn wait(&self, seen: u64, timeout: Duration, pick: impl Fn(&Generations) -> u64) -> u64 {
        let g = self.lock();
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |g| pick(g) == seen)
            .unwrap_or_else(|p| p.into_inner());
        pick(&g)
    }
}

/// One process's line to the others on the same PostgreSQL database: LISTENs on
/// [`CHANNEL`] and NOTIFYs it.
pub struct Peers {
    conn: diesel::PgConnection,
    /// This connection's server process, whose own notifications come back to it.
    pid: i32,
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

impl Peers {
    /// Connects (outside the pool: the connection stays in LISTEN for the process's
    /// life) and starts listening.
    pub fn connect(url: &str) -> Result<Peers, StorageError> {
        let mut conn = diesel::PgConnection::establish(url).map_err(StorageError::other)?;
        conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        let pid: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(&mut conn)?;
        Ok(Peers { conn, pid: pid.pid })
    }

    /// Tells the other processes that changes were committed.
    pub fn announce(&mut self) -> Result<(), StorageError> {
        self.conn.batch_execute(&format!("NOTIFY {CHANNEL}"))?;
        Ok(())
    }

    /// Whether another process announced changes since the last call (without
    /// blocking: reads what the socket holds).
    pub fn heard(&mut self) -> Result<bool, StorageError> {
        let mut heard = false;
        for n in self.conn.notifications_iter() {
            heard |= n?.process_id != self.pid;
        }
        Ok(heard)
    }
}
