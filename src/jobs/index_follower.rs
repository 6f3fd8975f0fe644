//! The index follower: one thread per process that applies the index change log to the
//! search index, so a saved change is searchable within a fraction of a second.

pub use super::{Job, Running};
use crate::domain::Db;
use crate::domain::search::SearchEngine;
use crate::domain::search::follow::{BATCH, Follower, IDLE};

pub fn spawn(db: Db, engine: SearchEngine) -> Running {
    Running::spawn("index-follower", move |job: &Job| {
        let mut follower = Follower::default();
        let mut failing = false;
        while !job.should_stop() {
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
}
