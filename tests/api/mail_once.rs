//! Tries to break "mail once, even when SMTP is slow or down": two senders against a
//! relay that takes a second per message with a lease shorter than their batches take,
//! an outage many backoffs long (time shortened through `SenderConfig`), a claimer that
//! lost its claim trying to record, a relay that refuses one recipient for good, and
//! `kyoso mail send` from cron beside the sender of `serve`.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::console::Session;
use crate::helpers::{
    Backend, ScratchDir, TEST_PASSWORD, TestApp, World, fresh_database, set_passwords,
};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use kyoso::domain::actor::{Actor, StaffActor};
use kyoso::domain::ids::StaffUserId;
use kyoso::domain::outbox_admin;
use kyoso::domain::vocab::{Locale, Role};
use kyoso::mail::claim::{self, ClaimToken, FailureKind};
use kyoso::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
use kyoso::mail::send::{Mailer, SendReport, SenderConfig};
use kyoso::mail::templates::Rendered;
use kyoso::mail::transport::Transport;
use kyoso::storage::Db;
use kyoso::storage::connection::DatabaseTarget;
use kyoso::storage::schema::mail_outbox::dsl as mo;

on_both_backends!(
    a_slow_relay_and_two_senders_send_each_mail_once,
    an_outage_of_hours_delays_mail_without_failing_it,
    a_claimer_that_lost_its_claim_records_nothing,
    a_refused_recipient_fails_alone_after_the_last_refusal,
    cron_beside_serve_sends_each_mail_once,
);

fn mailer(url: &str, worker: &str, config: SenderConfig) -> Mailer {
    let mut m = Mailer::new(
        Transport::smtp(url).unwrap(),
        "共創窓口 <kyoso@example.jp>".into(),
        "http://127.0.0.1:8080".into(),
    );
    m.worker = worker.into();
    m.config = config;
    m
}

/// Queues `n` proposal receipts through the real API: one mail each.
async fn queue_receipts(app: &TestApp, w: &World, n: usize) {
    for i in 0..n {
        let r = app
            .post(
                "/api/v1/proposals",
                Some(&w.partner_a.1),
                &json!({"municipality_code": "141003", "title": format!("公園の見守りカメラ設置 {i}"),
                        "body": "子どもが安心して遊べるよう、公園に見守りカメラを設置する提案です。"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

/// (status, attempts, rejections, last_error) of every mail, by id.
fn rows(db: &Db) -> Vec<(String, i32, i32, Option<String>)> {
    let mut c = db.conn().unwrap();
    mo::mail_outbox
        .order(mo::id)
        .select((mo::status, mo::attempts, mo::rejections, mo::last_error))
        .load(&mut *c)
        .unwrap()
}

fn assert_each_message_once(smtp: &SmtpServer, expected: usize) {
    let msgs = smtp.messages();
    let mut ids: Vec<&str> = msgs
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let all = ids.len();
    ids.dedup();
    assert_eq!(
        (all, ids.len()),
        (expected, expected),
        "a Message-ID arrived twice or a mail is missing: {ids:?}"
    );
}

async fn a_slow_relay_and_two_senders_send_each_mail_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    queue_receipts(&app, &w, 12).await;
    // One second per message and a lease of four: a sender's batch of ten takes ten
    // seconds, so the leases of its later rows run out while it works and the other
    // sender takes them. Without renewal and claim tokens both would send those.
    let smtp = SmtpServer::slow(1.0);
    let config = SenderConfig {
        lease: TimeDelta::seconds(4),
        ..SenderConfig::default()
    };
    let started = Instant::now();
    let senders: Vec<_> = ["node-a", "node-b"]
        .into_iter()
        .map(|name| {
            let (db, url) = (app.db.clone(), smtp.url());
            std::thread::spawn(move || {
                let m = mailer(&url, name, config);
                let mut total = SendReport::default();
                loop {
                    let r = m.send_due(&db, 100).unwrap();
                    total.sent += r.sent;
                    total.failed += r.failed;
                    total.lost += r.lost;
                    if rows(&db).iter().all(|(s, ..)| s == "sent") {
                        return total;
                    }
                    assert!(started.elapsed() < Duration::from_secs(50), "mail stuck");
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    let reports: Vec<SendReport> = senders.into_iter().map(|h| h.join().unwrap()).collect();
    assert_each_message_once(&smtp, 12);
    assert_eq!(reports.iter().map(|r| r.sent).sum::<usize>(), 12);
    assert_eq!(reports.iter().map(|r| r.failed).sum::<usize>(), 0);
    assert!(
        reports.iter().map(|r| r.lost).sum::<usize>() > 0,
        "no claim ran out, so the test proved nothing: {reports:?}"
    );
    assert!(
        reports.iter().all(|r| r.sent > 0),
        "both senders work: {reports:?}"
    );
}

/// The deployment admin as the domain sees them.
fn operator(db: &Db) -> Actor {
    use kyoso::storage::schema::staff_users::dsl as su;
    let mut c = db.conn().unwrap();
    let id: i64 = su::staff_users
        .filter(su::email.eq("operator@example.jp"))
        .select(su::id)
        .first(&mut *c)
        .unwrap();
    Actor::Staff(StaffActor {
        id: StaffUserId(id),
        role: Role::Admin,
        municipality: None,
        department: None,
    })
}

async fn an_outage_of_hours_delays_mail_without_failing_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    queue_receipts(&app, &w, 3).await;
    let mut smtp = SmtpServer::stopped();
    // Each backoff capped at 200 ms stands for the 30 minutes of a deployment: twelve
    // rounds are an outage of hours, more attempts than a refused mail is given.
    let config = SenderConfig {
        backoff_cap: TimeDelta::milliseconds(200),
        ..SenderConfig::default()
    };
    let m = mailer(&smtp.url(), "node-a", config);
    let rounds = claim::MAX_REJECTIONS + 4;
    for _ in 0..rounds {
        let r = m.send_due(&app.db, 100).unwrap();
        assert_eq!((r.sent, r.failed, r.lost), (0, 3, 0));
        std::thread::sleep(Duration::from_millis(250));
    }
    for (status, attempts, rejections, error) in rows(&app.db) {
        assert_eq!(
            (status.as_str(), attempts, rejections),
            ("pending", rounds, 0)
        );
        assert!(error.is_some_and(|e| !e.is_empty()));
    }

    // Deployment admins see the delayed mail: the domain listing behind the console
    // screen, the console screen itself and the API's default listing.
    let outbox = outbox_admin::list(&app.db, &operator(&app.db), 100).unwrap();
    assert_eq!(outbox.delayed, 3);
    assert!(
        outbox.mails.iter().all(|m| m.delayed
            && m.status == "pending"
            && m.last_error.is_some()
            && m.next_attempt_at > m.created_at),
        "{:?}",
        outbox.mails
    );
    set_passwords(&app.db, &["operator@example.jp"]);
    let mut console = Session::new(&app);
    console.login("operator@example.jp", TEST_PASSWORD).await;
    let page = console.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("遅延") && page.text.contains("次の試行"),
        "{}",
        page.text
    );
    let api = app.get("/api/v1/admin/mail", Some(&w.operator_key)).await;
    assert_eq!(api.status, 200, "{}", api.text);
    let listed = api.body.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed.iter().all(|m| m["delayed"] == Value::Bool(true)
            && m["status"] == "pending"
            && m["last_error"].is_string()
            && m["next_attempt_at"].is_string()),
        "{listed:?}"
    );
    let delayed = app
        .get("/api/v1/admin/mail?status=delayed", Some(&w.operator_key))
        .await;
    assert_eq!(delayed.body.as_array().map(Vec::len), Some(3));
    let failed = app
        .get("/api/v1/admin/mail?status=failed", Some(&w.operator_key))
        .await;
    assert_eq!(failed.body.as_array().map(Vec::len), Some(0));

    // The relay returns: within one capped backoff every mail goes, once.
    smtp.up();
    std::thread::sleep(Duration::from_millis(250));
    let r = m.send_due(&app.db, 100).unwrap();
    assert_eq!((r.sent, r.failed), (3, 0));
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(m.send_due(&app.db, 100).unwrap(), SendReport::default());
    assert!(rows(&app.db).iter().all(|(s, ..)| s == "sent"));
    assert_each_message_once(&smtp, 3);
    let after = outbox_admin::list(&app.db, &operator(&app.db), 100).unwrap();
    assert_eq!(after.delayed, 0);
}

async fn a_claimer_that_lost_its_claim_records_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    queue_receipts(&app, &w, 1).await;
    let mut c = app.db.conn().unwrap();
    let conn = &mut *c;
    // A stalls: its lease (none at all here) runs out before it records anything.
    let a = ClaimToken::new();
    let taken = claim::claim(conn, "node-a", &a, 10, TimeDelta::zero()).unwrap();
    assert_eq!(taken.len(), 1);
    let row = taken[0].clone();
    std::thread::sleep(Duration::from_millis(20));
    let b = ClaimToken::new();
    let retaken = claim::claim(conn, "node-b", &b, 10, TimeDelta::minutes(10)).unwrap();
    assert_eq!(retaken.len(), 1, "B takes the row whose lease ran out");
    // A, back, can neither renew, nor record a send, nor record a failure.
    let minute = TimeDelta::minutes(1);
    assert!(!claim::renew(conn, row.id, &a, minute).unwrap());
    assert!(!claim::mark_sent(conn, row.id, &a).unwrap());
    for kind in [FailureKind::Transient, FailureKind::Permanent] {
        assert!(!claim::mark_failed_attempt(conn, &row, &a, kind, "late", minute).unwrap());
    }
    let (status, token, attempts): (String, Option<String>, i32) = mo::mail_outbox
        .find(row.id)
        .select((mo::status, mo::claim_token, mo::attempts))
        .first(conn)
        .unwrap();
    assert_eq!(
        (status.as_str(), token.as_deref(), attempts),
        ("sending", Some(b.as_str()), 0)
    );
    // B's lease holds against a third claimer; B records, once.
    let c3 = ClaimToken::new();
    assert!(
        claim::claim(conn, "node-c", &c3, 10, minute)
            .unwrap()
            .is_empty()
    );
    assert!(claim::renew(conn, row.id, &b, minute).unwrap());
    assert!(claim::mark_sent(conn, row.id, &b).unwrap());
    assert!(!claim::mark_sent(conn, row.id, &b).unwrap());
    assert_eq!(rows(&app.db)[0].0, "sent");
}

async fn a_refused_recipient_fails_alone_after_the_last_refusal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    queue_receipts(&app, &w, 1).await;
    {
        let mut c = app.db.conn().unwrap();
        assert!(outbox::enqueue(&mut c, &guest_mail(1, "refused@example.jp")).unwrap());
    }
    let smtp = SmtpServer::slow(0.0);
    let config = SenderConfig {
        backoff_cap: TimeDelta::milliseconds(100),
        ..SenderConfig::default()
    };
    let m = mailer(&smtp.url(), "node-a", config);
    let first = m.send_due(&app.db, 100).unwrap();
    assert_eq!((first.sent, first.failed), (1, 1));
    for _ in 1..claim::MAX_REJECTIONS {
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(m.send_due(&app.db, 100).unwrap().failed, 1);
    }
    let all = rows(&app.db);
    assert_eq!(all[0].0, "sent");
    let (status, attempts, rejections, error) = &all[1];
    assert_eq!(
        (status.as_str(), *attempts, *rejections),
        ("failed", claim::MAX_REJECTIONS, claim::MAX_REJECTIONS)
    );
    assert!(
        error.as_deref().is_some_and(|e| e.contains("550")),
        "{error:?}"
    );
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(m.send_due(&app.db, 100).unwrap(), SendReport::default());
    assert_each_message_once(&smtp, 1);
}

fn guest_mail(n: usize, to: &str) -> Outgoing<'_> {
    Outgoing {
        dedupe_key: format!("once-test:{n}"),
        kind: kyoso::mail::templates::Template::ProposalReceived,
        recipient: RecipientRef::Guest,
        recipient_email: to,
        recipient_name: None,
        locale: Locale::Ja,
        delivery: Delivery::Immediate,
        message: Rendered {
            subject: format!("受付のお知らせ {n}"),
            body_text: "本文".into(),
            body_html: None,
        },
    }
}

/// `kyoso mail send` run by cron (a process of its own, default settings) while the
/// sender of `serve` works the same outbox on a relay taking a second per message.
async fn cron_beside_serve_sends_each_mail_once(backend: Backend) {
    let scratch = ScratchDir::new();
    let target = fresh_database(backend, &scratch);
    let url = match &target {
        DatabaseTarget::Sqlite(path) => path.display().to_string(),
        DatabaseTarget::Postgres(url) => url.clone(),
    };
    let db = Db::open(target, 4).unwrap();
    db.migrate().unwrap();
    {
        let mut c = db.conn().unwrap();
        for n in 0..12 {
            assert!(outbox::enqueue(&mut c, &guest_mail(n, "someone@example.jp")).unwrap());
        }
    }
    let smtp = SmtpServer::slow(1.0);
    // The sender of `serve` claims ten rows under a short lease and works through them
    // at a second each; cron starts once the leases of its later rows ran out.
    let serve = {
        let (db, url) = (db.clone(), smtp.url());
        std::thread::spawn(move || {
            let m = mailer(
                &url,
                "serve",
                SenderConfig {
                    lease: TimeDelta::seconds(4),
                    ..SenderConfig::default()
                },
            );
            let started = Instant::now();
            let mut total = SendReport::default();
            while !rows(&db).iter().all(|(s, ..)| s == "sent") {
                let r = m.send_due(&db, 100).unwrap();
                total.sent += r.sent;
                total.lost += r.lost;
                assert!(started.elapsed() < Duration::from_secs(50), "mail stuck");
                std::thread::sleep(Duration::from_millis(100));
            }
            total
        })
    };
    std::thread::sleep(Duration::from_millis(4500));
    let mut cron = std::process::Command::new(env!("CARGO_BIN_EXE_kyoso"));
    for (k, _) in std::env::vars() {
        if k.starts_with("KYOSO_") {
            cron.env_remove(k);
        }
    }
    let out = cron
        .args(["mail", "send"])
        .current_dir(&scratch.0)
        .env("DATABASE_URL", &url)
        .env("KYOSO_DATA_DIR", &scratch.0)
        .env("KYOSO_SMTP_URL", smtp.url())
        .env("KYOSO_MAIL_FROM", "kyoso@example.jp")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let serve = serve.join().unwrap();
    assert!(
        serve.sent > 0 && serve.sent < 12 && serve.lost > 0,
        "cron took over rows of serve: {serve:?}; cron said {text}"
    );
    assert_each_message_once(&smtp, 12);
}
