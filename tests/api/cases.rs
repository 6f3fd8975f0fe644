//! Outcome reports (アウトカム) and cases passed on to other municipalities (横展開):
//! an outcome on an adopted proposal reaches the register, the dashboard and — only
//! with the proposer's consent — another municipality's need page and the partner's
//! profile, never with internal data; only adopted proposals (409), only the lead
//! department or the desk (403; 404 across municipalities); extreme values refused.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, staff_key};
use crate::on_both_backends;
use kyoso::domain::search::follow;

on_both_backends!(
    outcomes_reach_register_dashboard_and_cases_only_with_consent,
    outcomes_only_on_adopted_by_lead_or_desk_with_sane_values,
    console_records_outcomes_and_shows_them
);

// Internal text planted on the proposals: none of it may cross municipalities.
const SECRET_NOTE: &str = "庁内限り：事業者の見積りは実は二重計上（5519）";
const SECRET_BODY: &str = "試作センサーの原価は一台五千五百十九円（5519）";
const SECRET_REPLY: &str = "担当者の携帯 090-5519-0000 まで";
const SECRET_DONE: &str = "同意のない提案の実施内容（5519）";
const SECRET_TITLE: &str = "同意のない見守りセンサー提案（5519）";
const SECRET_DECLINED: &str = "見送られた見守りセンサー提案（5519）";
const DONE: &str = "高齢者宅30世帯に見守りセンサーを設置し、半年間の実証を行った。";

fn today() -> String {
    kyoso::domain::proposals::local_date(chrono::Utc::now().naive_utc()).to_string()
}

async fn submit(app: &TestApp, key: &str, title: &str, consent: bool) -> i64 {
    let r = app
        .post(
            "/api/v1/proposals",
            Some(key),
            &json!({"municipality_code": "141003", "title": title,
                    "body": format!("高齢者の見守りセンサーで、一人暮らしの高齢者の見守りを行う。{SECRET_BODY}"),
                    "policy_field": "health_welfare",
                    "declarations": {"no_antisocial_forces": true, "consent_to_contact": true, "consent_to_publish": consent}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

/// Routes to the town's department, with a note and a reply; then to `to`.
async fn decide(app: &TestApp, w: &World, id: i64, to: &str) {
    let desk = Some(w.yokohama.desk_key.as_str());
    for (path, body) in [
        (
            "route",
            json!({"primary_department_id": w.yokohama.department_id}),
        ),
        ("notes", json!({"body": SECRET_NOTE})),
        ("replies", json!({"body": SECRET_REPLY})),
    ] {
        let r = app
            .post(&format!("/api/v1/proposals/{id}/{path}"), desk, &body)
            .await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    let body = if to == "declined" {
        json!({"to": "declined", "reason_code": "no_budget", "reason": "予算がありません。"})
    } else {
        json!({"to": to})
    };
    let r = app
        .post(&format!("/api/v1/proposals/{id}/transition"), desk, &body)
        .await;
    assert!(r.status.is_success(), "{}", r.text);
}

/// The need's cases once the index shows them: the background follower may hold a
/// batch that `catch_up` then waits no longer for, so ask again for a few seconds.
async fn cases_when_indexed(app: &TestApp, need: i64, key: &str) -> crate::helpers::Reply {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        follow::catch_up(&app.db, &app.search).unwrap();
        let r = app
            .get(&format!("/api/v1/needs/{need}/cases"), Some(key))
            .await;
        if r.body.as_array().is_some_and(|a| !a.is_empty()) || std::time::Instant::now() > deadline
        {
            return r;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn outcome(done: &str, yen: Value) -> Value {
    json!({"done": done, "reported_on": today(), "effect_yen": yen,
           "indicators": [{"name": "見守り訪問の時間", "unit": "時間／月", "before": "120", "after": "45.5"},
                          {"name": "緊急通報までの時間", "unit": "分", "before": 30, "after": "0.25"}]})
}

/// Text planted on the proposals that no other municipality and no profile may show.
const PLANTED: [&str; 8] = [
    SECRET_NOTE,
    SECRET_BODY,
    SECRET_REPLY,
    SECRET_DONE,
    SECRET_TITLE,
    SECRET_DECLINED,
    "予算がありません",
    "contact@example.com",
];

fn assert_no_secrets(text: &str, what: &str) {
    for secret in PLANTED {
        assert!(!text.contains(secret), "{what} shows «{secret}»: {text}");
    }
}

/// As `assert_no_secrets` for JSON, which also names no staff and no history.
fn assert_no_secrets_json(text: &str, what: &str) {
    assert_no_secrets(text, what);
    for secret in [
        "テスト 職員",
        "reported_by",
        "\"events\"",
        "submitter",
        "body",
    ] {
        assert!(!text.contains(secret), "{what} shows «{secret}»: {text}");
    }
}

async fn outcomes_reach_register_dashboard_and_cases_only_with_consent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let (pa, pb) = (w.partner_a.1.as_str(), w.partner_b.1.as_str());
    let open = submit(&app, pa, "高齢者見守りセンサーの実証", true).await;
    let closed = submit(&app, pb, SECRET_TITLE, false).await;
    let declined = submit(&app, pa, SECRET_DECLINED, true).await;
    let no_outcome = submit(&app, pa, "見守りセンサーの採択だけの提案", true).await;
    decide(&app, &w, open, "adopted").await;
    decide(&app, &w, closed, "adopted").await;
    decide(&app, &w, declined, "declined").await;
    decide(&app, &w, no_outcome, "adopted").await;

    // The lead department records on one, the desk on the other.
    let r = app
        .post(
            &format!("/api/v1/proposals/{open}/outcomes"),
            Some(&w.yokohama.dept_key),
            &outcome(DONE, json!("1,200,000円")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["effect_yen"], 1_200_000);
    assert_eq!(r.body["indicators"][1]["before"], "30");
    assert_eq!(r.body["indicators"][1]["after"], "0.25");
    let r = app
        .post(
            &format!("/api/v1/proposals/{closed}/outcomes"),
            Some(&w.yokohama.desk_key),
            &outcome(SECRET_DONE, json!(300000)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The history has the event, internal: the proposer never sees it.
    let staff_view = app
        .get(
            &format!("/api/v1/proposals/{open}"),
            Some(&w.yokohama.desk_key),
        )
        .await;
    let events = staff_view.body["events"].as_array().unwrap();
    let ev = events
        .iter()
        .find(|e| e["kind"] == "outcome_recorded")
        .expect("an outcome_recorded event");
    assert_eq!(ev["internal"], true);
    assert!(ev["body"].as_str().unwrap().contains("1,200,000円"));
    let own = app
        .get(&format!("/api/v1/proposals/{open}"), Some(pa))
        .await;
    assert!(!own.text.contains("outcome_recorded"), "{}", own.text);
    let listed = app
        .get(
            &format!("/api/v1/proposals/{open}/outcomes"),
            Some(&w.yokohama.dept_key),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);

    // The register: figures for both, the text only with consent.
    let year = kyoso::domain::proposals::fiscal_year(kyoso::domain::proposals::local_date(
        chrono::Utc::now().naive_utc(),
    ));
    let reg = app
        .get(
            &format!("/api/v1/opendata/outcomes.json?municipality=141003&fiscal_year={year}"),
            None,
        )
        .await;
    assert_eq!(reg.status, 200, "{}", reg.text);
    let records = reg.body["records"].as_array().unwrap();
    let with: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome_reports"] == 1)
        .collect();
    assert_eq!(with.len(), 2, "{}", reg.text);
    let consented = with
        .iter()
        .find(|r| r["title"] == "高齢者見守りセンサーの実証")
        .unwrap();
    assert_eq!(consented["effect_yen"], 1_200_000);
    assert_eq!(consented["outcome_summary"], DONE);
    assert_eq!(consented["latest_outcome_on"], today());
    assert_eq!(
        consented["outcome_indicators"][0],
        "見守り訪問の時間: 120→45.5 時間／月"
    );
    let unconsented = with.iter().find(|r| r["title"].is_null()).unwrap();
    assert_eq!(unconsented["effect_yen"], 300_000);
    assert!(unconsented["outcome_summary"].is_null());
    assert!(!reg.text.contains(SECRET_DONE) && !reg.text.contains(SECRET_NOTE));
    let csv = app
        .get(
            &format!("/api/v1/opendata/outcomes.csv?municipality=141003&fiscal_year={year}"),
            None,
        )
        .await;
    let header = csv
        .text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap();
    assert!(
        header.ends_with(",アウトカム報告件数,最新の報告日,効果指標,効果額,実施内容"),
        "{header}"
    );
    assert!(csv.text.contains(",1200000,"), "{}", csv.text);
    assert!(!csv.text.contains(SECRET_DONE));

    // The dashboard: two adopted proposals with outcomes, the year's 効果額 as the
    // register's total.
    let stats = app
        .get(
            "/api/v1/desk/stats?municipality=141003",
            Some(&w.yokohama.desk_key),
        )
        .await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(stats.body["outcomes"]["adopted_with_outcomes"], 2);
    assert_eq!(stats.body["outcomes"]["effect_yen"], 1_500_000);
    let register_total: i64 = records
        .iter()
        .filter_map(|r| r["effect_yen"].as_i64())
        .sum();
    assert_eq!(register_total, 1_500_000);

    // 神戸市 publishes a need like it: its staff see 横浜市's consented case, nothing else.
    follow::catch_up(&app.db, &app.search).unwrap();
    let need = app
        .post(
            "/api/v1/needs",
            Some(&w.kobe.dept_key),
            &json!({"department_id": w.kobe.department_id, "title": "一人暮らしの高齢者の見守り",
                    "body": "一人暮らしの高齢者の見守りを、センサーなどで効率よく行いたい。",
                    "policy_field": "health_welfare", "visibility": "public", "status": "open",
                    "desired_partner_kinds": ["company", "npo"]}),
        )
        .await;
    assert_eq!(need.status, 201, "{}", need.text);
    let kobe_need = need.body["id"].as_i64().unwrap();
    follow::catch_up(&app.db, &app.search).unwrap();
    for key in [&w.kobe.desk_key, &w.kobe.dept_key, &w.kobe.admin_key] {
        let cases = cases_when_indexed(&app, kobe_need, key).await;
        assert_eq!(cases.status, 200, "{}", cases.text);
        let list = cases.body.as_array().unwrap();
        assert_eq!(list.len(), 1, "only the consented case: {}", cases.text);
        let c = &list[0];
        assert_eq!(c["municipality"]["name"], "横浜市");
        assert_eq!(c["partner_name"], "株式会社みなと測量");
        assert_eq!(c["title"], "高齢者見守りセンサーの実証");
        assert_eq!(c["effect_yen_total"], 1_200_000);
        assert_eq!(c["outcomes"][0]["done"], DONE);
        assert_eq!(c["outcomes"][0]["indicators"][0]["after"], "45.5");
        assert_no_secrets_json(&cases.text, "神戸市's cases");
    }
    // Partners and anonymous callers do not get the staff's list.
    app.get(&format!("/api/v1/needs/{kobe_need}/cases"), Some(pa))
        .await
        .assert_problem(403, "forbidden");
    app.get(&format!("/api/v1/needs/{kobe_need}/cases"), None)
        .await
        .assert_problem(401, "unauthenticated");
    // 神戸市's console need page shows the section with the case and no internal text.
    crate::helpers::set_passwords(&app.db, &["desk@281000.example.jp"]);
    let mut session = crate::console::Session::new(&app);
    session
        .login("desk@281000.example.jp", crate::helpers::TEST_PASSWORD)
        .await;
    let page = session.get(&format!("/admin/needs/{kobe_need}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let html = page.text;
    assert!(html.contains("他の自治体の類似ニーズと事例"), "{html}");
    assert!(html.contains("高齢者見守りセンサーの実証") && html.contains("1,200,000円"));
    assert_no_secrets(&html, "神戸市's need page");

    // 横浜市's own similar need lists no case of its own.
    let own_need = app
        .post(
            "/api/v1/needs",
            Some(&w.yokohama.dept_key),
            &json!({"department_id": w.yokohama.department_id, "title": "一人暮らしの高齢者の見守り",
                    "body": "一人暮らしの高齢者の見守りを、センサーなどで効率よく行いたい。",
                    "policy_field": "health_welfare", "visibility": "public", "status": "open"}),
        )
        .await;
    follow::catch_up(&app.db, &app.search).unwrap();
    let own = app
        .get(
            &format!("/api/v1/needs/{}/cases", own_need.body["id"]),
            Some(&w.yokohama.desk_key),
        )
        .await;
    assert_eq!(own.body, json!([]), "{}", own.text);

    // The partner's profile: its consented case only, for every caller.
    for key in [None, Some(pb), Some(w.kobe.desk_key.as_str())] {
        let profile = app
            .get(&format!("/api/v1/partners/{}", w.partner_a.0), key)
            .await;
        let cases = profile.body["adopted_cases"].as_array().unwrap();
        assert_eq!(cases.len(), 1, "{}", profile.text);
        assert_eq!(cases[0]["title"], "高齢者見守りセンサーの実証");
        // The partner's own contact block is for staff; the cases carry none.
        assert_no_secrets_json(
            &profile.body["adopted_cases"].to_string(),
            "partner A's cases",
        );
        let mut without_contact = profile.body.clone();
        without_contact["contact"] = Value::Null;
        assert_no_secrets(&without_contact.to_string(), "partner A's profile");
    }
    let b = app
        .get(&format!("/api/v1/partners/{}", w.partner_b.0), None)
        .await;
    assert_eq!(b.body["adopted_cases"], json!([]), "{}", b.text);
}

async fn outcomes_only_on_adopted_by_lead_or_desk_with_sane_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let pa = w.partner_a.1.as_str();
    let id = submit(&app, pa, "見守りの提案", true).await;
    // Routed to the lead department and, as related, to the other.
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/route"),
            Some(&y.desk_key),
            &json!({"primary_department_id": y.department_id, "other_department_ids": [y.other_department_id]}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let path = format!("/api/v1/proposals/{id}/outcomes");
    let good = outcome(DONE, json!(1000));
    // Not adopted: 409, for the desk as for the lead department.
    for key in [&y.desk_key, &y.dept_key] {
        app.post(&path, Some(key), &good)
            .await
            .assert_problem(409, "conflict");
    }
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/transition"),
            Some(&y.dept_key),
            &json!({"to": "adopted"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let related = staff_key(
        &app.db,
        "related@141003.example.jp",
        "department",
        "141003",
        Some(y.other_department_id),
    );
    app.post(&path, Some(&related), &good)
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, Some(pa), &good)
        .await
        .assert_problem(403, "forbidden");
    for key in [&w.kobe.desk_key, &w.kobe.admin_key, &w.partner_b.1] {
        app.post(&path, Some(key), &good)
            .await
            .assert_problem(404, "not_found");
    }
    app.post(&path, None, &good)
        .await
        .assert_problem(401, "unauthenticated");
    let declined = submit(&app, pa, "見送る提案", true).await;
    decide(&app, &w, declined, "declined").await;
    app.post(
        &format!("/api/v1/proposals/{declined}/outcomes"),
        Some(&y.desk_key),
        &good,
    )
    .await
    .assert_problem(409, "conflict");

    // Extreme and malformed values: 422 naming the field, never a 500, nothing stored.
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(2))
        .date_naive()
        .to_string();
    let with = |patch: Value| {
        let mut b = outcome(DONE, json!(1000));
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let ind = |before: Value| json!([{"name": "件数", "before": before, "after": "1"}]);
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(json!({"effect_yen": -1})), "effect_yen", "negative"),
        (with(json!({"effect_yen": "-5"})), "effect_yen", "negative"),
        (with(json!({"effect_yen": 1e20})), "effect_yen", "format"),
        (
            with(json!({"effect_yen": "99999999999999999999999"})),
            "effect_yen",
            "out_of_range",
        ),
        (
            with(json!({"effect_yen": 1_000_000_000_001i64})),
            "effect_yen",
            "out_of_range",
        ),
        (with(json!({"effect_yen": "1.5"})), "effect_yen", "format"),
        (with(json!({"effect_yen": "NaN"})), "effect_yen", "format"),
        (
            with(json!({"indicators": ind(json!("-3"))})),
            "indicators[0].before",
            "negative",
        ),
        (
            with(json!({"indicators": ind(json!("NaN"))})),
            "indicators[0].before",
            "format",
        ),
        (
            with(json!({"indicators": ind(json!("Infinity"))})),
            "indicators[0].before",
            "format",
        ),
        (
            with(json!({"indicators": ind(json!(1e300))})),
            "indicators[0].before",
            "format",
        ),
        (
            with(json!({"indicators": ind(json!("1e5"))})),
            "indicators[0].before",
            "format",
        ),
        (
            with(json!({"indicators": ind(json!("1".repeat(16)))})),
            "indicators[0].before",
            "out_of_range",
        ),
        (
            with(json!({"indicators": ind(json!("1.1234567"))})),
            "indicators[0].before",
            "too_precise",
        ),
        (
            with(json!({"indicators": ind(json!(true))})),
            "indicators[0].before",
            "format",
        ),
        (
            with(json!({"indicators": [{"name": "", "after": "1"}]})),
            "indicators[0].name",
            "required",
        ),
        (
            with(json!({"indicators": vec![json!({"name": "x"}); 11]})),
            "indicators",
            "too_many",
        ),
        (
            with(json!({"reported_on": "1999-12-31"})),
            "reported_on",
            "out_of_range",
        ),
        (
            with(json!({"reported_on": "2100-01-01"})),
            "reported_on",
            "out_of_range",
        ),
        (
            with(json!({"reported_on": "2026-02-30"})),
            "reported_on",
            "format",
        ),
        (
            with(json!({"reported_on": "2000-01-01"})),
            "reported_on",
            "before_receipt",
        ),
        (
            with(json!({"reported_on": tomorrow})),
            "reported_on",
            "in_future",
        ),
        (with(json!({"done": "   "})), "done", "required"),
        (with(json!({"done": "あ".repeat(4001)})), "done", "too_long"),
    ];
    for (body, field, code) in cases {
        let r = app.post(&path, Some(&y.desk_key), &body).await;
        r.assert_problem(422, "invalid");
        assert!(
            r.field_codes()
                .contains(&(field.to_owned(), code.to_owned())),
            "{field}/{code}: {}",
            r.text
        );
    }
    let listed = app.get(&path, Some(&y.desk_key)).await;
    assert_eq!(listed.body, json!([]), "nothing stored: {}", listed.text);
    // Exact decimals: what is sent is what is kept, canonically written.
    let r = app
        .post(
            &path,
            Some(&y.dept_key),
            &with(json!({"effect_yen": 1_000_000_000_000i64, "indicators": [
                {"name": "率", "unit": "%", "before": "000.100", "after": "999999999999999.999999"},
                {"name": "全角", "before": "１，２００", "after": 0}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["effect_yen"], 1_000_000_000_000i64);
    assert_eq!(r.body["indicators"][0]["before"], "0.1");
    assert_eq!(r.body["indicators"][0]["after"], "999999999999999.999999");
    assert_eq!(r.body["indicators"][1]["before"], "1200");
    assert_eq!(r.body["indicators"][1]["after"], "0");
    let listed = app.get(&path, Some(&y.desk_key)).await;
    assert_eq!(
        listed.body[0]["indicators"][0]["after"],
        "999999999999999.999999"
    );
    // The related department reads them; the proposer does not get the staff list.
    assert_eq!(app.get(&path, Some(&related)).await.status, 200);
    app.get(&path, Some(pa))
        .await
        .assert_problem(403, "forbidden");
}

async fn console_records_outcomes_and_shows_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let id = submit(&app, &w.partner_a.1, "高齢者見守りセンサーの実証", true).await;
    decide(&app, &w, id, "adopted").await;
    crate::helpers::set_passwords(&app.db, &["desk@141003.example.jp"]);
    let mut s = crate::console::Session::new(&app);
    s.login("desk@141003.example.jp", crate::helpers::TEST_PASSWORD)
        .await;
    let page = s.get(&format!("/admin/proposals/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("アウトカムを記録する"), "{}", page.text);
    let csrf = crate::console::csrf_of(&page.text);
    let today = today();
    let form = |yen: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("reported_on", today.clone()),
            ("done", DONE.to_owned()),
            ("indicator_name_0", "窓口の待ち時間".to_owned()),
            ("indicator_unit_0", "分".to_owned()),
            ("indicator_before_0", "45".to_owned()),
            ("indicator_after_0", "10".to_owned()),
            ("effect_yen", yen.to_owned()),
        ]
    };
    // A negative 効果額 comes back on the page, in Japanese, with what was typed.
    let bad = form("-5");
    let bad_refs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s
        .post(&format!("/admin/proposals/{id}/outcome"), &bad_refs)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("効果額に負の値は入力できません"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("窓口の待ち時間"),
        "the form keeps what was typed"
    );
    let good = form("1200000");
    let good_refs: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s
        .post(&format!("/admin/proposals/{id}/outcome"), &good_refs)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = s.get(&format!("/admin/proposals/{id}")).await;
    assert!(page.text.contains("1,200,000円"), "{}", page.text);
    assert!(
        page.text.contains("窓口の待ち時間: 45 → 10 分"),
        "{}",
        page.text
    );
    // The partner's page lists the case; the dashboard the year's figures.
    let partner = s.get(&format!("/admin/partners/{}", w.partner_a.0)).await;
    assert!(partner.text.contains("採択実績"), "{}", partner.text);
    assert!(partner.text.contains("高齢者見守りセンサーの実証"));
    let dash = s.get("/admin/dashboard?m=141003").await;
    assert_eq!(dash.status, 200, "{}", dash.text);
    assert!(
        dash.text.contains("アウトカム記録のある採択提案"),
        "{}",
        dash.text
    );
    assert!(dash.text.contains("1,200,000円"), "{}", dash.text);
}
