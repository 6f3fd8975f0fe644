//! Honest routing suggestions: every reason carries a strength drawn from its evidence,
//! a department's level never rises above what its reasons support (one weak reason is
//! weak, and no percentage is shown), the 主管課 select chooses nothing unless one
//! suggestion is clearly strong, and the matched words are content words only — on the
//! API and the console, on both backends.

use serde_json::{Value, json};

use crate::console::Session;
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords, staff_key};
use crate::on_both_backends;
use kyoso::domain::actor::{Actor, StaffActor};
use kyoso::domain::ids::{PartnerId, StaffUserId};
use kyoso::domain::municipalities::{self, DepartmentInput};
use kyoso::domain::proposals::intake::{self, Declarations, SubmitProposal};
use kyoso::domain::vocab::Role;

on_both_backends!(
    a_reason_is_only_as_strong_as_its_evidence,
    the_lead_department_is_chosen_only_on_a_clear_strong_suggestion,
    demo_suggestions_and_similar_proposals_name_content_words_only,
);

const DESK: &str = "desk@141003.example.jp";

fn submit(app: &TestApp, w: &World, title: &str, body: &str, field: Option<&str>) -> i64 {
    intake::submit(
        &app.db,
        &Actor::Partner(PartnerId(w.partner_a.0)),
        SubmitProposal {
            municipality_code: Some("141003".into()),
            need_id: None,
            offer_id: None,
            title: title.into(),
            body: body.into(),
            policy_field: field.map(Into::into),
            declarations: Declarations {
                no_antisocial_forces: true,
                consent_to_contact: true,
                consent_to_publish: false,
            },
        },
        None,
    )
    .expect("submit a proposal")
    .proposal
    .id
    .0
}

fn operator() -> Actor {
    Actor::Staff(StaffActor {
        id: StaffUserId(0),
        role: Role::Admin,
        municipality: None,
        department: None,
    })
}

/// A third department of 横浜市 that also owns 子育て・教育.
fn second_childcare_department(app: &TestApp) -> i64 {
    municipalities::create_department(
        &app.db,
        &operator(),
        "141003",
        DepartmentInput {
            name: "教育委員会 学校支援課".into(),
            email: None,
            policy_fields: vec!["childcare_education".into()],
            is_desk: false,
        },
    )
    .unwrap()
    .id
    .0
}

/// The 主管課 select of a proposal page.
fn lead_select(html: &str) -> &str {
    let start = html
        .find("<select id=\"primary_department_id\"")
        .unwrap_or_else(|| panic!("no 主管課 select: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</select>").unwrap()]
}

/// The suggestions panel of a proposal page.
fn suggestion_panel(html: &str) -> &str {
    let start = html.find("id=\"suggest-h\"").unwrap();
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

fn reasons_of(s: &Value) -> Vec<(String, String)> {
    s["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["strength"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_reason_is_only_as_strong_as_its_evidence(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let desk = y.desk_key.as_str();
    let third = second_childcare_department(&app);

    // One field, two owners, nothing else: each owner has one weak reason, and is weak.
    let id = submit(
        &app,
        &w,
        "放課後の学習支援",
        "小学生の放課後に大学生が宿題を見る教室を開きたい。",
        Some("childcare_education"),
    );
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let s = app
        .get(&format!("/api/v1/proposals/{id}/suggestions"), Some(desk))
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let list = s.body.as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", s.text);
    for d in list {
        assert_eq!(d["level"], "weak", "one weak reason is weak: {}", s.text);
        assert_eq!(
            reasons_of(d),
            [("field_owner".to_owned(), "weak".to_owned())]
        );
        assert!(d.get("score").is_none(), "no figure: {}", s.text);
    }
    let ids: Vec<i64> = list
        .iter()
        .map(|d| d["department_id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&y.department_id) && ids.contains(&third));

    // A past proposal like it, handled by the other department: one similar proposal
    // alone is at most medium, never strong.
    let past = submit(
        &app,
        &w,
        "夜の港で観光クルーズ",
        "観光客向けに港の夜景を巡るクルーズ船の運航を企画します。",
        None,
    );
    app.post(
        &format!("/api/v1/proposals/{past}/route"),
        Some(desk),
        &json!({"primary_department_id": y.other_department_id}),
    )
    .await;
    let again = submit(
        &app,
        &w,
        "港の夜景クルーズ",
        "観光客向けに港の夜景を巡るクルーズを企画します。",
        None,
    );
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let s = app
        .get(
            &format!("/api/v1/proposals/{again}/suggestions"),
            Some(desk),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let d = &s.body[0];
    assert_eq!(d["department_id"], y.other_department_id, "{}", s.text);
    assert_eq!(
        reasons_of(d),
        [("similar_proposal".to_owned(), "medium".to_owned())],
        "{}",
        s.text
    );
    assert_eq!(d["level"], "medium", "{}", s.text);
    let terms = d["reasons"][0]["matched_terms"].as_array().unwrap();
    assert!(
        terms.iter().any(|t| t == "夜景") && terms.iter().any(|t| t == "クルーズ"),
        "the words shared with the past proposal, by contribution: {}",
        s.text
    );

    // The desk's keyword rule matched as written: strong, first.
    let rule = app
        .post(
            "/api/v1/desk/rules",
            Some(desk),
            &json!({"department_id": third, "keyword": "宿題"}),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let s = app
        .get(&format!("/api/v1/proposals/{id}/suggestions"), Some(desk))
        .await;
    assert_eq!(s.body[0]["department_id"], third, "{}", s.text);
    assert_eq!(s.body[0]["level"], "strong");
    assert_eq!(s.body[1]["level"], "weak", "{}", s.text);
}

async fn the_lead_department_is_chosen_only_on_a_clear_strong_suggestion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK]);
    let y = &w.yokohama;
    let third = second_childcare_department(&app);
    let nothing = submit(
        &app,
        &w,
        "港の夜景クルーズ",
        "観光客向けに港の夜景を巡るクルーズを企画します。",
        None,
    );
    let weak = submit(
        &app,
        &w,
        "放課後の学習支援",
        "小学生の放課後に大学生が宿題を見る教室を開きたい。",
        Some("childcare_education"),
    );
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;

    // Nothing suggested: the placeholder is chosen, and the select is required.
    let page = s.get(&format!("/admin/proposals/{nothing}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let select = lead_select(&page.text);
    assert!(select.contains("required"), "{select}");
    assert!(
        select.contains("<option value=\"\" selected>選択してください</option>"),
        "{select}"
    );
    assert_eq!(select.matches("selected").count(), 1, "{select}");
    assert!(suggestion_panel(&page.text).contains("候補はありません"));
    // Sent without a choice (no browser validation), the form comes back with the error
    // and nothing is routed.
    let t = s.csrf().await;
    let sent = s
        .post(
            &format!("/admin/proposals/{nothing}/route"),
            &[("csrf", &t), ("primary_department_id", "")],
        )
        .await;
    assert_eq!(sent.status, 422, "{}", sent.text);
    assert!(sent.text.contains("主管課"), "{}", sent.text);
    let p = app
        .get(&format!("/api/v1/proposals/{nothing}"), Some(&y.desk_key))
        .await;
    assert_eq!(p.body["state"], "received");

    // Weak suggestions are shown as weak, with their reasons, and choose nothing.
    let page = s.get(&format!("/admin/proposals/{weak}")).await;
    let panel = suggestion_panel(&page.text);
    assert!(panel.contains("確からしさ: 弱い"), "{panel}");
    assert!(panel.contains("分野の所管（弱い）"), "{panel}");
    assert!(
        !panel.contains("強い") && !panel.contains("中程度") && !panel.contains('%'),
        "a weak reason overstated: {panel}"
    );
    let select = lead_select(&page.text);
    assert_eq!(select.matches("selected").count(), 1, "{select}");
    assert!(select.contains("<option value=\"\" selected>"), "{select}");
    // In English, the reasons are English too.
    let page = s.get(&format!("/admin/proposals/{weak}?lang=en")).await;
    let panel = suggestion_panel(&page.text);
    assert!(
        panel.contains("Confidence: weak")
            && panel.contains("Owns the policy field (weak)")
            && panel.contains("Owns the policy field “Childcare")
            && !panel.contains("所管"),
        "{panel}"
    );
    s.get("/admin/lang/ja?next=/admin/inbox").await;

    // A keyword rule makes one department clearly strongest: it is chosen in advance.
    let rule = app
        .post(
            "/api/v1/desk/rules",
            Some(&y.desk_key),
            &json!({"department_id": third, "keyword": "宿題"}),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let page = s.get(&format!("/admin/proposals/{weak}")).await;
    let select = lead_select(&page.text);
    assert!(
        select.contains(&format!("<option value=\"{third}\" selected>")),
        "{select}"
    );
    assert!(!select.contains("<option value=\"\" selected>"), "{select}");
    assert!(suggestion_panel(&page.text).contains("確からしさ: 強い"));

    // Two equally strong suggestions: the desk chooses.
    let rule = app
        .post(
            "/api/v1/desk/rules",
            Some(&y.desk_key),
            &json!({"department_id": y.department_id, "keyword": "放課後"}),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let page = s.get(&format!("/admin/proposals/{weak}")).await;
    let select = lead_select(&page.text);
    assert!(select.contains("<option value=\"\" selected>"), "{select}");
    assert_eq!(select.matches("selected").count(), 1, "{select}");
}

/// The demo data, every proposal routed as the desk would: the words shown for
/// similar needs and past proposals — in the API's suggestions and similar list and on
/// the console page — are content words, never function words.
async fn demo_suggestions_and_similar_proposals_name_content_words_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    kyoso::demo::load(&app.db).unwrap();
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let mut terms_seen: Vec<String> = vec![];
    let mut check = |what: &str, terms: &Value| {
        for t in terms.as_array().unwrap() {
            let t = t.as_str().unwrap().to_owned();
            assert!(
                !crate::demo::FUNCTION_WORDS.contains(&t.as_str()),
                "{what}: the function word {t:?} is shown as a reason"
            );
            terms_seen.push(t);
        }
    };
    for code in ["141003", "122173", "142051", "232114"] {
        let desk = staff_key(
            &app.db,
            &format!("suggest-desk@{code}.example.jp"),
            "desk",
            code,
            None,
        );
        let list = app.get("/api/v1/proposals?limit=100", Some(&desk)).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let ids: Vec<i64> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        // Route each to its first suggestion (or to any department), oldest first, so
        // that later proposals find routed past ones.
        for id in ids.iter().rev() {
            let s = app
                .get(&format!("/api/v1/proposals/{id}/suggestions"), Some(&desk))
                .await;
            assert_eq!(s.status, 200, "{}", s.text);
            for d in s.body.as_array().unwrap() {
                for r in d["reasons"].as_array().unwrap() {
                    check(&format!("suggestions of {id}"), &r["matched_terms"]);
                }
            }
            let department = match s.body[0]["department_id"].as_i64() {
                Some(d) => d,
                None => {
                    let m = app
                        .get(&format!("/api/v1/municipalities/{code}/departments"), None)
                        .await;
                    m.body
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|d| d["is_desk"] != true)
                        .and_then(|d| d["id"].as_i64())
                        .unwrap_or_else(|| panic!("{}", m.text))
                }
            };
            let routed = app
                .post(
                    &format!("/api/v1/proposals/{id}/route"),
                    Some(&desk),
                    &json!({"primary_department_id": department}),
                )
                .await;
            assert_eq!(routed.status, 200, "{}", routed.text);
        }
        for id in &ids {
            let similar = app
                .get(&format!("/api/v1/proposals/{id}/similar"), Some(&desk))
                .await;
            assert_eq!(similar.status, 200, "{}", similar.text);
            for x in similar.body.as_array().unwrap() {
                check(&format!("similar to {id}"), &x["matched_terms"]);
            }
            let s = app
                .get(&format!("/api/v1/proposals/{id}/suggestions"), Some(&desk))
                .await;
            for d in s.body.as_array().unwrap() {
                for r in d["reasons"].as_array().unwrap() {
                    check(&format!("suggestions of {id}"), &r["matched_terms"]);
                }
            }
        }
    }
    // Proposals that take up demo needs in their own words (each need's text as a
    // partner would quote it): the reasons name the need and the words shared with it.
    let offers = app.get("/api/v1/offers?limit=1", None).await;
    let partner = PartnerId(offers.body["items"][0]["partner"]["id"].as_i64().unwrap());
    let needs = app.get("/api/v1/needs?limit=12", None).await;
    for n in needs.body["items"].as_array().unwrap() {
        let code = n["municipality"]["code"].as_str().unwrap();
        let desk = staff_key(
            &app.db,
            &format!("suggest-{}@{code}.example.jp", n["id"]),
            "desk",
            code,
            None,
        );
        let id = intake::submit(
            &app.db,
            &Actor::Partner(partner),
            SubmitProposal {
                municipality_code: Some(code.into()),
                need_id: None,
                offer_id: None,
                title: format!("{}について", n["title"].as_str().unwrap()),
                body: format!(
                    "{}。この課題について、当社で何ができるかご提案します。",
                    n["body"].as_str().unwrap()
                ),
                policy_field: None,
                declarations: Declarations {
                    no_antisocial_forces: true,
                    consent_to_contact: true,
                    consent_to_publish: false,
                },
            },
            None,
        )
        .unwrap()
        .proposal
        .id
        .0;
        kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
        let s = app
            .get(&format!("/api/v1/proposals/{id}/suggestions"), Some(&desk))
            .await;
        assert_eq!(s.status, 200, "{}", s.text);
        assert!(s.text.contains("similar_need"), "{}", s.text);
        for d in s.body.as_array().unwrap() {
            for r in d["reasons"].as_array().unwrap() {
                check(&format!("suggestions of {id}"), &r["matched_terms"]);
            }
        }
    }
    eprintln!("matched terms seen: {terms_seen:?}");
    assert!(
        terms_seen.len() > 20,
        "too few matched terms to judge: {terms_seen:?}"
    );
}
