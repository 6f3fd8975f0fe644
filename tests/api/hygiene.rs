//! Transport, headers and data hygiene, each promise attacked: SMTP never falls back to
//! plain text, every response carries the browser security headers, the logs of a whole
//! realistic flow hold no secret and no address, and unsubscribe links expire and can
//! be revoked. (The demo's refusals are in demo.rs and cli.rs.)

use std::sync::{Mutex, OnceLock};

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::console::Session;
use crate::helpers::{Backend, TestApp, World};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use kyoso::domain::console_auth;
use kyoso::mail::send::Mailer;
use kyoso::mail::signing;
use kyoso::mail::transport::Transport;
use kyoso::storage::schema::mail_outbox;

on_both_backends!(
    smtp_requires_starttls_and_plain_must_be_asked_for,
    security_headers_on_every_kind_of_response,
    logs_hold_no_secrets_or_addresses,
    unsubscribe_links_expire_and_can_be_revoked,
);

fn proposal() -> Value {
    json!({"municipality_code": "141003", "title": "公園の見守りカメラ設置", "body": "子どもが安心して遊べるよう、公園に見守りカメラを設置する提案です。"})
}

fn statuses(app: &TestApp) -> Vec<String> {
    let mut conn = app.db.conn().unwrap();
    mail_outbox::table
        .select(mail_outbox::status)
        .load::<String>(&mut conn)
        .unwrap()
}

async fn smtp_requires_starttls_and_plain_must_be_asked_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let smtp = SmtpServer::start();
    let r = app
        .post("/api/v1/proposals", Some(&w.partner_a.1), &proposal())
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let queued = statuses(&app).len();
    assert!(queued >= 1);

    // aiosmtpd offers no STARTTLS, as a server would look to a client whose attacker
    // stripped it from the greeting: smtp:// must refuse to go on in clear.
    let port = smtp.port;
    let starttls = Mailer::new(
        Transport::smtp(&format!("smtp://user:hunter2@127.0.0.1:{port}")).unwrap(),
        "共創窓口 <kyoso@example.jp>".into(),
        "http://127.0.0.1:8080".into(),
    );
    let report = starttls.send_due(&app.db, 100).unwrap();
    assert_eq!(report.sent, 0);
    assert_eq!(report.failed, queued);
    assert!(smtp.messages().is_empty(), "a mail went out in clear");
    assert!(
        statuses(&app).iter().all(|s| s == "pending"),
        "{:?}",
        statuses(&app)
    );
    assert!(Transport::is_plain_smtp(&smtp.url()));
    assert!(!Transport::is_plain_smtp("smtp://h") && !Transport::is_plain_smtp("smtps://h"));

    // Only the explicit scheme sends without TLS. (The failed mails wait for their
    // backoff; make them due now.)
    diesel::update(mail_outbox::table)
        .set(mail_outbox::next_attempt_at.eq(kyoso::storage::now() - chrono::TimeDelta::hours(1)))
        .execute(&mut app.db.conn().unwrap())
        .unwrap();
    let plain = Mailer::new(
        Transport::smtp(&smtp.url()).unwrap(),
        "共創窓口 <kyoso@example.jp>".into(),
        "http://127.0.0.1:8080".into(),
    );
    let report = plain.send_due(&app.db, 100).unwrap();
    assert_eq!(report.sent, queued);
    assert_eq!(smtp.messages().len(), queued);
}

fn header<'a>(headers: &'a awc::http::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

async fn security_headers_on_every_kind_of_response(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let client = awc::Client::builder().disable_redirects().finish();
    let cases: [(&str, Option<&str>); 8] = [
        ("/admin/login", None),
        ("/admin/inbox", None), // a redirect to the login page
        ("/admin/static/console.css", None),
        ("/admin/no-such-page", None),
        ("/api/v1/unsubscribe?token=x", None),
        ("/api/v1/needs", None),
        ("/api/v1/no-such-thing", None),
        ("/api/v1/me/notifications", Some(w.partner_a.1.as_str())),
    ];
    for (path, key) in cases {
        for https in [false, true] {
            let mut req = client.get(format!("{}{path}", app.base));
            if let Some(k) = key {
                req = req.insert_header(("Authorization", format!("Bearer {k}")));
            }
            if https {
                // As a TLS-terminating proxy tells it.
                req = req.insert_header(("X-Forwarded-Proto", "https"));
            }
            let res = req.send().await.unwrap();
            let h = res.headers();
            assert_eq!(
                header(h, "x-content-type-options"),
                Some("nosniff"),
                "{path}"
            );
            let csp = header(h, "content-security-policy").unwrap_or_default();
            for part in [
                "default-src 'none'",
                "style-src 'self'",
                "frame-ancestors 'none'",
                "form-action 'self'",
            ] {
                assert!(csp.contains(part), "{path}: CSP {csp:?} lacks {part}");
            }
            // Scripts only from kyoso itself (the console's shortcuts file), never inline.
            assert!(
                !csp.contains("unsafe-inline")
                    && !csp.contains("unsafe-eval")
                    && csp.contains("script-src 'self';"),
                "{path}: {csp}"
            );
            assert_eq!(header(h, "x-frame-options"), Some("DENY"), "{path}");
            assert_eq!(header(h, "referrer-policy"), Some("same-origin"), "{path}");
            assert_eq!(
                header(h, "strict-transport-security").is_some(),
                https,
                "{path}: HSTS only over https"
            );
        }
    }
    // The public page has no inline style or script left for the policy to block.
    let page = app.get("/api/v1/unsubscribe?token=x", None).await;
    for inline in ["style=", "<script", "onclick", "onload"] {
        assert!(!page.text.contains(inline), "{inline} in {}", page.text);
    }
}

/// Every log record of this test process, captured as text from the moment the first
/// test asks for it (the real app logs through the `log` facade, as `kyoso serve` does).
fn captured() -> &'static Mutex<Vec<String>> {
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, record: &log::Record) {
            let line = format!("{} {} {}", record.level(), record.target(), record.args());
            if let Some(lines) = LINES.get() {
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        }
        fn flush(&self) {}
    }
    LINES.get_or_init(|| {
        // Fails only if a logger is installed already, which no other test does.
        let _ = log::set_boxed_logger(Box::new(Capture));
        log::set_max_level(log::LevelFilter::Debug);
        Mutex::new(vec![])
    })
}

async fn logs_hold_no_secrets_or_addresses(backend: Backend) {
    let log = captured();
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let tag = format!("{}{}", std::process::id(), rand_suffix());
    let partner_email = format!("log-secret-{tag}@partner.example.com");
    let staff_email = "desk@141003.example.jp";
    let password = format!("log-secret-password-{tag}");

    // A partner registers and proposes, with its key.
    let reg = app
        .post(
            "/api/v1/partners",
            None,
            &json!({"name": "記録確認 株式会社", "kind": "other", "contact_name": "記録 太郎", "contact_email": partner_email}),
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    let key = reg.body["api_key"]["key"].as_str().unwrap().to_owned();
    let partner_id = reg.body["partner"]["id"].as_i64().unwrap();
    let r = app.post("/api/v1/proposals", Some(&key), &proposal()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/me/notifications", Some(&key)).await.status,
        200
    );
    assert_eq!(
        app.get("/api/v1/proposals", Some(&w.yokohama.desk_key))
            .await
            .status,
        200
    );
    // Bodies that do not fit, quoting an address where a number belongs: the client is
    // told, the log is not.
    let misfit = format!("misfit-{tag}@partner.example.com");
    let r = app
        .post(
            "/api/v1/proposals",
            Some(&key),
            &json!({"municipality_code": "141003", "title": "t", "body": "b", "department_id": misfit}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/needs?limit={misfit}"), None)
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    // A wrong key, as an attacker would send it.
    let wrong_key = format!("kyoso_wrongkey{tag}");
    assert_eq!(
        app.get("/api/v1/me/notifications", Some(&wrong_key))
            .await
            .status,
        401
    );

    // The mail goes out through the file transport.
    let dir = crate::helpers::ScratchDir::new();
    let mailer = Mailer::new(
        Transport::files(dir.0.clone()),
        "共創窓口 <kyoso@example.jp>".into(),
        app.base.clone(),
    );
    assert!(mailer.send_due(&app.db, 100).unwrap().sent >= 1);
    assert!(std::fs::read_dir(&dir.0).unwrap().count() >= 1);

    // The partner unsubscribes through a link.
    let signing_key = app
        .db
        .write(|conn| -> kyoso::domain::error::AppResult<_> { Ok(signing::key(conn)?) })
        .unwrap();
    let token = signing::sign(
        &signing_key,
        &format!("v1.partner.{partner_id}.match_alert"),
    );
    let path = format!("/api/v1/unsubscribe?token={token}");
    assert_eq!(app.get(&path, None).await.status, 200);
    let done = app
        .call_raw(
            Method::POST,
            &path,
            None,
            "application/x-www-form-urlencoded",
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);

    // Staff sign in to the console: once wrongly, then with the password.
    console_auth::set_password(&app.db, None, staff_email, &password).unwrap();
    let mut s = Session::new(&app);
    let wrong_password = format!("log-wrong-password-{tag}");
    let p = s.login(staff_email, &wrong_password).await;
    assert_ne!(p.status, 303);
    let p = s.login(staff_email, &password).await;
    assert_eq!(p.status, 303, "{}", p.text);
    let session_cookie = s.cookie(kyoso::console::session::SESSION_COOKIE).unwrap();
    assert_eq!(s.get("/admin/inbox").await.status, 200);

    let lines = log.lock().unwrap().clone();
    let text = lines.join("\n");
    // The access log did see the flow, without the query string.
    assert!(
        text.contains("POST /api/v1/proposals"),
        "no access log captured"
    );
    assert!(text.contains("GET /api/v1/unsubscribe HTTP"), "{text}");
    let secrets = [
        ("partner e-mail", partner_email.as_str()),
        ("address in a bad body", misfit.as_str()),
        ("staff e-mail", staff_email),
        ("password", password.as_str()),
        ("wrong password", wrong_password.as_str()),
        ("partner key", key.as_str()),
        ("wrong key", wrong_key.as_str()),
        ("desk key", w.yokohama.desk_key.as_str()),
        ("unsubscribe token", token.as_str()),
        ("session cookie", session_cookie.as_str()),
    ];
    for (what, secret) in secrets {
        if let Some(line) = lines.iter().find(|l| l.contains(secret)) {
            panic!("the log holds the {what}: {line}");
        }
    }
    // No address of any kind: every line is free of something@domain.
    for line in &lines {
        // The capture sees every test of the process; the one address allowed is the
        // example in the e-mail field's error message ("like name@example.jp").
        let addr = line.split_whitespace().find(|word| {
            !word.contains("name@example.jp")
                && word
                    .split_once('@')
                    .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
        });
        assert!(addr.is_none(), "an address in the log: {line}");
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        .into()
}

async fn unsubscribe_links_expire_and_can_be_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let (partner, key) = (w.partner_a.0, w.partner_a.1.clone());
    let signing_key = app
        .db
        .write(|conn| -> kyoso::domain::error::AppResult<_> { Ok(signing::key(conn)?) })
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let day = 86_400;
    let link = |kind: &str, issued: i64| {
        format!(
            "/api/v1/unsubscribe?token={}",
            signing::sign_at(
                &signing_key,
                &format!("v1.partner.{partner}.{kind}"),
                issued
            )
        )
    };
    let post = |path: String| {
        let app = &app;
        async move {
            app.call_raw(
                Method::POST,
                &path,
                None,
                "application/x-www-form-urlencoded",
                b"List-Unsubscribe=One-Click".to_vec(),
            )
            .await
        }
    };
    let delivery = |kind: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let prefs = app.get("/api/v1/me/notifications", Some(&key)).await;
            prefs.body["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kind"] == kind)
                .unwrap()["delivery"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let before = delivery("match_alert").await;
    assert_ne!(before, "off");

    // Older than a year: a clear page on GET and POST, and nothing changes.
    let old = link("match_alert", now - 366 * day);
    let page = app.get(&old, None).await;
    assert_eq!(page.status, 410, "{}", page.text);
    assert!(
        page.text.contains("有効期限が切れています"),
        "{}",
        page.text
    );
    let r = post(old.clone()).await;
    assert_eq!(r.status, 410, "{}", r.text);
    assert_eq!(delivery("match_alert").await, before);
    // From the future (a forged time needs the key; still refused, not a 500).
    let future = link("match_alert", now + 30 * day);
    assert_eq!(post(future).await.status, 400);
    // Extreme times of issue do not overflow.
    for t in [i64::MIN, i64::MAX, 0] {
        assert!(post(link("match_alert", t)).await.status.is_client_error());
    }
    // Unknown kinds and guests are refused with the invalid page.
    assert_eq!(post(link("nonsense", now)).await.status, 400);
    let guest = format!(
        "/api/v1/unsubscribe?token={}",
        signing::sign(&signing_key, "v1.guest.1.match_alert")
    );
    assert_eq!(post(guest).await.status, 400);

    // A recent link works.
    let recent = link("match_alert", now - 300 * day);
    let r = post(recent.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(delivery("match_alert").await, "off");

    // The partner turns alerts on again and revokes every link issued so far.
    let r = app
        .call(
            Method::PUT,
            "/api/v1/me/notifications",
            Some(&key),
            Some(&json!({"kinds": {"match_alert": "immediate"}, "revoke_unsubscribe_links": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let yesterday = link("match_alert", now - day);
    for path in [recent, yesterday] {
        let page = app.get(&path, None).await;
        assert_eq!(page.status, 410, "{}", page.text);
        assert!(page.text.contains("無効にされています"), "{}", page.text);
        assert_eq!(post(path).await.status, 410);
    }
    assert_eq!(delivery("match_alert").await, "immediate");
    // The other partner's links are untouched by it.
    let other = format!(
        "/api/v1/unsubscribe?token={}",
        signing::sign_at(
            &signing_key,
            &format!("v1.partner.{}.match_alert", w.partner_b.0),
            now - day
        )
    );
    assert_eq!(post(other).await.status, 200);
    // A link issued after the revocation works.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let fresh = link("match_alert", chrono::Utc::now().timestamp());
    assert_eq!(post(fresh).await.status, 200);
    assert_eq!(delivery("match_alert").await, "off");
}
