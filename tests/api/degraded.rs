//! Bigram-only search (no Japanese dictionary) cannot go unnoticed: `/readyz` and
//! `/healthz` say `degraded` (and stay 200: the service works), every console page of an
//! administrator carries the notice with the command that fixes it while department and
//! desk staff see nothing, and `kyoso serve` prints a banner on stderr that no log
//! filter hides. With the dictionary, none of it appears.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::console::Session;
use crate::helpers::{
    Backend, ScratchDir, TEST_PASSWORD, TestApp, World, analyzers, fresh_database, offer_body,
    set_passwords,
};
use crate::on_both_backends;
use kyoso::domain::search::follow;
use kyoso::storage::connection::DatabaseTarget;

on_both_backends!(
    without_the_dictionary_admins_and_probes_are_told,
    with_the_dictionary_nobody_is_told,
    serve_prints_a_banner_only_without_the_dictionary,
);

const FIX: &str = "sudo apt-get install -y mecab-ipadic";
const NOTICE: &str = r#"<section class="degraded" aria-labelledby="degraded-h">"#;

/// Analyzers loaded as `serve` loads them, from an IPADIC directory that is empty.
fn without_dictionary(scratch: &ScratchDir) -> search_index::Analyzers {
    let empty = scratch.0.join("empty-ipadic");
    std::fs::create_dir_all(&empty).unwrap();
    search_index::Analyzers::load(&scratch.0.join("data"), &empty)
}

const ADMINS: [&str; 2] = ["admin@141003.example.jp", "operator@example.jp"];
const NOT_ADMINS: [&str; 2] = ["desk@141003.example.jp", "dept@141003.example.jp"];

async fn without_the_dictionary_admins_and_probes_are_told(backend: Backend) {
    let scratch = ScratchDir::new();
    let app = TestApp::spawn_with(backend, without_dictionary(&scratch)).await;
    let w = World::seed(&app.db);

    // The probes: 200 (a load balancer must keep the node), the body says degraded.
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["degraded"], true, "{}", ready.text);
    assert_eq!(ready.body["search_analysis"], "bigram_only");
    assert_eq!(ready.body["search"]["analysis"], "bigram_only");
    let warning = ready.body["warnings"][0].as_str().unwrap();
    assert!(warning.contains(FIX), "{warning}");
    assert_eq!(ready.body["warnings"].as_array().unwrap().len(), 1);
    let live = app.get("/healthz", None).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body["degraded"], true);
    assert_eq!(live.body["search_analysis"], "bigram_only");

    // Degraded, not broken: a new offer is found by a word of its title.
    let created = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &offer_body("子育て支援アプリの提供"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    follow::catch_up(&app.db, &app.search).unwrap();
    let found = app
        .get("/api/v1/search?q=%E5%AD%90%E8%82%B2%E3%81%A6", None) // 子育て
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert!(
        found.text.contains("子育て支援アプリの提供"),
        "{}",
        found.text
    );

    set_passwords(&app.db, &[&ADMINS[..], &NOT_ADMINS[..]].concat());
    // Every page an administrator opens, the municipality's and the deployment's.
    for email in ADMINS {
        let mut s = Session::new(&app);
        assert_eq!(s.login(email, TEST_PASSWORD).await.status, 303);
        let mut pages = vec![
            "/admin/inbox",
            "/admin/needs",
            "/admin/partners",
            "/admin/staff",
            "/admin/audit",
            "/admin/account",
        ];
        if email == "operator@example.jp" {
            pages.push("/admin/outbox");
        } else {
            pages.push("/admin/dashboard");
        }
        for path in pages {
            let p = s.get(path).await;
            assert_eq!(p.status, 200, "{email} {path}: {}", p.text);
            assert_eq!(
                p.text.matches(NOTICE).count(),
                1,
                "{email} {path}: {}",
                p.text
            );
            assert!(p.text.contains(r#"<div role="status">"#), "{path}");
            assert!(p.text.contains("検索の精度が低下しています"), "{path}");
            assert!(p.text.contains(FIX), "{path}");
            // Between the header and the menu: read right after the header.
            let (header, notice, menu) = (
                p.text.find("</header>").unwrap(),
                p.text.find(NOTICE).unwrap(),
                p.text.find("<nav class=\"menu\"").unwrap(),
            );
            assert!(header < notice && notice < menu, "{path}");
        }
        // In English when the console is.
        let en = s.get("/admin/inbox?lang=en").await;
        assert!(en.text.contains(NOTICE), "{}", en.text);
        assert!(en.text.contains("Search quality is reduced"), "{}", en.text);
        assert!(!en.text.contains("検索の精度が低下しています"));
        assert!(en.text.contains(FIX));
    }
    // Desk and department staff can do nothing about it: not a word.
    for email in NOT_ADMINS {
        let mut s = Session::new(&app);
        assert_eq!(s.login(email, TEST_PASSWORD).await.status, 303);
        for path in ["/admin/inbox", "/admin/needs", "/admin/account"] {
            let p = s.get(path).await;
            assert_eq!(p.status, 200, "{email} {path}: {}", p.text);
            assert!(!p.text.contains("degraded"), "{email} {path}: {}", p.text);
            assert!(!p.text.contains(FIX), "{email} {path}");
        }
    }
}

async fn with_the_dictionary_nobody_is_told(backend: Backend) {
    let app = TestApp::spawn_with(backend, analyzers()).await;
    World::seed(&app.db);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["degraded"], false, "{}", ready.text);
    assert_eq!(ready.body["search_analysis"], "morphological");
    assert_eq!(ready.body["warnings"], serde_json::json!([]));
    let live = app.get("/healthz", None).await;
    assert_eq!(live.body["degraded"], false);
    assert_eq!(live.body["search_analysis"], "morphological");

    set_passwords(&app.db, &ADMINS);
    for email in ADMINS {
        let mut s = Session::new(&app);
        assert_eq!(s.login(email, TEST_PASSWORD).await.status, 303);
        for path in ["/admin/inbox", "/admin/staff", "/admin/inbox?lang=en"] {
            let p = s.get(path).await;
            assert_eq!(p.status, 200, "{email} {path}: {}", p.text);
            assert!(!p.text.contains("degraded"), "{email} {path}: {}", p.text);
            assert!(!p.text.contains("mecab-ipadic"), "{email} {path}");
        }
    }
}

// --- the real process -------------------------------------------------------------

fn database_url(target: &DatabaseTarget) -> String {
    match target {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
    }
}

/// `kyoso serve` with the given IPADIC directory and log filter; stderr to `log`.
fn serve(dir: &ScratchDir, url: &str, ipadic: &Path, log_filter: &str, log: &Path) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kyoso"));
    c.current_dir(&dir.0).env_remove("DATABASE_URL");
    for (k, _) in std::env::vars() {
        if k.starts_with("KYOSO_") {
            c.env_remove(k);
        }
    }
    c.arg("serve")
        .env("KYOSO_DATABASE_URL", url)
        .env("KYOSO_DATA_DIR", dir.0.join("data"))
        .env("KYOSO_IPADIC_DIR", ipadic)
        .env("KYOSO_BIND", "127.0.0.1:0")
        .env("KYOSO_POOL_SIZE", "4")
        .env("KYOSO_LOG", log_filter)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    c.spawn().unwrap()
}

/// Waits until the process has said it is ready (or exited); returns its stderr.
fn wait_ready(child: &mut Child, log: &Path) -> String {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        // The banner comes before the ready line, so this never cuts it short; with
        // KYOSO_LOG=error there is no ready line, so wait for the banner's last rule.
        if text.contains("kyoso ready on") || text.matches(&"=".repeat(78)).count() >= 2 {
            return text;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("kyoso serve exited ({status}): {text}");
        }
        assert!(Instant::now() < until, "kyoso serve not ready: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stop(mut child: Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let until = Instant::now() + Duration::from_secs(40);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            panic!("kyoso serve did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn serve_prints_a_banner_only_without_the_dictionary(backend: Backend) {
    let dir = ScratchDir::new();
    let url = database_url(&fresh_database(backend, &dir));
    let empty = dir.0.join("empty-ipadic");
    std::fs::create_dir_all(&empty).unwrap();

    // Without the dictionary, with the quietest log filter: the banner is there anyway.
    let log = dir.0.join("serve-1.log");
    let mut child = serve(&dir, &url, &empty, "error", &log);
    let text = wait_ready(&mut child, &log);
    stop(child);
    assert!(
        text.contains("SEARCH QUALITY IS REDUCED / 検索の精度が低下しています"),
        "{text}"
    );
    assert!(text.contains(&format!("    {FIX}\n")), "{text}");
    assert!(text.contains(&empty.display().to_string()), "{text}");

    // With it (the dictionary the tests built, so nothing is compiled here): no banner,
    // and the index made with bigrams is rebuilt with the dictionary.
    analyzers();
    let built = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dict");
    let dict = dir.0.join("data").join("dict");
    let _ = std::fs::remove_dir_all(&dict);
    std::os::unix::fs::symlink(&built, &dict).unwrap();
    let log = dir.0.join("serve-2.log");
    let mut child = serve(
        &dir,
        &url,
        Path::new(search_index::DEFAULT_IPADIC_DIR),
        "info",
        &log,
    );
    let text = wait_ready(&mut child, &log);
    stop(child);
    assert!(text.contains("kyoso ready on"), "{text}");
    assert!(!text.contains("SEARCH QUALITY IS REDUCED"), "{text}");
    assert!(!text.contains(FIX), "{text}");
    assert!(text.contains("rebuilding it from the database"), "{text}");
}

/// The notice in a real browser: a labelled region holding a status message, readable
/// (contrast) and allowed by the Content-Security-Policy, in both languages; axe-clean.
#[actix_web::test]
async fn the_notice_passes_the_accessibility_check() {
    let scratch = ScratchDir::new();
    let app = TestApp::spawn_with(Backend::Sqlite, without_dictionary(&scratch)).await;
    World::seed(&app.db);
    set_passwords(&app.db, &["admin@141003.example.jp"]);
    let b = crate::browser::Browser::start().await;
    b.login(&app, "admin@141003.example.jp").await;
    assert!(
        b.text("section.degraded[aria-labelledby=degraded-h] [role=status]")
            .await
            .contains(FIX)
    );
    assert_eq!(b.text("#degraded-h").await, "検索の精度が低下しています");
    b.screen("degraded-notice").await;
    b.goto(&format!("{}/admin/staff?lang=en", app.base)).await;
    assert_eq!(b.text("#degraded-h").await, "Search quality is reduced");
    b.screen("degraded-notice-en").await;
    b.quit().await;
}
