//! `kyoso serve`, from start to stop.
//!
//! Start: the port is bound first, and until the database answers, migrations have run
//! and the search index has caught up, a small "starting" server on it answers
//! `/healthz` with 200 and everything else (`/readyz` included) with 503 saying what
//! it waits for. A database that is not up yet is retried with backoff (0.5 s doubling
//! to 10 s), never a reason to exit: containers and their database often start in the
//! wrong order. Then the starting server is stopped gracefully and the real one serves
//! on the same socket (connections arriving in between wait in the listen queue).
//!
//! Stop: SIGTERM or SIGINT, at any time, first drains: `/readyz` answers 503 at once,
//! so a load balancer checking it takes the node out, while requests still arriving
//! are served; once no request (probes aside) has started for `QUIET` (at most
//! `LONGEST_DRAIN` after the signal) the server in charge stops gracefully — it
//! accepts no new connections and lets requests in flight finish (up to
//! `app::SHUTDOWN_GRACE_SECS`) — and only then are the background jobs stopped and
//! waited for, so a request in flight never loses the thread it relies on. Without a
//! load balancer nothing arrives and the drain takes `QUIET` at most. The signals are handled
//! here rather than by each actix server, so that one arriving between the two servers
//! is not lost.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::rt::signal::unix::{SignalKind, signal};

use crate::config::Settings;
use crate::domain::health::JobBoard;
use crate::domain::search::{INSTALL_DICTIONARY, SearchEngine};
use crate::storage::Db;
use crate::{app, jobs};

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LONGEST_RETRY: Duration = Duration::from_secs(10);
/// A draining server stops once no request has started for this long: the load
/// balancer has taken it out (or there is none).
const QUIET: Duration = Duration::from_millis(300);
/// A draining server stops after this even while requests keep coming (a load
/// balancer that does not check `/readyz`); those then meet a closed port, which a
/// load balancer retries on another node.
const LONGEST_DRAIN: Duration = Duration::from_secs(10);

/// Serves on `listener` until SIGTERM or SIGINT. Call inside an actix system.
pub async fn run(settings: Settings, listener: TcpListener) -> anyhow::Result<()> {
    let stopping = Arc::new(AtomicBool::new(false));
    let current: Arc<Mutex<Option<ServerHandle>>> = Arc::new(Mutex::new(None));
    let board = JobBoard::default();
    for (kind, what) in [
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::interrupt(), "SIGINT"),
    ] {
        let mut signals = signal(kind)?;
        let (stopping, current, board) = (stopping.clone(), current.clone(), board.clone());
        actix_web::rt::spawn(async move {
            while signals.recv().await.is_some() {
                log::info!("{what}: not ready any more; draining, then stopping");
                stopping.store(true, Ordering::SeqCst);
                board.start_draining();
                let since = std::time::Instant::now();
                while board.quiet_for() < QUIET && since.elapsed() < LONGEST_DRAIN {
                    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                }
                log::info!("drained; finishing the requests in flight, then stopping");
                let handle = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(h) = handle {
                    h.stop(true).await;
                }
            }
        });
    }

    let waiting = Arc::new(Mutex::new("connecting to the database".to_owned()));
    let starting = app::starting_server(waiting.clone(), listener.try_clone()?)?;
    let starting_handle = starting.handle();
    *current.lock().unwrap_or_else(|p| p.into_inner()) = Some(starting_handle.clone());
    let starting_task = actix_web::rt::spawn(starting);

    // Start-up blocks (connecting, migrating, rebuilding the index), so it runs on a
    // thread of its own; a signal meanwhile ends the process without waiting for it.
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let (settings, stopping) = (settings.clone(), stopping.clone());
        std::thread::Builder::new()
            .name("start-up".into())
            .spawn(move || {
                let _ = tx.send(prepare(&settings, &waiting, &stopping));
            })?;
    }
    let prepared = loop {
        if stopping.load(Ordering::SeqCst) {
            let _ = starting_task.await;
            return Ok(());
        }
        match rx.try_recv() {
            Ok(r) => break r,
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                actix_web::rt::time::sleep(Duration::from_millis(50)).await
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                anyhow::bail!("start-up ended without a result")
            }
        }
    };
    starting_handle.stop(true).await;
    let _ = starting_task.await;
    let Some((db, search)) = prepared? else {
        return Ok(());
    };

    let follower = jobs::index_follower::spawn(db.clone(), search.clone());
    let sender = jobs::mail_sender::spawn(db.clone(), crate::commands::mail::mailer(&settings)?);
    let scheduler = jobs::scheduler::spawn(
        db.clone(),
        search.clone(),
        settings.digest,
        settings.match_alert_threshold,
        settings.mail_retention_days,
    );
    for job in [&follower, &sender, &scheduler] {
        board.register(job.liveness());
    }
    let server =
        app::server_with_limits(db, search.clone(), board, settings.limits.clone(), listener)?;
    *current.lock().unwrap_or_else(|p| p.into_inner()) = Some(server.handle());
    // A signal that came before the handle was in place.
    if stopping.load(Ordering::SeqCst) {
        let handle = server.handle();
        actix_web::rt::spawn(async move { handle.stop(true).await });
    }
    if let Some(banner) = degraded_banner(&search, &settings) {
        eprint!("{banner}");
    }
    log::info!(
        "kyoso ready on http://{}; API at /api/v1, OpenAPI at /api/v1/openapi.json, staff console at /admin",
        settings.bind
    );
    server.await?;
    log::info!("HTTP server stopped; stopping the background jobs");
    drop((follower, sender, scheduler));
    log::info!("stopped");
    Ok(())
}

/// The block `serve` prints on stderr when search runs without the Japanese dictionary:
/// a log line scrolls away among the others, this does not. Printed directly rather than
/// logged, so no log filter (`KYOSO_LOG=error`) can hide it; the console tells admins
/// too, and /readyz says `"degraded": true`.
pub fn degraded_banner(search: &SearchEngine, settings: &Settings) -> Option<String> {
    if !search.bigram_only() {
        return None;
    }
    let rule = "=".repeat(78);
    Some(format!(
        "\n{rule}\n\
         kyoso: SEARCH QUALITY IS REDUCED / 検索の精度が低下しています\n\
         \n\
         The Japanese dictionary (MeCab IPADIC) was not found in {dir},\n\
         so search analyses text in bigrams only: every query works, but results\n\
         and matches rank less precisely.\n\
         日本語辞書がないため、検索は2文字ずつの区切り（バイグラム）だけで動いています。\n\
         \n\
         Fix (Debian/Ubuntu), then restart kyoso; the index is rebuilt at start:\n\
         \n\
         \x20   {INSTALL_DICTIONARY}\n\
         \n\
         (or point KYOSO_IPADIC_DIR at an IPADIC source directory)\n\
         {rule}\n\n",
        dir = settings.ipadic_dir.display(),
    ))
}

/// Connects (retrying while the database does not answer), migrates and brings the
/// search index up to date; `None` when asked to stop meanwhile.
fn prepare(
    settings: &Settings,
    waiting: &Mutex<String>,
    stopping: &AtomicBool,
) -> anyhow::Result<Option<(Db, SearchEngine)>> {
    let set = |what: &str| *waiting.lock().unwrap_or_else(|p| p.into_inner()) = what.to_owned();
    let backend = settings.database.backend_name();
    let mut pause = FIRST_RETRY;
    let db = loop {
        if stopping.load(Ordering::SeqCst) {
            return Ok(None);
        }
        set("connecting to the database");
        match Db::open(settings.database.clone(), settings.pool_size) {
            Ok(db) => {
                set("applying database migrations");
                match db.migrate() {
                    Ok(applied) => {
                        if !applied.is_empty() {
                            log::info!(
                                "applied {} migration(s): {}",
                                applied.len(),
                                applied.join(", ")
                            );
                        }
                        break db;
                    }
                    // A migration that fails on a database that answers is a real
                    // failure; one that failed because the connection went is retried.
                    Err(e) if db.ping().is_ok() => return Err(e),
                    Err(e) => log::warn!("the {backend} database went away while migrating: {e:#}"),
                }
            }
            Err(e) => {
                set(&format!("the {backend} database is unreachable"));
                log::warn!("{e:#}; retrying in {pause:?}");
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(LONGEST_RETRY);
    };
    set("bringing the search index up to date");
    let search = crate::commands::search::start(settings, &db)?;
    Ok(Some((db, search)))
}
