//! Crash consistency: nothing confirmed is ever lost. A real `kyoso serve` process takes
//! parallel intake (partners submitting with Idempotency-Keys, the desk recording
//! proposals on someone's behalf, partners writing offers) and is killed with SIGKILL at
//! random moments, some during start-up, many times over. After a last restart and
//! catch-up the test checks, through the API and the database:
//!
//! - every proposal answered 2xx is there, with the receipt number it was answered with;
//! - receipt numbers per municipality and fiscal year run 1..n, no duplicates, no gaps,
//!   and the counter row stands at n;
//! - a retried Idempotency-Key never made a second proposal;
//! - every proposal has exactly one acknowledgement in the outbox (all proposers here
//!   have an address), and there is none for a proposal that does not exist;
//! - the search index equals the database.
//!
//! The schedule (kill delays, who does what) comes from one seed, printed first; replay a
//! failure with `KYOSO_TEST_CHAOS_SEED=<seed>` (timing still differs a little).

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use kyoso::domain::search::SearchEngine;
use kyoso::domain::search::consistency::compare_with_database;
use kyoso::storage::Db;
use kyoso::storage::connection::DatabaseTarget;

use crate::helpers::{self, Backend, ScratchDir, World};

/// Kills while clients are writing; each round may also kill once during start-up.
const ROUNDS: usize = 9;
const PARTNER_CLIENTS: usize = 4;
const DESK_CLIENTS: usize = 2;
/// How long clients write before the kill, in ms (uniform).
const KILL_AFTER_MS: std::ops::Range<u64> = 150..2200;

mod kill_during_intake {
    #[test]
    fn sqlite() {
        super::kill_during_intake(super::Backend::Sqlite)
    }
    #[test]
    fn postgres() {
        super::kill_during_intake(super::Backend::Postgres)
    }
}

/// xorshift64*: enough randomness for a schedule, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn within(&mut self, r: std::ops::Range<u64>) -> u64 {
        r.start + self.below(r.end - r.start)
    }
}

fn seed() -> u64 {
    match std::env::var("KYOSO_TEST_CHAOS_SEED") {
        Ok(s) => s.parse().expect("KYOSO_TEST_CHAOS_SEED is a number"),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 ^ (u64::from(std::process::id()) << 32)
        }
    }
}

/// An HTTP answer that arrived whole.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// What became of a request.
pub(crate) enum Sent {
    Answered(Answer),
    /// Sent, but no whole answer came back: the kill cut it off. It may or may not have
    /// been stored.
    CutOff,
    /// No connection: the server is gone, the request never reached it.
    Refused,
}

impl Sent {
    pub(crate) fn answer(&self) -> Option<&Answer> {
        match self {
            Sent::Answered(a) => Some(a),
            _ => None,
        }
    }
}

/// One HTTP/1.1 request on its own connection. A plain socket rather than a client
/// library: the test must see exactly whether a whole answer arrived before the kill.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> Sent {
    let Ok(s) = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2)) else {
        return Sent::Refused;
    };
    match exchange(s, addr, method, path, key, extra, body) {
        Some(a) => Sent::Answered(a),
        None => Sent::CutOff,
    }
}

fn exchange(
    mut s: TcpStream,
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> Option<Answer> {
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(k) = key {
        head.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(payload.as_bytes()).ok()?;
    let mut raw = vec![];
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut rest = raw[split + 4..].to_vec();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    if let Some(len) = header("content-length:") {
        // A body shorter than announced was cut off.
        if rest.len() != len.parse::<usize>().ok()? {
            return None;
        }
    } else if header("transfer-encoding:").as_deref() == Some("chunked") {
        rest = dechunk(&rest)?;
    }
    Some(Answer {
        status,
        body: serde_json::from_slice(&rest).unwrap_or(Value::Null),
    })
}

/// A chunked body, or `None` when it lacks its last chunk.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&raw[..eol]).ok()?.split(';').next()?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Where the server process finds its database and data.
struct ServerEnv {
    database_url: String,
    data_dir: PathBuf,
    log: PathBuf,
}

struct Server {
    child: Child,
    addr: String,
}

fn free_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

impl ServerEnv {
    /// Starts `kyoso serve` without waiting for it; settings from this test alone.
    fn spawn(&self) -> Server {
        let addr = free_addr();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_kyoso"));
        c.env_remove("DATABASE_URL");
        for (k, _) in std::env::vars() {
            if k.starts_with("KYOSO_") {
                c.env_remove(k);
            }
        }
        let child = c
            .arg("serve")
            .current_dir(&self.data_dir)
            .env("DATABASE_URL", &self.database_url)
            .env("KYOSO_DATA_DIR", &self.data_dir)
            .env("KYOSO_BIND", &addr)
            .env("KYOSO_LOG", "warn")
            // Every client is 127.0.0.1: the per-source write limits would cut the
            // workload down to a few dozen proposals per round.
            .env("KYOSO_PROPOSALS_PER_HOUR", "0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start kyoso serve");
        Server { child, addr }
    }

    /// Starts the server and waits until /readyz answers 200.
    fn start(&self) -> Server {
        let mut s = self.spawn();
        let mut attempts = 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Sent::Answered(a) = http(&s.addr, "GET", "/readyz", None, &[], None)
                && a.status == 200
            {
                return s;
            }
            if let Ok(Some(code)) = s.child.try_wait() {
                // The free port may have been taken between choosing and binding it.
                let log = self.log_tail();
                if attempts < 3 && log.contains("cannot listen") {
                    attempts += 1;
                    s = self.spawn();
                    continue;
                }
                panic!("kyoso serve exited with {code} at start-up:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "kyoso serve not ready after 60 s:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Server {
    /// SIGKILL: no shutdown code runs, as in a power cut or the OOM killer.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A proposal answered 2xx.
#[derive(Clone, Debug)]
pub(crate) struct Acked {
    pub(crate) id: i64,
    pub(crate) receipt: String,
    pub(crate) municipality: &'static str,
    pub(crate) title: String,
}

/// A partner submission whose answer was cut off: retried with the same key.
#[derive(Clone)]
struct Pending {
    key: String,
    body: Value,
    municipality: &'static str,
}

/// What the clients saw, across rounds.
#[derive(Default)]
struct Record {
    acked: Vec<Acked>,
    statuses: BTreeMap<u16, usize>,
    cut_off: usize,
    replayed: usize,
}

struct Client {
    key: String,
    /// The desk's municipality; `None` for a partner.
    desk_of: Option<&'static str>,
    name: String,
    pending: Vec<Pending>,
    offers: Vec<i64>,
    sent: usize,
}

const TOWNS: [&str; 2] = ["141003", "281000"];

/// Reads that once panicked mid-transaction (dates at the edge of chrono's range).
const POISON: [&str; 2] = [
    "/api/v1/proposals?from=-262143-01-01",
    "/api/v1/desk/stats?to=%2B262142-12-31",
];

impl Client {
    /// Writes until `stop` or until the server is gone; what it learns goes to `record`.
    fn run(&mut self, addr: &str, rng: &mut Rng, stop: &AtomicBool, record: &Mutex<Record>) {
        if !self.retry_pending(addr, record) {
            return;
        }
        while !stop.load(Ordering::SeqCst) {
            self.sent += 1;
            let n = self.sent;
            let sent = match (self.desk_of, rng.below(10)) {
                (Some(_), 0) => {
                    // Requests that made a handler panic inside its transaction. Whatever
                    // they answer, a panic must not cost the writes that follow it.
                    let path = POISON[rng.below(POISON.len() as u64) as usize];
                    let sent = http(addr, "GET", path, Some(&self.key), &[], None);
                    count(record, &sent);
                    sent
                }
                (Some(town), _) => {
                    let title = format!("chaos {} {n} 電話で受けた提案", self.name);
                    let body = json!({
                        "channel": "phone",
                        "submitter_name": "電話 花子",
                        "submitter_email": format!("caller{n}@example.com"),
                        "title": title,
                        "body": "公園の遊具点検をボランティアと進める提案。",
                    });
                    let sent = http(
                        addr,
                        "POST",
                        "/api/v1/desk/proposals",
                        Some(&self.key),
                        &[],
                        Some(&body),
                    );
                    note(record, &sent, town, &title);
                    sent
                }
                (None, 0) => {
                    let body =
                        helpers::offer_body(&format!("chaos {} {n} ドローン点検", self.name));
                    let sent = http(
                        addr,
                        "POST",
                        "/api/v1/offers",
                        Some(&self.key),
                        &[],
                        Some(&body),
                    );
                    if let Some(a) = sent.answer()
                        && a.status == 201
                    {
                        self.offers.push(a.body["id"].as_i64().unwrap());
                    }
                    count(record, &sent);
                    sent
                }
                (None, 1) if !self.offers.is_empty() => {
                    let id = self.offers[rng.below(self.offers.len() as u64) as usize];
                    let body =
                        json!({"title": format!("chaos {} {n} 改訂した点検サービス", self.name)});
                    let sent = http(
                        addr,
                        "PATCH",
                        &format!("/api/v1/offers/{id}"),
                        Some(&self.key),
                        &[],
                        Some(&body),
                    );
                    count(record, &sent);
                    sent
                }
                (None, _) => {
                    let town = TOWNS[rng.below(2) as usize];
                    let key = format!("chaos-{}-{n}", self.name);
                    let p = Pending {
                        body: json!({
                            "municipality_code": town,
                            "title": format!("chaos {key} 空き店舗で子育て拠点"),
                            "body": "商店街の空き店舗を子育て拠点として使う提案です。",
                            "declarations": {"no_antisocial_forces": true, "consent_to_contact": true},
                        }),
                        key,
                        municipality: town,
                    };
                    self.submit(addr, p, record)
                }
            };
            if matches!(sent, Sent::Refused) {
                return;
            }
        }
    }

    /// The submissions the last kill cut off, again with their keys: a retry must
    /// return the proposal if it was stored, and store it once if it was not. False
    /// when the server is gone.
    fn retry_pending(&mut self, addr: &str, record: &Mutex<Record>) -> bool {
        let mut up = true;
        for p in std::mem::take(&mut self.pending) {
            if up {
                up = !matches!(self.submit(addr, p, record), Sent::Refused);
            } else {
                self.pending.push(p);
            }
        }
        up
    }

    fn submit(&mut self, addr: &str, p: Pending, record: &Mutex<Record>) -> Sent {
        let sent = http(
            addr,
            "POST",
            "/api/v1/proposals",
            Some(&self.key),
            &[("Idempotency-Key", &p.key)],
            Some(&p.body),
        );
        let title = p.body["title"].as_str().unwrap().to_owned();
        note(record, &sent, p.municipality, &title);
        match &sent {
            Sent::CutOff | Sent::Refused => self.pending.push(p),
            Sent::Answered(a) if a.status == 200 => record.lock().unwrap().replayed += 1,
            Sent::Answered(_) => {}
        }
        sent
    }
}

fn count(record: &Mutex<Record>, sent: &Sent) {
    let mut r = record.lock().unwrap();
    match sent {
        Sent::Answered(a) => *r.statuses.entry(a.status).or_default() += 1,
        Sent::CutOff => r.cut_off += 1,
        Sent::Refused => {}
    }
}

/// Counts an intake answer and remembers a proposal answered 2xx.
fn note(record: &Mutex<Record>, sent: &Sent, municipality: &'static str, title: &str) {
    count(record, sent);
    if let Some(a) = sent.answer()
        && (200..300).contains(&a.status)
    {
        let receipt = a.body["receipt_number"].as_str();
        let id = a.body["id"].as_i64();
        let (Some(receipt), Some(id)) = (receipt, id) else {
            panic!(
                "a 2xx intake answer without id and receipt number: {}",
                a.body
            );
        };
        assert_eq!(a.body["title"], title, "answered with another proposal");
        record.lock().unwrap().acked.push(Acked {
            id,
            receipt: receipt.to_owned(),
            municipality,
            title: title.to_owned(),
        });
    }
}

/// The IPADIC dictionary this test process built once, copied into the server's data
/// directory so that each test server does not compile its own (seconds of CPU).
pub(crate) fn share_dictionary(data_dir: &Path) {
    helpers::analyzers();
    let from = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dict");
    if from.is_dir() {
        copy_dir(&from, &data_dir.join("dict"));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        // Half-built dictionaries of other processes start with a dot.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn kill_during_intake(backend: Backend) {
    let started = Instant::now();
    let seed = seed();
    println!("chaos ({backend:?}): seed {seed} (replay: KYOSO_TEST_CHAOS_SEED={seed})");
    let mut rng = Rng::new(seed);

    let scratch = ScratchDir::new();
    let target = helpers::fresh_database(backend, &scratch);
    let data_dir = scratch.0.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    share_dictionary(&data_dir);
    let (world, extra) = {
        let db = Db::open(target.clone(), 2).expect("open the database");
        db.migrate().expect("migrate");
        let w = World::seed(&db);
        let extra = [
            helpers::partner(&db, "国立大学法人 みなと大学", "university"),
            helpers::partner(&db, "一般社団法人 まちづくり研究所", "other"),
        ];
        (w, extra)
    };
    let env = ServerEnv {
        database_url: match &target {
            DatabaseTarget::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseTarget::Postgres(url) => url.clone(),
        },
        data_dir: data_dir.clone(),
        log: scratch.0.join("serve.log"),
    };
    let desk_key = |town: &str| match town {
        "141003" => world.yokohama.desk_key.clone(),
        _ => world.kobe.desk_key.clone(),
    };

    let partner_keys = [
        &world.partner_a.1,
        &world.partner_b.1,
        &extra[0].1,
        &extra[1].1,
    ];
    let mut clients: Vec<Client> = (0..PARTNER_CLIENTS)
        .map(|i| Client {
            key: partner_keys[i % partner_keys.len()].clone(),
            desk_of: None,
            name: format!("p{i}"),
            pending: vec![],
            offers: vec![],
            sent: 0,
        })
        .chain((0..DESK_CLIENTS).map(|i| Client {
            key: desk_key(TOWNS[i % 2]),
            desk_of: Some(TOWNS[i % 2]),
            name: format!("d{i}"),
            pending: vec![],
            offers: vec![],
            sent: 0,
        }))
        .collect();
    let record = Arc::new(Mutex::new(Record::default()));
    let mut kills = 0;

    for round in 0..ROUNDS {
        // Every other round a kill during start-up: migrations, index catch-up (a
        // commit cut off there once left a file the next start tripped on), the first
        // mail and scheduler runs.
        if rng.below(2) == 0 {
            let s = env.spawn();
            std::thread::sleep(Duration::from_millis(rng.within(0..400)));
            s.kill();
            kills += 1;
        }
        let server = env.start();
        let stop = Arc::new(AtomicBool::new(false));
        let before = record.lock().unwrap().acked.len();
        let handles: Vec<_> = clients
            .drain(..)
            .map(|mut c| {
                let (addr, stop, record) = (server.addr.clone(), stop.clone(), record.clone());
                let mut rng = Rng::new(rng.next());
                std::thread::spawn(move || {
                    c.run(&addr, &mut rng, &stop, &record);
                    c
                })
            })
            .collect();
        let after_ms = rng.within(KILL_AFTER_MS);
        std::thread::sleep(Duration::from_millis(after_ms));
        server.kill();
        kills += 1;
        stop.store(true, Ordering::SeqCst);
        clients = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let r = record.lock().unwrap();
        println!(
            "round {round}: killed after {after_ms} ms; {} proposals answered 2xx, {} requests cut off so far",
            r.acked.len() - before,
            r.cut_off
        );
    }

    // The last start: it must catch up. Cut-off submissions are retried with their keys.
    let server = env.start();
    for c in &mut clients {
        c.retry_pending(&server.addr, &record);
    }
    let unanswered: usize = clients.iter().map(|c| c.pending.len()).sum();
    assert_eq!(
        unanswered, 0,
        "retries after the last restart got no answer"
    );
    let caught_up = Instant::now() + Duration::from_secs(40);
    loop {
        let Sent::Answered(r) = http(&server.addr, "GET", "/readyz", None, &[], None) else {
            panic!("the restarted server does not answer /readyz");
        };
        if r.status == 200 && r.body["search"]["backlog"] == 0 {
            break;
        }
        assert!(
            Instant::now() < caught_up,
            "the index did not catch up: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let record = std::mem::take(&mut *record.lock().unwrap());
    println!(
        "chaos ({backend:?}): {kills} kills, {} proposals answered 2xx ({} replays of a cut-off submission), {} requests cut off; statuses {:?}",
        record.acked.len(),
        record.replayed,
        record.cut_off,
        record.statuses
    );
    assert!(
        record.acked.len() >= ROUNDS,
        "too little intake to prove anything"
    );

    // 1. Through the API: each acknowledged proposal, as its municipality's desk sees it.
    // All losses are listed, not only the first: how many tells a lot about the cause.
    let mut lost = vec![];
    for a in &record.acked {
        let r = http(
            &server.addr,
            "GET",
            &format!("/api/v1/proposals/{}", a.id),
            Some(&desk_key(a.municipality)),
            &[],
            None,
        );
        let Sent::Answered(r) = r else {
            panic!("the restarted server does not answer");
        };
        if r.status != 200 {
            lost.push(format!(
                "{} {} ({}): {}",
                a.id, a.receipt, a.title, r.status
            ));
        } else if r.body["receipt_number"] != a.receipt.as_str()
            || r.body["title"] != a.title.as_str()
        {
            // SQLite hands a lost row's id to a later proposal.
            lost.push(format!(
                "{} {} ({}): the id now holds {} ({})",
                a.id, a.receipt, a.title, r.body["receipt_number"], r.body["title"]
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} proposals answered 2xx are lost (id, receipt, title: now):\n{}\n(seed {seed})",
        lost.len(),
        record.acked.len(),
        lost.join("\n")
    );
    server.kill();

    // 2. In the database, with the server gone.
    let db = Db::open(target, 1).expect("open the database");
    let mut conn = db.conn().unwrap();
    check_receipts(&mut conn, &record.acked, seed);
    check_acknowledgements(&mut conn, seed);

    // 3. The index the server left behind equals the database.
    let engine = SearchEngine::open(&data_dir, Path::new(search_index::DEFAULT_IPADIC_DIR))
        .expect("open the index");
    assert!(
        !engine.needs_rebuild(),
        "the index left by the last run could not be opened: {:?}",
        engine.opened
    );
    drop(conn);
    let drift = compare_with_database(&db, &engine).unwrap();
    assert!(drift.expected > 0);
    assert!(
        drift.is_empty(),
        "the index differs from the database: {drift:?} (seed {seed})"
    );
    println!(
        "chaos ({backend:?}): all checks passed; {} documents in the index; {:.1} s",
        drift.expected,
        started.elapsed().as_secs_f64()
    );
}

/// Every acknowledged proposal with its receipt; numbers 1..n per municipality and
/// year; no Idempotency-Key twice.
pub(crate) fn check_receipts(conn: &mut kyoso::storage::AnyConnection, acked: &[Acked], seed: u64) {
    use kyoso::domain::proposals::receipt_number;
    use kyoso::storage::schema::{municipalities as m, proposals as p, receipt_counters as rc};

    let codes: HashMap<i64, String> = m::table
        .select((m::id, m::code))
        .load(conn)
        .unwrap()
        .into_iter()
        .collect();
    let code = |id: i64| codes[&id].clone();
    let rows: Vec<(i64, String, i32, i32, String)> = p::table
        .select((
            p::id,
            p::municipality_id,
            p::receipt_year,
            p::receipt_seq,
            p::title,
        ))
        .load::<(i64, i64, i32, i32, String)>(conn)
        .unwrap()
        .into_iter()
        .map(|(id, m, y, s, t)| (id, code(m), y, s, t))
        .collect();
    let by_id: HashMap<i64, &(i64, String, i32, i32, String)> =
        rows.iter().map(|r| (r.0, r)).collect();
    for a in acked {
        let Some((_, code, year, seq, title)) = by_id.get(&a.id) else {
            panic!(
                "proposal {} ({}) answered 2xx with receipt {} is not in the database (seed {seed})",
                a.id, a.title, a.receipt
            );
        };
        assert_eq!(
            (code.as_str(), receipt_number(*year, *seq), title.as_str()),
            (a.municipality, a.receipt.clone(), a.title.as_str()),
            "proposal {} differs from its answer (seed {seed})",
            a.id
        );
    }
    let mut seqs: BTreeMap<(String, i32), Vec<i32>> = BTreeMap::new();
    for (_, code, year, seq, _) in &rows {
        seqs.entry((code.clone(), *year)).or_default().push(*seq);
    }
    let counters: BTreeMap<(String, i32), i32> = rc::table
        .select((rc::municipality_id, rc::year, rc::last_seq))
        .load::<(i64, i32, i32)>(conn)
        .unwrap()
        .into_iter()
        .map(|(m, y, s)| ((code(m), y), s))
        .collect();
    for (k, mut s) in seqs.clone() {
        s.sort_unstable();
        let n = s.len() as i32;
        assert_eq!(
            s,
            (1..=n).collect::<Vec<_>>(),
            "receipt numbers of {k:?} have gaps or duplicates (seed {seed})"
        );
        assert_eq!(
            counters.get(&k),
            Some(&n),
            "the counter of {k:?} (seed {seed})"
        );
    }
    assert_eq!(
        counters.len(),
        seqs.len(),
        "counters without proposals: {counters:?}"
    );
    let mut titles: Vec<&str> = rows.iter().map(|r| r.4.as_str()).collect();
    titles.sort_unstable();
    let before = titles.len();
    titles.dedup();
    assert_eq!(
        before,
        titles.len(),
        "a submission was stored twice (its Idempotency-Key was retried) (seed {seed})"
    );
}

/// Exactly one acknowledgement per proposal, and none for a proposal that is not there.
pub(crate) fn check_acknowledgements(conn: &mut kyoso::storage::AnyConnection, seed: u64) {
    use kyoso::storage::schema::{mail_outbox as o, proposals as p};
    let ids: Vec<i64> = p::table.select(p::id).load(conn).unwrap();
    let keys: Vec<String> = o::table
        .filter(o::kind.eq("proposal_received"))
        .select(o::dedupe_key)
        .load(conn)
        .unwrap();
    let mut per_proposal: BTreeMap<i64, usize> = ids.iter().map(|id| (*id, 0)).collect();
    for k in &keys {
        let id: i64 = k
            .strip_prefix("proposal_received:")
            .and_then(|r| r.split(':').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("unexpected acknowledgement key {k}"));
        match per_proposal.get_mut(&id) {
            Some(n) => *n += 1,
            None => {
                panic!("an acknowledgement for proposal {id}, which does not exist (seed {seed})")
            }
        }
    }
    let wrong: Vec<_> = per_proposal.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        wrong.is_empty(),
        "proposals without exactly one acknowledgement (id, count): {wrong:?} (seed {seed})"
    );
}
