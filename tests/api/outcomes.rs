//! The open outcome register: columns and bytes (BOM, CRLF), consent respected, nothing
//! internal, fiscal years cut at April 1 in Japan time, bad years refused with 422.

use serde_json::json;

use crate::helpers::{Backend, TestApp, World};
use crate::on_both_backends;

on_both_backends!(
    register_publishes_outcomes_and_nothing_internal,
    fiscal_years_cut_at_april_first_japan_time
);

const SECRET_NOTE: &str = "庁内限り：予算の見込みは薄い（7731）";
const SECRET_BODY: &str = "試作機の原価は七千七百円です（7731）";
const SECRET_EXTENSION: &str = "庁内の人事異動のため（7731）";

async fn submit(app: &TestApp, key: &str, title: &str, consent: bool) -> i64 {
    let r = app
        .post(
            "/api/v1/proposals",
            Some(key),
            &json!({"municipality_code": "141003", "title": title,
                    "body": format!("見守りを一緒に。{SECRET_BODY}"), "policy_field": "safety",
                    "declarations": {"consent_to_contact": true, "consent_to_publish": consent}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["consented_publication_at"].is_null(), !consent);
    r.body["id"].as_i64().unwrap()
}

async fn register_publishes_outcomes_and_nothing_internal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let desk = Some(w.yokohama.desk_key.as_str());
    let open = submit(&app, &w.partner_a.1, "公開してよい提案", true).await;
    let closed = submit(&app, &w.partner_b.1, "非公開の提案タイトル", false).await;
    for id in [open, closed] {
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/route"),
                desk,
                &json!({"primary_department_id": w.yokohama.department_id}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/notes"),
                desk,
                &json!({"body": SECRET_NOTE}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let r = app
        .post(
            &format!("/api/v1/proposals/{open}/extend"),
            desk,
            &json!({"clock": "decision", "until": "2099-03-31", "reason": "実証の日程調整のため"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{open}/extend"),
            desk,
            &json!({"clock": "department", "until": "2099-03-31", "reason": SECRET_EXTENSION}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{open}/transition"),
            desk,
            &json!({"to": "adopted"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{closed}/transition"),
            desk,
            &json!({"to": "declined", "reason_code": "no_budget", "reason": "今年度は予算がありません。"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);

    let year = kyoso::domain::proposals::fiscal_year(kyoso::domain::proposals::local_date(
        chrono::Utc::now().naive_utc(),
    ));
    let q = format!("municipality=141003&fiscal_year={year}");
    let csv = app
        .get(&format!("/api/v1/opendata/outcomes.csv?{q}"), None)
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.content_type().starts_with("text/csv"));
    assert!(csv.text.starts_with('\u{feff}'), "no BOM");
    assert!(!csv.text.replace("\r\n", "").contains('\n'), "a bare LF");
    let lines: Vec<&str> = csv
        .text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .collect();
    assert!(
        lines[0].starts_with("全国地方公共団体コード,ID,地方公共団体名,"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[0].split(',').count(),
        kyoso::domain::outcomes::COLUMNS.len()
    );
    assert_eq!(
        lines.len(),
        4,
        "header, two rows, the empty end: {}",
        csv.text
    );
    let open_row = lines
        .iter()
        .find(|l| l.contains("公開してよい提案"))
        .expect("consented title");
    assert!(open_row.starts_with("141003,"), "{open_row}");
    assert!(open_row.contains("株式会社みなと測量"), "{open_row}");
    assert!(open_row.contains(",adopted,"), "{open_row}");
    assert!(
        open_row.contains(",1,期限を2099-03-31まで延長: 実証の日程調整のため"),
        "{open_row}"
    );
    let closed_row = lines
        .iter()
        .find(|l| l.contains(",declined,"))
        .expect("the declined row");
    assert!(closed_row.contains(",no_budget,"), "{closed_row}");
    for secret in [
        "非公開の提案タイトル",
        "NPO法人まちの縁側",
        SECRET_NOTE,
        SECRET_BODY,
        SECRET_EXTENSION,
        "今年度は予算がありません",
        "contact@example.com",
        "担当 太郎",
    ] {
        assert!(!csv.text.contains(secret), "the CSV shows «{secret}»");
    }

    let json = app
        .get(&format!("/api/v1/opendata/outcomes.json?{q}"), None)
        .await;
    assert_eq!(json.status, 200, "{}", json.text);
    assert_eq!(json.body["licence"], "CC BY 4.0");
    let records = json.body["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let adopted = records.iter().find(|r| r["outcome"] == "adopted").unwrap();
    assert!(adopted["business_days"].as_i64().unwrap() >= 0);
    assert_eq!(adopted["extensions"], 1);
    let declined = records.iter().find(|r| r["outcome"] == "declined").unwrap();
    assert!(declined["title"].is_null() && declined["proposer_name"].is_null());
    assert_eq!(declined["proposer_kind"], "npo");
    for secret in [
        SECRET_NOTE,
        SECRET_BODY,
        SECRET_EXTENSION,
        "非公開の提案タイトル",
    ] {
        assert!(!json.text.contains(secret), "the JSON shows «{secret}»");
    }
    let summary = json.body["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 1, "{}", json.text);
    assert_eq!(summary[0]["received"], 2);
    assert_eq!(summary[0]["adopted"], 1);
    assert_eq!(summary[0]["adoption_rate"], 0.5);
    let s = app
        .get(&format!("/api/v1/opendata/outcome-summary.csv?{q}"), None)
        .await;
    assert_eq!(s.status, 200);
    assert!(s.text.starts_with(
        "\u{feff}全国地方公共団体コード,地方公共団体名,年度,所管課,受付件数,採択件数,採択率,"
    ));
    assert!(s.text.contains(",2,1,0.5,"), "{}", s.text);

    // Another municipality's register does not hold these.
    let kobe = app
        .get(
            &format!("/api/v1/opendata/outcomes.json?municipality=281000&fiscal_year={year}"),
            None,
        )
        .await;
    assert_eq!(kobe.body["records"].as_array().unwrap().len(), 0);
    // Bad parameters are refused, never a 500.
    for bad in [
        "99999999999999999999",
        "-2147483648",
        "2147483647",
        "1999",
        "%E4%BA%8C%E3%80%87",
        "",
    ] {
        let r = app
            .get(
                &format!("/api/v1/opendata/outcomes.csv?municipality=141003&fiscal_year={bad}"),
                None,
            )
            .await;
        r.assert_problem(422, "invalid");
    }
    let r = app
        .get(
            &format!("/api/v1/opendata/outcomes.json?municipality=999999&fiscal_year={year}"),
            None,
        )
        .await;
    r.assert_problem(404, "not_found");
}

async fn fiscal_years_cut_at_april_first_japan_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let desk = Some(w.yokohama.desk_key.as_str());
    // 2026-03-31 23:59:59 and 2026-04-01 00:00:00 in Japan.
    for (title, at) in [
        ("三月末の提案", "2026-03-31T14:59:59Z"),
        ("四月一日の提案", "2026-03-31T15:00:00Z"),
    ] {
        let r = app
            .post(
                "/api/v1/desk/proposals",
                desk,
                &json!({"channel": "phone", "submitter_name": "市民 花子", "title": title,
                        "body": "防災の提案です。", "received_at": at}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let of = |year: i32| {
        let app = &app;
        async move {
            let r = app
                .get(
                    &format!(
                        "/api/v1/opendata/outcomes.json?municipality=141003&fiscal_year={year}"
                    ),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["received_on"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(of(2025).await, vec!["2026-03-31"]);
    assert_eq!(of(2026).await, vec!["2026-04-01"]);
    // Recorded without consent: no names, no titles.
    let csv = app
        .get(
            "/api/v1/opendata/outcomes.csv?municipality=141003&fiscal_year=2025",
            None,
        )
        .await;
    assert!(!csv.text.contains("三月末の提案") && !csv.text.contains("市民 花子"));
    assert!(csv.text.contains(",unregistered,"), "{}", csv.text);
}
