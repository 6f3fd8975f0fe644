//! The inbox at a desk's volume: words (through the search index, in either kana
//! script), receipt numbers, filters, sorting and pages over every proposal the caller
//! may see, never another municipality's or another department's; the 所管未定 and
//! 期限超過 queues complete, oldest first and counted as 集計 counts them; proposal
//! forms sent back with an error keep what was typed.

use chrono::{NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::console::Session;
use crate::helpers::{Backend, TEST_PASSWORD, TestApp, World, set_passwords};
use crate::on_both_backends;
use kyoso::domain::actor::Actor;
use kyoso::domain::ids::PartnerId;
use kyoso::domain::proposals::intake::{self, Declarations, SubmitProposal};

on_both_backends!(
    search_finds_beyond_the_first_page_within_the_callers_rights,
    the_list_sorts_and_pages_in_the_database,
    queues_are_complete_oldest_first_and_counted_as_the_dashboard,
    failed_forms_keep_what_was_typed,
);

/// More proposals than one page of the API (100) and three of the console (50).
pub const MANY: usize = 135;
/// The index of the proposal that arrived first: recorded late (a phone call of weeks
/// ago), so it is neither the lowest id nor where id order would put it.
pub const LATE_RECORDED: usize = 100;

const DESK: &str = "desk@141003.example.jp";
const DEPT: &str = "dept@141003.example.jp";
const KOBE_DESK: &str = "desk@281000.example.jp";

pub fn submit_to(app: &TestApp, partner: i64, code: &str, title: &str, body: &str) -> i64 {
    intake::submit(
        &app.db,
        &Actor::Partner(PartnerId(partner)),
        SubmitProposal {
            municipality_code: Some(code.into()),
            need_id: None,
            offer_id: None,
            title: title.into(),
            body: body.into(),
            policy_field: Some("environment_energy".into()),
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

/// Sets when a proposal was received.
pub fn set_received(app: &TestApp, id: i64, at: chrono::NaiveDateTime) {
    use kyoso::storage::schema::proposals;
    let mut conn = app.db.conn().unwrap();
    diesel::update(proposals::table.find(id))
        .set(proposals::received_at.eq(at))
        .execute(&mut *conn)
        .unwrap();
}

pub fn set_proposer_due(app: &TestApp, id: i64, due: NaiveDate) {
    use kyoso::storage::schema::proposals;
    let mut conn = app.db.conn().unwrap();
    diesel::update(proposals::table.find(id))
        .set(proposals::proposer_due_on.eq(due))
        .execute(&mut *conn)
        .unwrap();
}

/// `MANY` proposals to 横浜市, in id order; the first is about カワセミ (so, newest
/// first, it is on the last page), the others about cleaning parks. Proposal i was
/// received `MANY - i` hours ago, except `LATE_RECORDED`, received 60 days ago. The
/// index has caught up.
pub fn many(app: &TestApp, w: &World) -> Vec<i64> {
    let base = Utc::now().naive_utc();
    let mut ids = vec![];
    for i in 0..MANY {
        let id = if i == 0 {
            submit_to(
                app,
                w.partner_a.0,
                "141003",
                "カワセミの観察会を川辺で開きたい",
                "子どもたちと川辺の野鳥を観察し、環境学習の場をつくります。",
            )
        } else {
            submit_to(
                app,
                w.partner_a.0,
                "141003",
                &format!("地域の公園清掃 その{i}"),
                "公園と河川敷の清掃活動を地域の皆さんと一緒に進めたいと考えています。",
            )
        };
        let hours = if i == LATE_RECORDED {
            24 * 60
        } else {
            (MANY - i) as i64
        };
        set_received(app, id, base - TimeDelta::hours(hours));
        ids.push(id);
    }
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    ids
}

fn enc(s: &str) -> String {
    kyoso::console::layout::url_encode(s)
}

/// The start tag of the element carrying `attr`.
fn tag_with<'a>(html: &'a str, attr: &str) -> &'a str {
    let at = html.find(attr).expect("the element");
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

fn ids_of(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

/// The ids of the proposals a console page links to, in order of appearance.
fn linked(html: &str, from: &str) -> Vec<i64> {
    let html = &html[html.find(from).unwrap_or(0)..];
    html.split("href=\"/admin/proposals/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

async fn search_finds_beyond_the_first_page_within_the_callers_rights(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK, DEPT, KOBE_DESK]);
    let ids = many(&app, &w);
    let kawasemi = ids[0];
    let kobe = submit_to(
        &app,
        w.partner_b.0,
        "281000",
        "カワセミの住む川を守りたい",
        "神戸の川で野鳥の観察会を開きます。",
    );
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    let desk = Some(w.yokohama.desk_key.as_str());
    let receipt = app
        .get(&format!("/api/v1/proposals/{kawasemi}"), desk)
        .await
        .body["receipt_number"]
        .as_str()
        .unwrap()
        .to_owned();

    // The first page does not hold it; every search does, and nothing else.
    let first = app.get("/api/v1/proposals?limit=100", desk).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(ids_of(&first.body).len(), 100);
    assert!(!ids_of(&first.body).contains(&kawasemi));
    let seq = receipt.split('-').nth(1).unwrap().to_owned();
    for q in [
        "かわせみ",
        "カワセミ",
        "ｶﾜｾﾐ",
        "観察会",
        receipt.as_str(),
        seq.as_str(),
    ] {
        let found = app
            .get(&format!("/api/v1/proposals?q={}", enc(q)), desk)
            .await;
        assert_eq!(found.status, 200, "{q}: {}", found.text);
        assert_eq!(ids_of(&found.body), vec![kawasemi], "{q}: {}", found.text);
    }
    // Words combine with the filters, and the cursor pages a search.
    let cleaning = app
        .get(
            &format!("/api/v1/proposals?q={}&limit=100", enc("清掃")),
            desk,
        )
        .await;
    assert_eq!(ids_of(&cleaning.body).len(), 100);
    let cursor = cleaning.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(
            &format!(
                "/api/v1/proposals?q={}&limit=100&cursor={cursor}",
                enc("清掃")
            ),
            desk,
        )
        .await;
    assert_eq!(ids_of(&rest.body).len(), MANY - 1 - 100, "{}", rest.text);
    assert!(!ids_of(&rest.body).contains(&kawasemi));
    let none = app
        .get(
            &format!("/api/v1/proposals?q={}&state=adopted", enc("かわせみ")),
            desk,
        )
        .await;
    assert!(ids_of(&none.body).is_empty());
    // Bad input is a field error, never a 500.
    app.get(&format!("/api/v1/proposals?q={}", "x".repeat(201)), desk)
        .await
        .assert_problem(422, "invalid");

    // Another municipality never finds it, even by its receipt number; its own proposal
    // is found by its own desk only.
    let kobe_desk = Some(w.kobe.desk_key.as_str());
    for q in ["カワセミ", receipt.as_str()] {
        let found = app
            .get(&format!("/api/v1/proposals?q={}", enc(q)), kobe_desk)
            .await;
        assert!(!ids_of(&found.body).contains(&kawasemi), "{q}");
    }
    let found = app
        .get(
            &format!("/api/v1/proposals?q={}", enc("カワセミ")),
            kobe_desk,
        )
        .await;
    assert_eq!(ids_of(&found.body), vec![kobe]);
    // A partner finds only its own proposals.
    let partner_b = app
        .get(
            &format!("/api/v1/proposals?q={}", enc("カワセミ")),
            Some(w.partner_b.1.as_str()),
        )
        .await;
    assert_eq!(ids_of(&partner_b.body), vec![kobe]);

    // Department staff find what is routed to their department (lead or related), and
    // nothing else of their municipality.
    let dept = Some(w.yokohama.dept_key.as_str());
    let search_dept = |q: &'static str| {
        let app = &app;
        async move {
            ids_of(
                &app.get(&format!("/api/v1/proposals?q={}", enc(q)), dept)
                    .await
                    .body,
            )
        }
    };
    assert!(search_dept("カワセミ").await.is_empty());
    let routed = app
        .post(
            &format!("/api/v1/proposals/{kawasemi}/route"),
            desk,
            &serde_json::json!({
                "primary_department_id": w.yokohama.other_department_id,
                "other_department_ids": [w.yokohama.department_id],
            }),
        )
        .await;
    assert_eq!(routed.status, 200, "{}", routed.text);
    kyoso::domain::search::follow::catch_up(&app.db, &app.search).unwrap();
    assert_eq!(search_dept("かわせみ").await, vec![kawasemi]);
    assert!(search_dept("清掃").await.is_empty());

    // The console: the same search, whatever page the list is on.
    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;
    for q in ["かわせみ", receipt.as_str(), seq.as_str()] {
        let p = s.get(&format!("/admin/inbox?q={}&state=all", enc(q))).await;
        assert_eq!(p.status, 200, "{}", p.text);
        assert_eq!(linked(&p.text, "id=\"all-h\""), vec![kawasemi], "{q}");
        assert!(p.text.contains("検索結果 (1)"), "{q}");
    }
    // The search keeps the filters: a state filter that excludes it finds nothing.
    let p = s
        .get(&format!(
            "/admin/inbox?q={}&state=received",
            enc("かわせみ")
        ))
        .await;
    assert!(linked(&p.text, "id=\"all-h\"").is_empty());
    assert!(p.text.contains("該当する提案はありません"));
    assert!(p.text.contains(&format!("value=\"{}\"", "かわせみ")));
    let mut k = Session::new(&app);
    k.login(KOBE_DESK, TEST_PASSWORD).await;
    let p = k.get(&format!("/admin/inbox?q={}", enc(&receipt))).await;
    assert!(!linked(&p.text, "id=\"all-h\"").contains(&kawasemi));
}

async fn the_list_sorts_and_pages_in_the_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK]);
    let ids = many(&app, &w);
    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;

    // Newest first by default, 50 a page, with the total and both page links.
    let p1 = s.get("/admin/inbox?state=all").await;
    assert_eq!(p1.status, 200);
    let rows1 = linked(&p1.text, "id=\"all-h\"");
    assert_eq!(rows1.len(), 50);
    assert_eq!(rows1[0], ids[MANY - 1]);
    assert!(p1.text.contains(&format!("検索結果 ({MANY})")), "total");
    assert!(p1.text.contains("rel=\"next\"") && !p1.text.contains("rel=\"prev\""));
    assert!(p1.text.contains("aria-sort=\"descending\""));
    let p3 = s.get("/admin/inbox?state=all&page=3").await;
    let rows3 = linked(&p3.text, "id=\"all-h\"");
    assert_eq!(rows3.len(), MANY - 100);
    assert_eq!(
        *rows3.last().unwrap(),
        ids[LATE_RECORDED],
        "received, not id"
    );
    assert!(p3.text.contains("rel=\"prev\"") && !p3.text.contains("rel=\"next\""));
    // Every proposal once over the pages.
    let p2 = s.get("/admin/inbox?state=all&page=2").await;
    let mut all: Vec<i64> = [rows1, linked(&p2.text, "id=\"all-h\""), rows3].concat();
    all.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(all, expected);

    // Oldest first: the proposal recorded late leads.
    let asc = s.get("/admin/inbox?state=all&sort=received&dir=asc").await;
    let rows = linked(&asc.text, "id=\"all-h\"");
    assert_eq!(rows[0], ids[LATE_RECORDED]);
    assert_eq!(rows[1], ids[0]);
    assert!(asc.text.contains("aria-sort=\"ascending\""));
    // The header link reverses the current order and keeps the filters.
    assert!(
        asc.text
            .contains("href=\"/admin/inbox?state=all&amp;sort=received&amp;dir=desc\""),
        "reverse link"
    );

    // By state (workflow order) and by department (unassigned last), ties by id.
    let first = ids[5];
    let second = ids[7];
    let desk = Some(w.yokohama.desk_key.as_str());
    for (id, dept) in [
        (first, w.yokohama.other_department_id),
        (second, w.yokohama.department_id),
    ] {
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/route"),
                desk,
                &serde_json::json!({"primary_department_id": dept}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let by_state = s.get("/admin/inbox?state=all&sort=state&dir=desc").await;
    let rows = linked(&by_state.text, "id=\"all-h\"");
    assert_eq!(&rows[..2], &[second.max(first), second.min(first)]);
    let by_state = s.get("/admin/inbox?state=all&sort=state&dir=asc").await;
    let rows = linked(&by_state.text, "id=\"all-h\"");
    assert!(!rows.contains(&first) && !rows.contains(&second));
    // 子育て支援課 sorts before 危機管理室 by name? The names decide, as the database
    // collates them: こども未来局 (U+3053) < 総務局 (U+7DCF).
    let by_dept = s
        .get("/admin/inbox?state=all&sort=department&dir=asc")
        .await;
    let rows = linked(&by_dept.text, "id=\"all-h\"");
    assert_eq!(&rows[..2], &[second, first]);
    let by_dept = s
        .get("/admin/inbox?state=all&sort=department&dir=desc")
        .await;
    let rows = linked(&by_dept.text, "id=\"all-h\"");
    assert_eq!(&rows[..2], &[first, second]);
    // By the first answer's due date: the earliest first.
    set_proposer_due(&app, ids[9], NaiveDate::from_ymd_opt(2020, 1, 6).unwrap());
    let by_due = s.get("/admin/inbox?state=all&sort=due&dir=asc").await;
    assert_eq!(linked(&by_due.text, "id=\"all-h\"")[0], ids[9]);
    // Nonsense parameters are ignored, not errors.
    let odd = s
        .get("/admin/inbox?state=all&sort=nonsense&dir=up&page=-4")
        .await;
    assert_eq!(odd.status, 200);
    assert_eq!(linked(&odd.text, "id=\"all-h\"")[0], ids[MANY - 1]);
    // The search form comes before every list.
    let home = s.get("/admin/inbox").await;
    let form = home.text.find("role=\"search\"").unwrap();
    assert!(form < home.text.find("id=\"unassigned-h\"").unwrap());
    assert!(form < home.text.find("id=\"all-h\"").unwrap());
}

async fn queues_are_complete_oldest_first_and_counted_as_the_dashboard(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK, DEPT]);
    let ids = many(&app, &w);
    let desk = Some(w.yokohama.desk_key.as_str());
    // One routed: it leaves the queue.
    let r = app
        .post(
            &format!("/api/v1/proposals/{}/route", ids[3]),
            desk,
            &serde_json::json!({"primary_department_id": w.yokohama.department_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let waiting = MANY - 1;
    let from = (Utc::now() - TimeDelta::days(400)).date_naive();
    let stats = app
        .get(&format!("/api/v1/desk/stats?from={from}"), desk)
        .await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(
        stats.body["unassigned_queue"]["count"].as_u64(),
        Some(waiting as u64)
    );

    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;
    let home = s.get("/admin/inbox").await;
    assert!(
        home.text.contains(&format!("所管未定 ({waiting})")),
        "the queue counts what 集計 counts"
    );
    let section = |html: &str| -> Vec<i64> {
        let start = html.find("id=\"unassigned-h\"").unwrap();
        let end = html.find("id=\"all-h\"").unwrap();
        linked(&html[start..end], "")
    };
    let first = section(&home.text);
    assert_eq!(first.len(), 50);
    // Oldest first: the one recorded late, then in order of arrival.
    assert_eq!(first[0], ids[LATE_RECORDED]);
    assert_eq!(first[1], ids[0]);
    assert!(!first.contains(&ids[3]));
    let mut queue = first.clone();
    let mut page = 2;
    while queue.len() < waiting {
        let p = s.get(&format!("/admin/inbox?up={page}")).await;
        let more = section(&p.text);
        assert!(!more.is_empty(), "page {page}");
        queue.extend(more);
        page += 1;
    }
    assert_eq!(queue.len(), waiting);
    let mut sorted = queue.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), waiting, "no proposal twice");

    // Overdue: every one, oldest received first, counted, not only the paused-free.
    let past = NaiveDate::from_ymd_opt(2020, 1, 6).unwrap();
    for i in [120, 2, LATE_RECORDED, 60] {
        set_proposer_due(&app, ids[i], past);
    }
    let paused = app
        .post(
            &format!("/api/v1/proposals/{}/pause", ids[60]),
            desk,
            &serde_json::json!({"body": "見積書をお送りください。"}),
        )
        .await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    let home = s.get("/admin/inbox").await;
    assert!(
        home.text.contains("期限超過 (3)"),
        "paused clocks stand still"
    );
    let stats = app
        .get(&format!("/api/v1/desk/stats?from={from}"), desk)
        .await;
    assert_eq!(
        stats.body["overdue_now"].as_u64(),
        Some(3),
        "as 集計 counts"
    );
    let start = home.text.find("id=\"overdue-h\"").unwrap();
    let end = home.text.find("id=\"unassigned-h\"").unwrap();
    assert_eq!(
        linked(&home.text[start..end], ""),
        vec![ids[LATE_RECORDED], ids[2], ids[120]]
    );
    // Department staff see the overdue proposals of their department only.
    set_proposer_due(&app, ids[3], past);
    let mut d = Session::new(&app);
    d.login(DEPT, TEST_PASSWORD).await;
    let dept_home = d.get("/admin/inbox").await;
    assert!(
        dept_home.text.contains("期限超過 (1)"),
        "{}",
        dept_home.text
    );
    assert!(!dept_home.text.contains("id=\"unassigned-h\""));
}

async fn failed_forms_keep_what_was_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    set_passwords(&app.db, &[DESK]);
    let id = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        "自社製品の紹介をさせてください",
        "新製品のご紹介です。",
    );
    let mut s = Session::new(&app);
    s.login(DESK, TEST_PASSWORD).await;
    let token = s.csrf().await;
    let reason = "製品の宣伝のみのご提案のため、今回は見送ります。";
    let note = "またの機会にご相談ください。";
    // 見送り without a reason code: the error, and the form open with the text.
    let p = s
        .post(
            &format!("/admin/proposals/{id}/transition"),
            &[
                ("csrf", &token),
                ("to", "declined"),
                ("reason_code", ""),
                ("reason", reason),
                ("note", note),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.text);
    assert!(p.text.contains("role=\"alert\""));
    assert!(
        p.text.contains(&format!(">{reason}</textarea>")),
        "reason kept"
    );
    assert!(p.text.contains(&format!(">{note}</textarea>")), "note kept");
    assert!(
        tag_with(&p.text, "id=\"act-transition\"").contains(" open"),
        "form open"
    );
    // The summary links each problem to its control.
    assert!(crate::console::assert_error_links_resolve(&p.text) >= 1);
    assert!(p.text.contains("href=\"#reason_code\""));
    assert!(p.text.contains("<option value=\"declined\" selected>"));
    // A reason code without reasons keeps the code.
    let p = s
        .post(
            &format!("/admin/proposals/{id}/transition"),
            &[
                ("csrf", &token),
                ("to", "declined"),
                ("reason_code", "promotion_only"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.text
            .contains("<option value=\"promotion_only\" selected>")
    );
    // Extend with a date that is no date keeps the reason; the route note is kept too.
    let p = s
        .post(
            &format!("/admin/proposals/{id}/extend"),
            &[
                ("csrf", &token),
                ("clock", "decision"),
                ("until", "not-a-date"),
                ("reason", "関係課との協議のため"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.text);
    assert!(p.text.contains(">関係課との協議のため</textarea>"));
    assert!(p.text.contains("<option value=\"decision\" selected>"));
    let p = s
        .post(
            &format!("/admin/proposals/{id}/route"),
            &[
                ("csrf", &token),
                ("primary_department_id", "999999"),
                ("note", "子育て支援課の所管と判断"),
            ],
        )
        .await;
    assert!(p.status.as_u16() >= 400, "{}", p.status);
    if p.status.as_u16() == 422 || p.status.as_u16() == 409 {
        assert!(p.text.contains(">子育て支援課の所管と判断</textarea>"));
    }
    // An error in one form does not fill another.
    let p = s
        .post(
            &format!("/admin/proposals/{id}/reply"),
            &[("csrf", &token), ("body", "   ")],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.text);
    assert!(!p.text.contains(reason));
}
