//! Bad input gets a clear problem document with a stable code — never a 500, never a
//! half-written record.

use awc::http::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp, World, offer_body};
use crate::on_both_backends;

on_both_backends!(
    malformed_requests_get_problem_documents,
    field_errors_name_every_field,
    odd_input_never_causes_a_server_error,
    conflicts_and_nothing_half_written,
);

async fn malformed_requests_get_problem_documents(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let key = Some(world.partner_a.1.as_str());

    let r = app
        .call_raw(
            Method::POST,
            "/api/v1/offers",
            key,
            "application/json",
            b"{\"title\": ".to_vec(),
        )
        .await;
    r.assert_problem(400, "invalid");
    let r = app
        .call_raw(
            Method::POST,
            "/api/v1/offers",
            key,
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    r.assert_problem(415, "invalid");
    let big = serde_json::to_vec(&json!({"kind": "technology", "title": "x", "body": "あ".repeat(200_000), "policy_fields": ["safety"]})).unwrap();
    let r = app
        .call_raw(Method::POST, "/api/v1/offers", key, "application/json", big)
        .await;
    r.assert_problem(413, "invalid");
    let r = app.post("/api/v1/offers", key, &json!({"kind": "technology", "title": "t", "body": "b", "policy_fields": ["safety"], "price": 1})).await;
    r.assert_problem(400, "invalid");
    assert_eq!(
        r.field_codes(),
        [("price".to_owned(), "unknown_field".to_owned())]
    );
    let r = app
        .post(
            "/api/v1/offers",
            key,
            &json!({"kind": "technology", "body": "b", "policy_fields": ["safety"]}),
        )
        .await;
    assert_eq!(
        r.field_codes(),
        [("title".to_owned(), "required".to_owned())]
    );
    let r = app
        .post(
            "/api/v1/offers",
            key,
            &json!({"kind": "technology", "title": 5, "body": "b", "policy_fields": ["safety"]}),
        )
        .await;
    r.assert_problem(400, "invalid");

    app.get("/api/v1/no-such-thing", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/no-such-thing", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/offers/abc", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/offers/99999999999999999999", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/offers/424242", None)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/municipalities/999999", None)
        .await
        .assert_problem(404, "not_found");
    let r = app.call(Method::DELETE, "/api/v1/offers", None, None).await;
    r.assert_problem(405, "not_found");
    assert_eq!(r.headers.get("allow").unwrap(), "GET, POST");
    let r = app.call(Method::PUT, "/api/v1/offers/1", None, None).await;
    r.assert_problem(405, "not_found");
    app.get("/api/v1/offers?limit=ten", None)
        .await
        .assert_problem(400, "invalid");
    app.get("/api/v1/needs?colour=blue", None)
        .await
        .assert_problem(400, "invalid");
    let r = app.get("/api/v1/me", None).await;
    r.assert_problem(401, "unauthenticated");
    assert!(r.headers.get("www-authenticate").is_some());
}

async fn field_errors_name_every_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post(
            "/api/v1/partners",
            None,
            &json!({
                "kind": "government",
                "name": "",
                "corporate_number": "1234567890123",
                "contact_name": "担当\u{0}者",
                "contact_email": "not-an-address",
                "website": "ftp://example.com",
                "regions": ["nationwide", "141004", "abc"]
            }),
        )
        .await;
    r.assert_problem(422, "invalid");
    let mut codes = r.field_codes();
    codes.sort();
    let mut expected: Vec<(String, String)> = [
        ("contact_email", "format"),
        ("contact_name", "control_characters"),
        ("corporate_number", "check_digit"),
        ("kind", "unknown_value"),
        ("name", "required"),
        ("regions/1", "format"),
        ("regions/2", "format"),
        ("website", "format"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    expected.sort();
    assert_eq!(codes, expected, "{}", r.text);

    let world = World::seed(&app.db);
    let long = "長".repeat(201);
    let r = app
        .post(
            "/api/v1/offers",
            Some(&world.partner_a.1),
            &json!({"kind": "magic", "title": long, "body": " ", "policy_fields": []}),
        )
        .await;
    let mut codes = r.field_codes();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("body", "required"),
            ("kind", "unknown_value"),
            ("policy_fields", "required"),
            ("title", "too_long")
        ]
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect::<Vec<_>>()
    );
    let r = app
        .post(
            "/api/v1/municipalities",
            Some(&world.operator_key),
            &json!({"code": "141004", "name": "横浜市", "prefecture": "神奈川県"}),
        )
        .await;
    assert_eq!(
        r.field_codes(),
        [("code".to_owned(), "check_digit".to_owned())]
    );
}

async fn odd_input_never_causes_a_server_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let odd = [
        "\u{0}",
        "\u{feff}",
        "🙂🙂🙂",
        "'; DROP TABLE offers; --",
        "\"",
        "\\",
        "%00",
        "ｶﾀｶﾅ",
        "\u{202e}abc",
        "a\u{0301}",
        "\u{d7ff}",
        "　",
        "\n\n",
        "<script>alert(1)</script>",
        "{{7*7}}",
    ];
    let keys = [
        None,
        Some(world.partner_a.1.as_str()),
        Some(world.yokohama.desk_key.as_str()),
        Some(world.operator_key.as_str()),
    ];
    for s in odd {
        let bodies = [
            json!({"kind": s, "title": s, "body": s, "policy_fields": [s], "regions": [s]}),
            json!({"name": s, "kind": "company", "contact_name": s, "contact_email": s, "corporate_number": s}),
            json!({"title": s, "body": s, "policy_field": s, "zone": s, "department_id": i64::MAX, "municipality_code": s}),
            json!({"code": s, "name": s, "prefecture": s, "zones": [s]}),
            json!({"label": s}),
        ];
        for key in keys {
            for path in [
                "/api/v1/offers",
                "/api/v1/partners",
                "/api/v1/needs",
                "/api/v1/municipalities",
                "/api/v1/keys",
                "/api/v1/staff",
            ] {
                for body in &bodies {
                    let r = app.post(path, key, body).await;
                    assert!(
                        r.status.as_u16() < 500,
                        "{path} with {body}: {} {}",
                        r.status,
                        r.text
                    );
                }
            }
            let enc: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
            for path in [
                format!(
                    "/api/v1/offers?region={enc}&policy_field={enc}&kind={enc}&partner_kind={enc}&cursor={enc}"
                ),
                format!(
                    "/api/v1/needs?municipality={enc}&zone={enc}&status={enc}&visibility={enc}"
                ),
                format!("/api/v1/municipalities/{enc}"),
                format!("/api/v1/municipalities/{enc}/departments"),
                format!("/api/v1/offers/{enc}"),
            ] {
                let r = app.get(&path, key).await;
                assert!(r.status.as_u16() < 500, "{path}: {} {}", r.status, r.text);
                if !r.status.is_success() {
                    assert_eq!(r.content_type(), "application/problem+json", "{path}");
                }
            }
        }
    }
}

async fn conflicts_and_nothing_half_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let register = json!({
        "kind": "company", "name": "株式会社さくら", "corporate_number": "1180301018771",
        "contact_name": "担当", "contact_email": "a@example.com", "regions": ["nationwide"]
    });
    assert_eq!(
        app.post("/api/v1/partners", None, &register).await.status,
        201
    );
    // A 法人番号 is only a claim at registration: a second registration with the same
    // number is accepted alike (it must not tell whether the number is held) and writes
    // its partner, region and key once each.
    let again = app.post("/api/v1/partners", None, &register).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["partner"]["corporate_number_status"], "claimed");
    use diesel::prelude::*;
    use kyoso::storage::schema::{api_keys, partner_regions, partners};
    let mut conn = app.db.conn().unwrap();
    let counts: (i64, i64, i64) = (
        partners::table.count().get_result(&mut *conn).unwrap(),
        partner_regions::table
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        api_keys::table.count().get_result(&mut *conn).unwrap(),
    );
    assert_eq!(counts, (2, 2, 2));

    let world = World::seed(&app.db);
    let dup = app
        .post(
            "/api/v1/municipalities",
            Some(&world.operator_key),
            &json!({"code": "141003", "name": "横浜市", "prefecture": "神奈川県"}),
        )
        .await;
    dup.assert_problem(409, "conflict");
    let offer = app
        .post(
            "/api/v1/offers",
            Some(&world.partner_a.1),
            &offer_body("点検"),
        )
        .await;
    assert_eq!(offer.status, 201);
}
