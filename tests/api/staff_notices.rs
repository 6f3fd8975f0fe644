//! What staff are told, on both backends: the desk hears of every new proposal as each
//! member chose (at once, in a digest, or not), never of its own recording and never
//! with the proposer's contact details; related departments (関係課) get the routing
//! notice worded as not the lead and cannot decide; the console's account page saves
//! the same settings the API reads.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::console::{Session, csrf_of};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords, staff_key};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use kyoso::domain::notifications::digest::{self, Period};
use kyoso::mail::send::Mailer;
use kyoso::mail::transport::Transport;
use kyoso::storage::schema::mail_outbox::dsl as mo;

on_both_backends!(
    desk_hears_of_new_proposals_as_each_member_chose,
    related_departments_hear_that_they_are_not_the_lead,
    the_account_page_saves_what_the_api_reads,
);

fn mailer(smtp: &SmtpServer) -> Mailer {
    Mailer::new(
        Transport::smtp(&smtp.url()).unwrap(),
        "共創窓口 <kyoso@example.jp>".into(),
        "http://127.0.0.1:8080".into(),
    )
}

/// The outbox rows of `kind`: (recipient, delivery, status).
fn rows(app: &TestApp, kind: &str) -> Vec<(String, String, String)> {
    let mut c = app.db.conn().unwrap();
    mo::mail_outbox
        .filter(mo::kind.eq(kind))
        .select((mo::recipient_email, mo::delivery, mo::status))
        .order(mo::id)
        .load(&mut *c)
        .unwrap()
}

async fn set(app: &TestApp, key: &str, kinds: Value) -> crate::helpers::Reply {
    app.call(
        Method::PUT,
        "/api/v1/me/notifications",
        Some(key),
        Some(&json!({ "kinds": kinds })),
    )
    .await
}

async fn submit(app: &TestApp, key: &str, title: &str) -> Value {
    let r = app
        .post(
            "/api/v1/proposals",
            Some(key),
            &json!({"municipality_code": "141003", "title": title, "body": "公園に見守りカメラを設置する提案です。", "policy_field": "safety"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn desk_hears_of_new_proposals_as_each_member_chose(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    // The seeded desk member has it off (tests/api/helpers.rs): these start from the
    // default.
    let fresh = staff_key(&app.db, "fresh@141003.example.jp", "desk", "141003", None);
    let daily = staff_key(&app.db, "daily@141003.example.jp", "desk", "141003", None);
    let off = staff_key(&app.db, "off@141003.example.jp", "desk", "141003", None);
    assert_eq!(
        set(&app, &daily, json!({"new_proposal": "daily"}))
            .await
            .status,
        200
    );
    assert_eq!(
        set(&app, &off, json!({"new_proposal": "off"})).await.status,
        200
    );
    // The weekly report is weekly or nothing.
    set(&app, &daily, json!({"weekly_report": "daily"}))
        .await
        .assert_problem(422, "invalid");

    let first = submit(&app, &w.partner_a.1, "公園の見守りカメラ").await;
    let n1 = first["receipt_number"].as_str().unwrap().to_owned();
    // The desk member who records a proposal is not told of it; the others are.
    let r = app
        .post(
            "/api/v1/desk/proposals",
            Some(&fresh),
            &json!({"channel": "phone", "submitter_name": "市民 一郎", "submitter_phone": "045-000-0000", "title": "電話での相談", "body": "バス停のベンチを増やしてほしい。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let n2 = r.body["receipt_number"].as_str().unwrap().to_owned();
    let mut got = rows(&app, "new_proposal");
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "daily@141003.example.jp".into(),
                "daily".into(),
                "pending".into()
            ),
            (
                "daily@141003.example.jp".into(),
                "daily".into(),
                "pending".into()
            ),
            (
                "fresh@141003.example.jp".into(),
                "immediate".into(),
                "pending".into()
            ),
        ],
        "immediate for the desk by default, daily as chosen, none when off, none for \
         the admin (off by default), the department, the other town or the recorder"
    );

    let smtp = SmtpServer::start();
    let m = mailer(&smtp);
    m.send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    let to_desk: Vec<&Value> = msgs
        .iter()
        .filter(|x| {
            x["to"]
                .as_str()
                .unwrap()
                .contains("fresh@141003.example.jp")
        })
        .collect();
    assert_eq!(to_desk.len(), 1, "one mail per proposal: {msgs:#?}");
    let mail = to_desk[0];
    assert!(mail["subject"].as_str().unwrap().contains("新しい提案"));
    assert!(mail["subject"].as_str().unwrap().contains(&n1));
    let text = mail["text"].as_str().unwrap();
    for part in [
        "公園の見守りカメラ",
        "Web・API",
        "登録パートナー（企業）",
        "防災・安全",
        "/admin/proposals/",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    // No more personal data than the desk needs to route it.
    for secret in ["担当 太郎", "contact@example.com", "みなと測量"] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
    assert!(
        !msgs
            .iter()
            .any(|x| x["to"].as_str().unwrap().contains("off@")
                || x["to"].as_str().unwrap().contains("admin@")
                || x["to"].as_str().unwrap().contains("desk@")),
        "{msgs:#?}"
    );

    // The daily digest carries both to the member who chose it, once.
    let r = digest::run(&app.db, Period::Daily, kyoso::storage::now()).unwrap();
    assert_eq!((r.digests, r.items), (1, 2), "{r:?}");
    m.send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    let digest = msgs
        .iter()
        .find(|x| {
            x["to"]
                .as_str()
                .unwrap()
                .contains("daily@141003.example.jp")
        })
        .expect("a digest for the daily member");
    let text = digest["text"].as_str().unwrap();
    assert!(text.contains("新しい提案（2件）"), "{text}");
    assert!(text.contains(&n1) && text.contains(&n2), "{text}");
    assert!(
        !text.contains("045-000-0000") && !text.contains("市民 一郎"),
        "{text}"
    );

    // An admin who turns it on hears of the next one.
    assert_eq!(
        set(
            &app,
            &w.yokohama.admin_key,
            json!({"new_proposal": "immediate"})
        )
        .await
        .status,
        200
    );
    submit(&app, &w.partner_b.1, "空き家の活用").await;
    let got: Vec<String> = rows(&app, "new_proposal")
        .into_iter()
        .filter(|(_, d, s)| d == "immediate" && s == "pending")
        .map(|(to, _, _)| to)
        .collect();
    got.iter()
        .for_each(|to| assert!(to.starts_with("fresh@") || to.starts_with("admin@")));
    assert!(
        got.contains(&"admin@141003.example.jp".to_owned()),
        "{got:?}"
    );
    assert_eq!(
        rows(&app, "new_proposal").len(),
        2 + 1 + 3,
        "per proposal: the desk at once, the daily member, the admin once it asked"
    );
}

async fn related_departments_hear_that_they_are_not_the_lead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let related = staff_key(
        &app.db,
        "related@141003.example.jp",
        "department",
        "141003",
        Some(y.other_department_id),
    );
    let p = submit(&app, &w.partner_a.1, "防災訓練のアプリ").await;
    let id = p["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/route"),
            Some(&y.desk_key),
            &json!({"primary_department_id": y.department_id, "other_department_ids": [y.other_department_id], "note": "危機管理室も関係します"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let smtp = SmtpServer::start();
    mailer(&smtp).send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    let to = |who: &str| -> Vec<&Value> {
        msgs.iter()
            .filter(|x| x["to"].as_str().unwrap().contains(who))
            .collect()
    };
    let lead = to("dept@141003.example.jp");
    assert_eq!(lead.len(), 1, "{msgs:#?}");
    assert!(lead[0]["subject"].as_str().unwrap().contains("【回付】"));
    let rel = to("related@141003.example.jp");
    assert_eq!(rel.len(), 1, "{msgs:#?}");
    let subject = rel[0]["subject"].as_str().unwrap();
    assert!(
        subject.contains("関係課") && !subject.contains("【回付】"),
        "{subject}"
    );
    let text = rel[0]["text"].as_str().unwrap();
    for part in [
        "総務局 危機管理室は関係課として",
        "主管課はこども未来局 子育て支援課です",
        "主管課または共創窓口が行います",
        "危機管理室も関係します",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    // Re-routing with the same departments tells each again, once.
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/route"),
            Some(&y.desk_key),
            &json!({"primary_department_id": y.department_id, "other_department_ids": [y.other_department_id, y.department_id]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let routed = rows(&app, "proposal_routed_related");
    assert_eq!(routed.len(), 2, "{routed:?}");
    assert!(
        routed
            .iter()
            .all(|(to, _, _)| to == "related@141003.example.jp")
    );

    // A related department cannot decide; the lead department can.
    let decide = |key: String| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/proposals/{id}/transition"),
                Some(&key),
                &json!({"to": "adopted"}),
            )
            .await
        }
    };
    let r = decide(related.clone()).await;
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
        "{}",
        r.text
    );
    let state = app
        .get(&format!("/api/v1/proposals/{id}"), Some(&y.desk_key))
        .await;
    assert_eq!(state.body["state"], "routed", "{}", state.text);
    let r = decide(y.dept_key.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn the_account_page_saves_what_the_api_reads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(
        &app.db,
        &["desk@141003.example.jp", "dept@141003.example.jp"],
    );
    let mut s = Session::new(&app);
    s.login("desk@141003.example.jp", TEST_PASSWORD).await;
    let page = s.get("/admin/account").await;
    assert_eq!(page.status, 200);
    for part in [
        "<legend>新しい提案</legend>",
        "<legend>週次レポート</legend>",
        "<legend>期限のお知らせ</legend>",
        // As seeded (tests/api/helpers.rs) …
        r#"id="n-new_proposal-off" type="radio" name="kind.new_proposal" value="off" checked"#,
        // … and the default.
        r#"id="n-weekly_report-weekly" type="radio" name="kind.weekly_report" value="weekly" checked"#,
        r#"name="revoke_unsubscribe_links""#,
    ] {
        assert!(page.text.contains(part), "{part} missing");
    }
    // Partner-only kinds are not offered to staff; the weekly report only weekly or off.
    assert!(!page.text.contains("kind.proposal_received"));
    assert!(!page.text.contains("kind.proposal_reply"));
    assert!(!page.text.contains("n-weekly_report-daily"));
    let csrf = csrf_of(&page.text);

    // Without the CSRF token nothing is saved.
    let r = s
        .post(
            "/admin/account/notifications",
            &[("kind.new_proposal", "off")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    let r = s
        .post(
            "/admin/account/notifications",
            &[
                ("csrf", &csrf),
                ("kind.new_proposal", "weekly"),
                ("kind.weekly_report", "off"),
                ("kind.deadline_reminder", "daily"),
                ("revoke_unsubscribe_links", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let api = app
        .get("/api/v1/me/notifications", Some(&w.yokohama.desk_key))
        .await;
    let choice = |k: &str| {
        api.body["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == k)
            .map(|x| x["delivery"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(choice("new_proposal"), "weekly");
    assert_eq!(choice("weekly_report"), "off");
    assert_eq!(choice("deadline_reminder"), "daily");
    assert_eq!(choice("match_alert"), "daily", "kinds not sent keep theirs");

    // A refused form keeps what was chosen and saves nothing.
    let r = s
        .post(
            "/admin/account/notifications",
            &[
                ("csrf", &csrf),
                ("kind.new_proposal", "daily"),
                ("kind.weekly_report", "immediate"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains(r#"role="alert""#) && r.text.contains("通知の設定"));
    assert!(
        r.text.contains(
            r#"id="n-new_proposal-daily" type="radio" name="kind.new_proposal" value="daily" checked"#
        ),
        "the choice sent is kept"
    );
    let api = app
        .get("/api/v1/me/notifications", Some(&w.yokohama.desk_key))
        .await;
    assert!(
        api.body["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "new_proposal" && x["delivery"] == "weekly"),
        "{}",
        api.text
    );
    // The API's change shows on the page.
    set(&app, &w.yokohama.desk_key, json!({"saved_search": "off"})).await;
    let page = s.get("/admin/account?lang=en").await;
    assert!(page.text.contains("<legend>New proposal</legend>"));
    assert!(page.text.contains(
        r#"id="n-saved_search-off" type="radio" name="kind.saved_search" value="off" checked"#
    ));

    // Department staff get neither of the desk's own kinds.
    let mut d = Session::new(&app);
    d.login("dept@141003.example.jp", TEST_PASSWORD).await;
    let page = d.get("/admin/account").await;
    assert!(page.text.contains("kind.proposal_routed"));
    assert!(!page.text.contains("kind.new_proposal") && !page.text.contains("kind.weekly_report"));
}
