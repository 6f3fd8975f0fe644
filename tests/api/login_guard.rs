//! Login that resists guessing and flooding, and the API's per-source limits, tried
//! against the real app on both backends: parallel wrong passwords, the lock after the
//! hash, the exact count, the hash gate under a flood, identical answers for unknown
//! and known addresses, the per-source throttle, one lock notice per lock, no own
//! password through the admin form, and the registration and intake limits.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;

use crate::console::{Session, csrf_of};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;

on_both_backends!(
    parallel_guesses_lock_the_account_exactly,
    unknown_and_known_addresses_answer_alike,
    a_flood_beyond_the_hash_gate_is_refused_at_once,
    the_source_throttle_answers_429_with_retry_after,
    desk_staff_cannot_set_their_own_password,
    registration_and_intake_are_rate_limited,
    behind_a_trusted_proxy_each_client_has_its_own_budget,
);

const DESK: &str = "desk@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";
const ADMIN: &str = "admin@141003.example.jp";

fn seed(app: &TestApp) -> World {
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK, DEPT, ADMIN]);
    w
}

fn lock_state(app: &TestApp, who: &str) -> (i32, Option<chrono::NaiveDateTime>) {
    use kyoso::storage::schema::staff_users::dsl::*;
    let mut conn = app.db.conn().unwrap();
    staff_users
        .filter(email.eq(who))
        .select((failed_logins, locked_until))
        .first(&mut *conn)
        .unwrap()
}

fn lock_notices(app: &TestApp) -> Vec<(String, String)> {
    use kyoso::storage::schema::mail_outbox::dsl::*;
    let mut conn = app.db.conn().unwrap();
    mail_outbox
        .filter(kind.eq("login_locked"))
        .select((recipient_email, subject))
        .load(&mut *conn)
        .unwrap()
}

/// A login form post from a fresh browser (its own CSRF cookie) at `ip`.
async fn attempt(app: &TestApp, ip: &str, email: &str, password: &str) -> (u16, String) {
    let mut s = Session::at(app, ip);
    let p = s.login(email, password).await;
    (p.status.as_u16(), p.text)
}

/// The error message of a login page (the form's own tokens differ on every page).
fn message(html: &str) -> String {
    html.split("id=\"login-error\"")
        .nth(1)
        .and_then(|r| r.split("</div>").next())
        .unwrap_or("")
        .to_owned()
}

async fn parallel_guesses_lock_the_account_exactly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    // 24 wrong passwords at once, from four addresses (the per-source throttle is
    // not what this test is about).
    let ips = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    let answers =
        join_all((0..24).map(|i| attempt(&app, ips[i % ips.len()], DEPT, "wrong-password-123")))
            .await;
    let refused_busy = answers.iter().filter(|(s, _)| *s == 429).count();
    let invalid = answers.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(refused_busy + invalid, 24, "{answers:?}");
    assert!(
        invalid >= 5,
        "enough attempts were heard to lock: {invalid}"
    );
    // Exactly five were counted: the fifth locked, the rest found the lock and were
    // not counted; no increment was lost to a parallel one.
    let (failures, until) = lock_state(&app, DEPT);
    assert_eq!(failures, 5, "{answers:?}");
    let until = until.expect("the account is locked");
    assert!(until > kyoso::storage::now() + chrono::TimeDelta::minutes(14));
    // The right password right after is refused, with the same words as a wrong one.
    let (status, text) = attempt(&app, "127.0.0.6", DEPT, TEST_PASSWORD).await;
    assert_eq!(status, 401, "{text}");
    let (_, wrong) = attempt(&app, "127.0.0.7", DEPT, "wrong-password-123").await;
    assert_eq!(message(&text), message(&wrong));
    assert!(!text.contains("ロック") && !text.contains("までログインできません"));
    assert_eq!(
        lock_state(&app, DEPT).0,
        5,
        "attempts while locked are not counted"
    );
    // One notice for the one lock, to the owner.
    let notices = lock_notices(&app);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].0, DEPT);
    assert!(notices[0].1.contains("ログイン"), "{}", notices[0].1);

    // A browser that logged in to the account before gets past the lock; a session
    // that was open stays open (a lock ends no sessions).
    {
        use kyoso::storage::schema::staff_users::dsl::*;
        let mut conn = app.db.conn().unwrap();
        diesel::update(staff_users.filter(email.eq(DESK)))
            .set(locked_until.eq(None::<chrono::NaiveDateTime>))
            .execute(&mut *conn)
            .unwrap();
    }
    let mut owner = Session::at(&app, "127.0.0.8");
    assert_eq!(owner.login(DESK, TEST_PASSWORD).await.status, 303);
    for i in 0..5 {
        let (s, _) = attempt(&app, "127.0.0.9", DESK, "wrong-password-123").await;
        assert_eq!(s, 401, "attempt {i}");
    }
    assert!(lock_state(&app, DESK).1.is_some(), "locked");
    assert_eq!(owner.get("/admin/inbox").await.status, 200, "session kept");
    assert_eq!(
        Session::at(&app, "127.0.0.10")
            .login(DESK, TEST_PASSWORD)
            .await
            .status,
        401,
        "a new browser is held by the lock"
    );
    assert_eq!(
        owner.login(DESK, TEST_PASSWORD).await.status,
        303,
        "the owner's browser is not"
    );
    assert_eq!(
        lock_state(&app, DESK),
        (0, None),
        "and its login clears the lock"
    );
    assert_eq!(lock_notices(&app).len(), 2, "one notice per lock");
}

async fn unknown_and_known_addresses_answer_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    // Disabled: the same answer as unknown.
    {
        use kyoso::storage::schema::staff_users::dsl::*;
        let mut conn = app.db.conn().unwrap();
        diesel::update(staff_users.filter(email.eq(ADMIN)))
            .set(status.eq("disabled"))
            .execute(&mut *conn)
            .unwrap();
    }
    let mut times: [Vec<Duration>; 3] = [vec![], vec![], vec![]];
    let mut pages: [Vec<(u16, String)>; 3] = [vec![], vec![], vec![]];
    let who = ["nobody@141003.example.jp", DEPT, ADMIN];
    for round in 0..4 {
        for (i, email) in who.iter().enumerate() {
            let ip = format!("127.0.1.{}", round * 3 + i + 1);
            let t = Instant::now();
            let (s, text) = attempt(&app, &ip, email, "wrong-password-123").await;
            times[i].push(t.elapsed());
            pages[i].push((s, message(&text)));
        }
    }
    for i in 1..3 {
        assert_eq!(
            pages[i], pages[0],
            "{} answers like an unknown address",
            who[i]
        );
    }
    assert!(pages[0].iter().all(|(s, _)| *s == 401));
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let m: Vec<Duration> = times.iter_mut().map(median).collect();
    let (lo, hi) = (m.iter().min().unwrap(), m.iter().max().unwrap());
    // Each costs one argon2 verification: the medians differ by far less than one.
    assert!(
        hi.saturating_sub(*lo) < Duration::from_millis(150) || *hi < *lo * 2,
        "median times {m:?}"
    );
}

async fn a_flood_beyond_the_hash_gate_is_refused_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    let gate = &app.state.guards.hashes;
    let n = 80;
    let started = Instant::now();
    let app_ref = &app;
    let answers = join_all((0..n).map(|i| {
        let ip = format!("127.0.2.{}", i % 40 + 1);
        let app = app_ref;
        async move {
            let t = Instant::now();
            let (s, _) = attempt(app, &ip, "nobody@example.jp", "wrong-password-123").await;
            (s, t.elapsed())
        }
    }))
    .await;
    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == 429).collect();
    assert!(!busy.is_empty(), "a flood is refused in part: {answers:?}");
    assert!(
        answers.iter().all(|(s, _)| *s == 401 || *s == 429),
        "{answers:?}"
    );
    assert!(
        gate.high_water() <= gate.permits(),
        "at most {} hashes at once, saw {}",
        gate.permits(),
        gate.high_water()
    );
    // The flood is over in the time a few rounds of hashes take, not n of them.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let (status, _) = attempt(&app, "127.0.3.1", DESK, TEST_PASSWORD).await;
    assert_eq!(status, 303, "after the flood, logins work");
}

async fn the_source_throttle_answers_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    // The owner logged in from this address before, in this browser.
    let mut owner = Session::at(&app, "127.0.4.1");
    assert_eq!(owner.login(DESK, TEST_PASSWORD).await.status, 303);
    // Spread over many addresses so no account lock is reached: 20 failures from one
    // source, then the source is refused before any password work.
    for i in 0..20 {
        let who = format!("nobody{i}@example.jp");
        let (s, _) = attempt(&app, "127.0.4.1", &who, "wrong-password-123").await;
        assert_eq!(s, 401, "attempt {i}");
    }
    let mut s = Session::at(&app, "127.0.4.1");
    let form = s.get("/admin/login").await;
    let token = csrf_of(&form.text);
    let res = s
        .raw_post(
            "/admin/login",
            &[
                ("csrf", &token),
                ("next", "/admin/inbox"),
                ("email", DESK),
                ("password", TEST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.0, 429);
    let retry: u64 = res.1.expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(res.2.contains("短時間に"), "{}", res.2);
    // Another source is not held back, and the account was never locked.
    let (ok, _) = attempt(&app, "127.0.4.2", DESK, TEST_PASSWORD).await;
    assert_eq!(ok, 303);
    // The owner's browser, behind the same (say, shared NAT) address, is throttled on
    // its own and still gets in; its cookie does nothing for another account.
    assert_eq!(owner.login(DESK, TEST_PASSWORD).await.status, 303);
    assert_eq!(owner.login(DEPT, TEST_PASSWORD).await.status, 429);
}

async fn desk_staff_cannot_set_their_own_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = seed(&app);
    for who in [DESK, ADMIN] {
        let mut s = Session::new(&app);
        assert_eq!(s.login(who, TEST_PASSWORD).await.status, 303);
        let t = s.csrf().await;
        let res = s
            .post(
                "/admin/staff/password",
                &[
                    ("csrf", &t),
                    ("email", who),
                    ("password", "taken-over-password"),
                ],
            )
            .await;
        assert_eq!(res.status, 403, "{who}: {}", res.text);
        // The old password still works; the new one does not.
        assert_eq!(
            Session::new(&app).login(who, TEST_PASSWORD).await.status,
            303
        );
        assert_eq!(
            Session::new(&app)
                .login(who, "taken-over-password")
                .await
                .status,
            401
        );
    }
    // An admin still sets another user's password.
    let mut a = Session::new(&app);
    a.login(ADMIN, TEST_PASSWORD).await;
    let t = a.csrf().await;
    let res = a
        .post(
            "/admin/staff/password",
            &[
                ("csrf", &t),
                ("email", DEPT),
                ("password", "a-new-dept-password"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text);
    assert_eq!(
        Session::new(&app)
            .login(DEPT, "a-new-dept-password")
            .await
            .status,
        303
    );
}

async fn registration_and_intake_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = seed(&app);
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/partners",
                None,
                &json!({
                    "kind": "npo", "name": format!("NPO法人テスト{i}"),
                    "contact_name": "担当", "contact_email": format!("npo{i}@example.org"),
                    "regions": ["nationwide"]
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let sixth = app
        .post(
            "/api/v1/partners",
            None,
            &json!({"kind": "npo", "name": "NPO法人六番目", "contact_name": "担当",
                    "contact_email": "npo6@example.org", "regions": ["nationwide"]}),
        )
        .await;
    sixth.assert_problem(429, "rate_limited");
    let retry: u64 = sixth
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry));
    {
        use kyoso::storage::schema::partners;
        let mut conn = app.db.conn().unwrap();
        let n: i64 = partners::table
            .filter(partners::name.eq("NPO法人六番目"))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(n, 0, "the refused registration wrote nothing");
    }

    let body = json!({"municipality_code": "141003", "title": "公園の見守りカメラ設置",
                      "body": "子どもが安心して遊べるよう、公園に見守りカメラを設置する提案です。"});
    let mut created = 0;
    for _ in 0..30 {
        let r = app
            .post("/api/v1/proposals", Some(&w.partner_a.1), &body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        created += 1;
    }
    let over = app
        .post("/api/v1/proposals", Some(&w.partner_a.1), &body)
        .await;
    over.assert_problem(429, "rate_limited");
    assert!(over.headers.contains_key("retry-after"));
    // The source is spent too: another partner from the same address waits.
    app.post("/api/v1/proposals", Some(&w.partner_b.1), &body)
        .await
        .assert_problem(429, "rate_limited");
    let stored: i64 = {
        use kyoso::storage::schema::proposals::dsl::*;
        let mut conn = app.db.conn().unwrap();
        proposals.count().get_result(&mut *conn).unwrap()
    };
    assert_eq!(stored, created);
}

/// Runs futures side by side on this task; their outputs in order.
async fn join_all<F: Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

/// Registers a partner as if through a proxy that appended `forwarded` to the request.
async fn register_via(app: &TestApp, forwarded: Option<&str>, n: usize) -> u16 {
    let mut req = awc::Client::default().post(format!("{}/api/v1/partners", app.base));
    if let Some(f) = forwarded {
        req = req.insert_header(("X-Forwarded-For", f));
    }
    req.send_json(&json!({
        "kind": "npo", "name": format!("NPO法人経由{n}"), "contact_name": "担当",
        "contact_email": format!("via{n}@example.org"), "regions": ["nationwide"]
    }))
    .await
    .expect("request reaches the server")
    .status()
    .as_u16()
}

/// Behind HAProxy every connection comes from the proxy: with the proxy named as trusted,
/// each client has its own budget; without, a client cannot buy a fresh budget by writing
/// the header itself.
async fn behind_a_trusted_proxy_each_client_has_its_own_budget(backend: Backend) {
    let limits = |proxies: &str| kyoso::domain::throttle::Limits {
        registrations_per_source: kyoso::domain::throttle::Limit::hourly(2),
        trusted_proxies: proxies.parse().unwrap(),
        ..Default::default()
    };
    let behind = TestApp::spawn_limited(
        backend,
        crate::helpers::analyzers(),
        limits("127.0.0.1, ::1"),
    )
    .await;
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    assert_eq!(
        register_via(&behind, Some("198.51.100.1"), next()).await,
        201
    );
    assert_eq!(
        register_via(&behind, Some("198.51.100.1"), next()).await,
        201
    );
    assert_eq!(
        register_via(&behind, Some("198.51.100.1"), next()).await,
        429
    );
    // Another client behind the same proxy is not held back by the first.
    assert_eq!(
        register_via(&behind, Some("198.51.100.2"), next()).await,
        201
    );
    // The first client writes a made-up address in front: the proxy's appended one counts.
    assert_eq!(
        register_via(&behind, Some("203.0.113.9, 198.51.100.1"), next()).await,
        429
    );
    // No header, or garbage where the client should be: the proxy's own budget.
    assert_eq!(register_via(&behind, None, next()).await, 201);
    assert_eq!(register_via(&behind, Some("unknown"), next()).await, 201);
    assert_eq!(register_via(&behind, Some("not-an-ip"), next()).await, 429);

    // Without trusted proxies the header means nothing.
    let direct = TestApp::spawn_limited(backend, crate::helpers::analyzers(), limits("")).await;
    assert_eq!(
        register_via(&direct, Some("198.51.100.1"), next()).await,
        201
    );
    assert_eq!(
        register_via(&direct, Some("198.51.100.2"), next()).await,
        201
    );
    assert_eq!(
        register_via(&direct, Some("198.51.100.3"), next()).await,
        429
    );
}
