//! Starting search for a process: analyzers, the index (rebuilt when missing, corrupt or
//! of an older schema), and catching up with the change log.

use std::io::Write;

use crate::config::Settings;
use crate::domain::search::{SearchEngine, follow};
use crate::storage::Db;

/// Opens the engine and brings the index up to date with the database.
pub fn start(settings: &Settings, db: &Db) -> anyhow::Result<SearchEngine> {
    let engine = SearchEngine::open(&settings.data_dir, &settings.ipadic_dir)?;
    let status = engine.analyzers.status();
    if engine.bigram_only() {
        log::warn!(
            "search: {status}. Install the Debian package mecab-ipadic (or set KYOSO_IPADIC_DIR) for Japanese morphological analysis."
        );
    } else {
        log::info!("search: {status}");
    }
    if engine.needs_rebuild() {
        log::warn!(
            "search index: {:?}; rebuilding it from the database",
            engine.opened
        );
        let n = follow::rebuild(db, &engine, |_, _| {})
            .map_err(|e| anyhow::Error::new(e).context("rebuilding the search index"))?;
        log::info!("search index rebuilt: {n} documents");
    }
    let applied = follow::catch_up(db, &engine)
        .map_err(|e| anyhow::Error::new(e).context("catching up the search index"))?;
    if applied > 0 {
        log::info!("search index caught up with {applied} change(s) made while it was not running");
    }
    // Before the node says it is ready: the first searches would otherwise read the
    // index's files by page faults, seconds for a large index.
    let started = std::time::Instant::now();
    match engine.index.warm() {
        Ok(bytes) => log::info!(
            "search index warmed: {} MiB read in {:.1} s",
            bytes >> 20,
            started.elapsed().as_secs_f64()
        ),
        // A cold index still answers, only slowly at first.
        Err(e) => log::warn!("warming the search index: {e}"),
    }
    Ok(engine)
}

/// `kyoso reindex`: rebuilds the index from the database with a progress bar.
pub fn reindex(settings: &Settings, db: &Db) -> anyhow::Result<u64> {
    let engine = SearchEngine::open(&settings.data_dir, &settings.ipadic_dir)?;
    eprintln!("{}", engine.analyzers.status());
    let started = std::time::Instant::now();
    let n = follow::rebuild(db, &engine, |done, total| {
        let width = 30;
        let filled = (done * width as u64)
            .checked_div(total)
            .map_or(width, |f| f as usize)
            .min(width);

        eprint!(
            "\r索引を再構築中 reindexing [{}{}] {done}/{total}",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        let _ = std::io::stderr().flush();
    })
    .map_err(|e| anyhow::Error::new(e).context("rebuilding the search index"))?;
    eprintln!();
    eprintln!("{n} documents in {:.1} s", started.elapsed().as_secs_f64());
    Ok(n)
}
