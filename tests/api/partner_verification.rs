//! Partners prove their address before kyoso mails it: one verification mail at
//! registration and on a change of address, nothing else (no acknowledgement, no answer)
//! until the link is used; links work once, expire and are refused without a 500; a
//! 法人番号 someone holds answers exactly like a fresh one and is not taken over; the
//! saved-search cap holds under parallel creation.

use std::collections::BTreeSet;

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, World};
use crate::on_both_backends;
use kyoso::storage::schema::mail_outbox::dsl as mo;
use kyoso::storage::schema::partner_email_verifications::dsl as pev;

on_both_backends!(
    registration_mails_only_the_link_until_it_is_used,
    a_changed_address_is_unverified_again_and_gets_a_new_link,
    links_work_once_expire_and_new_ones_are_rate_limited,
    a_held_corporate_number_answers_alike_and_is_not_taken_over,
    the_saved_search_cap_holds_under_parallel_creation,
    the_console_marks_unverified_proposers,
    saved_searches_wait_for_a_proven_address,
);

const ATTACKER_NAME: &str = "横浜市 共創推進課（公式）";

fn registration(email: &str, number: Option<&str>) -> Value {
    json!({
        "kind": "company",
        "name": ATTACKER_NAME,
        "corporate_number": number,
        "contact_name": "至急 ご確認ください https://evil.example/login",
        "contact_email": email,
    })
}

async fn register(app: &TestApp, email: &str, number: Option<&str>) -> Reply {
    let r = app
        .post("/api/v1/partners", None, &registration(email, number))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

/// (kind, subject, body) of every mail queued for `email`, oldest first.
fn mails_to(app: &TestApp, email: &str) -> Vec<(String, String, String)> {
    let mut c = app.db.conn().unwrap();
    mo::mail_outbox
        .filter(mo::recipient_email.eq(email))
        .order(mo::id)
        .select((mo::kind, mo::subject, mo::body_text))
        .load(&mut *c)
        .unwrap()
}

/// The token of the newest verification mail to `email`.
fn token_for(app: &TestApp, email: &str) -> String {
    let (_, _, body) = mails_to(app, email)
        .into_iter()
        .rev()
        .find(|m| m.0 == "email_verification")
        .expect("a verification mail");
    let start = body.find("token=").expect("a link") + "token=".len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn verify(app: &TestApp, token: &str) -> Reply {
    app.call_raw(
        Method::POST,
        &format!("/api/v1/partners/verify?token={token}"),
        None,
        "application/x-www-form-urlencoded",
        Vec::new(),
    )
    .await
}

fn proposal() -> Value {
    json!({"municipality_code": "141003", "title": "公園の見守りカメラ設置", "body": "公園に見守りカメラを設置する提案です。"})
}

async fn me(app: &TestApp, key: &str) -> Value {
    let r = app.get("/api/v1/partners/me", Some(key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn registration_mails_only_the_link_until_it_is_used(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let victim = "victim@example.org";
    let r = register(&app, victim, None).await;
    let key = r.body["api_key"]["key"].as_str().unwrap().to_owned();
    assert_eq!(r.body["partner"]["contact"]["email_verified"], false);

    // Exactly one mail, the link, carrying nothing the registrant wrote.
    let mails = mails_to(&app, victim);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let (kind, subject, body) = &mails[0];
    assert_eq!(kind, "email_verification");
    for text in [subject, body] {
        assert!(
            !text.contains(ATTACKER_NAME) && !text.contains("evil.example"),
            "{text}"
        );
    }

    // The proposal is received, marked for the desk, and not acknowledged by mail.
    let p = app.post("/api/v1/proposals", Some(&key), &proposal()).await;
    assert_eq!(p.status, 201, "{}", p.text);
    assert_eq!(p.body["partner_email_verified"], false);
    let id = p.body["id"].as_i64().unwrap();
    let desk_view = app
        .get(
            &format!("/api/v1/proposals/{id}"),
            Some(&w.yokohama.desk_key),
        )
        .await;
    assert_eq!(desk_view.body["partner_email_verified"], false);
    // Nor does an answer from the municipality reach the address.
    let reply = app
        .post(
            &format!("/api/v1/proposals/{id}/replies"),
            Some(&w.yokohama.desk_key),
            &json!({"body": "ご提案ありがとうございます。"}),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.text);
    assert_eq!(mails_to(&app, victim).len(), 1);

    // A scanner prefetching the link verifies nothing.
    let token = token_for(&app, victim);
    let page = app
        .get(&format!("/api/v1/partners/verify?token={token}"), None)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<form method=\"post\""), "{}", page.text);
    assert_eq!(me(&app, &key).await["contact"]["email_verified"], false);

    let done = verify(&app, &token).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("確認しました"));
    assert_eq!(me(&app, &key).await["contact"]["email_verified"], true);
    assert_eq!(desk_view_flag(&app, &w, id).await, Value::Bool(true));

    // The next proposal is acknowledged, once.
    let p2 = app.post("/api/v1/proposals", Some(&key), &proposal()).await;
    assert_eq!(p2.status, 201);
    let kinds: Vec<String> = mails_to(&app, victim).into_iter().map(|m| m.0).collect();
    assert_eq!(kinds, ["email_verification", "proposal_received"]);
}

async fn desk_view_flag(app: &TestApp, w: &World, id: i64) -> Value {
    app.get(
        &format!("/api/v1/proposals/{id}"),
        Some(&w.yokohama.desk_key),
    )
    .await
    .body["partner_email_verified"]
        .clone()
}

async fn a_changed_address_is_unverified_again_and_gets_a_new_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let key = &w.partner_a.1;
    assert_eq!(me(&app, key).await["contact"]["email_verified"], true);

    // Other changes keep the address verified and mail nothing.
    let r = app
        .patch(
            "/api/v1/partners/me",
            Some(key),
            &json!({"description": "測量とドローン"}),
        )
        .await;
    assert_eq!(r.body["contact"]["email_verified"], true, "{}", r.text);

    let first = "first-new@example.org";
    let r = app
        .patch(
            "/api/v1/partners/me",
            Some(key),
            &json!({"contact_email": first}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["contact"]["email_verified"], false);
    let first_token = token_for(&app, first);

    // Changed again before using the link: the old link no longer works.
    let second = "second-new@example.org";
    app.patch(
        "/api/v1/partners/me",
        Some(key),
        &json!({"contact_email": second}),
    )
    .await;
    assert_eq!(verify(&app, &first_token).await.status, 422);
    // The first link's mail, not sent yet, is withdrawn with it: exactly one link mail
    // waits, to the second address.
    let pending: Vec<String> = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .filter(mo::kind.eq("email_verification"))
            .filter(mo::status.eq("pending"))
            .filter(mo::recipient_email.eq_any([first, second]))
            .select(mo::recipient_email)
            .load(&mut *c)
            .unwrap()
    };
    assert_eq!(pending, vec![second.to_owned()]);

    let p = app.post("/api/v1/proposals", Some(key), &proposal()).await;
    assert_eq!(p.body["partner_email_verified"], false);
    for addr in [first, second, "contact@example.com"] {
        assert!(
            mails_to(&app, addr)
                .iter()
                .all(|m| m.0 == "email_verification"),
            "{addr}: {:#?}",
            mails_to(&app, addr)
        );
    }
    assert_eq!(verify(&app, &token_for(&app, second)).await.status, 200);
    let p = app.post("/api/v1/proposals", Some(key), &proposal()).await;
    assert_eq!(p.body["partner_email_verified"], true);
    assert_eq!(
        mails_to(&app, second)
            .iter()
            .filter(|m| m.0 == "proposal_received")
            .count(),
        1
    );
}

async fn links_work_once_expire_and_new_ones_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _w = World::seed(&app.db);
    let email = "links@example.org";
    let r = register(&app, email, None).await;
    let key = r.body["api_key"]["key"].as_str().unwrap().to_owned();
    let first = token_for(&app, email);

    // Wrong, empty, huge and odd tokens: refused, never a 500.
    for bad in [
        "nope".to_owned(),
        String::new(),
        "x".repeat(5000),
        "%00%ff%27--".to_owned(),
        format!("{first}x"),
    ] {
        let r = verify(&app, &bad).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    let missing = app
        .call_raw(
            Method::POST,
            "/api/v1/partners/verify",
            None,
            "application/x-www-form-urlencoded",
            Vec::new(),
        )
        .await;
    assert!(missing.status.is_client_error(), "{}", missing.text);

    // A new link at once is refused; after 10 minutes it is sent and the old one dies.
    app.call(
        Method::POST,
        "/api/v1/partners/me/verification",
        Some(&key),
        None,
    )
    .await
    .assert_problem(429, "rate_limited");
    assert_eq!(mails_to(&app, email).len(), 1);
    {
        let mut c = app.db.conn().unwrap();
        let earlier = kyoso::storage::now() - chrono::TimeDelta::minutes(11);
        diesel::update(pev::partner_email_verifications)
            .set(pev::created_at.eq(earlier))
            .execute(&mut *c)
            .unwrap();
    }
    let again = app
        .call(
            Method::POST,
            "/api/v1/partners/me/verification",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.text);
    let second = token_for(&app, email);
    assert_ne!(first, second);
    let old = verify(&app, &first).await;
    assert_eq!(old.status, 422, "{}", old.text);

    // An expired link is refused.
    {
        let mut c = app.db.conn().unwrap();
        let past = kyoso::storage::now() - chrono::TimeDelta::minutes(1);
        diesel::update(pev::partner_email_verifications)
            .set(pev::expires_at.eq(past))
            .execute(&mut *c)
            .unwrap();
    }
    let expired = verify(&app, &second).await;
    assert_eq!(expired.status, 422);
    assert!(expired.text.contains("有効期限"), "{}", expired.text);
    assert_eq!(me(&app, &key).await["contact"]["email_verified"], false);

    // A fresh link works once; parallel uses verify once and refuse the rest.
    {
        let mut c = app.db.conn().unwrap();
        let earlier = kyoso::storage::now() - chrono::TimeDelta::minutes(11);
        diesel::update(pev::partner_email_verifications)
            .set(pev::created_at.eq(earlier))
            .execute(&mut *c)
            .unwrap();
    }
    app.call(
        Method::POST,
        "/api/v1/partners/me/verification",
        Some(&key),
        None,
    )
    .await;
    let third = token_for(&app, email);
    let app = std::rc::Rc::new(app);
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (app, token) = (app.clone(), third.clone());
            actix_web::rt::spawn(async move { verify(&app, &token).await.status.as_u16() })
        })
        .collect();
    let mut statuses: Vec<u16> = vec![];
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 422),
        "{statuses:?}"
    );
    assert!(verify(&app, &third).await.text.contains("使用済み"));
    assert_eq!(me(&app, &key).await["contact"]["email_verified"], true);

    // Verified: no more links.
    app.call(
        Method::POST,
        "/api/v1/partners/me/verification",
        Some(&key),
        None,
    )
    .await
    .assert_problem(409, "conflict");
}

/// The keys of a JSON value, recursively, with arrays' elements merged.
fn shape(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{path}/{k}");
                out.insert(p.clone());
                shape(v, &p, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| shape(v, path, out)),
        _ => {}
    }
}

async fn a_held_corporate_number_answers_alike_and_is_not_taken_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let held = "5020001046218";
    let fresh = "2011001128455";
    let owner = register(&app, "owner@example.org", Some(held)).await;
    let owner_id = owner.body["partner"]["id"].as_i64().unwrap();
    assert_eq!(owner.body["partner"]["corporate_number_status"], "claimed");
    // A desk cannot confirm numbers; a deployment admin can.
    app.post(
        &format!("/api/v1/admin/partners/{owner_id}/corporate-number/confirm"),
        Some(&w.yokohama.admin_key),
        &json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    let c = app
        .post(
            &format!("/api/v1/admin/partners/{owner_id}/corporate-number/confirm"),
            Some(&w.operator_key),
            &json!({}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(c.body["corporate_number_status"], "confirmed");

    let copy = register(&app, "copy@example.org", Some(held)).await;
    let other = register(&app, "other@example.org", Some(fresh)).await;
    let (mut a, mut b) = (BTreeSet::new(), BTreeSet::new());
    shape(&copy.body, "", &mut a);
    shape(&other.body, "", &mut b);
    assert_eq!(a, b);
    assert_eq!(copy.headers.len(), other.headers.len());
    for r in [&copy, &other] {
        assert_eq!(r.body["partner"]["corporate_number_status"], "claimed");
    }
    assert_eq!(copy.body["partner"]["corporate_number"], held);

    // The holder keeps it; the copy shows none to outsiders, and trying again in its
    // profile reveals nothing either.
    let copy_key = copy.body["api_key"]["key"].as_str().unwrap().to_owned();
    let copy_id = copy.body["partner"]["id"].as_i64().unwrap();
    let public = app
        .get(
            &format!("/api/v1/partners/{owner_id}"),
            Some(&w.partner_b.1),
        )
        .await;
    assert_eq!(public.body["corporate_number"], held);
    assert_eq!(public.body["corporate_number_status"], "confirmed");
    let public_copy = app
        .get(&format!("/api/v1/partners/{copy_id}"), Some(&w.partner_b.1))
        .await;
    assert_eq!(public_copy.body["corporate_number"], Value::Null);
    let again = app
        .patch(
            "/api/v1/partners/me",
            Some(&copy_key),
            &json!({"corporate_number": held, "name": "別名株式会社"}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["corporate_number_status"], "claimed");
    let owner_now = app
        .get(
            &format!("/api/v1/partners/{owner_id}"),
            Some(&w.operator_key),
        )
        .await;
    assert_eq!(owner_now.body["corporate_number_status"], "confirmed");

    // The admin, having checked, gives it to the copy: the former holder keeps a claim.
    let moved = app
        .post(
            &format!("/api/v1/admin/partners/{copy_id}/corporate-number/confirm"),
            Some(&w.operator_key),
            &json!({}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["corporate_number_status"], "confirmed");
    let owner_now = app
        .get(
            &format!("/api/v1/partners/{owner_id}"),
            Some(&w.operator_key),
        )
        .await;
    assert_eq!(owner_now.body["corporate_number_status"], "claimed");
    assert_eq!(owner_now.body["corporate_number"], held);
}

async fn the_saved_search_cap_holds_under_parallel_creation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let key = w.partner_a.1.as_str();
    let app = std::rc::Rc::new(app);
    let handles: Vec<_> = (0..30)
        .map(|i| {
            let (app, key) = (app.clone(), key.to_owned());
            actix_web::rt::spawn(async move {
                app.post(
                    "/api/v1/me/saved-searches",
                    Some(&key),
                    &json!({"name": format!("検索{i}"), "q": "ドローン"}),
                )
                .await
            })
        })
        .collect();
    let mut replies = vec![];
    for h in handles {
        replies.push(h.await.unwrap());
    }
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        20,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 201) {
        r.assert_problem(422, "invalid");
        assert_eq!(
            r.field_codes(),
            [("saved_searches".to_owned(), "too_many".to_owned())]
        );
    }
    let list = app.get("/api/v1/me/saved-searches", Some(key)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 20);
    // Another account has its own 20.
    let other = app
        .post(
            "/api/v1/me/saved-searches",
            Some(&w.partner_b.1),
            &json!({"name": "別アカウント", "q": "ドローン"}),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.text);
}

async fn the_console_marks_unverified_proposers(backend: Backend) {
    use crate::console::Session;
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    crate::helpers::set_passwords(&app.db, &["desk@141003.example.jp"]);
    let r = register(&app, "unproven@example.org", Some("5020001046218")).await;
    let key = r.body["api_key"]["key"].as_str().unwrap().to_owned();
    let partner_id = r.body["partner"]["id"].as_i64().unwrap();
    let unproven = app.post("/api/v1/proposals", Some(&key), &proposal()).await;
    let proven = app
        .post("/api/v1/proposals", Some(&w.partner_a.1), &proposal())
        .await;
    assert_eq!(proven.body["partner_email_verified"], true);

    let mut s = Session::new(&app);
    s.login("desk@141003.example.jp", crate::helpers::TEST_PASSWORD)
        .await;
    let inbox = s.get("/admin/inbox").await;
    assert_eq!(inbox.status, 200);
    // Every row of the unproven proposal (it is listed twice: unassigned and all) carries
    // the marker; no row of the proven one does.
    let rows: Vec<&str> = inbox.text.split("<tr>").collect();
    let row_of = |id: &Value| -> Vec<&str> {
        let link = format!("/admin/proposals/{id}\"");
        rows.iter().filter(|r| r.contains(&link)).copied().collect()
    };
    let (u, p) = (row_of(&unproven.body["id"]), row_of(&proven.body["id"]));
    assert!(!u.is_empty() && !p.is_empty(), "{}", inbox.text);
    assert!(
        u.iter().all(|r| r.contains(">メール未確認<")),
        "{}",
        inbox.text
    );
    assert!(
        p.iter().all(|r| !r.contains("メール未確認")),
        "{}",
        inbox.text
    );
    let page = s
        .get(&format!("/admin/proposals/{}", unproven.body["id"]))
        .await;
    assert!(page.text.contains("メール未確認"), "{}", page.text);
    let page = s
        .get(&format!("/admin/proposals/{}", proven.body["id"]))
        .await;
    assert!(!page.text.contains("メール未確認"));
    let partner = s.get(&format!("/admin/partners/{partner_id}")).await;
    assert!(
        partner.text.contains("メール未確認") && partner.text.contains("未確認（本人の申告）"),
        "{}",
        partner.text
    );
}

async fn saved_searches_wait_for_a_proven_address(backend: Backend) {
    use kyoso::domain::notifications::saved_searches;
    use kyoso::domain::search::follow;
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let email = "searcher@example.org";
    let r = register(&app, email, None).await;
    let key = r.body["api_key"]["key"].as_str().unwrap().to_owned();
    let saved = app
        .post(
            "/api/v1/me/saved-searches",
            Some(&key),
            &json!({"name": "ドローン案件", "q": "ドローン", "type": "need"}),
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.text);
    let need = |title: &str| {
        let mut body = crate::helpers::need_body(title, y.department_id, "public", "open");
        body["body"] = json!("河川の護岸の点検にドローンを使いたい。");
        body
    };
    app.post(
        "/api/v1/needs",
        Some(&y.dept_key),
        &need("ドローンで河川を点検したい"),
    )
    .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    saved_searches::run(&app.db, &app.search).unwrap();
    let kinds: Vec<String> = mails_to(&app, email).into_iter().map(|m| m.0).collect();
    assert_eq!(kinds, ["email_verification"]);

    assert_eq!(verify(&app, &token_for(&app, email)).await.status, 200);
    app.post(
        "/api/v1/needs",
        Some(&y.dept_key),
        &need("ドローンで橋梁を点検したい"),
    )
    .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    saved_searches::run(&app.db, &app.search).unwrap();
    assert!(
        mails_to(&app, email).iter().any(|m| m.0 == "saved_search"),
        "{:#?}",
        mails_to(&app, email)
    );
}
