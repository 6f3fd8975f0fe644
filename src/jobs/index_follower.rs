//! The index follower: one thread per process that applies the index change log to the
//! search index, so a saved change is searchable within a fraction of a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::domain::search::SearchEngine;
use crate::domain::search::follow::{BATCH, Follower, IDLE};
use crate::storage::Db;

/// Stops the follower when dropped.
pub struct Running {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn spawn(db: Db, engine: SearchEngine) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::Builder::new()
        .name("index-follower".into())
        .spawn(move || {
            let mut follower = Follower::default();
            let mut failing = false;
            while !flag.load(Ordering::Relaxed) {
                match follower.step(&db, &engine) {
                    // A full batch means more is waiting: go on at once.
                    Ok(n) if n as i64 >= BATCH => continue,
                    Ok(_) => failing = false,
                    Err(e) => {
                        if !failing {
                            log::error!("search index follower: {e}; retrying");
                        }
                        failing = true;
                    }
                }
                std::thread::sleep(IDLE);
            }
        })
        .expect("spawn the index follower thread");
    Running {
        stop,
        handle: Some(handle),
    }
}
