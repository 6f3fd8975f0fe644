//! Attachments: upload, list and download over the API on both backends; the type is
//! decided by the content, limits hold, and nobody who may not open the proposal reads
//! or adds a file (another partner, another department, another municipality).

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, Reply, TestApp, World};
use crate::on_both_backends;

on_both_backends!(
    round_trip_keeps_bytes_name_and_history,
    the_content_decides_the_type,
    size_and_count_limits_hold,
    only_those_who_may_open_the_proposal_read_its_files,
    other_routes_keep_the_small_body_limit,
);

const BOUNDARY: &str = "kyosoTestBoundary7MA4YWxkTrZu0gW";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

pub fn multipart(name: &str, bytes: &[u8], declared: &str) -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {declared}\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

pub async fn upload(app: &TestApp, key: &str, proposal: i64, name: &str, bytes: &[u8]) -> Reply {
    app.call_raw(
        awc::http::Method::POST,
        &format!("/api/v1/proposals/{proposal}/attachments"),
        Some(key),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(name, bytes, "application/pdf"),
    )
    .await
}

/// The raw answer of a download: status, headers, bytes.
async fn download(
    app: &TestApp,
    key: &str,
    path: &str,
) -> (u16, awc::http::header::HeaderMap, Vec<u8>) {
    let client = awc::Client::default();
    let mut res = client
        .get(format!("{}{path}", app.base))
        .insert_header(("Authorization", format!("Bearer {key}")))
        .send()
        .await
        .unwrap();
    let body = res.body().limit(64 * 1024 * 1024).await.unwrap().to_vec();
    (res.status().as_u16(), res.headers().clone(), body)
}

/// A proposal of partner A to 横浜市, routed to its department.
pub async fn proposal_of_a(app: &TestApp, w: &World) -> i64 {
    let r = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_a.1),
            &json!({"municipality_code": "141003", "title": "企画書つきの提案",
                    "body": "公園の見守りを一緒に。", "policy_field": "safety"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/route"),
            Some(&w.yokohama.desk_key),
            &json!({"primary_department_id": w.yokohama.department_id}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    id
}

async fn round_trip_keeps_bytes_name_and_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let id = proposal_of_a(&app, &w).await;
    let r = upload(&app, &w.partner_a.1, id, "企画書 第2版.pdf", PDF).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["file_name"], "企画書 第2版.pdf");
    assert_eq!(r.body["kind"], "pdf");
    assert_eq!(r.body["content_type"], "application/pdf");
    assert_eq!(r.body["size_bytes"], PDF.len());
    let sha = format!("{:x}", Sha256::digest(PDF));
    assert_eq!(r.body["sha256"], sha);
    assert_eq!(r.body["uploaded_by"]["actor_type"], "partner");
    let aid = r.body["id"].as_i64().unwrap();

    // The desk adds one too (a 企画書 that came by mail).
    let r = upload(&app, &w.yokohama.desk_key, id, "図面.png", PNG).await;
    assert_eq!(r.status, 201, "{}", r.text);

    let list = app
        .get(
            &format!("/api/v1/proposals/{id}/attachments"),
            Some(&w.partner_a.1),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    // The proposer learns that the desk added a file, never who at the desk did.
    let by_desk = &list.body[1]["uploaded_by"];
    assert_eq!(by_desk["actor_type"], "staff", "{}", list.text);
    assert!(by_desk["name"].is_null(), "{}", list.text);
    let staff_view = app
        .get(
            &format!("/api/v1/proposals/{id}/attachments"),
            Some(&w.yokohama.dept_key),
        )
        .await;
    assert!(
        staff_view.body[1]["uploaded_by"]["name"].is_string(),
        "{}",
        staff_view.text
    );

    let (status, headers, bytes) = download(
        &app,
        &w.yokohama.dept_key,
        &format!("/api/v1/proposals/{id}/attachments/{aid}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(bytes, PDF);
    assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    let cd = headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E4%BC%81%E7%94%BB%E6%9B%B8%20%E7%AC%AC2%E7%89%88.pdf"),
        "{cd}"
    );

    // The history says so, for the proposer too.
    let p = app
        .get(&format!("/api/v1/proposals/{id}"), Some(&w.partner_a.1))
        .await;
    let events: Vec<_> = p.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "attachment_added")
        .collect();
    assert_eq!(events.len(), 2, "{}", p.text);
    assert_eq!(events[0]["body"], "企画書 第2版.pdf");

    // A second node on the same database serves the same bytes: nothing is kept on the
    // first node's disk.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let second = format!("http://{}", listener.local_addr().unwrap());
    let state = kyoso::app::state(
        app.db.clone(),
        app.search.clone(),
        kyoso::domain::health::JobBoard::default(),
    );
    let server = kyoso::app::server_with_state(state, listener, Some(1)).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let mut res = awc::Client::default()
        .get(format!("{second}/api/v1/proposals/{id}/attachments/{aid}"))
        .insert_header(("Authorization", format!("Bearer {}", w.partner_a.1)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.body().await.unwrap().to_vec(), PDF);
    handle.stop(false).await;

    // A file id of another proposal is not found through this one.
    let other = proposal_of_a(&app, &w).await;
    let (status, _, _) = download(
        &app,
        &w.partner_a.1,
        &format!("/api/v1/proposals/{other}/attachments/{aid}"),
    )
    .await;
    assert_eq!(status, 404);
}

async fn the_content_decides_the_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let id = proposal_of_a(&app, &w).await;
    let key = &w.partner_a.1;
    // HTML and an executable named .pdf and declared application/pdf are refused.
    for bad in [
        &b"<!DOCTYPE html><html><script>alert(1)</script></html>"[..],
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        b"PK\x03\x04 a zip without office parts",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 an installer, not a document",
    ] {
        let r = upload(&app, key, id, "企画書.pdf", bad).await;
        r.assert_problem(415, "unsupported_media_type");
    }
    // A PNG named .pdf is kept as a PNG, under a .png name, and served as one.
    let r = upload(&app, key, id, "plan.pdf", PNG).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["kind"], "png");
    assert_eq!(r.body["file_name"], "plan.png");
    let aid = r.body["id"].as_i64().unwrap();
    let (status, headers, _) = download(
        &app,
        key,
        &format!("/api/v1/proposals/{id}/attachments/{aid}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "image/png");
    // Office Open XML by its parts.
    let docx = b"PK\x03\x04\x14\0\0\0[Content_Types].xml....PK\x03\x04word/document.xml";
    let r = upload(&app, key, id, "report", docx).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["kind"], "docx");
    assert_eq!(r.body["file_name"], "report.docx");
    // Not multipart at all; an empty file; no file field.
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/attachments"),
            Some(key),
            &json!({"file": "x"}),
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
    let r = upload(&app, key, id, "empty.pdf", b"").await;
    r.assert_problem(422, "invalid");
    // The refused ones left no trace: only the PNG and the docx are kept.
    let list = app
        .get(&format!("/api/v1/proposals/{id}/attachments"), Some(key))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
}

async fn size_and_count_limits_hold(backend: Backend) {
    let limits = kyoso::domain::throttle::Limits {
        attachments: kyoso::domain::attachments::Limits {
            max_bytes: 64 * 1024,
            max_per_proposal: 3,
        },
        ..Default::default()
    };
    let app = TestApp::spawn_limited(backend, crate::helpers::analyzers(), limits).await;
    let w = World::seed(&app.db);
    let id = proposal_of_a(&app, &w).await;
    let key = &w.partner_a.1;
    let mut exact = PDF.to_vec();
    exact.resize(64 * 1024, b' ');
    let r = upload(&app, key, id, "ちょうど.pdf", &exact).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut over = exact.clone();
    over.push(b' ');
    let r = upload(&app, key, id, "大きすぎ.pdf", &over).await;
    r.assert_problem(413, "payload_too_large");
    // Far over the limit: refused too, the answer still readable.
    let mut huge = PDF.to_vec();
    huge.resize(2 * 1024 * 1024, b' ');
    let r = upload(&app, key, id, "巨大.pdf", &huge).await;
    r.assert_problem(413, "payload_too_large");
    for n in 0..2 {
        let r = upload(&app, key, id, &format!("{n}.pdf"), PDF).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = upload(&app, key, id, "4件目.pdf", PDF).await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("file".to_owned(), "too_many".to_owned())]
    );
    let list = app
        .get(&format!("/api/v1/proposals/{id}/attachments"), Some(key))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 3);
}

async fn only_those_who_may_open_the_proposal_read_its_files(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let id = proposal_of_a(&app, &w).await;
    let r = upload(&app, &w.partner_a.1, id, "秘密の企画書.pdf", PDF).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let aid = r.body["id"].as_i64().unwrap();
    let other_dept = crate::helpers::staff_key(
        &app.db,
        "other-dept-files@141003.example.jp",
        "department",
        "141003",
        Some(w.yokohama.other_department_id),
    );
    let file = format!("/api/v1/proposals/{id}/attachments/{aid}");
    let list = format!("/api/v1/proposals/{id}/attachments");
    for (who, key) in [
        ("partner B", w.partner_b.1.as_str()),
        ("another department", other_dept.as_str()),
        ("神戸市の窓口", w.kobe.desk_key.as_str()),
        ("神戸市の管理者", w.kobe.admin_key.as_str()),
    ] {
        let (status, _, bytes) = download(&app, key, &file).await;
        assert_eq!(status, 404, "{who} downloaded the file");
        assert!(!bytes.windows(5).any(|x| x == b"%PDF-"), "{who}");
        let r = app.get(&list, Some(key)).await;
        assert_eq!(r.status, 404, "{who} listed the files: {}", r.text);
        assert!(!r.text.contains("秘密の企画書"), "{who}");
        let r = upload(&app, key, id, "追加.pdf", PDF).await;
        assert_eq!(r.status, 404, "{who} attached a file: {}", r.text);
    }
    let r = app.get(&file, None).await;
    r.assert_problem(401, "unauthenticated");
    for key in [&w.yokohama.desk_key, &w.yokohama.dept_key, &w.operator_key] {
        let (status, _, bytes) = download(&app, key, &file).await;
        assert_eq!(status, 200);
        assert_eq!(bytes, PDF);
    }
}

async fn other_routes_keep_the_small_body_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    // A JSON body of 1 MiB to an ordinary route is still refused as too large.
    let big =
        json!({"municipality_code": "141003", "title": "大きな提案", "body": "あ".repeat(400_000)});
    let r = app
        .post("/api/v1/proposals", Some(&w.partner_a.1), &big)
        .await;
    assert_eq!(r.status, 413, "{}", r.text);
    // And a multipart body elsewhere is not read as a file.
    let r = app
        .call_raw(
            awc::http::Method::POST,
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            multipart("x.pdf", PDF, "application/pdf"),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
}
