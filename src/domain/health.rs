//! What the service knows about its own health: a liveness record per background job
//! (a heartbeat, whether its thread runs, is waiting to restart after a panic, or has
//! stopped), the board where a process lists the jobs it runs, and the database check
//! that readiness adds to them. The probes in `api::health` render these.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::error::AppResult;
use crate::storage::{Db, index_log};

const RUNNING: u8 = 0;
const RESTARTING: u8 = 1;
const STOPPED: u8 = 2;

/// One job's liveness record, written by its thread and read by the probes.
#[derive(Debug)]
pub struct Liveness {
    name: &'static str,
    state: AtomicU8,
    /// When the job last went round its loop, in milliseconds since the Unix epoch.
    beat_ms: AtomicI64,
    panics: AtomicU32,
}

fn unix_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Liveness {
    pub fn new(name: &'static str) -> Liveness {
        Liveness {
            name,
            state: AtomicU8::new(RUNNING),
            beat_ms: AtomicI64::new(unix_ms()),
            panics: AtomicU32::new(0),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The job is going round its loop.
    pub fn beat(&self) {
        self.beat_ms.store(unix_ms(), Ordering::Relaxed);
    }

    /// The job panicked; its thread restarts it after a pause.
    pub fn panicked(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
        self.state.store(RESTARTING, Ordering::Relaxed);
    }

    /// The job runs (again).
    pub fn running(&self) {
        self.beat();
        self.state.store(RUNNING, Ordering::Relaxed);
    }

    /// The job's thread has ended.
    pub fn stopped(&self) {
        self.state.store(STOPPED, Ordering::Relaxed);
    }

    pub fn report(&self) -> JobReport {
        let state = match self.state.load(Ordering::Relaxed) {
            RUNNING => JobState::Running,
            RESTARTING => JobState::Restarting,
            _ => JobState::Stopped,
        };
        let age_ms = (unix_ms() - self.beat_ms.load(Ordering::Relaxed)).max(0);
        JobReport {
            name: self.name,
            state,
            seconds_since_heartbeat: age_ms as f64 / 1000.0,
            panics: self.panics.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    /// It panicked and will be started again shortly.
    Restarting,
    /// Its thread has ended: the job no longer runs in this process.
    Stopped,
}

/// A job's state as the readiness probe shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct JobReport {
    /// `index-follower`, `mail-sender` or `scheduler`.
    pub name: &'static str,
    pub state: JobState,
    /// Seconds since the job last went round its loop.
    pub seconds_since_heartbeat: f64,
    /// Panics caught (and restarted from) since the process started.
    pub panics: u32,
}

impl JobReport {
    /// What is wrong with the job, in words, or `None` when it runs.
    pub fn trouble(&self) -> Option<String> {
        let name = self.name.replace('-', " ");
        match self.state {
            JobState::Running => None,
            JobState::Restarting => Some(format!("the {name} panicked and is restarting")),
            JobState::Stopped => Some(format!("the {name} has stopped")),
        }
    }
}

/// The jobs a process runs, and whether it is draining before a stop. `serve`
/// registers the index follower, the mail sender and the scheduler; a test app
/// registers what it starts. Readiness requires each registered job to be running and
/// the process not to be draining.
#[derive(Debug, Clone, Default)]
pub struct JobBoard {
    jobs: Arc<Mutex<Vec<Arc<Liveness>>>>,
    drain: Arc<Drain>,
}

/// A stopping process first drains: `/readyz` answers 503 at once, so a load balancer
/// takes the node out, while requests still arriving are served; the server stops
/// once no request (probes aside) has started for a while.
#[derive(Debug, Default)]
struct Drain {
    draining: AtomicBool,
    /// When the last request other than a probe started, in ms since the Unix epoch.
    last_request_ms: AtomicI64,
}

impl JobBoard {
    pub fn register(&self, job: Arc<Liveness>) {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job);
    }

    pub fn report(&self) -> Vec<JobReport> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|j| j.report())
            .collect()
    }

    /// From now on readiness fails: the process is about to stop.
    pub fn start_draining(&self) {
        self.drain.draining.store(true, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.drain.draining.load(Ordering::SeqCst)
    }

    /// A request (not a probe) has started.
    pub fn request_started(&self) {
        self.drain
            .last_request_ms
            .store(unix_ms(), Ordering::Relaxed);
    }

    /// How long ago the last request other than a probe started.
    pub fn quiet_for(&self) -> std::time::Duration {
        let ms = unix_ms() - self.drain.last_request_ms.load(Ordering::Relaxed);
        std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }
}

/// Which database the service runs on: `sqlite` or `postgresql`.
pub fn database_name(db: &Db) -> &'static str {
    db.target().backend_name()
}

/// Checks that the database answers a query and returns how many changes of the log
/// wait after `checkpoint` (the search index's lag).
pub fn database_backlog(db: &Db, checkpoint: i64) -> AppResult<i64> {
    db.ping()?;
    db.read(|c| Ok(index_log::backlog(c, checkpoint)?))
}
