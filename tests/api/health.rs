//! Honest health: `/readyz` is 503 naming the trouble when the database is unreachable
//! or a background job is not running, and 200 otherwise. The real `kyoso serve`
//! process waits for a database that comes up late (behind a TCP proxy the test opens
//! and cuts), and on SIGTERM answers every request in flight before it exits, losing
//! no write it confirmed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{Backend, ScratchDir, TestApp, World, fresh_database, offer_body};
use crate::on_both_backends;
use kyoso::jobs::Running;
use kyoso::storage::Db;
use kyoso::storage::connection::DatabaseTarget;

on_both_backends!(a_job_that_is_not_running_makes_readyz_503);

async fn a_job_that_is_not_running_makes_readyz_503(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["jobs"][0]["name"], "index-follower");
    assert_eq!(ready.body["jobs"][0]["state"], "running");

    // A job that panics is restarted, and not ready meanwhile.
    let panicking = Running::spawn("mail-sender", |_| panic!("a test job fails"));
    app.jobs.register(panicking.liveness());
    let until = Instant::now() + Duration::from_secs(10);
    while panicking.liveness().report().panics == 0 {
        assert!(Instant::now() < until, "the job did not panic");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let r = app.get("/readyz", None).await;
    r.assert_problem(503, "unavailable");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("the mail sender panicked and is restarting"),
        "{detail}"
    );
    drop(panicking);
    let r = app.get("/readyz", None).await;
    r.assert_problem(503, "unavailable");
    assert!(r.text.contains("the mail sender has stopped"), "{}", r.text);

    // The follower's thread ends: not ready, and the probe says which job.
    drop(app.follower.take());
    let r = app.get("/readyz", None).await;
    r.assert_problem(503, "unavailable");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("the index follower has stopped"),
        "{detail}"
    );
    assert!(!detail.contains("database"), "{detail}");
    // Liveness is another question: the process still answers.
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

// --- the real process -------------------------------------------------------------

/// A free port on the loopback interface.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `kyoso serve` on `port` over `database_url`, with bigram-only search (no dictionary
/// to build) and mail written to files.
fn serve(dir: &ScratchDir, database_url: &str, port: u16) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kyoso"));
    c.current_dir(&dir.0).env_remove("DATABASE_URL");
    for (k, _) in std::env::vars() {
        if k.starts_with("KYOSO_") {
            c.env_remove(k);
        }
    }
    c.arg("serve")
        .env("KYOSO_DATABASE_URL", database_url)
        .env("KYOSO_DATA_DIR", dir.0.join("data"))
        .env("KYOSO_IPADIC_DIR", dir.0.join("no-ipadic"))
        .env("KYOSO_BIND", format!("127.0.0.1:{port}"))
        .env("KYOSO_POOL_SIZE", "4")
        .env("KYOSO_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.0.join(format!("serve-{port}.log"))).unwrap());
    c.spawn().unwrap()
}

/// A process that is killed if the test fails before stopping it.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Service {
    fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
    }

    fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < until,
                "kyoso did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One complete HTTP/1.1 answer: its status and body. `Err` when the connection fails
/// or ends before the answer is complete (the body shorter than its Content-Length).
fn http(
    port: u16,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(k) = key {
        req.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    if body.is_some() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!(
        "Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    ));
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = vec![];
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("incomplete answer: {text:?}"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    let length: Option<usize> = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    });
    match length {
        Some(n) if rest.len() != n => return Err(format!("body of {} bytes, not {n}", rest.len())),
        None => return Err(format!("no Content-Length: {head:?}")),
        _ => {}
    }
    Ok((status, serde_json::from_str(rest).unwrap_or(Value::Null)))
}

/// Polls `/readyz` until it answers `status`; returns the last body.
fn wait_readyz(port: u16, status: u16, within: Duration) -> Value {
    let until = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < until {
        match http(port, "GET", "/readyz", None, None) {
            Ok((s, body)) if s == status => return body,
            Ok((s, body)) => last = format!("{s} {body}"),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("/readyz did not answer {status} within {within:?}; last: {last}");
}

/// A TCP proxy to `upstream`: while closed it accepts and drops every connection (a
/// database that is not up yet); while open it forwards; closing it cuts every
/// connection it forwards.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (o, st) = (open.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !o.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let pipe = |mut from: TcpStream, mut to: TcpStream| {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                };
                let mut kept = st.lock().unwrap();
                kept.push(client.try_clone().unwrap());
                kept.push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy {
            port,
            open,
            streams,
        }
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// `host:port` and the URL with them replaced by `addr`.
fn split_url(url: &str) -> (String, impl Fn(&str) -> String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, path) = rest.split_once('/').unwrap();
    let (user, host) = auth.rsplit_once('@').map_or(("", auth), |(u, h)| (u, h));
    let (scheme, user, path) = (scheme.to_owned(), user.to_owned(), path.to_owned());
    (host.to_owned(), move |addr: &str| {
        let at = if user.is_empty() {
            String::new()
        } else {
            format!("{user}@")
        };
        format!("{scheme}://{at}{addr}/{path}")
    })
}

fn postgres_url(target: &DatabaseTarget) -> String {
    match target {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::Sqlite(_) => unreachable!("these tests run on PostgreSQL"),
    }
}

#[test]
fn serve_waits_for_a_late_database_and_readyz_follows_it() {
    let dir = ScratchDir::new();
    let url = postgres_url(&fresh_database(Backend::Postgres, &dir));
    let (upstream, via) = split_url(&url);
    let proxy = Proxy::start(upstream);
    let port = free_port();
    let mut service = Service(serve(
        &dir,
        &via(&format!("127.0.0.1:{}", proxy.port)),
        port,
    ));

    // The database does not answer: the process stays up, live but not ready.
    let body = wait_readyz(port, 503, Duration::from_secs(30));
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("starting"),
        "{body}"
    );
    assert_eq!(http(port, "GET", "/healthz", None, None).unwrap().0, 200);
    std::thread::sleep(Duration::from_secs(3));
    assert!(service.0.try_wait().unwrap().is_none(), "kyoso exited");
    assert_eq!(
        wait_readyz(port, 503, Duration::from_secs(5))["code"],
        "unavailable"
    );

    // It comes up: kyoso migrates, starts search and becomes ready; the API works.
    proxy.open();
    let ready = wait_readyz(port, 200, Duration::from_secs(60));
    assert_eq!(ready["database"], "postgresql");
    let db = Db::open(DatabaseTarget::Postgres(url.clone()), 2).unwrap();
    let w = World::seed(&db);
    let key = w.partner_a.1.as_str();
    let (status, created) = http(
        port,
        "POST",
        "/api/v1/offers",
        Some(key),
        Some(&offer_body("防災アプリの提供")),
    )
    .unwrap();
    assert_eq!(status, 201, "{created}");
    let path = format!("/api/v1/offers/{}", created["id"]);
    assert_eq!(http(port, "GET", &path, Some(key), None).unwrap().0, 200);

    // The connection to the database is cut: not ready, saying why; then back.
    proxy.cut();
    let body = wait_readyz(port, 503, Duration::from_secs(30));
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("postgresql database is unreachable"),
        "{body}"
    );
    proxy.open();
    wait_readyz(port, 200, Duration::from_secs(60));
    assert_eq!(http(port, "GET", &path, Some(key), None).unwrap().0, 200);

    service.terminate();
    assert!(service.wait_exit(Duration::from_secs(40)).success());
}

#[test]
fn sigterm_answers_every_request_in_flight_and_keeps_every_confirmed_write() {
    const REQUESTS: usize = 40;
    let dir = ScratchDir::new();
    let target = fresh_database(Backend::Postgres, &dir);
    let url = postgres_url(&target);
    let db = Db::open(target, 2).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let key = w.partner_a.1.clone();
    let port = free_port();
    let mut service = Service(serve(&dir, &url, port));
    wait_readyz(port, 200, Duration::from_secs(60));

    // Hold every new offer in the database, so the requests are surely in flight when
    // the signal comes: a lock that inserts into `offers` wait for.
    let mut blocker = diesel::PgConnection::establish(&url).unwrap();
    blocker
        .batch_execute("BEGIN; LOCK TABLE offers IN SHARE ROW EXCLUSIVE MODE")
        .unwrap();
    let requests: Vec<_> = (0..REQUESTS)
        .map(|i| {
            let key = key.clone();
            std::thread::spawn(move || {
                let body = offer_body(&format!("防災訓練の支援 その{i}"));
                http(port, "POST", "/api/v1/offers", Some(&key), Some(&body))
            })
        })
        .collect();
    let waiting = || -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<N>(&mut c)
        .unwrap()
        .n
    };
    let until = Instant::now() + Duration::from_secs(30);
    while waiting() == 0 {
        assert!(Instant::now() < until, "no request reached the database");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let every request reach the server, then ask it to stop.
    std::thread::sleep(Duration::from_millis(500));
    service.terminate();
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        service.0.try_wait().unwrap().is_none(),
        "kyoso exited with requests in flight"
    );
    blocker.batch_execute("COMMIT").unwrap();

    let mut confirmed = vec![];
    for r in requests {
        let (status, body) = r.join().unwrap().expect("a complete HTTP answer");
        assert!(
            status == 201 || status == 503,
            "every request is answered, created or refused as unavailable: {status} {body}"
        );
        if status == 201 {
            confirmed.push(body["id"].as_i64().unwrap());
        }
    }
    assert!(service.wait_exit(Duration::from_secs(40)).success());
    eprintln!("{} of {REQUESTS} offers confirmed", confirmed.len());
    assert!(!confirmed.is_empty());

    // After a restart, every offer the service confirmed is there.
    let mut service = Service(serve(&dir, &url, port));
    wait_readyz(port, 200, Duration::from_secs(60));
    for id in &confirmed {
        let (status, body) = http(
            port,
            "GET",
            &format!("/api/v1/offers/{id}"),
            Some(&key),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "offer {id}: {body}");
    }
    service.terminate();
    assert!(service.wait_exit(Duration::from_secs(40)).success());
}
