//! Snapshot tests: the JSON of the main API answers and the text and HTML of every mail,
//! locked in files under `tests/api/snapshots/`, so that any change of output shows up
//! as a diff to review (`cargo insta review`, or rename the `.snap.new` file). Ids,
//! times, dates, receipt numbers, links and secrets are redacted, so one snapshot holds
//! for both backends and for every run. In CI (`CI=true`) insta never writes snapshots:
//! a changed or missing one fails the test.

use diesel::prelude::*;
use regex::Regex;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, need_body, offer_body};
use crate::on_both_backends;
use kyoso::domain::search::follow;
use kyoso::mail::templates::Template;
use kyoso::storage::schema::mail_outbox::dsl as mo;
use kyoso::values::Locale;

on_both_backends!(
    api_answers_keep_their_shape,
    proposal_mails_keep_their_words
);

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_snapshot_path("snapshots");
    s.set_omit_expression(true);
    s
}

/// Redacts what differs between runs and backends inside free text.
fn redact_text(s: &str) -> String {
    use std::sync::OnceLock;
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        vec![
            // Addresses: the server's port and the ids and tokens in paths and queries.
            (Regex::new(r"https?://[^\s/<>]+").unwrap(), "[base]"),
            (
                Regex::new(r"([?&][a-z_]+)=[^&\s<>]+").unwrap(),
                "$1=[redacted]",
            ),
            (Regex::new(r"/\d+").unwrap(), "/[id]"),
            // Receipt numbers carry the year.
            (Regex::new(r"\b\d{4}-\d{6}\b").unwrap(), "[receipt]"),
            // Dates and times, Japanese and ISO.
            (
                Regex::new(r"\d{4}年\d{1,2}月\d{1,2}日(（.）)?( \d{1,2}:\d{2})?").unwrap(),
                "[date]",
            ),
            (
                Regex::new(
                    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?",
                )
                .unwrap(),
                "[date]",
            ),
        ]
    });
    let mut out = s.to_owned();
    for (re, with) in rules {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

/// Redacts ids, times, dates, secrets and scores by key, and free text by `redact_text`.
fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let k_ = k.as_str();
                    let r = if v.is_null() {
                        Value::Null
                    } else if k_ == "id" || k_.ends_with("_id") {
                        json!("[id]")
                    } else if k_.ends_with("_ids") {
                        json!("[ids]")
                    } else if k_.ends_with("_at") || k_.ends_with("_on") || k_.ends_with("_until") {
                        json!("[time]")
                    } else if k_ == "receipt_number" {
                        json!("[receipt]")
                    } else if k_ == "key" || k_.ends_with("token") || k_ == "cursor" {
                        json!("[secret]")
                    } else if k_.contains("score") {
                        // Scores follow the search engine's tuning, which changes on
                        // its own; the order of the hits is what the answer promises.
                        json!("[score]")
                    } else {
                        redact(v)
                    };
                    (k.clone(), r)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        Value::String(s) => Value::String(redact_text(s)),
        other => other.clone(),
    }
}

fn snap(name: &str, status: u16, body: &Value) {
    let v = json!({"status": status, "body": redact(body)});
    settings().bind(|| insta::assert_json_snapshot!(name, v));
}

async fn api_answers_keep_their_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let partner = &w.partner_a.1;

    let r = app
        .post(
            "/api/v1/offers",
            Some(partner),
            &offer_body("ドローンによる橋梁点検"),
        )
        .await;
    snap("offer_created", r.status.as_u16(), &r.body);
    let offer_id = r.body["id"].as_i64().unwrap();
    let r = app
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
    snap("need_created", r.status.as_u16(), &r.body);
    let need_id = r.body["id"].as_i64().unwrap();

    let r = app
        .get(&format!("/api/v1/needs/{need_id}"), Some(partner))
        .await;
    snap("need", r.status.as_u16(), &r.body);
    let r = app.get(&format!("/api/v1/offers/{offer_id}"), None).await;
    snap("offer", r.status.as_u16(), &r.body);
    let r = app.get("/api/v1/needs", Some(partner)).await;
    snap("need_list", r.status.as_u16(), &r.body);
    let r = app.get("/api/v1/offers", None).await;
    snap("offer_list", r.status.as_u16(), &r.body);

    let r = app
        .post(
            "/api/v1/proposals",
            Some(partner),
            &json!({"need_id": need_id, "offer_id": offer_id, "title": "保育所申請のオンライン化のご提案", "body": "保護者がスマートフォンから入所申請できるサービスを提供します。"}),
        )
        .await;
    snap("proposal_submitted", r.status.as_u16(), &r.body);
    let pid = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/proposals/{pid}/route"),
            Some(&y.desk_key),
            &json!({"primary_department_id": y.department_id, "note": "所管をご確認ください"}),
        )
        .await;
    snap("proposal_routed", r.status.as_u16(), &r.body);
    let r = app
        .post(
            &format!("/api/v1/proposals/{pid}/transition"),
            Some(&y.desk_key),
            &json!({"to": "declined", "reason_code": "no_budget", "reason": "今年度は予算の確保が難しいため。"}),
        )
        .await;
    snap("proposal_declined", r.status.as_u16(), &r.body);
    let r = app
        .get(&format!("/api/v1/proposals/{pid}"), Some(&y.desk_key))
        .await;
    snap("proposal_for_desk", r.status.as_u16(), &r.body);
    let r = app
        .get(&format!("/api/v1/proposals/{pid}"), Some(partner))
        .await;
    snap("proposal_for_partner", r.status.as_u16(), &r.body);
    let r = app.get("/api/v1/proposals", Some(&y.desk_key)).await;
    snap("proposal_list", r.status.as_u16(), &r.body);

    follow::catch_up(&app.db, &app.search).unwrap();
    // ドローン
    let r = app
        .get(
            "/api/v1/search?q=%E3%83%89%E3%83%AD%E3%83%BC%E3%83%B3",
            None,
        )
        .await;
    snap("search", r.status.as_u16(), &r.body);
    let r = app
        .get(
            &format!("/api/v1/needs/{need_id}/matches"),
            Some(&y.dept_key),
        )
        .await;
    snap("matches_for_need", r.status.as_u16(), &r.body);
    let r = app
        .get(&format!("/api/v1/offers/{offer_id}/matches"), Some(partner))
        .await;
    snap("matches_for_offer", r.status.as_u16(), &r.body);

    // Problem documents: not found, invalid input with field errors, unauthenticated,
    // forbidden, a bad vocabulary word, a workflow conflict.
    let r = app.get("/api/v1/needs/999999", Some(partner)).await;
    snap("problem_not_found", r.status.as_u16(), &r.body);
    let r = app
        .post("/api/v1/offers", Some(partner), &json!({"kind": "spaceship", "title": "", "body": "x", "policy_fields": ["nope"], "regions": []}))
        .await;
    snap("problem_invalid", r.status.as_u16(), &r.body);
    let r = app.get("/api/v1/proposals", None).await;
    snap("problem_unauthenticated", r.status.as_u16(), &r.body);
    let r = app.get("/api/v1/desk/stats", Some(partner)).await;
    snap("problem_forbidden", r.status.as_u16(), &r.body);
    let r = app
        .post(
            &format!("/api/v1/proposals/{pid}/transition"),
            Some(&y.desk_key),
            &json!({"to": "declined", "reason_code": "no_money", "reason": "x"}),
        )
        .await;
    snap("problem_unknown_reason", r.status.as_u16(), &r.body);
    let r = app
        .post(
            &format!("/api/v1/proposals/{pid}/transition"),
            Some(&y.desk_key),
            &json!({"to": "adopted"}),
        )
        .await;
    snap("problem_conflict", r.status.as_u16(), &r.body);
}

/// The proposal mails as the real flow writes them, to a Japanese and an English
/// partner: receipt, routing, answer and a decline with its reason.
async fn proposal_mails_keep_their_words(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let r = app
        .patch(
            "/api/v1/partners/me",
            Some(&w.partner_b.1),
            &json!({"locale": "en"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for (partner, title) in [
        (&w.partner_a.1, "公園の見守りカメラ設置"),
        (&w.partner_b.1, "Park safety cameras"),
    ] {
        let r = app
            .post(
                "/api/v1/proposals",
                Some(partner),
                &json!({"municipality_code": "141003", "title": title, "body": "子どもが安心して遊べるよう、公園に見守りカメラを設置する提案です。"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let pid = r.body["id"].as_i64().unwrap();
        for (path, key, body) in [
            (
                "route",
                &y.desk_key,
                json!({"primary_department_id": y.department_id, "note": "設置場所の所管を確認"}),
            ),
            (
                "replies",
                &y.dept_key,
                json!({"body": "現地を確認のうえ、改めてご連絡します。"}),
            ),
            (
                "transition",
                &y.desk_key,
                json!({"to": "declined", "reason_code": "no_budget", "reason": "今年度は予算の確保が難しいため。"}),
            ),
        ] {
            let r = app
                .post(&format!("/api/v1/proposals/{pid}/{path}"), Some(key), &body)
                .await;
            assert!(r.status.is_success(), "{path}: {}", r.text);
        }
    }
    // A partner registering in each language is asked to confirm its address.
    for (locale, email) in [("ja", "ja@example.org"), ("en", "en@example.org")] {
        let r = app
            .post(
                "/api/v1/partners",
                None,
                &json!({"kind": "npo", "name": format!("団体{locale}"), "contact_name": "担当 花子", "contact_email": email, "locale": locale}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    let rows: Vec<(String, String, String, String, String, Option<String>)> = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .select((
                mo::kind,
                mo::recipient_email,
                mo::locale,
                mo::subject,
                mo::body_text,
                mo::body_html,
            ))
            .order((mo::kind, mo::recipient_email, mo::locale, mo::id))
            .load(&mut *c)
            .unwrap()
    };
    let mut seen = std::collections::BTreeSet::new();
    for (kind, to, locale, subject, text, html) in rows {
        let lang = Locale::parse(&locale).unwrap();
        // One snapshot per kind, language and recipient address (the department's
        // staff and the desk get the same routing notice).
        let name = format!(
            "mail_{kind}_{}_{}",
            lang.as_str(),
            to.replace(['@', '.'], "_")
        );
        if !seen.insert(name.clone()) {
            continue;
        }
        let doc = format!(
            "Subject: {}\n\n{}\n---- HTML ----\n{}",
            redact_text(&subject),
            redact_text(&text),
            redact_text(html.as_deref().unwrap_or("(none)"))
        );
        settings().bind(|| insta::assert_snapshot!(name, doc));
    }
    assert!(seen.len() >= 8, "{seen:?}");
}

/// Every template in both languages, text and HTML, rendered with the same sample values
/// (each placeholder filled with its own name), so a template's words are locked even
/// where no flow test sends it.
#[test]
fn every_template_renders_in_both_languages() {
    const NAMES: &[&str] = &[
        "channel",
        "clock",
        "count",
        "department_due_on",
        "department",
        "due_on",
        "email",
        "expires_at",
        "failures",
        "figures",
        "items",
        "lead_department",
        "link",
        "message",
        "municipality",
        "note",
        "open_until",
        "other",
        "owner",
        "period",
        "policy_field",
        "previous_week",
        "proposer_due_on",
        "proposer_kind",
        "query",
        "reason",
        "receipt_number",
        "received_at",
        "recipient_name",
        "source_title",
        "state",
        "status_sentence",
        "status",
        "submitter_name",
        "submitter",
        "terms",
        "title",
        "unsubscribe",
        "until",
        "week",
    ];
    let values: Vec<(&str, String)> = NAMES.iter().map(|n| (*n, format!("‹{n}›"))).collect();
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut count = 0;
    for &template in Template::ALL {
        let name = template.name();
        for locale in [Locale::Ja, Locale::En] {
            let r = kyoso::mail::templates::render(template, locale, &values);
            let doc = format!(
                "Subject: {}\n\n{}\n---- HTML ----\n{}",
                r.subject,
                r.body_text,
                r.body_html.as_deref().unwrap_or("(none)")
            );
            assert!(
                !doc.contains('{'),
                "a placeholder is left unfilled in {name}: {doc}"
            );
            settings().bind(|| {
                insta::assert_snapshot!(format!("template_{name}_{}", locale.as_str()), doc)
            });
            count += 1;
        }
    }
    assert_eq!(count, 32);
}
