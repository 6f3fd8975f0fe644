//! Reply templates (定型文) in the console on both backends: the desk keeps them (audit
//! logged), unknown placeholders are refused, a template fills the reply form of a
//! proposal without JavaScript, and another municipality never sees or uses them.
//! Also the console's attachment form: multipart with the session's CSRF token.

use crate::attachments::{multipart, proposal_of_a};
use crate::console::{Session, csrf_of};
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;
use kyoso::domain::actor::{Actor, StaffActor};
use kyoso::domain::ids::StaffUserId;
use kyoso::domain::reply_templates;
use kyoso::domain::vocab::Role;

on_both_backends!(
    templates_fill_the_reply_and_stay_in_their_municipality,
    console_uploads_need_the_csrf_token
);

fn operator() -> Actor {
    Actor::Staff(StaffActor {
        id: StaffUserId(0),
        role: Role::Admin,
        municipality: None,
        department: None,
    })
}

async fn session<'a>(app: &'a TestApp, email: &str) -> (Session<'a>, String) {
    let mut s = Session::new(app);
    let p = s.login(email, TEST_PASSWORD).await;
    assert_eq!(p.status, 303, "login of {email}: {}", p.text);
    let token = s.csrf().await;
    (s, token)
}

async fn templates_fill_the_reply_and_stay_in_their_municipality(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(
        &app.db,
        &[
            "desk@141003.example.jp",
            "dept@141003.example.jp",
            "admin@281000.example.jp",
        ],
    );
    let (mut desk, token) = session(&app, "desk@141003.example.jp").await;
    let page = desk.get("/admin/templates").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("{受付番号}") && page.text.contains("{回答期限}"),
        "placeholders documented"
    );
    let body = "{提案者} 様\n受付番号 {受付番号}（{件名}）は {担当課} が担当します。回答期限: {回答期限}。{{ は波括弧。";
    let r = desk
        .post(
            "/admin/templates",
            &[("csrf", &token), ("name", "受付のお礼"), ("body", body)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    // Unknown placeholders are refused, with the form kept.
    let r = desk
        .post(
            "/admin/templates",
            &[
                ("csrf", &token),
                ("name", "宛名つき"),
                ("body", "{宛名} 様、{受付番号}"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("{宛名}"), "{}", r.text);
    let ours = reply_templates::list(&app.db, &operator(), Some("141003")).unwrap();
    assert_eq!(ours.len(), 1);
    let tid = ours[0].id;

    // Department staff use it on a proposal routed to them: the reply form is filled.
    let id = proposal_of_a(&app, &w).await;
    let (mut dept, _) = session(&app, "dept@141003.example.jp").await;
    let page = dept
        .get(&format!("/admin/proposals/{id}?template={tid}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let textarea = page
        .text
        .split("id=\"reply-body\"")
        .nth(1)
        .and_then(|t| t.split("</textarea>").next())
        .unwrap();
    assert!(textarea.contains("株式会社みなと測量 様"), "{textarea}");
    assert!(textarea.contains("企画書つきの提案"), "{textarea}");
    assert!(
        textarea.contains("こども未来局") || textarea.contains("課"),
        "{textarea}"
    );
    assert!(
        textarea.contains("年") && textarea.contains("月"),
        "{textarea}"
    );
    assert!(
        !textarea.contains("{受付番号}") && textarea.contains("{{ は波括弧"),
        "{textarea}"
    );
    // … but cannot keep templates.
    assert_eq!(dept.get("/admin/templates").await.status, 403);

    // 神戸市 never sees nor uses 横浜市's template.
    let (mut kobe, ktoken) = session(&app, "admin@281000.example.jp").await;
    let page = kobe.get("/admin/templates").await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("受付のお礼"));
    assert_eq!(
        kobe.get(&format!("/admin/templates/{tid}")).await.status,
        404
    );
    let r = kobe
        .post(
            &format!("/admin/templates/{tid}"),
            &[("csrf", &ktoken), ("name", "乗っ取り"), ("body", "x")],
        )
        .await;
    assert_eq!(r.status, 404);
    let r = kobe
        .post(
            &format!("/admin/templates/{tid}/delete"),
            &[("csrf", &ktoken)],
        )
        .await;
    assert_eq!(r.status, 404);
    let kp = app
        .post(
            "/api/v1/desk/proposals",
            Some(&w.kobe.desk_key),
            &serde_json::json!({"channel": "visit", "submitter_name": "神戸 太郎", "title": "港の提案", "body": "港の清掃を手伝いたい。"}),
        )
        .await;
    assert_eq!(kp.status, 201, "{}", kp.text);
    let kid = kp.body["id"].as_i64().unwrap();
    let page = kobe
        .get(&format!("/admin/proposals/{kid}?template={tid}"))
        .await;
    assert_eq!(page.status, 404);
    assert!(!page.text.contains("受付番号 "), "{}", page.text);
    assert_eq!(
        reply_templates::list(&app.db, &operator(), Some("281000"))
            .unwrap()
            .len(),
        0
    );

    // Changes and deletion are audited.
    let r = desk
        .post(
            &format!("/admin/templates/{tid}"),
            &[
                ("csrf", &token),
                ("name", "受付のお礼"),
                ("body", "{件名} について"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = desk
        .post(
            &format!("/admin/templates/{tid}/delete"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        dept.get(&format!("/admin/proposals/{id}?template={tid}"))
            .await
            .status,
        404
    );
    let audit = app
        .get("/api/v1/admin/audit", Some(&w.yokohama.admin_key))
        .await;
    for action in ["template_created", "template_changed", "template_deleted"] {
        assert!(
            audit.text.contains(action),
            "{action} not in the audit log: {}",
            audit.text
        );
    }
    let kobe_audit = app
        .get("/api/v1/admin/audit", Some(&w.kobe.admin_key))
        .await;
    assert!(!kobe_audit.text.contains("template_created"));
}

async fn console_uploads_need_the_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(
        &app.db,
        &["desk@141003.example.jp", "admin@281000.example.jp"],
    );
    let id = proposal_of_a(&app, &w).await;
    let (mut desk, _) = session(&app, "desk@141003.example.jp").await;
    let page = desk.get(&format!("/admin/proposals/{id}")).await;
    assert!(page.text.contains("enctype=\"multipart/form-data\""));
    let token = csrf_of(&page.text);
    let boundary = "kyosoTestBoundary7MA4YWxkTrZu0gW";
    let ct = format!("multipart/form-data; boundary={boundary}");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let with_csrf = |csrf: &str| {
        let mut b = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
        )
        .into_bytes();
        b.extend(multipart("写真.png", &png, "image/png"));
        b
    };
    // Without the token or with another one: refused, nothing kept.
    let r = desk
        .post_raw(
            &format!("/admin/proposals/{id}/attachments"),
            &ct,
            multipart("写真.png", &png, "image/png"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = desk
        .post_raw(
            &format!("/admin/proposals/{id}/attachments"),
            &ct,
            with_csrf("not-the-token"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let files = app
        .get(
            &format!("/api/v1/proposals/{id}/attachments"),
            Some(&w.yokohama.desk_key),
        )
        .await;
    assert_eq!(files.body.as_array().unwrap().len(), 0);
    // With it: kept, listed, downloadable.
    let r = desk
        .post_raw(
            &format!("/admin/proposals/{id}/attachments"),
            &ct,
            with_csrf(&token),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = desk.get(&format!("/admin/proposals/{id}")).await;
    assert!(page.text.contains("写真.png"));
    assert!(page.text.contains("添付ファイルを追加"));
    let files = app
        .get(
            &format!("/api/v1/proposals/{id}/attachments"),
            Some(&w.partner_a.1),
        )
        .await;
    let aid = files.body[0]["id"].as_i64().unwrap();
    assert_eq!(files.body[0]["uploaded_by"]["actor_type"], "staff");
    let (status, headers, bytes) = desk
        .get_bytes(&format!("/admin/proposals/{id}/attachments/{aid}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png);
    assert_eq!(headers.get("content-type").unwrap(), "image/png");
    assert!(
        headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    // A wrong type comes back on the page, in Japanese.
    let mut html =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n")
            .into_bytes();
    html.extend(multipart(
        "企画書.pdf",
        b"<html>not a pdf</html>",
        "application/pdf",
    ));
    let r = desk
        .post_raw(&format!("/admin/proposals/{id}/attachments"), &ct, html)
        .await;
    assert_eq!(r.status, 415, "{}", r.text);
    assert!(r.text.contains("受け付けられる形式"), "{}", r.text);
    // Another municipality's admin cannot download it.
    let (mut kobe, _) = session(&app, "admin@281000.example.jp").await;
    let (status, _, bytes) = kobe
        .get_bytes(&format!("/admin/proposals/{id}/attachments/{aid}"))
        .await;
    assert_eq!(status, 404);
    assert_ne!(bytes, png);
}
