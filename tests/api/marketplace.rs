//! The newcomer's path and the marketplace's reads: register, publish an offer, read
//! public needs; keys; filters and pagination; who sees internal needs.

use serde_json::json;

use crate::helpers::{Backend, TestApp, World, need_body, offer_body};
use crate::on_both_backends;

on_both_backends!(
    partner_registers_publishes_and_reads_needs,
    api_keys_are_listed_by_prefix_and_revocable,
    offers_filter_and_paginate,
    internal_and_draft_needs_stay_inside_their_municipality,
    needs_publish_close_and_filter,
    health_and_readiness,
);

async fn partner_registers_publishes_and_reads_needs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let need = app
        .post(
            "/api/v1/needs",
            Some(&world.yokohama.dept_key),
            &need_body(
                "保育所入所申請のオンライン化",
                world.yokohama.department_id,
                "public",
                "open",
            ),
        )
        .await;
    assert_eq!(need.status, 201, "{}", need.text);

    let reg = app
        .post(
            "/api/v1/partners",
            None,
            &json!({
                "kind": "university",
                "name": "学校法人みなと学園 港北大学",
                "corporate_number": "7000012050002",
                "contact_name": "研究推進課 佐藤",
                "contact_email": "kenkyu@example.ac.jp",
                "regions": ["140007"]
            }),
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    let key = reg.body["api_key"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("kyoso_"));
    assert_eq!(reg.body["partner"]["regions"], json!(["140007"]));
    assert_eq!(
        reg.body["partner"]["contact"]["email"],
        "kenkyu@example.ac.jp"
    );

    let me = app.get("/api/v1/partners/me", Some(&key)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["name"], "学校法人みなと学園 港北大学");

    let offer = app
        .post(
            "/api/v1/offers",
            Some(&key),
            &json!({
                "kind": "research",
                "title": "子育て世帯の行動データ分析",
                "body": "保育・子育て支援の利用データを分析し、施策の効果検証を行います。",
                "policy_fields": ["childcare_education"]
            }),
        )
        .await;
    assert_eq!(offer.status, 201, "{}", offer.text);
    // Regions default to the partner's own.
    assert_eq!(offer.body["regions"], json!(["140007"]));
    let id = offer.body["id"].as_i64().unwrap();

    // Anyone reads it, without contact details of the partner.
    let anon = app.get(&format!("/api/v1/offers/{id}"), None).await;
    assert_eq!(anon.status, 200);
    assert_eq!(anon.body["partner"]["kind"], "university");
    let profile = app
        .get(
            &format!("/api/v1/partners/{}", offer.body["partner"]["id"]),
            None,
        )
        .await;
    assert_eq!(profile.status, 200);
    assert!(
        profile.body["contact"].is_null(),
        "contact leaked: {}",
        profile.text
    );

    let needs = app.get("/api/v1/needs", Some(&key)).await;
    assert_eq!(needs.status, 200);
    let titles: Vec<&str> = needs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["保育所入所申請のオンライン化"]);
    assert_eq!(needs.body["items"][0]["municipality"]["name"], "横浜市");

    // Profile changes keep what was not sent.
    let upd = app
        .patch(
            "/api/v1/partners/me",
            Some(&key),
            &json!({"phone": "045-000-0000"}),
        )
        .await;
    assert_eq!(upd.status, 200, "{}", upd.text);
    assert_eq!(upd.body["contact"]["phone"], "045-000-0000");
    assert_eq!(upd.body["corporate_number"], "7000012050002");
    let cleared = app
        .patch("/api/v1/partners/me", Some(&key), &json!({"phone": null}))
        .await;
    assert!(cleared.body["contact"]["phone"].is_null());
}

async fn api_keys_are_listed_by_prefix_and_revocable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let key = world.partner_a.1.clone();
    let second = app
        .post(
            "/api/v1/keys",
            Some(&key),
            &json!({"label": "基幹システム連携"}),
        )
        .await;
    assert_eq!(second.status, 201);
    let second_key = second.body["key"].as_str().unwrap().to_owned();
    let list = app.get("/api/v1/keys", Some(&key)).await;
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|k| k.get("key").is_none() && k["prefix"].as_str().unwrap().len() == 12)
    );
    assert!(
        !list.text.contains(&second_key[18..]),
        "a secret appears in the list"
    );

    // The other partner cannot revoke it; its owner can; then it stops working.
    let id = second.body["id"].as_i64().unwrap();
    let other = app
        .call(
            awc::http::Method::DELETE,
            &format!("/api/v1/keys/{id}"),
            Some(&world.partner_b.1),
            None,
        )
        .await;
    other.assert_problem(404, "not_found");
    let revoke = app
        .call(
            awc::http::Method::DELETE,
            &format!("/api/v1/keys/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(revoke.status, 204);
    app.get("/api/v1/partners/me", Some(&second_key))
        .await
        .assert_problem(401, "unauthenticated");
    assert_eq!(app.get("/api/v1/partners/me", Some(&key)).await.status, 200);

    // Only hashes are stored.
    let stored: Vec<String> = {
        use diesel::prelude::*;
        use kyoso::storage::schema::api_keys::dsl::*;
        let mut conn = app.db.conn().unwrap();
        api_keys.select(secret_hash).load(&mut *conn).unwrap()
    };
    assert!(
        stored
            .iter()
            .all(|h| h.len() == 64 && !h.contains("kyoso_"))
    );

    // Garbage and wrong schemes are refused, not treated as anonymous.
    app.get("/api/v1/needs", Some("kyoso_deadbeef0000_xxxx"))
        .await
        .assert_problem(401, "unauthenticated");
    let r = app
        .call_raw(
            awc::http::Method::GET,
            "/api/v1/me",
            None,
            "application/json",
            vec![],
        )
        .await;
    r.assert_problem(401, "unauthenticated");
}

async fn offers_filter_and_paginate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let (a, b) = (&world.partner_a.1, &world.partner_b.1);
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/offers",
                Some(a),
                &offer_body(&format!("点検サービス{i}")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let local = app.post("/api/v1/offers", Some(b), &json!({
        "kind": "volunteer", "title": "高齢者の見守り訪問", "body": "地域のボランティアが定期的に訪問します。",
        "policy_fields": ["health_welfare"], "regions": ["140007"]
    })).await;
    assert_eq!(local.status, 201, "{}", local.text);

    // Pages of two cover all six exactly once, newest first.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/offers?limit=2&cursor={c}"),
            None => "/api/v1/offers?limit=2".to_owned(),
        };
        let page = app.get(&path, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));

    let count = |r: &crate::helpers::Reply| r.body["items"].as_array().unwrap().len();
    assert_eq!(
        count(
            &app.get("/api/v1/offers?policy_field=health_welfare", None)
                .await
        ),
        1
    );
    assert_eq!(
        count(&app.get("/api/v1/offers?partner_kind=company", None).await),
        5
    );
    assert_eq!(
        count(&app.get("/api/v1/offers?kind=volunteer", None).await),
        1
    );
    // Yokohama is covered by Kanagawa (140007) and by nationwide offers; Kobe only by nationwide.
    assert_eq!(
        count(&app.get("/api/v1/offers?region=141003", None).await),
        6
    );
    assert_eq!(
        count(&app.get("/api/v1/offers?region=281000", None).await),
        5
    );

    // Archived offers leave the public list; the owner still sees them.
    let id = local.body["id"].as_i64().unwrap();
    let arch = app
        .post(&format!("/api/v1/offers/{id}/archive"), Some(b), &json!({}))
        .await;
    assert_eq!(arch.status, 200, "{}", arch.text);
    assert_eq!(arch.body["status"], "archived");
    assert_eq!(
        count(
            &app.get("/api/v1/offers?policy_field=health_welfare", None)
                .await
        ),
        0
    );
    app.get(&format!("/api/v1/offers/{id}"), None)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get(&format!("/api/v1/offers/{id}"), Some(b))
            .await
            .status,
        200
    );
    assert_eq!(
        count(&app.get("/api/v1/offers?status=archived", Some(b)).await),
        1
    );
    assert_eq!(
        count(&app.get("/api/v1/offers?status=archived", Some(a)).await),
        0
    );
    app.get("/api/v1/offers?status=archived", None)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        count(
            &app.get(
                "/api/v1/offers?status=archived",
                Some(&world.yokohama.desk_key)
            )
            .await
        ),
        1
    );

    // Filters are checked.
    let bad = app
        .get(
            "/api/v1/offers?policy_field=space&region=123456&limit=1000",
            None,
        )
        .await;
    bad.assert_problem(422, "invalid");
    let bad = app.get("/api/v1/offers?region=123456", None).await;
    assert_eq!(
        bad.field_codes(),
        [("region".to_owned(), "format".to_owned())]
    );
    app.get("/api/v1/offers?cursor=not-a-cursor", None)
        .await
        .assert_problem(422, "invalid");
}

async fn internal_and_draft_needs_stay_inside_their_municipality(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let y = &world.yokohama;
    let mk = |title: &'static str, vis: &'static str, status: &'static str| {
        need_body(title, y.department_id, vis, status)
    };
    let public = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &mk("公開ニーズ", "public", "open"),
        )
        .await;
    let internal = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &mk("庁内ニーズ", "internal", "open"),
        )
        .await;
    let draft = app
        .post(
            "/api/v1/needs",
            Some(&y.desk_key),
            &mk("下書きニーズ", "public", "draft"),
        )
        .await;
    for r in [&public, &internal, &draft] {
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let titles = |r: crate::helpers::Reply| -> Vec<String> {
        let mut t: Vec<String> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        titles(app.get("/api/v1/needs?status=all", None).await),
        ["公開ニーズ"]
    );
    assert_eq!(
        titles(
            app.get("/api/v1/needs?status=all", Some(&world.partner_a.1))
                .await
        ),
        ["公開ニーズ"]
    );
    assert_eq!(
        titles(
            app.get("/api/v1/needs?status=all", Some(&world.kobe.admin_key))
                .await
        ),
        ["公開ニーズ"]
    );
    assert_eq!(
        titles(app.get("/api/v1/needs?status=all", Some(&y.dept_key)).await),
        ["下書きニーズ", "公開ニーズ", "庁内ニーズ"]
    );
    assert_eq!(
        titles(
            app.get("/api/v1/needs?status=all", Some(&world.operator_key))
                .await
        ),
        ["下書きニーズ", "公開ニーズ", "庁内ニーズ"]
    );
    for hidden in [&internal, &draft] {
        let id = hidden.body["id"].as_i64().unwrap();
        app.get(&format!("/api/v1/needs/{id}"), None)
            .await
            .assert_problem(404, "not_found");
        app.get(&format!("/api/v1/needs/{id}"), Some(&world.partner_a.1))
            .await
            .assert_problem(404, "not_found");
        app.get(&format!("/api/v1/needs/{id}"), Some(&world.kobe.desk_key))
            .await
            .assert_problem(404, "not_found");
        assert_eq!(
            app.get(&format!("/api/v1/needs/{id}"), Some(&y.desk_key))
                .await
                .status,
            200
        );
    }
}

async fn needs_publish_close_and_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::seed(&app.db);
    let y = &world.yokohama;
    let mut body = need_body(
        "公園の見守りカメラ",
        y.other_department_id,
        "public",
        "draft",
    );
    body["policy_field"] = json!("safety");
    body["zone"] = json!("北部");
    body["open_until"] = json!("2027-03-31");
    let n = app.post("/api/v1/needs", Some(&y.desk_key), &body).await;
    assert_eq!(n.status, 201, "{}", n.text);
    assert_eq!(n.body["zone"], "北部");
    assert!(n.body["published_at"].is_null());
    let id = n.body["id"].as_i64().unwrap();
    let p = app
        .post(
            &format!("/api/v1/needs/{id}/publish"),
            Some(&y.desk_key),
            &json!({}),
        )
        .await;
    assert_eq!(p.body["status"], "open");
    assert!(p.body["published_at"].is_string());
    let by_zone = app
        .get(
            "/api/v1/needs?municipality=141003&zone=%E5%8C%97%E9%83%A8",
            None,
        )
        .await;
    assert_eq!(
        by_zone.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        by_zone.text
    );
    let by_kind = app.get("/api/v1/needs?partner_kind=university", None).await;
    assert_eq!(by_kind.body["items"].as_array().unwrap().len(), 0);
    let other_town = app.get("/api/v1/needs?municipality=281000", None).await;
    assert_eq!(other_town.body["items"].as_array().unwrap().len(), 0);
    let c = app
        .post(
            &format!("/api/v1/needs/{id}/close"),
            Some(&y.dept_key),
            &json!({}),
        )
        .await;
    assert_eq!(c.body["status"], "closed");
    assert_eq!(
        app.get("/api/v1/needs", None).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get("/api/v1/needs?status=closed", None).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A department of another municipality cannot own this need.
    let moved = app
        .patch(
            &format!("/api/v1/needs/{id}"),
            Some(&y.desk_key),
            &json!({"department_id": world.kobe.department_id}),
        )
        .await;
    moved.assert_problem(422, "invalid");
    assert_eq!(
        moved.field_codes(),
        [("department_id".to_owned(), "not_found".to_owned())]
    );
    let unknown_zone = app
        .patch(
            &format!("/api/v1/needs/{id}"),
            Some(&y.desk_key),
            &json!({"zone": "月面"}),
        )
        .await;
    assert_eq!(
        unknown_zone.field_codes(),
        [("zone".to_owned(), "not_found".to_owned())]
    );
}

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/healthz", None).await.body["status"], "ok");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
    let expected = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgresql"
    };
    assert_eq!(ready.body["database"], expected);
}
