//! Mail through a real SMTP server: each kind of notice produced by the real flow, the
//! headers and Japanese encoding as a mail client sees them, an outage that loses
//! nothing, a crash between sending and recording, digests and one-click unsubscribe.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, World, need_body, offer_body};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use kyoso::domain::notifications::digest::{self, Period};
use kyoso::domain::notifications::{alerts, reminders};
use kyoso::domain::search::follow;
use kyoso::mail::send::Mailer;
use kyoso::mail::transport::Transport;
use kyoso::storage::schema::mail_outbox::dsl as mo;

on_both_backends!(
    every_proposal_notice_arrives_readable,
    an_outage_loses_nothing_and_sends_once,
    a_crash_between_sending_and_recording_is_visible_and_bounded,
    digests_gather_items_once_and_unsubscribe_in_one_click,
    match_alerts_and_deadline_reminders_are_sent_once,
    failed_mail_is_listed_and_retried_by_admins,
);

fn mailer(smtp: &SmtpServer) -> Mailer {
    Mailer::new(
        Transport::smtp(&smtp.url()).unwrap(),
        "共創窓口 <kyoso@example.jp>".into(),
        "http://127.0.0.1:8080".into(),
    )
}

fn proposal() -> Value {
    json!({"municipality_code": "141003", "title": "公園の見守りカメラ設置", "body": "子どもが安心して遊べるよう、公園に見守りカメラを設置する提案です。"})
}

async fn submit(app: &TestApp, key: &str) -> Reply {
    let r = app.post("/api/v1/proposals", Some(key), &proposal()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

fn find<'a>(msgs: &'a [Value], to: &str, subject_part: &str) -> &'a Value {
    msgs.iter()
        .find(|m| {
            m["to"].as_str().unwrap().contains(to)
                && m["subject"].as_str().unwrap().contains(subject_part)
        })
        .unwrap_or_else(|| panic!("no mail to {to} about {subject_part}: {msgs:#?}"))
}

async fn every_proposal_notice_arrives_readable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let smtp = SmtpServer::start();
    let m = mailer(&smtp);
    let p = submit(&app, &w.partner_a.1).await;
    let id = p.body["id"].as_i64().unwrap();
    let number = p.body["receipt_number"].as_str().unwrap().to_owned();
    let desk = &w.yokohama.desk_key;
    app.post(
        &format!("/api/v1/proposals/{id}/route"),
        Some(desk),
        &json!({"primary_department_id": w.yokohama.department_id, "note": "設置場所の所管を確認"}),
    )
    .await;
    app.post(
        &format!("/api/v1/proposals/{id}/replies"),
        Some(&w.yokohama.dept_key),
        &json!({"body": "現地を確認のうえ、改めてご連絡します。"}),
    )
    .await;
    let d = app.post(&format!("/api/v1/proposals/{id}/transition"), Some(desk), &json!({"to": "declined", "reason_code": "not_feasible_now", "reason": "今年度は設置の予算と場所の調整がつかないため。"})).await;
    assert_eq!(d.status, 200, "{}", d.text);
    let report = m.send_due(&app.db, 100).unwrap();
    assert_eq!((report.sent, report.failed), (4, 0));

    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    let ack = find(&msgs, "contact@example.com", "受け付けました");
    assert!(ack["subject"].as_str().unwrap().contains(&number));
    assert!(
        ack["raw_subject"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("=?utf-8?"),
        "subject not encoded: {}",
        ack["raw_subject"]
    );
    assert_eq!(ack["content_type"], "multipart/alternative");
    assert!(
        ack["text"].as_str().unwrap().contains(&number)
            && ack["html"].as_str().unwrap().contains(&number)
    );
    assert!(ack["from"].as_str().unwrap().contains("共創窓口"));
    assert!(
        ack["list_unsubscribe"].is_null(),
        "transactional mail carries no unsubscribe header"
    );
    let stored: String = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .filter(mo::kind.eq("proposal_received"))
            .select(mo::message_id)
            .first(&mut *c)
            .unwrap()
    };
    assert_eq!(ack["message_id"], stored);
    let routed = find(&msgs, &format!("dept@{}.example.jp", "141003"), "回付");
    assert!(
        routed["text"]
            .as_str()
            .unwrap()
            .contains("設置場所の所管を確認")
    );
    let reply = find(&msgs, "contact@example.com", "からのご連絡");
    assert!(reply["text"].as_str().unwrap().contains("現地を確認"));
    let declined = find(&msgs, "contact@example.com", "見送り");
    let text = declined["text"].as_str().unwrap();
    assert!(
        text.contains("現時点では実施困難") && text.contains("予算と場所の調整"),
        "{text}"
    );
    // Nothing is sent twice.
    assert_eq!(m.send_due(&app.db, 100).unwrap().sent, 0);
    assert_eq!(smtp.messages().len(), 4);
}

fn make_due_now(app: &TestApp) {
    let mut c = app.db.conn().unwrap();
    diesel::update(mo::mail_outbox)
        .set(mo::next_attempt_at.eq(kyoso::storage::now()))
        .execute(&mut *c)
        .unwrap();
}

async fn an_outage_loses_nothing_and_sends_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let mut smtp = SmtpServer::stopped();
    let m = mailer(&smtp);
    submit(&app, &w.partner_a.1).await;
    submit(&app, &w.partner_a.1).await;
    // The server is down: both attempts fail and wait with backoff.
    let r = m.send_due(&app.db, 100).unwrap();
    assert_eq!((r.sent, r.failed), (0, 2));
    let rows: Vec<(String, i32, Option<String>)> = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .select((mo::status, mo::attempts, mo::last_error))
            .load(&mut *c)
            .unwrap()
    };
    assert!(
        rows.iter()
            .all(|(s, a, e)| s == "pending" && *a == 1 && e.is_some()),
        "{rows:?}"
    );
    // Not due again before the backoff passes.
    assert_eq!(m.send_due(&app.db, 100).unwrap(), Default::default());
    smtp.up();
    make_due_now(&app);
    let r = m.send_due(&app.db, 100).unwrap();
    assert_eq!((r.sent, r.failed), (2, 0));
    make_due_now(&app);
    assert_eq!(m.send_due(&app.db, 100).unwrap().sent, 0);
    assert_eq!(smtp.messages().len(), 2);
}

async fn a_crash_between_sending_and_recording_is_visible_and_bounded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let smtp = SmtpServer::start();
    let m = mailer(&smtp);
    submit(&app, &w.partner_a.1).await;
    // Sent, then the process dies before recording it.
    assert_eq!(m.send_without_recording_for_tests(&app.db).unwrap(), 1);
    assert_eq!(
        m.send_due(&app.db, 100).unwrap().sent,
        0,
        "the claim still holds"
    );
    // After the dead sender's lease runs out the mail goes again: a duplicate, with the
    // same Message-ID.
    {
        let mut c = app.db.conn().unwrap();
        let old = kyoso::storage::now() - chrono::TimeDelta::seconds(1);
        diesel::update(mo::mail_outbox)
            .set(mo::lease_until.eq(old))
            .execute(&mut *c)
            .unwrap();
    }
    assert_eq!(m.send_due(&app.db, 100).unwrap().sent, 1);
    assert_eq!(m.send_due(&app.db, 100).unwrap().sent, 0);
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["message_id"], msgs[1]["message_id"]);
}

async fn digests_gather_items_once_and_unsubscribe_in_one_click(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let smtp = SmtpServer::start();
    let m = mailer(&smtp);
    let key = w.partner_a.1.as_str();
    let prefs = app
        .call(
            awc::http::Method::PUT,
            "/api/v1/me/notifications",
            Some(key),
            Some(&json!({"kinds": {"proposal_reply": "daily", "proposal_status": "daily"}})),
        )
        .await;
    assert_eq!(prefs.status, 200, "{}", prefs.text);
    let p = submit(&app, key).await;
    let id = p.body["id"].as_i64().unwrap();
    let desk = &w.yokohama.desk_key;
    app.post(
        &format!("/api/v1/proposals/{id}/replies"),
        Some(desk),
        &json!({"body": "一回目のご連絡です。"}),
    )
    .await;
    app.post(
        &format!("/api/v1/proposals/{id}/route"),
        Some(desk),
        &json!({"primary_department_id": w.yokohama.department_id}),
    )
    .await;
    app.post(
        &format!("/api/v1/proposals/{id}/transition"),
        Some(desk),
        &json!({"to": "in_dialogue"}),
    )
    .await;
    app.post(
        &format!("/api/v1/proposals/{id}/replies"),
        Some(desk),
        &json!({"body": "二回目のご連絡です。"}),
    )
    .await;
    // Only the acknowledgement (and the department's routing notice) go at once.
    m.send_due(&app.db, 100).unwrap();
    assert_eq!(
        smtp.messages()
            .iter()
            .filter(|x| x["to"].as_str().unwrap().contains("contact@example.com"))
            .count(),
        1
    );

    let at = kyoso::storage::now();
    let r = digest::run(&app.db, Period::Daily, at).unwrap();
    assert_eq!((r.digests, r.items), (1, 3), "{r:?}");
    assert!(
        digest::run(&app.db, Period::Daily, at).unwrap().skipped,
        "a period runs once"
    );
    assert_eq!(
        digest::run(&app.db, Period::Weekly, at).unwrap().digests,
        0,
        "no empty digests"
    );
    m.send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    let d = find(&msgs, "contact@example.com", "お知らせ（3件）");
    let text = d["text"].as_str().unwrap();
    let (second, first) = (text.find("二回目").unwrap(), text.find("一回目").unwrap());
    assert!(second < first, "newest first: {text}");
    assert!(
        text.contains("■ 提案への回答（2件）") && text.contains("■ 提案の状況（1件）"),
        "{text}"
    );
    assert_eq!(d["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let header = d["list_unsubscribe"].as_str().unwrap();
    let url = header.trim_start_matches('<').trim_end_matches('>');
    let path = &url[url.find("/api/v1/unsubscribe").unwrap()..];
    // Nothing is digested twice: a new run of the next day finds nothing.
    assert_eq!(
        digest::run(&app.db, Period::Daily, at + chrono::TimeDelta::days(1))
            .unwrap()
            .digests,
        0
    );

    // One click, without signing in, as a mail client does (RFC 8058).
    let page = app.get(path, None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<form method=\"post\""));
    // The console's look, from the page shell both HTTP faces share (`web::html`).
    for shell in [
        "<link rel=\"stylesheet\" href=\"/admin/static/console.css\">",
        "<body class=\"bare\">",
        "<h1>配信停止 / Unsubscribe</h1>",
    ] {
        assert!(page.text.contains(shell), "{shell} in {}", page.text);
    }
    let done = app
        .call_raw(
            awc::http::Method::POST,
            path,
            None,
            "application/x-www-form-urlencoded",
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("<body class=\"bare\">"), "{}", done.text);
    assert!(done.text.contains("<li>"), "{}", done.text);
    let prefs = app.get("/api/v1/me/notifications", Some(key)).await;
    let off: Vec<&str> = prefs.body["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["delivery"] == "off")
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert!(
        off.contains(&"proposal_reply")
            && off.contains(&"proposal_status")
            && off.contains(&"match_alert"),
        "{off:?}"
    );
    let forged = app
        .call_raw(
            awc::http::Method::POST,
            &path.replace("token=", "token=x"),
            None,
            "application/x-www-form-urlencoded",
            vec![],
        )
        .await;
    // A forged link gets a page saying so, not a problem document: people follow it.
    assert_eq!(forged.status, 400, "{}", forged.text);
    assert!(
        forged.text.contains("このリンクは無効です"),
        "{}",
        forged.text
    );
}

async fn match_alerts_and_deadline_reminders_are_sent_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    // The partner wants match alerts at once.
    app.call(
        awc::http::Method::PUT,
        "/api/v1/me/notifications",
        Some(&w.partner_a.1),
        Some(&json!({"kinds": {"match_alert": "immediate"}})),
    )
    .await;
    let mut offer = offer_body("保育所の入所申請オンライン化サービス");
    offer["body"] = json!(
        "保育所の入所申請をスマートフォンから受け付け、窓口の混雑を解消するサービスを提供します。"
    );
    offer["policy_fields"] = json!(["childcare_education"]);
    app.post("/api/v1/offers", Some(&w.partner_a.1), &offer)
        .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    assert_eq!(
        alerts::run(&app.db, &app.search, 0.2).unwrap(),
        0,
        "the first run starts from now"
    );
    let need = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need_body(
                "保育所の入所申請をオンライン化したい",
                y.department_id,
                "public",
                "open",
            ),
        )
        .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    let sent = alerts::run(&app.db, &app.search, 0.2).unwrap();
    assert!(sent >= 1, "no alert for a strong match");
    // Editing the need does not alert the same pair again.
    app.patch(
        &format!("/api/v1/needs/{}", need.body["id"]),
        Some(&y.dept_key),
        &json!({"title": "保育所の入所申請をオンライン化したい（再掲）"}),
    )
    .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    assert_eq!(alerts::run(&app.db, &app.search, 0.2).unwrap(), 0);
    let alerts: Vec<(String, String)> = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .filter(mo::kind.eq("match_alert"))
            .select((mo::recipient_email, mo::delivery))
            .load(&mut *c)
            .unwrap()
    };
    assert!(
        alerts
            .iter()
            .any(|(to, d)| to == "contact@example.com" && d == "immediate"),
        "{alerts:?}"
    );

    // An overdue proposal reminds the desk, once.
    let long_ago = (chrono::Utc::now() - chrono::TimeDelta::days(40)).to_rfc3339();
    app.post("/api/v1/desk/proposals", Some(&y.desk_key), &json!({"channel": "phone", "submitter_name": "市民", "title": "古い相談", "body": "先月の電話", "received_at": long_ago})).await;
    let first = reminders::run(&app.db).unwrap();
    assert!(first >= 1);
    assert_eq!(reminders::run(&app.db).unwrap(), 0);
    let smtp = SmtpServer::start();
    mailer(&smtp).send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    find(&msgs, "desk@141003.example.jp", "期限超過");
    let alert = find(&msgs, "contact@example.com", "新着マッチ");
    assert!(
        alert["list_unsubscribe"]
            .as_str()
            .unwrap()
            .contains("/api/v1/unsubscribe?token=")
    );
}

async fn failed_mail_is_listed_and_retried_by_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    submit(&app, &w.partner_a.1).await;
    {
        let mut c = app.db.conn().unwrap();
        diesel::update(mo::mail_outbox)
            .set((
                mo::status.eq("failed"),
                mo::attempts.eq(8),
                mo::last_error.eq(Some("550 mailbox unavailable")),
            ))
            .execute(&mut *c)
            .unwrap();
    }
    app.get("/api/v1/admin/mail", Some(&w.yokohama.desk_key))
        .await
        .assert_problem(403, "forbidden");
    let list = app.get("/api/v1/admin/mail", Some(&w.operator_key)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let id = list.body[0]["id"].as_i64().unwrap();
    assert_eq!(list.body[0]["last_error"], "550 mailbox unavailable");
    let r = app
        .post(
            &format!("/api/v1/admin/mail/{id}/retry"),
            Some(&w.operator_key),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // Queued again, it is no longer a failed mail; an unknown id is not found.
    app.post(
        &format!("/api/v1/admin/mail/{id}/retry"),
        Some(&w.operator_key),
        &json!({}),
    )
    .await
    .assert_problem(409, "conflict");
    app.post(
        "/api/v1/admin/mail/999999/retry",
        Some(&w.operator_key),
        &json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.get("/api/v1/admin/mail?status=lost", Some(&w.operator_key))
        .await
        .assert_problem(422, "invalid");
    let smtp = SmtpServer::start();
    assert_eq!(mailer(&smtp).send_due(&app.db, 10).unwrap().sent, 1);
}

on_both_backends!(saved_searches_tell_of_new_results);

async fn saved_searches_tell_of_new_results(backend: Backend) {
    use kyoso::domain::notifications::saved_searches;
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let key = w.partner_b.1.as_str();
    // ドローン
    let saved = app
        .post(
            "/api/v1/me/saved-searches",
            Some(key),
            &json!({"name": "ドローン案件", "q": "ドローン", "type": "need"}),
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.text);
    app.post(
        "/api/v1/me/saved-searches",
        Some(key),
        &json!({"name": "bad", "q": &"長".repeat(300)}),
    )
    .await
    .assert_problem(422, "invalid");
    assert_eq!(
        app.get("/api/v1/me/saved-searches", Some(key))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        saved_searches::run(&app.db, &app.search).unwrap(),
        0,
        "nothing new yet"
    );
    let mut body = need_body(
        "ドローンで河川を点検したい",
        y.department_id,
        "public",
        "open",
    );
    body["body"] = json!("河川の護岸の点検にドローンを使いたい。");
    app.post("/api/v1/needs", Some(&y.dept_key), &body).await;
    app.post(
        "/api/v1/needs",
        Some(&y.dept_key),
        &need_body("別の課題", y.department_id, "public", "open"),
    )
    .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    assert_eq!(saved_searches::run(&app.db, &app.search).unwrap(), 1);
    assert_eq!(
        saved_searches::run(&app.db, &app.search).unwrap(),
        0,
        "told once"
    );
    let item: (String, String, String) = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .filter(mo::kind.eq("saved_search"))
            .select((mo::subject, mo::body_text, mo::delivery))
            .first(&mut *c)
            .unwrap()
    };
    assert!(
        item.0.contains("ドローン")
            && item.1.contains("河川を点検")
            && !item.1.contains("別の課題"),
        "{item:?}"
    );
    assert_eq!(item.2, "daily");
    // It reaches the partner in the daily digest through the SMTP server.
    let smtp = SmtpServer::start();
    assert_eq!(
        digest::run(&app.db, Period::Daily, kyoso::storage::now())
            .unwrap()
            .digests,
        1
    );
    mailer(&smtp).send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    let d = find(&msgs, "contact@example.com", "お知らせ（1件）");
    assert!(
        d["text"]
            .as_str()
            .unwrap()
            .contains("ドローンで河川を点検したい"),
        "{d:#?}"
    );

    let id = saved.body["id"].as_i64().unwrap();
    app.call(
        awc::http::Method::DELETE,
        &format!("/api/v1/me/saved-searches/{id}"),
        Some(&w.partner_a.1),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(
        app.call(
            awc::http::Method::DELETE,
            &format!("/api/v1/me/saved-searches/{id}"),
            Some(key),
            None
        )
        .await
        .status,
        204
    );
}

on_both_backends!(several_senders_never_send_a_mail_twice);

/// Two nodes' senders working the same outbox at once: every mail goes out exactly once
/// (PostgreSQL: rows claimed with FOR UPDATE SKIP LOCKED; SQLite: one writer).
async fn several_senders_never_send_a_mail_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    for _ in 0..30 {
        submit(&app, &w.partner_a.1).await;
    }
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let handles: Vec<_> = (0..3)
        .map(|n| {
            let db = app.db.clone();
            let url = url.clone();
            std::thread::spawn(move || {
                let mut m = Mailer::new(
                    Transport::smtp(&url).unwrap(),
                    "kyoso@example.jp".into(),
                    "http://127.0.0.1:8080".into(),
                );
                m.worker = format!("node-{n}");
                let mut sent = 0;
                for _ in 0..20 {
                    sent += m.send_due(&db, 4).unwrap().sent;
                }
                sent
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 30);
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 30);
    let mut ids: Vec<&str> = msgs
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 30, "a Message-ID arrived twice");
}
