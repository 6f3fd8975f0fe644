//! Two or more nodes on one database, proven with real processes:
//!
//! - the periodic jobs (saved searches, deadline reminders, need expiry, digests) run
//!   once across two `kyoso serve` nodes on one PostgreSQL whose schedulers fire
//!   together, counted in the outbox and on a real SMTP server; and the same jobs raced
//!   from several threads of one process, on both backends, claim each cause once;
//! - behind HAProxy (`tests/haproxy/kyoso.cfg`, checking `/readyz`), under load from
//!   several clients: a rolling restart (SIGTERM, start again, wait ready) fails no
//!   request; a node killed with SIGKILL loses no acknowledged proposal and leaves the
//!   receipt numbers gapless; a change written through one node becomes searchable on
//!   the other, at idle and under that load, within the bounds of `PROPAGATION_*` (the
//!   figures are printed; the target is 200 ms).

use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use kyoso::storage::Db;
use kyoso::storage::connection::DatabaseTarget;

use crate::chaos::{self, Acked, Sent, http};
use crate::helpers::{self, Backend, ScratchDir, TestApp, World, need_body};
use crate::on_both_backends;
use crate::smtp::{SmtpServer, free_port};

/// One `kyoso serve` process on a fixed port, so that it can be restarted behind the
/// same HAProxy line.
struct Node {
    child: Child,
    port: u16,
    data_dir: PathBuf,
    log: PathBuf,
    url: String,
    env: Vec<(String, String)>,
}

impl Node {
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn spawn(url: &str, data_dir: PathBuf, log: PathBuf, env: &[(&str, String)]) -> Node {
        std::fs::create_dir_all(&data_dir).unwrap();
        chaos::share_dictionary(&data_dir);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let port = free_port();
        let child = Self::start_process(url, &data_dir, &log, port, &env);
        Node {
            child,
            port,
            data_dir,
            log,
            url: url.to_owned(),
            env,
        }
    }

    fn start_process(
        url: &str,
        data_dir: &Path,
        log: &Path,
        port: u16,
        env: &[(String, String)],
    ) -> Child {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_kyoso"));
        c.env_remove("DATABASE_URL");
        for (k, _) in std::env::vars() {
            if k.starts_with("KYOSO_") {
                c.env_remove(k);
            }
        }
        c.arg("serve")
            .current_dir(data_dir)
            .env("DATABASE_URL", url)
            .env("KYOSO_DATA_DIR", data_dir)
            .env("KYOSO_BIND", format!("127.0.0.1:{port}"))
            .env("KYOSO_LOG", "info")
            // Every client is 127.0.0.1: the per-source write limits would stop the load.
            .env("KYOSO_PROPOSALS_PER_HOUR", "0");
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start kyoso serve")
    }

    /// Waits until `/readyz` answers 200.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Sent::Answered(a) = http(&self.addr(), "GET", "/readyz", None, &[], None)
                && a.status == 200
            {
                return;
            }
            if let Ok(Some(code)) = self.child.try_wait() {
                panic!("kyoso serve exited with {code}:\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "kyoso serve not ready after 60 s:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for the exit; returns how long it took.
    fn terminate(&mut self) -> Duration {
        let t = Instant::now();
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "kyoso serve exited with {status} after SIGTERM:\n{}",
            self.log_tail()
        );
        t.elapsed()
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts the process again on the same port and data directory.
    fn restart(&mut self) {
        self.child =
            Self::start_process(&self.url, &self.data_dir, &self.log, self.port, &self.env);
        self.wait_ready();
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn url_of(db: &Db) -> String {
    match db.target() {
        DatabaseTarget::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseTarget::Postgres(url) => url.clone(),
    }
}

fn staff_id(db: &Db, email: &str) -> i64 {
    use kyoso::storage::schema::staff_users as s;
    let mut c = db.conn().unwrap();
    s::table
        .filter(s::email.eq(email))
        .select(s::id)
        .first(&mut *c)
        .unwrap()
}

fn set_delivery(db: &Db, who: kyoso::storage::subscriptions::Subscriber, kind: &str, d: &str) {
    let mut c = db.conn().unwrap();
    kyoso::storage::subscriptions::set(&mut c, who, kind, d).unwrap();
}

/// What every periodic job finds to do: a saved search with a new result (told at
/// once), an overdue proposal (reminders), a need past its open-until date (expiry)
/// and a notice waiting for the desk's daily digest. Returns the expired need's id.
async fn jobs_work(app: &TestApp, w: &World) -> i64 {
    use kyoso::storage::subscriptions::Subscriber;
    let y = &w.yokohama;
    let saved = app
        .post(
            "/api/v1/me/saved-searches",
            Some(&w.partner_b.1),
            &json!({"name": "ドローン案件", "q": "ドローン", "type": "need"}),
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.text);
    set_delivery(
        &app.db,
        Subscriber::Partner(w.partner_b.0),
        "saved_search",
        "immediate",
    );
    let mut body = need_body(
        "ドローンで河川を点検したい",
        y.department_id,
        "public",
        "open",
    );
    body["body"] = json!("河川の護岸の点検にドローンを使いたい。");
    let drone = app.post("/api/v1/needs", Some(&y.dept_key), &body).await;
    assert_eq!(drone.status, 201, "{}", drone.text);

    let mut body = need_body(
        "公園の花壇を手入れしたい",
        y.department_id,
        "public",
        "open",
    );
    body["open_until"] = json!(
        (chrono::Utc::now() + chrono::TimeDelta::days(30))
            .date_naive()
            .to_string()
    );
    let expiring = app.post("/api/v1/needs", Some(&y.dept_key), &body).await;
    assert_eq!(expiring.status, 201, "{}", expiring.text);
    let expiring = expiring.body["id"].as_i64().unwrap();
    {
        // Past its date: the API refuses such a date, time does not.
        use kyoso::storage::schema::needs as n;
        let mut c = app.db.conn().unwrap();
        diesel::update(n::table.find(expiring))
            .set(n::open_until.eq(Some(
                (chrono::Utc::now() - chrono::TimeDelta::days(3)).date_naive(),
            )))
            .execute(&mut *c)
            .unwrap();
    }

    let long_ago = (chrono::Utc::now() - chrono::TimeDelta::days(40)).to_rfc3339();
    let old = app
        .post(
            "/api/v1/desk/proposals",
            Some(&y.desk_key),
            &json!({"channel": "phone", "submitter_name": "市民", "title": "古い相談",
                    "body": "先月の電話", "received_at": long_ago}),
        )
        .await;
    assert_eq!(old.status, 201, "{}", old.text);

    let desk = staff_id(&app.db, "desk@141003.example.jp");
    set_delivery(&app.db, Subscriber::Staff(desk), "new_proposal", "daily");
    let p = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_a.1),
            &json!({
                "municipality_code": "141003",
                "title": "空き店舗で子育て拠点",
                "body": "商店街の空き店舗を子育て拠点として使う提案です。",
                "declarations": {"no_antisocial_forces": true, "consent_to_contact": true},
            }),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    expiring
}

#[derive(Debug, Queryable)]
struct OutboxRow {
    kind: String,
    recipient_email: String,
    message_id: String,
    delivery: String,
    status: String,
}

fn outbox(db: &Db) -> Vec<OutboxRow> {
    use kyoso::storage::schema::mail_outbox as o;
    let mut c = db.conn().unwrap();
    o::table
        .order(o::id)
        .select((
            o::kind,
            o::recipient_email,
            o::message_id,
            o::delivery,
            o::status,
        ))
        .load(&mut *c)
        .unwrap()
}

fn count_kind(rows: &[OutboxRow], kind: &str) -> usize {
    rows.iter().filter(|r| r.kind == kind).count()
}

/// The outbox holds each job's work once: one saved-search notice, the expired need's
/// notices, the reminders of the overdue proposal, one daily digest for the desk.
fn check_jobs_once(db: &Db, expired_need: i64) -> Vec<OutboxRow> {
    let rows = outbox(db);
    assert_eq!(count_kind(&rows, "saved_search"), 1, "{rows:#?}");
    assert!(count_kind(&rows, "need_expired") >= 1, "{rows:#?}");
    assert!(count_kind(&rows, "deadline_reminder") >= 1, "{rows:#?}");
    let digests: Vec<&OutboxRow> = rows.iter().filter(|r| r.kind == "digest").collect();
    assert_eq!(digests.len(), 1, "{rows:#?}");
    assert_eq!(digests[0].recipient_email, "desk@141003.example.jp");
    use kyoso::storage::schema::{digest_runs as d, needs as n};
    let mut c = db.conn().unwrap();
    let status: String = n::table
        .find(expired_need)
        .select(n::status)
        .first(&mut *c)
        .unwrap();
    assert_eq!(status, "closed");
    let runs: Vec<String> = d::table.select(d::period_key).load(&mut *c).unwrap();
    let daily = runs.iter().filter(|k| k.starts_with("daily:")).count();
    assert_eq!(daily, 1, "{runs:?}");
    rows
}

on_both_backends!(periodic_jobs_raced_from_many_threads_claim_each_cause_once);

/// Several runs of each job at the same moment, as from several nodes: each cause is
/// claimed by one run (the others see it taken), whatever the interleaving.
async fn periodic_jobs_raced_from_many_threads_claim_each_cause_once(backend: Backend) {
    use kyoso::domain::need_freshness;
    use kyoso::domain::notifications::digest::{self, Period};
    use kyoso::domain::notifications::{reminders, saved_searches};
    const RUNS: usize = 4;
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let need = jobs_work(&app, &w).await;
    let barrier = Arc::new(Barrier::new(RUNS));
    let totals = Arc::new(Mutex::new(BTreeMap::<&str, usize>::new()));
    let at = kyoso::storage::now();
    let handles: Vec<_> = (0..RUNS)
        .map(|_| {
            let (db, search) = (app.db.clone(), app.search.clone());
            let (barrier, totals) = (barrier.clone(), totals.clone());
            std::thread::spawn(move || {
                let today = kyoso::domain::proposals::local_date(at);
                barrier.wait();
                let s = saved_searches::run(&db, &search).unwrap();
                let e = need_freshness::run(&db, today).unwrap();
                let r = reminders::run(&db).unwrap();
                let d = digest::run(&db, Period::Daily, at).unwrap();
                let mut t = totals.lock().unwrap();
                *t.entry("saved").or_default() += s;
                *t.entry("expired").or_default() += e;
                *t.entry("reminders").or_default() += r;
                *t.entry("digests").or_default() += d.digests;
                *t.entry("digest runs").or_default() += usize::from(!d.skipped);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let totals = totals.lock().unwrap().clone();
    let rows = check_jobs_once(&app.db, need);
    assert_eq!(totals["saved"], 1, "{totals:?}");
    assert_eq!(totals["expired"], 1, "one run closed the need: {totals:?}");
    assert_eq!(
        totals["reminders"],
        count_kind(&rows, "deadline_reminder"),
        "{totals:?}"
    );
    assert_eq!(totals["digest runs"], 1, "{totals:?}");
    assert_eq!(totals["digests"], 1, "{totals:?}");
}

/// Polls until `cond` holds (up to `within`).
fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[actix_web::test]
async fn periodic_jobs_run_once_across_two_nodes() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let w = World::seed(&app.db);
    let need = jobs_work(&app, &w).await;
    let smtp = SmtpServer::start();
    let url = url_of(&app.db);
    let scratch = ScratchDir::new();
    // The digest is due all day, so both schedulers' first round sends it; on
    // start-up every job of a scheduler runs at once.
    let env = [
        ("KYOSO_SMTP_URL", smtp.url()),
        ("KYOSO_DIGEST_TIME", "00:00".to_owned()),
    ];
    let mut nodes: Vec<Node> = (0..2)
        .map(|i| {
            Node::spawn(
                &url,
                scratch.0.join(format!("node{i}")),
                scratch.0.join(format!("node{i}.log")),
                &env,
            )
        })
        .collect();
    for n in &mut nodes {
        n.wait_ready();
    }
    // Everything immediate has been sent (by one sender or the other).
    wait_until("the outbox to be sent", Duration::from_secs(30), || {
        let rows = outbox(&app.db);
        count_kind(&rows, "digest") == 1
            && count_kind(&rows, "saved_search") == 1
            && rows
                .iter()
                .filter(|r| r.delivery == "immediate")
                .all(|r| r.status == "sent")
    });
    // A second too many would show up now.
    std::thread::sleep(Duration::from_secs(1));
    let rows = check_jobs_once(&app.db, need);
    let messages = smtp.messages();
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for m in &messages {
        *per_id
            .entry(m["message_id"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let sent: Vec<&OutboxRow> = rows.iter().filter(|r| r.status == "sent").collect();
    for r in &sent {
        assert_eq!(
            per_id.get(&r.message_id).copied().unwrap_or(0),
            1,
            "{} to {}: not delivered exactly once ({per_id:?})",
            r.kind,
            r.recipient_email
        );
    }
    assert_eq!(messages.len(), sent.len(), "{per_id:?}");
    for kind in [
        "saved_search",
        "need_expired",
        "deadline_reminder",
        "digest",
    ] {
        eprintln!(
            "{kind}: {} in the outbox, {} delivered",
            count_kind(&rows, kind),
            sent.iter().filter(|r| r.kind == kind).count()
        );
    }
    for n in &mut nodes {
        n.terminate();
    }
}

/// The HAProxy configuration shared with the deployment: nodes and ports come from
/// the environment.
fn haproxy(dir: &Path, port: u16, nodes: &[&Node]) -> Child {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/haproxy/kyoso.cfg");
    let log = std::fs::File::create(dir.join("haproxy.log")).unwrap();
    let child = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(&cfg)
        .env("KYOSO_LB_BIND", format!("127.0.0.1:{port}"))
        .env("KYOSO_NODE1", nodes[0].addr())
        .env("KYOSO_NODE2", nodes[1].addr())
        .env("KYOSO_CHECK_INTER", "100ms")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start haproxy (apt-get install haproxy)");
    let addr = format!("127.0.0.1:{port}");
    wait_until(
        "haproxy",
        Duration::from_secs(10),
        || matches!(http(&addr, "GET", "/healthz", None, &[], None), Sent::Answered(a) if a.status == 200),
    );
    child
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    acked: Vec<Acked>,
    /// Requests not answered 2xx, with what they got, per phase.
    failed: Vec<(String, String)>,
    answered: usize,
}

/// A client: submits proposals (with Idempotency-Keys) and searches through the load
/// balancer until `stop`.
fn client(
    lb: String,
    key: String,
    name: String,
    stop: Arc<AtomicBool>,
    phase: Arc<Mutex<&'static str>>,
    seen: Arc<Mutex<Seen>>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let (what, sent, title) = if n % 2 == 0 {
            let title = format!("ノード試験 {name} {n} 空き店舗で子育て拠点");
            let body = json!({
                "municipality_code": "141003",
                "title": title,
                "body": "商店街の空き店舗を子育て拠点として使う提案です。",
                "declarations": {"no_antisocial_forces": true, "consent_to_contact": true},
            });
            let idem = format!("nodes-{name}-{n}");
            let sent = http(
                &lb,
                "POST",
                "/api/v1/proposals",
                Some(&key),
                &[("Idempotency-Key", &idem)],
                Some(&body),
            );
            ("proposal", sent, Some(title))
        } else {
            let sent = http(
                &lb,
                "GET",
                "/api/v1/search?q=%E5%AD%90%E8%82%B2%E3%81%A6",
                Some(&key),
                &[],
                None,
            );
            ("search", sent, None)
        };
        let phase = *phase.lock().unwrap();
        let mut s = seen.lock().unwrap();
        match (&sent, title) {
            (Sent::Answered(a), Some(title)) if a.status == 201 => {
                s.answered += 1;
                s.acked.push(Acked {
                    id: a.body["id"].as_i64().unwrap(),
                    receipt: a.body["receipt_number"].as_str().unwrap().to_owned(),
                    municipality: "141003",
                    title,
                });
            }
            (Sent::Answered(a), None) if a.status == 200 => s.answered += 1,
            (Sent::Answered(a), _) => s
                .failed
                .push((phase.to_owned(), format!("{what}: {} {}", a.status, a.body))),
            (Sent::CutOff, _) => s
                .failed
                .push((phase.to_owned(), format!("{what}: cut off"))),
            (Sent::Refused, _) => s
                .failed
                .push((phase.to_owned(), format!("{what}: refused"))),
        }
    }
}

/// Writes an offer through `writer` and polls `reader`'s search until it is found;
/// returns how long that took.
fn propagation(writer: &str, reader: &str, key: &str, n: usize) -> Duration {
    let body = helpers::offer_body(&format!("伝播確認 第{n}便 ドローン点検"));
    let q = "/api/v1/search?q=%E4%BC%9D%E6%92%AD%E7%A2%BA%E8%AA%8D&type=offer&limit=1";
    let t = Instant::now();
    match http(
        writer,
        "POST",
        "/api/v1/offers",
        Some(key),
        &[],
        Some(&body),
    ) {
        Sent::Answered(a) if a.status == 201 => {}
        Sent::Answered(a) => panic!("offer: {} {}", a.status, a.body),
        _ => panic!("offer: no answer"),
    }
    let written = t.elapsed();
    loop {
        if let Sent::Answered(a) = http(reader, "GET", q, Some(key), &[], None)
            && a.status == 200
            && a.body["total"].as_u64().unwrap_or(0) >= n as u64
        {
            return t.elapsed() - written;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "offer {n} not found on the other node within 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How long a change may take to be searchable on the other node: (median, slowest) of
/// ten. The target is 200 ms (issue 15). The follower no longer sleeps through changes:
/// it wakes when a change commits (in its own process, or by the other node's NOTIFY),
/// so what remains is its step, above all tantivy's commit, which syncs every file of
/// the new segment and the meta file (13–17 fsync/fdatasync/rename calls; the commit
/// took 100–900 ms while others built on the shared 2-core machine). Measured there on
/// 2026-12-07, this test (debug build, load average 10–17, three runs): at idle min
/// 70–99, median 91–240, slowest 128–958 ms; under its load min 107–162, median 168–344,
/// slowest 397–545 ms. Release nodes with wrk on both: at idle 30/81/140 ms (load
/// average 7), medians 183–267 ms and slowest 456–568 ms (load average 8–25); under wrk
/// load medians 860–1000 ms, slowest 1.5–2.2 s. The bounds leave room for a busy
/// machine; the test prints the figures.
const PROPAGATION_AT_IDLE: (Duration, Duration) =
    (Duration::from_millis(400), Duration::from_millis(1500));
const PROPAGATION_UNDER_LOAD: (Duration, Duration) =
    (Duration::from_millis(750), Duration::from_millis(1500));

/// Asserts the (median, slowest) bound on sorted times.
fn assert_propagation(times: &[Duration], bound: (Duration, Duration), label: &str) {
    let (median, slowest) = (times[times.len() / 2], times[times.len() - 1]);
    assert!(
        median <= bound.0 && slowest <= bound.1,
        "changes took too long to be searchable on the other node {label}: median \
         {median:?} (bound {:?}), slowest {slowest:?} (bound {:?}); all {times:?}",
        bound.0,
        bound.1
    );
}

/// Ten changes, alternating the writing node; sorted times.
fn propagation_times(
    nodes: &[Node],
    key: &str,
    probes: &AtomicUsize,
    label: &str,
) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..10)
        .map(|i| {
            let (w, r) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
            let n = probes.fetch_add(1, Ordering::SeqCst) + 1;
            propagation(&nodes[w].addr(), &nodes[r].addr(), key, n)
        })
        .collect();
    times.sort();
    eprintln!(
        "propagation {label} (ms): min {:.0}, median {:.0}, max {:.0}",
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
    times
}

#[test]
fn behind_haproxy_restarts_and_a_kill_lose_nothing() {
    let started = Instant::now();
    let scratch = ScratchDir::new();
    let target = helpers::fresh_database(Backend::Postgres, &scratch);
    let (world, extra) = {
        let db = Db::open(target.clone(), 2).unwrap();
        db.migrate().unwrap();
        let w = World::seed(&db);
        let extra = helpers::partner(&db, "国立大学法人 みなと大学", "university");
        (w, extra)
    };
    let url = match &target {
        DatabaseTarget::Postgres(u) => u.clone(),
        DatabaseTarget::Sqlite(_) => unreachable!(),
    };
    let mut nodes: Vec<Node> = (0..2)
        .map(|i| {
            Node::spawn(
                &url,
                scratch.0.join(format!("node{i}")),
                scratch.0.join(format!("node{i}.log")),
                &[],
            )
        })
        .collect();
    for n in &mut nodes {
        n.wait_ready();
    }
    let lb_port = free_port();
    let mut lb = haproxy(&scratch.0, lb_port, &[&nodes[0], &nodes[1]]);
    let lb_addr = format!("127.0.0.1:{lb_port}");

    // (c) Propagation at idle, for comparison.
    let probes = AtomicUsize::new(0);
    let idle = propagation_times(&nodes, &world.partner_a.1, &probes, "at idle");
    assert_propagation(&idle, PROPAGATION_AT_IDLE, "at idle");

    let stop = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(Mutex::new("warm-up"));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let keys = [&world.partner_a.1, &world.partner_b.1, &extra.1];
    let clients: Vec<_> = (0..6)
        .map(|i| {
            let (lb, key) = (lb_addr.clone(), keys[i % keys.len()].clone());
            let (stop, phase, seen) = (stop.clone(), phase.clone(), seen.clone());
            std::thread::spawn(move || client(lb, key, format!("c{i}"), stop, phase, seen))
        })
        .collect();

    // (c) Propagation, during the load, both directions.
    std::thread::sleep(Duration::from_millis(500));
    let loaded = propagation_times(&nodes, &world.partner_a.1, &probes, "under load");
    assert_propagation(&loaded, PROPAGATION_UNDER_LOAD, "under load");

    // (a) Rolling restart: no request fails.
    *phase.lock().unwrap() = "rolling restart";
    let before = seen.lock().unwrap().answered;
    for n in &mut nodes {
        let took = n.terminate();
        eprintln!("node on {} stopped {took:?} after SIGTERM", n.addr());
        n.restart();
        // HAProxy takes it in at its next check.
        std::thread::sleep(Duration::from_millis(400));
    }
    let during = seen.lock().unwrap().answered - before;
    {
        let s = seen.lock().unwrap();
        let failed: Vec<_> = s
            .failed
            .iter()
            .filter(|(p, _)| *p == "rolling restart" || *p == "warm-up")
            .collect();
        assert!(
            failed.is_empty(),
            "requests failed during the rolling restart: {failed:?}"
        );
    }
    assert!(during > 20, "too little load during the restart: {during}");

    // (b) SIGKILL under load: answered proposals survive, numbers stay gapless.
    *phase.lock().unwrap() = "kill";
    std::thread::sleep(Duration::from_millis(700));
    nodes[1].kill();
    std::thread::sleep(Duration::from_millis(1000));
    nodes[1].restart();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let s = std::mem::take(&mut *seen.lock().unwrap());
    let cut: Vec<_> = s.failed.iter().filter(|(p, _)| *p == "kill").collect();
    eprintln!(
        "{} answered, {} acknowledged proposals; {} failed around the kill: {cut:?}",
        s.answered,
        s.acked.len(),
        cut.len()
    );
    let _ = lb.kill();
    let _ = lb.wait();
    for n in &mut nodes {
        n.terminate();
    }
    let db = Db::open(target, 1).unwrap();
    let mut conn = db.conn().unwrap();
    chaos::check_receipts(&mut conn, &s.acked, 0);
    chaos::check_acknowledgements(&mut conn, 0);
    eprintln!(
        "two nodes behind haproxy: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// SIGTERM: `/readyz` is 503 at once while other requests are still served; once they
/// stop arriving the node stops, well within the grace period.
#[test]
fn sigterm_makes_readyz_503_at_once_and_serves_while_draining() {
    let scratch = ScratchDir::new();
    let target = helpers::fresh_database(Backend::Postgres, &scratch);
    let key = {
        let db = Db::open(target.clone(), 2).unwrap();
        db.migrate().unwrap();
        World::seed(&db).partner_a.1
    };
    let DatabaseTarget::Postgres(url) = target else {
        unreachable!()
    };
    let mut node = Node::spawn(
        &url,
        scratch.0.join("node"),
        scratch.0.join("node.log"),
        &[],
    );
    node.wait_ready();
    let addr = node.addr();
    let stop = Arc::new(AtomicBool::new(false));
    // Traffic that keeps the node draining: as a load balancer's would until its check.
    let traffic = {
        let (addr, key, stop) = (addr.clone(), key.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut answered = 0;
            while !stop.load(Ordering::SeqCst) {
                match http(&addr, "GET", "/api/v1/offers", Some(&key), &[], None) {
                    Sent::Answered(a) => {
                        assert_eq!(a.status, 200, "{}", a.body);
                        answered += 1;
                    }
                    _ => panic!("a request failed while the node drained"),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            answered
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &node.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut not_ready = None;
    while signalled.elapsed() < Duration::from_secs(2) {
        if let Sent::Answered(a) = http(&addr, "GET", "/readyz", None, &[], None)
            && a.status == 503
        {
            assert!(
                a.body["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("shutting down"),
                "{}",
                a.body
            );
            not_ready = Some(signalled.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let not_ready = not_ready.expect("/readyz did not turn 503 after SIGTERM");
    assert!(not_ready < Duration::from_millis(500), "{not_ready:?}");
    // Still serving a second later: the traffic has not stopped.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        node.child.try_wait().unwrap().is_none(),
        "stopped while requests kept coming"
    );
    stop.store(true, Ordering::SeqCst);
    let answered = traffic.join().unwrap();
    let quiet = Instant::now();
    let status = node.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        quiet.elapsed() < Duration::from_secs(5),
        "stopped {:?} after the traffic ended",
        quiet.elapsed()
    );
    eprintln!(
        "readyz 503 after {not_ready:?}; {answered} requests answered; stopped {:?} after the last",
        quiet.elapsed()
    );
}
