//! Least privilege in lists: a proposal met in a list (similar proposals, suggestion
//! reasons, on the console's proposal page) shows its submitter, contact data and body
//! only to callers who may open it; department staff of another department get its
//! summary (receipt number, title, state, outcome), the desk gets it in full.

use serde_json::{Value, json};

use crate::console::Session;
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords, staff_key};
use crate::on_both_backends;

on_both_backends!(
    similar_proposals_of_another_department_are_summaries,
    the_console_page_shows_another_departments_proposal_as_a_summary,
);

/// What must never reach a caller who may not open the past proposal.
pub struct Secrets {
    pub email: &'static str,
    pub phone: &'static str,
    pub body_sentence: &'static str,
    pub note: &'static str,
    pub decline_text: &'static str,
}

pub const SECRETS: Secrets = Secrets {
    email: "hidden.citizen.4471@example.net",
    phone: "045-999-4471",
    body_sentence: "合言葉は青い灯台七七三一です。",
    note: "庁内限り：候補地の地権者と非公式に協議中（4471）",
    decline_text: "見送り理由：地権者との調整が見込めないため（4471）",
};

impl Secrets {
    /// The secrets `text` contains.
    pub fn found_in(&self, text: &str) -> Vec<&'static str> {
        [
            self.email,
            self.phone,
            self.body_sentence,
            self.note,
            self.decline_text,
        ]
        .into_iter()
        .filter(|s| text.contains(s))
        .collect()
    }
}

const COMMON: &str =
    "商店街の空き店舗を活用し、子育て世帯が集える交流拠点を運営したい。地域のNPOと協力します。";

/// The scene: a past proposal recorded by the desk for a citizen (contact data, a body
/// with a secret sentence, an internal note, declined with reasons), routed to 横浜市's
/// other department; and a new, similar proposal of partner B routed to the department
/// `dept_key` belongs to. Returns (past id, past receipt number, new id).
pub async fn seed_pair(app: &TestApp, w: &World) -> (i64, String, i64) {
    let y = &w.yokohama;
    let desk = y.desk_key.as_str();
    let past = app
        .post(
            "/api/v1/desk/proposals",
            Some(desk),
            &json!({
                "channel": "visit",
                "submitter_name": "市民 花子",
                "submitter_email": SECRETS.email,
                "submitter_phone": SECRETS.phone,
                "title": "空き店舗で子育て交流拠点",
                "body": format!("{COMMON}{}", SECRETS.body_sentence),
                "policy_field": "childcare_education",
            }),
        )
        .await;
    assert_eq!(past.status, 201, "{}", past.text);
    let past_id = past.body["id"].as_i64().unwrap();
    let number = past.body["receipt_number"].as_str().unwrap().to_owned();
    let ok = |r: crate::helpers::Reply| assert!(r.status.is_success(), "{}", r.text);
    ok(app
        .post(
            &format!("/api/v1/proposals/{past_id}/route"),
            Some(desk),
            &json!({"primary_department_id": y.other_department_id}),
        )
        .await);
    ok(app
        .post(
            &format!("/api/v1/proposals/{past_id}/notes"),
            Some(desk),
            &json!({"body": SECRETS.note}),
        )
        .await);
    ok(app
        .post(
            &format!("/api/v1/proposals/{past_id}/transition"),
            Some(desk),
            &json!({"to": "declined", "reason_code": "not_feasible_now", "reason": SECRETS.decline_text}),
        )
        .await);
    let new = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_b.1),
            &json!({"municipality_code": "141003", "title": "子育て世帯の交流拠点を空き店舗に", "body": COMMON,
                    "policy_field": "childcare_education",
                    "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}}),
        )
        .await;
    assert_eq!(new.status, 201, "{}", new.text);
    let new_id = new.body["id"].as_i64().unwrap();
    ok(app
        .post(
            &format!("/api/v1/proposals/{new_id}/route"),
            Some(desk),
            &json!({"primary_department_id": y.department_id}),
        )
        .await);
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    (past_id, number, new_id)
}

fn entry_for<'a>(list: &'a Value, number: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["summary"]["receipt_number"] == number)
        .unwrap_or_else(|| panic!("{number} is not among the similar proposals: {list}"))
}

async fn similar_proposals_of_another_department_are_summaries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let (past_id, number, new_id) = seed_pair(&app, &w).await;

    // Department staff of the new proposal's department may open it, not the past one.
    app.get(&format!("/api/v1/proposals/{past_id}"), Some(&y.dept_key))
        .await
        .assert_problem(404, "not_found");
    let similar = app
        .get(
            &format!("/api/v1/proposals/{new_id}/similar"),
            Some(&y.dept_key),
        )
        .await;
    assert_eq!(similar.status, 200, "{}", similar.text);
    let e = entry_for(&similar.body, &number);
    assert_eq!(e["summary"]["title"], "空き店舗で子育て交流拠点");
    assert_eq!(e["summary"]["state"], "declined");
    assert_eq!(e["summary"]["decline_reason"], "not_feasible_now");
    assert!(e.get("proposal").is_none(), "{e}");
    let summary_keys: Vec<&String> = e["summary"].as_object().unwrap().keys().collect();
    assert_eq!(
        summary_keys,
        // The date of receipt helps tell a duplicate from a repeat years later; it
        // says nothing of the proposer.
        [
            "decline_reason",
            "receipt_number",
            "received_at",
            "state",
            "title"
        ],
        "the summary says no more than this"
    );
    for t in e["matched_terms"].as_array().unwrap() {
        assert!(
            "空き店舗で子育て交流拠点".contains(t.as_str().unwrap()),
            "a matched term quotes the body: {t}"
        );
    }
    assert!(
        SECRETS.found_in(&similar.text).is_empty(),
        "leaked {:?} in {}",
        SECRETS.found_in(&similar.text),
        similar.text
    );
    assert!(!similar.text.contains(&format!("\"id\":{past_id}")));

    // Suggestion reasons cite the past proposal by number, title and outcome only.
    let s = app
        .get(
            &format!("/api/v1/proposals/{new_id}/suggestions"),
            Some(&y.dept_key),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert!(
        s.text.contains(&number) && s.text.contains("見送り"),
        "the reasons cite the past proposal: {}",
        s.text
    );
    assert!(SECRETS.found_in(&s.text).is_empty(), "{}", s.text);

    // Staff of the past proposal's department see it in full.
    let other = staff_key(
        &app.db,
        "other-dept@141003.example.jp",
        "department",
        "141003",
        Some(y.other_department_id),
    );
    app.get(&format!("/api/v1/proposals/{new_id}/similar"), Some(&other))
        .await
        .assert_problem(404, "not_found");

    // The desk sees the past proposal in full: contact data and body, no history.
    for key in [&y.desk_key, &y.admin_key, &w.operator_key] {
        let similar = app
            .get(&format!("/api/v1/proposals/{new_id}/similar"), Some(key))
            .await;
        assert_eq!(similar.status, 200, "{}", similar.text);
        let e = entry_for(&similar.body, &number);
        assert_eq!(e["proposal"]["id"], past_id);
        assert_eq!(e["proposal"]["submitter"]["email"], SECRETS.email);
        assert_eq!(e["proposal"]["submitter"]["phone"], SECRETS.phone);
        assert!(
            e["proposal"]["body"]
                .as_str()
                .unwrap()
                .contains(SECRETS.body_sentence)
        );
        assert!(e["proposal"].get("events").is_none());
        assert!(!similar.text.contains(SECRETS.note));
        let s = app
            .get(
                &format!("/api/v1/proposals/{new_id}/suggestions"),
                Some(key),
            )
            .await;
        assert!(s.text.contains(&number), "{}", s.text);
    }

    // The API document promises no more than the answers give.
    let doc = app.get("/api/v1/openapi.json", None).await;
    let props = doc.body["components"]["schemas"]["ProposalSummary"]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("ProposalSummary is not documented"));
    assert_eq!(
        props.keys().collect::<Vec<_>>(),
        [
            "decline_reason",
            "receipt_number",
            "received_at",
            "state",
            "title"
        ]
    );

    // Neither the proposer nor another municipality gets the list at all.
    app.get(
        &format!("/api/v1/proposals/{new_id}/similar"),
        Some(&w.partner_b.1),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/proposals/{new_id}/similar"),
        Some(&w.kobe.admin_key),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn the_console_page_shows_another_departments_proposal_as_a_summary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let (past_id, number, new_id) = seed_pair(&app, &w).await;
    set_passwords(
        &app.db,
        &["dept@141003.example.jp", "desk@141003.example.jp"],
    );
    let link = format!("href=\"/admin/proposals/{past_id}\"");

    let mut dept = Session::new(&app);
    assert_eq!(
        dept.login("dept@141003.example.jp", TEST_PASSWORD)
            .await
            .status,
        303
    );
    let page = dept.get(&format!("/admin/proposals/{new_id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains(&number) && page.text.contains("空き店舗で子育て交流拠点"),
        "the summary is listed: {}",
        page.text
    );
    assert!(page.text.contains("概要のみ"), "{}", page.text);
    assert!(!page.text.contains(&link), "a link to a page that is 404");
    assert!(
        SECRETS.found_in(&page.text).is_empty(),
        "leaked {:?}",
        SECRETS.found_in(&page.text)
    );
    assert_eq!(
        dept.get(&format!("/admin/proposals/{past_id}"))
            .await
            .status,
        404
    );

    let mut desk = Session::new(&app);
    desk.login("desk@141003.example.jp", TEST_PASSWORD).await;
    let page = desk.get(&format!("/admin/proposals/{new_id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains(&link),
        "the desk may open it: {}",
        page.text
    );
    assert!(!page.text.contains("概要のみ"));
}
