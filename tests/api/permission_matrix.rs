//! The generated permission matrix: every API route (from /api/v1/openapi.json) and every
//! console route (from the route table in src/console/mod.rs), called by nine callers
//! against ONE table of expected answers. A route without a row fails the test by name,
//! and so does a row whose route is gone. Every answer to a caller who may not open the
//! seeded proposals is searched for their submitter's contact data, body text and
//! internal notes; partners never see an internal note.
//!
//! To add a route: add one `api(...)` or `console(...)` line to `api_rows` or
//! `console_rows` with the route's template (as in the route table), a concrete path
//! and the expected answer of each caller in `CALLERS` order:
//! `ok` = 2xx or a 3xx that is not the login page, `in` = 303 to the login page, or an
//! exact status (401, 403, 404, …). Records a caller may not see are 404; records a
//! caller may see but not change are 403.

use std::collections::{BTreeSet, HashMap};

use awc::http::Method;
use serde_json::{Value, json};

use crate::console::{Session, csrf_of};
use crate::helpers::{
    Backend, TEST_PASSWORD, TestApp, World, need_body, offer_body, set_passwords, staff_key,
};
use crate::on_both_backends;

on_both_backends!(every_caller_against_every_route);

/// The callers, in the order of every row's expectations.
const CALLERS: [&str; 9] = [
    "anonymous",
    "partner_a",
    "partner_b",
    "dept_own",
    "dept_other",
    "desk",
    "admin",
    "other_town",
    "operator",
];

/// Console logins of the staff callers (partners and anonymous have none).
const LOGINS: [Option<&str>; 9] = [
    None,
    None,
    None,
    Some("dept@141003.example.jp"),
    Some("other-dept@141003.example.jp"),
    Some("desk@141003.example.jp"),
    Some("admin@141003.example.jp"),
    Some("admin@281000.example.jp"),
    Some("operator@example.jp"),
];

// What callers who may not open the seeded proposals must never read.
const CITIZEN_EMAIL: &str = "matrix.citizen.8812@example.net";
const CITIZEN_PHONE: &str = "045-888-8812";
const CITIZEN_BODY: &str = "裏庭の井戸の位置は八八一二番地です。";
const PARTNER_BODY: &str = "試作機の型番はMX-8812です。";
const NOTE: &str = "庁内限り：予算化の見込みを財政課と非公式に相談（8812）";

/// The secrets `caller` must not read (partner A proposed the partner proposals).
fn forbidden_secrets(caller: &str) -> &'static [&'static str] {
    match caller {
        "anonymous" | "partner_b" | "dept_other" | "other_town" => &[
            CITIZEN_EMAIL,
            CITIZEN_PHONE,
            CITIZEN_BODY,
            PARTNER_BODY,
            NOTE,
        ],
        "partner_a" => &[CITIZEN_EMAIL, CITIZEN_PHONE, CITIZEN_BODY, NOTE],
        _ => &[],
    }
}

type BodyFor = Box<dyn Fn(&str) -> Value>;

struct Row {
    method: Method,
    /// The route as the route table writes it, e.g. `/api/v1/needs/{id}`.
    template: &'static str,
    /// The path called; `{name}` placeholders are filled per caller (see `Vars`).
    path: String,
    /// JSON for the API, an object of form fields for the console; null for none.
    body: BodyFor,
    expect: &'static str,
}

fn row(
    method: Method,
    template: &'static str,
    path: impl Into<String>,
    body: impl Fn(&str) -> Value + 'static,
    expect: &'static str,
) -> Row {
    Row {
        method,
        template,
        path: path.into(),
        body: Box::new(body),
        expect,
    }
}

fn none(_: &str) -> Value {
    Value::Null
}

/// A valid outcome report, dated today in Japan.
fn outcome_body(caller: &str) -> Value {
    let today = kyoso::domain::proposals::local_date(chrono::Utc::now().naive_utc()).to_string();
    json!({"done": format!("相談をオンラインで受け付けた（{caller}）"), "reported_on": today,
           "indicators": [{"name": "窓口の待ち時間", "unit": "分", "before": "45", "after": "10"}],
           "effect_yen": 1200000})
}

/// Placeholders of paths: shared ones, and per caller the objects it alone changes (so
/// an allowed change by one caller never changes what the next one meets).
struct Vars {
    shared: HashMap<&'static str, String>,
    own: Vec<HashMap<&'static str, String>>,
}

impl Vars {
    fn fill(&self, caller: usize, path: &str) -> String {
        let mut p = path.replace("{caller}", CALLERS[caller]);
        for (k, v) in self.shared.iter().chain(self.own[caller].iter()) {
            p = p.replace(&format!("{{{k}}}"), v);
        }
        p
    }
}

fn id_of(r: &crate::helpers::Reply) -> String {
    assert!(r.status.is_success(), "seeding failed: {}", r.text);
    r.body["id"].to_string()
}

async fn seed(app: &TestApp, w: &World) -> Vars {
    let y = &w.yokohama;
    let desk = Some(y.desk_key.as_str());
    let (pa, dept) = (Some(w.partner_a.1.as_str()), Some(y.dept_key.as_str()));
    let mut shared: HashMap<&'static str, String> = HashMap::new();
    let need = |title: &str, vis: &str| need_body(title, y.department_id, vis, "open");
    // A saved inbox filter of 横浜市's desk officer: only they may delete it.
    shared.insert(
        "desk_filter",
        kyoso::domain::inbox_filters::save(
            &app.db,
            &crate::moving_fast::staff_actor(app, "desk@141003.example.jp"),
            "窓口の絞り込み",
            &[("q".into(), "公園".into())],
        )
        .expect("seed a saved filter")
        .id
        .to_string(),
    );
    shared.insert(
        "public_need",
        id_of(
            &app.post("/api/v1/needs", dept, &need("公開の課題", "public"))
                .await,
        ),
    );
    shared.insert(
        "internal_need",
        id_of(
            &app.post("/api/v1/needs", dept, &need("庁内の課題", "internal"))
                .await,
        ),
    );
    shared.insert(
        "offer",
        id_of(
            &app.post("/api/v1/offers", pa, &offer_body("点検の提供"))
                .await,
        ),
    );
    // A citizen's proposal the desk recorded, routed to department X, with a note.
    let citizen = id_of(
        &app.post(
            "/api/v1/desk/proposals",
            desk,
            &json!({"channel": "phone", "submitter_name": "市民 一郎",
                    "submitter_email": CITIZEN_EMAIL, "submitter_phone": CITIZEN_PHONE,
                    "title": "井戸の活用", "body": format!("防災用に古井戸を活用したい。{CITIZEN_BODY}"),
                    "policy_field": "childcare_education"}),
        )
        .await,
    );
    let route_and_note = |id: String| async move {
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/route"),
                desk,
                &json!({"primary_department_id": y.department_id}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/notes"),
                desk,
                &json!({"body": NOTE}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        id
    };
    shared.insert("citizen", route_and_note(citizen).await);
    let partner_proposal = |title: String| {
        json!({"municipality_code": "141003", "title": title,
               "body": format!("子育て支援の相談窓口をオンライン化したい。{PARTNER_BODY}"),
               "policy_field": "childcare_education",
               "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}})
    };
    let p = id_of(
        &app.post(
            "/api/v1/proposals",
            pa,
            &partner_proposal("相談窓口のオンライン化".into()),
        )
        .await,
    );
    shared.insert("proposal", route_and_note(p).await);
    let number = app
        .get(&format!("/api/v1/proposals/{}", shared["proposal"]), desk)
        .await;
    shared.insert(
        "proposal_number",
        number.body["receipt_number"].as_str().unwrap().to_owned(),
    );
    // An adopted proposal whose proposer consented to publication, with an outcome: a
    // case (横展開) that other municipalities' staff and anyone reading partner A's
    // profile meet — never with its body or its note.
    let adopted = id_of(
        &app.post(
            "/api/v1/proposals",
            pa,
            &json!({"municipality_code": "141003", "title": "相談窓口のオンライン化（採択）",
                    "body": format!("子育て支援の相談窓口をオンライン化したい。{PARTNER_BODY}"),
                    "policy_field": "childcare_education",
                    "declarations": {"no_antisocial_forces": true, "consent_to_contact": true, "consent_to_publish": true}}),
        )
        .await,
    );
    let adopted = route_and_note(adopted).await;
    let r = app
        .post(
            &format!("/api/v1/proposals/{adopted}/transition"),
            desk,
            &json!({"to": "adopted"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{adopted}/outcomes"),
            desk,
            &outcome_body("seed"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    shared.insert("adopted", adopted);
    let file = kyoso::domain::attachments::add(
        &app.db,
        &kyoso::domain::actor::Actor::Partner(kyoso::domain::ids::PartnerId(w.partner_a.0)),
        kyoso::domain::ids::ProposalId(shared["proposal"].parse().unwrap()),
        kyoso::domain::attachments::Limits::default(),
        kyoso::domain::attachments::Upload {
            name: "企画書.pdf".into(),
            bytes: format!("%PDF-1.7 {PARTNER_BODY}").into_bytes(),
        },
    )
    .expect("seed an attachment");
    shared.insert("attachment", file.id.to_string());
    let operator = kyoso::domain::actor::Actor::Staff(kyoso::domain::actor::StaffActor {
        id: kyoso::domain::ids::StaffUserId(0),
        role: kyoso::domain::vocab::Role::Admin,
        municipality: None,
        department: None,
    });
    let template = |name: String| {
        kyoso::domain::reply_templates::create(
            &app.db,
            &operator,
            Some("141003"),
            kyoso::domain::reply_templates::TemplateInput {
                name,
                body: "{提案者} 様\n受付番号 {受付番号} について回答します。".into(),
            },
        )
        .expect("seed a reply template")
        .id
        .to_string()
    };
    shared.insert("template", template("共有の定型文".into()));
    // Partner B's proposal like partner A's, routed to the other department.
    let other = id_of(
        &app.post(
            "/api/v1/proposals",
            Some(w.partner_b.1.as_str()),
            &json!({"municipality_code": "141003", "title": "相談窓口をオンラインに",
                    "body": "子育て支援の相談窓口をオンライン化したい。",
                    "policy_field": "childcare_education",
                    "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}}),
        )
        .await,
    );
    let r = app
        .post(
            &format!("/api/v1/proposals/{other}/route"),
            desk,
            &json!({"primary_department_id": y.other_department_id}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    shared.insert("other_proposal", other);
    shared.insert("dept_own_staff", {
        let me = app.get("/api/v1/me", dept).await;
        me.body["staff"]["id"].to_string()
    });
    shared.insert("department", y.department_id.to_string());
    shared.insert("partner_a", w.partner_a.0.to_string());
    shared.insert("partner_b", w.partner_b.0.to_string());
    shared.insert("other_department", y.other_department_id.to_string());
    let extra_key = app
        .post("/api/v1/keys", pa, &json!({"label": "予備"}))
        .await;
    assert!(extra_key.status.is_success(), "{}", extra_key.text);
    shared.insert("partner_a_key", extra_key.body["id"].to_string());
    let saved = app
        .post(
            "/api/v1/me/saved-searches",
            pa,
            &json!({"name": "子育て", "q": "子育て"}),
        )
        .await;
    shared.insert("saved_search", id_of(&saved));
    let target = staff_key(&app.db, "target@141003.example.jp", "desk", "141003", None);
    let target_me = app.get("/api/v1/me", Some(&target)).await;
    shared.insert("target_staff", target_me.body["staff"]["id"].to_string());
    let mail_id: i64 = {
        use diesel::prelude::*;
        use kyoso::storage::schema::mail_outbox::dsl::*;
        let mut conn = app.db.conn().unwrap();
        mail_outbox
            .select(id)
            .order(id.asc())
            .first(&mut *conn)
            .unwrap()
    };
    shared.insert("mail", mail_id.to_string());

    let mut own = vec![];
    for (i, caller) in CALLERS.iter().enumerate() {
        let mut v: HashMap<&'static str, String> = HashMap::new();
        let p = id_of(
            &app.post(
                "/api/v1/proposals",
                pa,
                &partner_proposal(format!("提案 {caller} {i}")),
            )
            .await,
        );
        v.insert("own_proposal", route_and_note(p).await);
        // Closed as a duplicate, or returned to the desk, by the callers who may.
        for (var, title) in [("dup_proposal", "重複"), ("return_proposal", "返却")] {
            let p = id_of(
                &app.post(
                    "/api/v1/proposals",
                    pa,
                    &partner_proposal(format!("{title} {caller} {i}")),
                )
                .await,
            );
            v.insert(var, route_and_note(p).await);
        }
        v.insert(
            "own_need",
            id_of(
                &app.post(
                    "/api/v1/needs",
                    dept,
                    &need(&format!("課題 {caller}"), "public"),
                )
                .await,
            ),
        );
        v.insert(
            "own_rule",
            id_of(
                &app.post(
                    "/api/v1/desk/rules",
                    desk,
                    &json!({"department_id": y.department_id, "keyword": format!("語{i}")}),
                )
                .await,
            ),
        );
        v.insert("console_template", template(format!("定型文 {caller}")));
        v.insert(
            "console_rule",
            id_of(
                &app.post(
                    "/api/v1/desk/rules",
                    desk,
                    &json!({"department_id": y.department_id, "keyword": format!("画面{i}")}),
                )
                .await,
            ),
        );
        own.push(v);
    }
    Vars { shared, own }
}

/// Every API route with the expected answer of each caller:
/// anonymous partner_a partner_b dept_own dept_other desk admin other_town operator.
#[rustfmt::skip]
fn api_rows() -> Vec<Row> {
    use Method as M;
    let text = |t: &'static str| move |c: &str| json!({"body": format!("{t} {c}")});
    vec![
        row(M::GET, "/healthz", "/healthz", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/readyz", "/readyz", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/openapi.json", "/api/v1/openapi.json", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/me", "/api/v1/me", none, "401 ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/keys", "/api/v1/keys", none, "401 ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/keys", "/api/v1/keys", |c| json!({"label": format!("鍵 {c}")}), "401 ok ok ok ok ok ok ok ok"),
        row(M::DELETE, "/api/v1/keys/{id}", "/api/v1/keys/{partner_a_key}", none, "401 ok 404 404 404 404 404 404 404"),
        row(M::POST, "/api/v1/partners", "/api/v1/partners", |c| json!({"kind": "npo", "name": format!("新規団体 {c}"), "contact_name": "担当", "contact_email": format!("new-{c}@example.org")}), "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/partners/me", "/api/v1/partners/me", none, "401 ok ok 403 403 403 403 403 403"),
        row(M::PATCH, "/api/v1/partners/me", "/api/v1/partners/me", |_| json!({"description": "更新"}), "401 ok ok 403 403 403 403 403 403"),
        row(M::GET, "/api/v1/partners/{id}", "/api/v1/partners/{partner_a}", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/partners/verify", "/api/v1/partners/verify?token=not-a-token", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/partners/verify", "/api/v1/partners/verify?token=not-a-token", none, "422 422 422 422 422 422 422 422 422"),
        row(M::POST, "/api/v1/partners/me/verification", "/api/v1/partners/me/verification", none, "401 409 409 403 403 403 403 403 403"),
        row(M::POST, "/api/v1/admin/partners/{id}/verify-email", "/api/v1/admin/partners/{partner_b}/verify-email", none, "401 403 403 403 403 403 403 403 ok"),
        row(M::POST, "/api/v1/admin/partners/{id}/corporate-number/confirm", "/api/v1/admin/partners/{partner_b}/corporate-number/confirm", none, "401 403 403 403 403 403 403 403 409"),
        row(M::GET, "/api/v1/offers", "/api/v1/offers", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/offers", "/api/v1/offers", |c| offer_body(&format!("提供 {c}")), "401 ok ok 403 403 403 403 403 403"),
        row(M::GET, "/api/v1/offers/{id}", "/api/v1/offers/{offer}", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::PATCH, "/api/v1/offers/{id}", "/api/v1/offers/{offer}", |_| json!({"title": "点検の提供（改）"}), "401 ok 403 403 403 403 403 403 403"),
        row(M::GET, "/api/v1/offers/{id}/matches", "/api/v1/offers/{offer}/matches", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/needs", "/api/v1/needs", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/needs", "/api/v1/needs", |c| {let mut b = need_body(&format!("新規 {c}"), 0, "public", "open"); b["municipality_code"] = json!("141003"); b["department_id"] = json!("{department}"); b}, "401 403 403 ok ok ok ok 403 ok"),
        row(M::GET, "/api/v1/needs/{id}", "/api/v1/needs/{public_need}", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/needs/{id}", "/api/v1/needs/{internal_need}", none, "404 404 404 ok ok ok ok 404 ok"),
        row(M::PATCH, "/api/v1/needs/{id}", "/api/v1/needs/{internal_need}", |c| json!({"title": format!("更新 {c}")}), "401 403 403 ok ok ok ok 404 ok"),
        row(M::POST, "/api/v1/needs/{id}/publish", "/api/v1/needs/{public_need}/publish", none, "401 403 403 ok ok ok ok 403 ok"),
        row(M::GET, "/api/v1/needs/{id}/matches", "/api/v1/needs/{public_need}/matches", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::PUT, "/api/v1/needs/{id}/matches/{offer_id}/feedback", "/api/v1/needs/{public_need}/matches/{offer}/feedback", |_| json!({"verdict": "good"}), "401 403 403 ok ok ok ok 403 ok"),
        row(M::POST, "/api/v1/needs/{id}/close", "/api/v1/needs/{own_need}/close", none, "401 403 403 ok ok ok ok 403 ok"),
        row(M::GET, "/api/v1/municipalities", "/api/v1/municipalities", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/municipalities", "/api/v1/municipalities", |_| json!({"code": "401307", "name": "福岡市", "prefecture": "福岡県"}), "401 403 403 403 403 403 403 403 ok"),
        row(M::GET, "/api/v1/municipalities/{code}", "/api/v1/municipalities/141003", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::PATCH, "/api/v1/municipalities/{code}", "/api/v1/municipalities/141003", |_| json!({"first_response_days": 12}), "401 403 403 403 403 403 ok 403 ok"),
        row(M::POST, "/api/v1/municipalities/{code}/zones", "/api/v1/municipalities/141003/zones", |c| json!({"name": format!("地区 {c}")}), "401 403 403 403 403 403 ok 403 ok"),
        row(M::GET, "/api/v1/municipalities/{code}/departments", "/api/v1/municipalities/141003/departments", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/municipalities/{code}/departments", "/api/v1/municipalities/141003/departments", |c| json!({"name": format!("新設課 {c}"), "policy_fields": ["governance_dx"]}), "401 403 403 403 403 403 ok 403 ok"),
        row(M::GET, "/api/v1/departments/{id}", "/api/v1/departments/{other_department}", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::PUT, "/api/v1/departments/{id}", "/api/v1/departments/{other_department}", |_| json!({"name": "総務局 危機管理室", "policy_fields": ["safety"]}), "401 403 403 403 403 403 ok 403 ok"),
        row(M::GET, "/api/v1/staff", "/api/v1/staff", none, "401 403 403 403 403 403 ok ok ok"),
        row(M::POST, "/api/v1/staff", "/api/v1/staff", |c| json!({"email": format!("new-{c}@example.jp"), "display_name": "新任", "role": "desk", "municipality_code": "141003"}), "401 403 403 403 403 403 ok 403 ok"),
        row(M::GET, "/api/v1/staff/{id}", "/api/v1/staff/{dept_own_staff}", none, "401 403 403 ok 404 404 ok 404 ok"),
        row(M::PATCH, "/api/v1/staff/{id}", "/api/v1/staff/{dept_own_staff}", |_| json!({"locale": "ja"}), "401 403 403 ok 404 404 ok 404 ok"),
        row(M::POST, "/api/v1/staff/{id}/invitation", "/api/v1/staff/{dept_own_staff}/invitation", none, "401 403 403 403 404 404 ok 404 ok"),
        row(M::GET, "/api/v1/admin/audit", "/api/v1/admin/audit", none, "401 403 403 403 403 403 ok ok ok"),
        row(M::POST, "/api/v1/proposals", "/api/v1/proposals", |c| json!({"municipality_code": "141003", "title": format!("新しい提案 {c}"), "body": "地域の見守りを一緒に。", "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}}), "401 ok ok 403 403 403 403 403 403"),
        row(M::POST, "/api/v1/desk/proposals", "/api/v1/desk/proposals", |c| json!({"municipality_code": "141003", "channel": "visit", "submitter_name": "来庁者", "title": format!("窓口で受けた提案 {c}"), "body": "公園の清掃を手伝いたい。"}), "401 403 403 403 403 ok ok 403 ok"),
        row(M::GET, "/api/v1/proposals", "/api/v1/proposals", none, "401 ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/proposals/export.csv", "/api/v1/proposals/export.csv", none, "401 403 403 ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/proposals/export.xlsx", "/api/v1/proposals/export.xlsx?state=open", none, "401 403 403 ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/proposals/{id}", "/api/v1/proposals/{proposal}", none, "401 ok 404 ok 404 ok ok 404 ok"),
        row(M::GET, "/api/v1/proposals/{id}", "/api/v1/proposals/{citizen}", none, "401 404 404 ok 404 ok ok 404 ok"),
        // Past the permission check, a JSON body is not a file: 415.
        row(M::POST, "/api/v1/proposals/{id}/attachments", "/api/v1/proposals/{proposal}/attachments", |_| json!({"file": "x"}), "401 415 404 415 404 415 415 404 415"),
        row(M::GET, "/api/v1/proposals/{id}/attachments", "/api/v1/proposals/{proposal}/attachments", none, "401 ok 404 ok 404 ok ok 404 ok"),
        row(M::GET, "/api/v1/proposals/{id}/attachments/{attachment_id}", "/api/v1/proposals/{proposal}/attachments/{attachment}", none, "401 ok 404 ok 404 ok ok 404 ok"),
        row(M::GET, "/api/v1/proposals/{id}/suggestions", "/api/v1/proposals/{proposal}/suggestions", none, "401 403 404 ok 404 ok ok 404 ok"),
        // Outcomes: the lead department and the desk record them on adopted proposals
        // (409 on one that is not adopted); the proposer may not (403).
        row(M::POST, "/api/v1/proposals/{id}/outcomes", "/api/v1/proposals/{adopted}/outcomes", outcome_body, "401 403 404 ok 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/outcomes", "/api/v1/proposals/{own_proposal}/outcomes", outcome_body, "401 403 404 409 404 409 409 404 409"),
        row(M::GET, "/api/v1/proposals/{id}/outcomes", "/api/v1/proposals/{adopted}/outcomes", none, "401 403 404 ok 404 ok ok 404 ok"),
        row(M::GET, "/api/v1/needs/{id}/cases", "/api/v1/needs/{public_need}/cases", none, "401 403 403 ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/needs/{id}/cases", "/api/v1/needs/{internal_need}/cases", none, "401 403 403 ok ok ok ok 404 ok"),
        row(M::GET, "/api/v1/proposals/{id}/similar", "/api/v1/proposals/{citizen}/similar", none, "401 404 404 ok 404 ok ok 404 ok"),
        // Department staff of the other department open their own proposal, whose similar
        // proposals and suggestion reasons include department X's: summaries only.
        row(M::GET, "/api/v1/proposals/{id}/similar", "/api/v1/proposals/{other_proposal}/similar", none, "401 404 403 404 ok ok ok 404 ok"),
        row(M::GET, "/api/v1/proposals/{id}/suggestions", "/api/v1/proposals/{other_proposal}/suggestions", none, "401 404 403 404 ok ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/notes", "/api/v1/proposals/{own_proposal}/notes", text("メモ"), "401 403 404 ok 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/replies", "/api/v1/proposals/{own_proposal}/replies", text("回答"), "401 403 404 ok 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/messages", "/api/v1/proposals/{own_proposal}/messages", text("追加資料"), "401 ok 404 403 404 403 403 404 403"),
        row(M::POST, "/api/v1/proposals/{id}/pause", "/api/v1/proposals/{own_proposal}/pause", text("資料をお送りください"), "401 403 404 ok 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/resume", "/api/v1/proposals/{own_proposal}/resume", none, "401 403 404 ok 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/extend", "/api/v1/proposals/{own_proposal}/extend", |_| json!({"clock": "decision", "until": "2099-03-31", "reason": "庁内調整のため"}), "401 403 404 403 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/route", "/api/v1/proposals/{own_proposal}/route", |_| json!({"primary_department_id": "{department}"}), "401 403 404 403 404 ok ok 404 ok"),
        // Clearing the assignee (the desk or the lead department; never the proposer).
        row(M::POST, "/api/v1/proposals/{id}/assign", "/api/v1/proposals/{own_proposal}/assign", |_| json!({"assignee_id": null}), "401 403 404 ok 404 ok ok 404 ok"),
        row(M::POST, "/api/v1/proposals/{id}/transition", "/api/v1/proposals/{own_proposal}/transition", |_| json!({"to": "in_dialogue"}), "401 403 404 ok 404 ok ok 404 ok"),
        // Staff only; a row the caller may not see refuses the batch (422, nothing changed).
        row(M::POST, "/api/v1/proposals/bulk", "/api/v1/proposals/bulk", |_| json!({"proposal_ids": ["{own_proposal}"], "action": {"kind": "assign", "input": {"assignee_id": null}}}), "401 403 403 ok 422 ok ok 422 ok"),
        row(M::POST, "/api/v1/proposals/{id}/duplicate", "/api/v1/proposals/{dup_proposal}/duplicate", |_| json!({"original": "{proposal_number}"}), "401 403 404 ok 404 ok ok 404 ok"),
        // 所管外: the lead department's staff only, not the desk.
        row(M::POST, "/api/v1/proposals/{id}/return", "/api/v1/proposals/{return_proposal}/return", |_| json!({"reason": "経済局の所管です"}), "401 403 404 ok 404 403 403 404 403"),
        row(M::GET, "/api/v1/desk/deadlines", "/api/v1/desk/deadlines?municipality=141003", none, "401 403 403 ok ok ok ok 403 ok"),
        row(M::GET, "/api/v1/desk/stats", "/api/v1/desk/stats?municipality=141003", none, "401 403 403 403 403 ok ok 403 ok"),
        row(M::GET, "/api/v1/desk/rules", "/api/v1/desk/rules?municipality=141003", none, "401 403 403 403 403 ok ok 403 ok"),
        row(M::POST, "/api/v1/desk/rules", "/api/v1/desk/rules?municipality=141003", |c| json!({"department_id": "{department}", "keyword": format!("キーワード {c}")}), "401 403 403 403 403 ok ok 403 ok"),
        row(M::DELETE, "/api/v1/desk/rules/{id}", "/api/v1/desk/rules/{own_rule}?municipality=141003", none, "401 403 403 403 403 ok ok 403 ok"),
        row(M::GET, "/api/v1/opendata/needs.json", "/api/v1/opendata/needs.json", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/opendata/needs.csv", "/api/v1/opendata/needs.csv", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/opendata/outcomes.json", "/api/v1/opendata/outcomes.json?municipality=141003&fiscal_year=2026", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/opendata/outcomes.csv", "/api/v1/opendata/outcomes.csv?municipality=141003&fiscal_year=2026", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/opendata/outcome-summary.csv", "/api/v1/opendata/outcome-summary.csv?municipality=141003&fiscal_year=2026", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/search", "/api/v1/search?q=%E5%AD%90%E8%82%B2%E3%81%A6", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/me/notifications", "/api/v1/me/notifications", none, "401 ok ok ok ok ok ok ok ok"),
        row(M::PUT, "/api/v1/me/notifications", "/api/v1/me/notifications", |_| json!({"locale": "ja"}), "401 ok ok ok ok ok ok ok ok"),
        row(M::GET, "/api/v1/me/saved-searches", "/api/v1/me/saved-searches", none, "401 ok ok ok ok ok ok ok ok"),
        row(M::POST, "/api/v1/me/saved-searches", "/api/v1/me/saved-searches", |c| json!({"name": format!("保存 {c}"), "q": "防災"}), "401 ok ok ok ok ok ok ok ok"),
        row(M::DELETE, "/api/v1/me/saved-searches/{id}", "/api/v1/me/saved-searches/{saved_search}", none, "401 ok 404 404 404 404 404 404 404"),
        row(M::GET, "/api/v1/unsubscribe", "/api/v1/unsubscribe?token=not-a-token", none, "400 400 400 400 400 400 400 400 400"),
        row(M::POST, "/api/v1/unsubscribe", "/api/v1/unsubscribe?token=not-a-token", none, "400 400 400 400 400 400 400 400 400"),
        row(M::GET, "/api/v1/admin/mail", "/api/v1/admin/mail", none, "401 403 403 403 403 403 403 403 ok"),
        // 409 for the operator: past the permission check, the seeded mail has not failed.
        row(M::POST, "/api/v1/admin/mail/{id}/retry", "/api/v1/admin/mail/{mail}/retry", none, "401 403 403 403 403 403 403 403 409"),
        // Last of the offer's rows: once archived, other partners no longer see it.
        row(M::POST, "/api/v1/offers/{id}/archive", "/api/v1/offers/{offer}/archive", none, "401 ok 404 403 403 403 403 403 403"),
    ]
}

/// Every console route with the expected answer of each caller (partners and anonymous
/// have no console session: the console sends them to its login page).
#[rustfmt::skip]
fn console_rows() -> Vec<Row> {
    use Method as M;
    let form = |pairs: &'static [(&'static str, &'static str)]| {
        move |_: &str| {
            Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                    .collect(),
            )
        }
    };
    vec![
        row(M::GET, "/admin", "/admin", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/admin/", "/admin/", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/admin/static/console.css", "/admin/static/console.css", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/admin/static/shortcuts.js", "/admin/static/shortcuts.js", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/admin/lang/{code}", "/admin/lang/ja?next=/admin/inbox", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::GET, "/admin/login", "/admin/login", none, "ok ok ok ok ok ok ok ok ok"),
        row(M::POST, "/admin/login", "/admin/login", form(&[("email", "desk@141003.example.jp"), ("password", "wrong")]), "403 403 403 403 403 403 403 403 403"),
        row(M::GET, "/admin/inbox", "/admin/inbox", none, "in in in ok ok ok ok ok ok"),
        row(M::GET, "/admin/inbox/export.csv", "/admin/inbox/export.csv?state=all", none, "in in in ok ok ok ok ok ok"),
        row(M::GET, "/admin/inbox/export.xlsx", "/admin/inbox/export.xlsx", none, "in in in ok ok ok ok ok ok"),
        row(M::GET, "/admin/proposals/{id}", "/admin/proposals/{proposal}", none, "in in in ok 404 ok ok 404 ok"),
        row(M::GET, "/admin/proposals/{id}", "/admin/proposals/{citizen}", none, "in in in ok 404 ok ok 404 ok"),
        row(M::POST, "/admin/proposals/{id}/{action}", "/admin/proposals/{own_proposal}/note", form(&[("body", "コンソールのメモ")]), "in in in ok 404 ok ok 404 ok"),
        row(M::POST, "/admin/proposals/{id}/{action}", "/admin/proposals/{own_proposal}/route", form(&[("primary_department_id", "{department}")]), "in in in 403 404 ok ok 404 ok"),
        row(M::POST, "/admin/proposals/{id}/{action}", "/admin/proposals/{own_proposal}/assign", form(&[("assignee_id", "")]), "in in in ok 404 ok ok 404 ok"),
        // Without the original's number or a reason: the form comes back (422), to those who see it.
        row(M::POST, "/admin/proposals/{id}/{action}", "/admin/proposals/{own_proposal}/duplicate", form(&[("original", "")]), "in in in 422 404 422 422 404 422"),
        row(M::POST, "/admin/proposals/{id}/{action}", "/admin/proposals/{own_proposal}/return", form(&[("reason", "")]), "in in in 422 404 422 422 404 422"),
        row(M::POST, "/admin/inbox/bulk", "/admin/inbox/bulk", form(&[("ids", "{own_proposal}"), ("action", "assign"), ("assignee_id", "")]), "in in in ok 422 ok ok 422 ok"),
        // An outcome on a proposal that is not adopted: the page again with 409.
        row(M::POST, "/admin/proposals/{id}/{action}", "/admin/proposals/{own_proposal}/outcome", form(&[("done", "実施した"), ("reported_on", "2026-12-01")]), "in in in 409 404 409 409 404 409"),
        row(M::GET, "/admin/proposals/{id}", "/admin/proposals/{adopted}", none, "in in in ok 404 ok ok 404 ok"),
        row(M::GET, "/admin/proposals/{id}", "/admin/proposals/{other_proposal}", none, "in in in 404 ok ok ok 404 ok"),
        row(M::GET, "/admin/proposals/{id}", "/admin/proposals/{proposal}?template={template}", none, "in in in ok 404 ok ok 404 ok"),
        // Past the permission check, a urlencoded form is not a file: 415.
        row(M::POST, "/admin/proposals/{id}/attachments", "/admin/proposals/{proposal}/attachments", form(&[("file", "x")]), "in in in 415 404 415 415 404 415"),
        row(M::GET, "/admin/proposals/{id}/attachments/{file}", "/admin/proposals/{proposal}/attachments/{attachment}", none, "in in in ok 404 ok ok 404 ok"),
        row(M::GET, "/admin/templates", "/admin/templates", none, "in in in 403 403 ok ok ok ok"),
        row(M::POST, "/admin/templates", "/admin/templates", |c: &str| json!({"m": "141003", "name": format!("画面の定型文 {c}"), "body": "{受付番号} の件"}), "in in in 403 403 ok ok ok ok"),
        row(M::GET, "/admin/templates/{id}", "/admin/templates/{template}?m=141003", none, "in in in 403 403 ok ok 404 ok"),
        row(M::POST, "/admin/templates/{id}", "/admin/templates/{template}", form(&[("m", "141003"), ("name", "共有の定型文"), ("body", "{件名} について")]), "in in in 403 403 ok ok 404 ok"),
        row(M::POST, "/admin/templates/{id}/delete", "/admin/templates/{console_template}/delete", form(&[("m", "141003")]), "in in in 403 403 ok ok 404 ok"),
        // Every staff member keeps their own saved filters; one is deleted only by its owner.
        row(M::POST, "/admin/inbox/filters", "/admin/inbox/filters", form(&[("filter_name", "公園の提案"), ("q", "公園")]), "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/inbox/filters/{id}/delete", "/admin/inbox/filters/{desk_filter}/delete", none, "in in in 404 404 ok 404 404 404"),
        row(M::GET, "/admin/record", "/admin/record", none, "in in in 403 403 ok ok ok ok"),
        // The console offers `m` to deployment admins only: other staff record in,
        // and create needs, departments and rules of, their own municipality; where the
        // seeded department is named, that is a field error (422) for 神戸市's admin.
        row(M::POST, "/admin/record", "/admin/record?m=141003", form(&[("m", "141003"), ("channel", "visit"), ("submitter_name", "来庁者"), ("title", "窓口の提案"), ("body", "花壇の手入れを手伝いたい。")]), "in in in 403 403 ok ok ok ok"),
        row(M::GET, "/admin/needs", "/admin/needs", none, "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/needs", "/admin/needs", form(&[("m", "141003"), ("department_id", "{department}"), ("title", "画面からの課題"), ("body", "公園の遊具を点検したい。"), ("policy_field", "childcare_education"), ("visibility", "public"), ("status", "open")]), "in in in ok ok ok ok 422 ok"),
        row(M::GET, "/admin/needs/new", "/admin/needs/new", none, "in in in ok ok ok ok ok ok"),
        row(M::GET, "/admin/needs/{id}", "/admin/needs/{internal_need}", none, "in in in ok ok ok ok 404 ok"),
        row(M::POST, "/admin/needs/{id}", "/admin/needs/{own_need}", form(&[("title", "画面で更新した課題"), ("body", "公園の遊具を点検したい。"), ("policy_field", "childcare_education"), ("visibility", "public")]), "in in in ok ok ok ok 403 ok"),
        row(M::POST, "/admin/needs/{id}/{action}", "/admin/needs/{own_need}/close", none, "in in in ok ok ok ok 403 ok"),
        // The API's match feedback, from the need's page: the need's municipality's staff.
        row(M::POST, "/admin/needs/{id}/matches/{offer}/feedback", "/admin/needs/{public_need}/matches/{offer}/feedback", form(&[("verdict", "good")]), "in in in ok ok ok ok 403 ok"),
        row(M::GET, "/admin/partners", "/admin/partners", none, "in in in ok ok ok ok ok ok"),
        row(M::GET, "/admin/partners/{id}", "/admin/partners/{partner_a}", none, "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/partners/{id}/{action}", "/admin/partners/{partner_b}/reinstate", none, "in in in 403 403 403 403 403 ok"),
        row(M::GET, "/admin/departments", "/admin/departments", none, "in in in 403 403 ok ok ok ok"),
        row(M::POST, "/admin/departments", "/admin/departments", form(&[("m", "141003"), ("name", "画面で新設した課 {caller}"), ("policy_fields", "governance_dx")]), "in in in 403 403 403 ok ok ok"),
        row(M::POST, "/admin/departments/{id}", "/admin/departments/{other_department}", form(&[("name", "総務局 危機管理室"), ("policy_fields", "safety")]), "in in in 403 403 403 ok 403 ok"),
        row(M::POST, "/admin/rules", "/admin/rules", form(&[("m", "141003"), ("department_id", "{department}"), ("keyword", "画面の語 {caller}")]), "in in in 403 403 ok ok 422 ok"),
        row(M::POST, "/admin/rules/{id}/delete", "/admin/rules/{console_rule}/delete", form(&[("m", "141003")]), "in in in 403 403 ok ok 404 ok"),
        row(M::GET, "/admin/staff", "/admin/staff", none, "in in in 403 403 403 ok ok ok"),
        row(M::POST, "/admin/staff", "/admin/staff", form(&[("email", "console-new-{caller}@141003.example.jp"), ("display_name", "新任"), ("role", "desk"), ("municipality_code", "141003"), ("password", "a-long-enough-password-1")]), "in in in 403 403 403 ok 403 ok"),
        row(M::POST, "/admin/staff/password", "/admin/staff/password", form(&[("email", "target@141003.example.jp"), ("password", "another-long-password-2")]), "in in in 403 403 403 ok 403 ok"),
        row(M::GET, "/admin/staff/{id}", "/admin/staff/{target_staff}", none, "in in in 404 404 404 ok 404 ok"),
        row(M::POST, "/admin/staff/{id}", "/admin/staff/{target_staff}", form(&[("display_name", "異動者"), ("role", "desk"), ("locale", "ja"), ("status", "active")]), "in in in 404 404 404 ok 404 ok"),
        row(M::GET, "/admin/account", "/admin/account", none, "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/staff/{id}/invitation", "/admin/staff/{target_staff}/invitation", none, "in in in 404 404 404 ok 404 ok"),
        row(M::GET, "/admin/audit", "/admin/audit", none, "in in in 403 403 403 ok ok ok"),
        row(M::GET, "/admin/audit.csv", "/admin/audit.csv", none, "in in in 403 403 403 ok ok ok"),
        row(M::GET, "/admin/invitation", "/admin/invitation?token=not-a-token", none, "409 409 409 409 409 409 409 409 409"),
        row(M::POST, "/admin/invitation", "/admin/invitation", form(&[("token", "not-a-token"), ("password", "a-long-enough-password-1"), ("password_confirm", "a-long-enough-password-1")]), "409 409 409 409 409 409 409 409 409"),
        row(M::GET, "/admin/password", "/admin/password", none, "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/password", "/admin/password", form(&[("current_password", "wrong"), ("new_password", "a-brand-new-password-8"), ("new_password_confirm", "a-brand-new-password-8")]), "in in in 422 422 422 422 422 422"),
        row(M::POST, "/admin/account", "/admin/account", form(&[("display_name", "テスト 職員"), ("locale", "ja")]), "in in in ok ok ok ok ok ok"),
        // Every staff caller saves their own settings; kinds their role does not get are
        // not in their form and, when sent anyway, are ignored, not an error.
        row(M::POST, "/admin/account/notifications", "/admin/account/notifications", form(&[("kind.deadline_reminder", "daily"), ("kind.weekly_report", "off")]), "in in in ok ok ok ok ok ok"),
        row(M::GET, "/admin/dashboard", "/admin/dashboard?m=141003", none, "in in in 403 403 ok ok ok ok"),
        row(M::GET, "/admin/dashboard.csv", "/admin/dashboard.csv?m=141003", none, "in in in 403 403 ok ok ok ok"),
        row(M::GET, "/admin/outbox", "/admin/outbox", none, "in in in 403 403 403 403 403 ok"),
        // 409 for the operator: past the permission check, the seeded mail has not failed.
        // 神戸市's admin gets 403 on another municipality's staff e-mail (not 404 as on
        // /admin/staff/{id}): see the report on staff.rs.
        row(M::POST, "/admin/outbox/{id}/retry", "/admin/outbox/{mail}/retry", none, "in in in 403 403 403 403 403 409"),
        // Last: it changes the password the session was opened with, then ends it.
        row(M::POST, "/admin/account/password", "/admin/account/password", form(&[("current_password", TEST_PASSWORD), ("new_password", "a-brand-new-password-9"), ("new_password_confirm", "a-brand-new-password-9")]), "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/account/shortcuts", "/admin/account/shortcuts", form(&[("shortcuts", "off")]), "in in in ok ok ok ok ok ok"),
        row(M::POST, "/admin/logout", "/admin/logout", none, "in in in in in in in in in"),
    ]
}

/// The API's routes, as `METHOD template`, from its OpenAPI document.
async fn api_routes(app: &TestApp) -> BTreeSet<String> {
    let doc = app.get("/api/v1/openapi.json", None).await;
    let mut out = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

/// The console's routes, as `METHOD template`, read from its route table.
fn console_routes() -> BTreeSet<String> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/console/mod.rs"))
        .unwrap();
    let table = src
        .split("web::scope(\"/admin\")")
        .nth(1)
        .expect("the console's scope in src/console/mod.rs");
    let mut out = BTreeSet::new();
    for chunk in table.split("r(\"").skip(1) {
        let path = &chunk[..chunk.find('"').unwrap()];
        for (call, method) in [("get()", "GET"), ("post()", "POST")] {
            if chunk.contains(call) {
                out.insert(format!("{method} /admin{path}"));
            }
        }
    }
    assert!(
        out.len() > 20,
        "the console's route table was not understood: {out:?}"
    );
    out
}

fn coverage(routes: &BTreeSet<String>, rows: &[Row], what: &str) -> Vec<String> {
    let covered: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.template))
        .collect();
    let mut problems: Vec<String> = routes
        .difference(&covered)
        .map(|r| format!("{what} route `{r}` has no row in the permission matrix: add one to {what}_rows() in tests/api/permission_matrix.rs"))
        .collect();
    problems.extend(
        covered.difference(routes).map(|r| {
            format!("{what} row `{r}` names no route of the route table: remove or fix it")
        }),
    );
    problems
}

/// One caller's answer as the table writes it.
fn class(status: u16, location: Option<&str>) -> String {
    match status {
        200..=299 => "ok".into(),
        300..=399 if location.is_some_and(|l| l.starts_with("/admin/login")) => "in".into(),
        300..=399 => "ok".into(),
        s => s.to_string(),
    }
}

fn fill_body(v: &Value, vars: &Vars, caller: usize) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(|v| fill_body(v, vars, caller)).collect()),
        Value::String(s) => {
            let filled = vars.fill(caller, s);
            match filled.parse::<i64>() {
                Ok(n) if s.starts_with('{') => Value::from(n),
                _ => Value::String(filled),
            }
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), fill_body(v, vars, caller)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Without the write limits: every caller registers from one address in one hour.
async fn every_caller_against_every_route(backend: Backend) {
    let app = TestApp::spawn_for_load(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let dept_other = staff_key(
        &app.db,
        "other-dept@141003.example.jp",
        "department",
        "141003",
        Some(y.other_department_id),
    );
    let keys: [Option<String>; 9] = [
        None,
        Some(w.partner_a.1.clone()),
        Some(w.partner_b.1.clone()),
        Some(y.dept_key.clone()),
        Some(dept_other),
        Some(y.desk_key.clone()),
        Some(y.admin_key.clone()),
        Some(w.kobe.admin_key.clone()),
        Some(w.operator_key.clone()),
    ];
    let vars = seed(&app, &w).await;
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();

    let api = api_rows();
    let console = console_rows();
    let mut problems = coverage(&api_routes(&app).await, &api, "api");
    problems.extend(coverage(&console_routes(), &console, "console"));

    let mut leaks = vec![];
    let mut check_leaks = |caller: &str, what: &str, text: &str| {
        for s in forbidden_secrets(caller) {
            if text.contains(s) {
                leaks.push(format!("{what} as {caller} shows «{s}»"));
            }
        }
    };
    let mut actual_table = vec![];
    for r in &api {
        let want: Vec<&str> = r.expect.split_whitespace().collect();
        assert_eq!(want.len(), CALLERS.len(), "{} {}", r.method, r.path);
        let mut got = vec![];
        for (i, caller) in CALLERS.iter().enumerate() {
            let path = vars.fill(i, &r.path);
            let body = fill_body(&(r.body)(caller), &vars, i);
            let body = (!body.is_null()).then_some(body);
            let reply = app
                .call(r.method.clone(), &path, keys[i].as_deref(), body.as_ref())
                .await;
            let c = class(reply.status.as_u16(), None);
            if c != want[i] {
                problems.push(format!(
                    "{} {path} as {caller}: expected {}, got {} {}",
                    r.method,
                    want[i],
                    reply.status,
                    reply.text.chars().take(300).collect::<String>()
                ));
            }
            check_leaks(caller, &format!("{} {path}", r.method), &reply.text);
            got.push(c);
        }
        actual_table.push(format!("{} {} {}", r.method, r.path, got.join(" ")));
    }

    // The console: one logged-in session per staff caller; the others have no session.
    set_passwords(
        &app.db,
        &LOGINS.iter().flatten().copied().collect::<Vec<_>>(),
    );
    let mut sessions = vec![];
    for login in LOGINS {
        let mut s = Session::new(&app);
        let token = if let Some(email) = login {
            let p = s.login(email, TEST_PASSWORD).await;
            assert_eq!(p.status, 303, "login of {email}: {}", p.text);
            s.csrf().await
        } else {
            // A partner's or nobody's browser still gets a login form's token.
            csrf_of(&s.get("/admin/login").await.text)
        };
        sessions.push((s, token));
    }
    for r in &console {
        let want: Vec<&str> = r.expect.split_whitespace().collect();
        assert_eq!(want.len(), CALLERS.len(), "{} {}", r.method, r.path);
        let mut got = vec![];
        for (i, caller) in CALLERS.iter().enumerate() {
            let path = vars.fill(i, &r.path);
            let (session, token) = &mut sessions[i];
            let page = if r.method == Method::GET {
                session.get(&path).await
            } else {
                let body = fill_body(&(r.body)(caller), &vars, i);
                let mut fields: Vec<(String, String)> = vec![("csrf".into(), token.clone())];
                if let Value::Object(m) = body {
                    for (k, v) in m {
                        fields.push((k, v.as_str().map(str::to_owned).unwrap_or(v.to_string())));
                    }
                }
                let borrowed: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                session.post(&path, &borrowed).await
            };
            let c = class(page.status.as_u16(), page.location.as_deref());
            if c != want[i] {
                problems.push(format!(
                    "{} {path} as {caller}: expected {}, got {} {:?}",
                    r.method, want[i], page.status, page.location
                ));
            }
            check_leaks(caller, &format!("{} {path}", r.method), &page.text);
            got.push(c);
        }
        actual_table.push(format!("{} {} {}", r.method, r.path, got.join(" ")));
    }

    assert!(
        leaks.is_empty(),
        "answers show what the caller may not read:\n{}",
        leaks.join("\n")
    );
    assert!(
        problems.is_empty(),
        "permission matrix ({}):\n{}\n\nanswers as given (anonymous partner_a partner_b dept_own dept_other desk admin other_town operator):\n{}",
        CALLERS.join(" "),
        problems.join("\n"),
        actual_table.join("\n")
    );
}
