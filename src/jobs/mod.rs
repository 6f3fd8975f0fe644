//! Background work of a running service, each job named and idempotent, each on its
//! own thread that stops when its `Running` handle is dropped.
//!
//! A panic inside a job is caught on its thread, logged, and the job is started again
//! after a pause (1 s, doubling up to a minute while it keeps panicking): a bad row or
//! a bug hit once should not leave the process without search updates or mail until
//! someone restarts it. Each job keeps a liveness record (`domain::health::Liveness`):
//! it beats every time the job checks whether to stop, says "restarting" between a
//! panic and the restart and "stopped" once the thread has ended, and `/readyz` is not
//! ready while any registered job is not running.

pub mod index_follower;
pub mod mail_sender;
pub mod scheduler;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::domain::health::Liveness;

const FIRST_RESTART_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_RESTART_PAUSE: Duration = Duration::from_secs(60);

/// What a job's body sees of its thread.
pub struct Job {
    stop: Arc<AtomicBool>,
    live: Arc<Liveness>,
}

impl Job {
    /// Whether the job should end now; also its heartbeat, as every job asks this once
    /// per round.
    pub fn should_stop(&self) -> bool {
        self.live.beat();
        self.stop.load(Ordering::Relaxed)
    }
}

/// A running job; dropping it stops the job and waits for it.
pub struct Running {
    stop: Arc<AtomicBool>,
    live: Arc<Liveness>,
    handle: Option<JoinHandle<()>>,
}

impl Running {
    /// Runs `body` on a thread named `name` until it returns (it should when
    /// `Job::should_stop` says so), restarting it after a panic.
    pub fn spawn(name: &'static str, body: impl Fn(&Job) + Send + 'static) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let live = Arc::new(Liveness::new(name));
        let job = Job {
            stop: stop.clone(),
            live: live.clone(),
        };
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || supervise(name, &job, body));
        // Without a thread the job is reported stopped, so /readyz says so.
        let handle = match handle {
            Ok(h) => Some(h),
            Err(e) => {
                log::error!("cannot start the {name} thread: {e}");
                live.stopped();
                None
            }
        };
        Running { stop, live, handle }
    }

    /// The job's liveness record, for the process's `JobBoard`.
    pub fn liveness(&self) -> Arc<Liveness> {
        self.live.clone()
    }
}

fn supervise(name: &str, job: &Job, body: impl Fn(&Job)) {
    let mut pause = FIRST_RESTART_PAUSE;
    loop {
        let started = Instant::now();
        // The body is started afresh after a panic: what it built inside is gone, and
        // what it shares (the pool, the index writer) recovers from poisoned locks.
        match catch_unwind(AssertUnwindSafe(|| body(job))) {
            Ok(()) => break,
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_owned());
                job.live.panicked();
                if started.elapsed() > LONGEST_RESTART_PAUSE {
                    pause = FIRST_RESTART_PAUSE;
                }
                log::error!("job {name} panicked ({what}); restarting it in {pause:?}");
                let until = Instant::now() + pause;
                while Instant::now() < until {
                    if job.stop.load(Ordering::Relaxed) {
                        job.live.stopped();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                pause = (pause * 2).min(LONGEST_RESTART_PAUSE);
                job.live.running();
            }
        }
    }
    job.live.stopped();
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health::JobState;
    use std::sync::atomic::AtomicU32;

    fn wait_for(what: &str, cond: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < until, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_panicking_job_is_reported_and_restarted() {
        let rounds = Arc::new(AtomicU32::new(0));
        let r = rounds.clone();
        let running = Running::spawn("test-job", move |job| {
            if r.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("the first round fails");
            }
            while !job.should_stop() {
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let live = running.liveness();
        wait_for("the panic", || live.report().panics == 1);
        assert_eq!(live.report().state, JobState::Restarting);
        wait_for("the restart", || live.report().state == JobState::Running);
        assert_eq!(rounds.load(Ordering::SeqCst), 2);
        drop(running);
        assert_eq!(live.report().state, JobState::Stopped);
    }

    #[test]
    fn a_job_that_returns_is_stopped() {
        let running = Running::spawn("test-job", |_| {});
        let live = running.liveness();
        wait_for("the end", || live.report().state == JobState::Stopped);
    }
}
