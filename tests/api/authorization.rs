//! The permission matrix: every role against the endpoints, including one partner
//! trying to change another's offer and staff reaching into another municipality.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, need_body, offer_body};
use crate::on_both_backends;

on_both_backends!(every_role_against_every_endpoint);

/// Callers, in the order the expectations below list them. Partner A owns the offer
/// under test and goes last, so its archiving does not change what the others see.
const ACTORS: [&str; 9] = [
    "anonymous",
    "partner_b",
    "dept_yokohama",
    "desk_yokohama",
    "admin_yokohama",
    "dept_kobe",
    "admin_kobe",
    "operator",
    "partner_a",
];

type BodyFor = Box<dyn Fn(&str) -> Option<Value>>;

struct Row {
    method: Method,
    path: String,
    body: BodyFor,
    /// Expected status per actor, in ACTORS order.
    expect: &'static str,
}

fn row(
    method: Method,
    path: String,
    body: impl Fn(&str) -> Option<Value> + 'static,
    expect: &'static str,
) -> Row {
    Row {
        method,
        path,
        body: Box::new(body),
        expect,
    }
}

async fn every_role_against_every_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let public_need = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need_body("公開", y.department_id, "public", "open"),
        )
        .await
        .body["id"]
        .clone();
    let internal_need = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need_body("庁内", y.department_id, "internal", "open"),
        )
        .await
        .body["id"]
        .clone();
    let offer = app
        .post("/api/v1/offers", Some(&w.partner_a.1), &offer_body("点検"))
        .await
        .body["id"]
        .clone();
    let (dept_y, other_dept_y) = (y.department_id, y.other_department_id);
    let dept_y_staff = app.get("/api/v1/me", Some(&y.dept_key)).await.body["staff"]["id"].clone();
    let keys = [
        None,
        Some(w.partner_b.1.clone()),
        Some(y.dept_key.clone()),
        Some(y.desk_key.clone()),
        Some(y.admin_key.clone()),
        Some(w.kobe.dept_key.clone()),
        Some(w.kobe.admin_key.clone()),
        Some(w.operator_key.clone()),
        Some(w.partner_a.1.clone()),
    ];
    let none = |_: &str| None;
    let rows = vec![
        row(
            Method::GET,
            "/api/v1/needs".into(),
            none,
            "200 200 200 200 200 200 200 200 200",
        ),
        row(
            Method::POST,
            "/api/v1/needs".into(),
            move |a| {
                let mut b = need_body(&format!("新規 {a}"), dept_y, "public", "open");
                b["municipality_code"] = json!("141003");
                Some(b)
            },
            "401 403 201 201 201 403 403 201 403",
        ),
        row(
            Method::GET,
            format!("/api/v1/needs/{public_need}"),
            none,
            "200 200 200 200 200 200 200 200 200",
        ),
        row(
            Method::GET,
            format!("/api/v1/needs/{internal_need}"),
            none,
            "404 404 200 200 200 404 404 200 404",
        ),
        row(
            Method::PATCH,
            format!("/api/v1/needs/{public_need}"),
            |a| Some(json!({"title": format!("更新 {a}")})),
            "401 403 200 200 200 403 403 200 403",
        ),
        row(
            Method::PATCH,
            format!("/api/v1/needs/{internal_need}"),
            |a| Some(json!({"title": format!("更新 {a}")})),
            "401 403 200 200 200 404 404 200 403",
        ),
        row(
            Method::POST,
            format!("/api/v1/needs/{public_need}/publish"),
            none,
            "401 403 200 200 200 403 403 200 403",
        ),
        row(
            Method::GET,
            "/api/v1/offers".into(),
            none,
            "200 200 200 200 200 200 200 200 200",
        ),
        row(
            Method::POST,
            "/api/v1/offers".into(),
            |a| Some(offer_body(&format!("提供 {a}"))),
            "401 201 403 403 403 403 403 403 201",
        ),
        row(
            Method::GET,
            format!("/api/v1/offers/{offer}"),
            none,
            "200 200 200 200 200 200 200 200 200",
        ),
        row(
            Method::PATCH,
            format!("/api/v1/offers/{offer}"),
            |_| Some(json!({"title": "書き換え"})),
            "401 403 403 403 403 403 403 403 200",
        ),
        row(
            Method::POST,
            format!("/api/v1/offers/{offer}/archive"),
            none,
            "401 403 403 403 403 403 403 403 200",
        ),
        row(
            Method::GET,
            "/api/v1/partners/me".into(),
            none,
            "401 200 403 403 403 403 403 403 200",
        ),
        row(
            Method::PATCH,
            "/api/v1/partners/me".into(),
            |_| Some(json!({"description": "更新"})),
            "401 200 403 403 403 403 403 403 200",
        ),
        row(
            Method::GET,
            "/api/v1/municipalities".into(),
            none,
            "200 200 200 200 200 200 200 200 200",
        ),
        row(
            Method::POST,
            "/api/v1/municipalities".into(),
            |_| Some(json!({"code": "401307", "name": "福岡市", "prefecture": "福岡県"})),
            "401 403 403 403 403 403 403 201 403",
        ),
        row(
            Method::PATCH,
            "/api/v1/municipalities/141003".into(),
            |_| Some(json!({"first_response_days": 12})),
            "401 403 403 403 200 403 403 200 403",
        ),
        row(
            Method::POST,
            "/api/v1/municipalities/141003/zones".into(),
            |a| Some(json!({"name": format!("地区 {a}")})),
            "401 403 403 403 201 403 403 201 403",
        ),
        row(
            Method::POST,
            "/api/v1/municipalities/141003/departments".into(),
            |a| Some(json!({"name": format!("新設課 {a}"), "policy_fields": ["governance_dx"]})),
            "401 403 403 403 201 403 403 201 403",
        ),
        row(
            Method::PUT,
            format!("/api/v1/departments/{other_dept_y}"),
            |_| Some(json!({"name": "総務局 危機管理課", "policy_fields": ["safety"]})),
            "401 403 403 403 200 403 403 200 403",
        ),
        row(
            Method::GET,
            "/api/v1/staff".into(),
            none,
            "401 403 403 403 200 403 200 200 403",
        ),
        row(
            Method::POST,
            "/api/v1/staff".into(),
            |a| {
                Some(
                    json!({"email": format!("new-{a}@example.jp"), "display_name": "新任", "role": "desk", "municipality_code": "141003"}),
                )
            },
            "401 403 403 403 201 403 403 201 403",
        ),
        row(
            Method::GET,
            format!("/api/v1/staff/{dept_y_staff}"),
            none,
            "401 403 200 404 200 404 404 200 403",
        ),
        row(
            Method::PATCH,
            format!("/api/v1/staff/{dept_y_staff}"),
            |_| Some(json!({"locale": "ja"})),
            "401 403 200 404 200 404 404 200 403",
        ),
        row(
            Method::GET,
            "/api/v1/keys".into(),
            none,
            "401 200 200 200 200 200 200 200 200",
        ),
        row(
            Method::GET,
            "/api/v1/me".into(),
            none,
            "401 200 200 200 200 200 200 200 200",
        ),
    ];
    let mut failures = vec![];
    for r in &rows {
        let expected: Vec<u16> = r
            .expect
            .split_whitespace()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(expected.len(), ACTORS.len(), "{} {}", r.method, r.path);
        for ((actor, key), want) in ACTORS.iter().zip(&keys).zip(expected) {
            let body = (r.body)(actor);
            let reply = app
                .call(r.method.clone(), &r.path, key.as_deref(), body.as_ref())
                .await;
            if reply.status.as_u16() != want {
                failures.push(format!(
                    "{} {} as {actor}: expected {want}, got {} {}",
                    r.method, r.path, reply.status, reply.text
                ));
            }
            if !reply.status.is_success() {
                assert_eq!(reply.content_type(), "application/problem+json");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix violations:\n{}",
        failures.join("\n")
    );
}
