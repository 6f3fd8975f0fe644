//! 担当者 (the assignee) of a proposal: set, changed and cleared by the desk and by the
//! lead department, each with an event in the history; nobody outside the desk and the
//! lead department can be assigned or assign; routing away from a department clears its
//! staff member; 「自分の担当」 lists exactly the caller's, over every page; proposers
//! never see who handles their proposal.

use serde_json::{Value, json};

use crate::helpers::{TestApp, World};
use crate::inbox::{set_proposer_due, submit_to};
use crate::on_both_backends;
use kyoso::domain::staff::{self, NewStaffInput};

on_both_backends!(
    set_change_and_clear_with_history,
    outsiders_cannot_be_assigned_or_assign,
    routing_clears_an_old_department_assignee,
    my_view_lists_exactly_mine_across_pages,
    views_list_due_soon_and_waiting_for_documents,
);

/// A staff user with a known id and name: (id, API key).
fn staff_user(
    app: &TestApp,
    email: &str,
    name: &str,
    role: &str,
    code: &str,
    department: Option<i64>,
) -> (i64, String) {
    let created = staff::create_with_key(
        &app.db,
        NewStaffInput {
            email: email.into(),
            display_name: name.into(),
            role: role.into(),
            municipality_code: Some(code.into()),
            department_id: department,
            locale: None,
        },
    )
    .expect("create staff");
    (created.staff.id.0, created.api_key.key)
}

async fn assign(app: &TestApp, key: &str, id: i64, who: Option<i64>) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/proposals/{id}/assign"),
        Some(key),
        &json!({ "assignee_id": who }),
    )
    .await
}

async fn route(app: &TestApp, key: &str, id: i64, lead: i64, others: &[i64]) {
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/route"),
            Some(key),
            &json!({"primary_department_id": lead, "other_department_ids": others}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
}

fn bodies(view: &Value) -> Vec<String> {
    view["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"].as_str().map(str::to_owned))
        .collect()
}

async fn set_change_and_clear_with_history(backend: crate::helpers::Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let (desk2, desk2_key) = staff_user(
        &app,
        "desk2@141003.example.jp",
        "窓口 花子",
        "desk",
        "141003",
        None,
    );
    let (lead, lead_key) = staff_user(
        &app,
        "lead@141003.example.jp",
        "子育て 一郎",
        "department",
        "141003",
        Some(y.department_id),
    );
    let id = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        "公園の見守り",
        "公園の見守りを手伝いたい。",
    );

    // Before routing only desk staff are eligible: the department has no claim yet.
    assign(&app, &y.desk_key, id, Some(lead))
        .await
        .assert_problem(422, "invalid");
    let r = assign(&app, &desk2_key, id, Some(desk2)).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        r.body["assignee"],
        json!({"id": desk2, "name": "窓口 花子"})
    );

    route(&app, &y.desk_key, id, y.department_id, &[]).await;
    // Desk staff keep a proposal through routing.
    let r = app
        .get(&format!("/api/v1/proposals/{id}"), Some(&y.desk_key))
        .await;
    assert_eq!(r.body["assignee"]["id"], json!(desk2));

    // The lead department's staff take it over themselves (自分が担当する).
    let r = assign(&app, &lead_key, id, Some(lead)).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(r.body["assignee"]["name"], "子育て 一郎");
    // The same again changes nothing and records nothing.
    let before = bodies(&r.body).len();
    let r = assign(&app, &lead_key, id, Some(lead)).await;
    assert_eq!(bodies(&r.body).len(), before);

    // The desk clears it.
    let r = assign(&app, &y.desk_key, id, None).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert!(r.body.get("assignee").is_none(), "{}", r.text);

    let history = bodies(&r.body);
    for line in [
        "担当者を窓口 花子に変更",
        "担当者を子育て 一郎に変更",
        "担当者を外しました",
    ] {
        assert_eq!(
            history.iter().filter(|b| *b == line).count(),
            1,
            "{line} in {history:?}"
        );
    }
    let events = r.body["events"].as_array().unwrap();
    let changes: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("担当者を"))
        })
        .collect();
    // Internal, with who made the change.
    assert!(changes.iter().all(|e| e["internal"] == true));
    assert_eq!(changes[1]["actor_name"], "子育て 一郎");

    // The proposer never sees the assignee or the changes, in the proposal or the list.
    let r = assign(&app, &y.desk_key, id, Some(desk2)).await;
    assert!(r.status.is_success(), "{}", r.text);
    let partner = Some(w.partner_a.1.as_str());
    let mine = app.get(&format!("/api/v1/proposals/{id}"), partner).await;
    assert!(mine.status.is_success());
    let list = app.get("/api/v1/proposals", partner).await;
    for text in [&mine.text, &list.text] {
        assert!(!text.contains("assignee"), "{text}");
        assert!(!text.contains("窓口 花子"), "{text}");
        assert!(!text.contains("担当者を"), "{text}");
    }
    // Nor may it filter by one, or by due dates (the department's clock is internal).
    for q in ["assignee=me", "due=soon"] {
        app.get(&format!("/api/v1/proposals?{q}"), partner)
            .await
            .assert_problem(422, "invalid");
    }
}

async fn outsiders_cannot_be_assigned_or_assign(backend: crate::helpers::Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let (other_dept, other_key) = staff_user(
        &app,
        "other@141003.example.jp",
        "危機 管理",
        "department",
        "141003",
        Some(y.other_department_id),
    );
    let (kobe_desk, kobe_key) = staff_user(
        &app,
        "desk2@281000.example.jp",
        "神戸 窓口",
        "desk",
        "281000",
        None,
    );
    let (lead, _) = staff_user(
        &app,
        "lead@141003.example.jp",
        "子育て 一郎",
        "department",
        "141003",
        Some(y.department_id),
    );
    let id = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        "見守りの提案",
        "通学路の見守りを手伝いたい。",
    );
    route(&app, &y.desk_key, id, y.department_id, &[]).await;

    // Who may not be assigned: another department's staff, another municipality's desk,
    // no such user.
    for who in [other_dept, kobe_desk, 999_999] {
        let r = assign(&app, &y.desk_key, id, Some(who)).await;
        r.assert_problem(422, "invalid");
        assert_eq!(
            r.field_codes(),
            vec![("assignee_id".to_owned(), "not_eligible".to_owned())]
        );
    }
    // Who may not assign: another municipality (cannot see it), a department it is not
    // routed to (cannot see it), the proposer.
    assign(&app, &kobe_key, id, Some(lead))
        .await
        .assert_problem(404, "not_found");
    assign(&app, &other_key, id, Some(lead))
        .await
        .assert_problem(404, "not_found");
    assign(&app, &w.partner_a.1, id, None)
        .await
        .assert_problem(403, "forbidden");
    // A related (non-lead) department sees it but may not assign it.
    route(
        &app,
        &y.desk_key,
        id,
        y.department_id,
        &[y.other_department_id],
    )
    .await;
    assign(&app, &other_key, id, Some(lead))
        .await
        .assert_problem(403, "forbidden");
    assign(&app, &other_key, id, Some(other_dept))
        .await
        .assert_problem(403, "forbidden");
    // Nor decide it: only the lead department (or the desk) changes the state.
    let path = format!("/api/v1/proposals/{id}/transition");
    for to in [
        json!({"to": "in_dialogue"}),
        json!({"to": "declined", "reason_code": "no_budget", "reason": "予算の確保が難しいため。"}),
        json!({"to": "adopted"}),
    ] {
        app.post(&path, Some(&other_key), &to)
            .await
            .assert_problem(403, "forbidden");
    }
    let r = app
        .post(&path, Some(&y.dept_key), &json!({"to": "in_dialogue"}))
        .await;
    assert_eq!(r.body["state"], "in_dialogue", "{}", r.text);
    let r = app
        .get(&format!("/api/v1/proposals/{id}"), Some(&y.desk_key))
        .await;
    assert!(r.body.get("assignee").is_none(), "{}", r.text);
    assert!(!bodies(&r.body).iter().any(|b| b.starts_with("担当者")));
}

async fn routing_clears_an_old_department_assignee(backend: crate::helpers::Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let (lead, lead_key) = staff_user(
        &app,
        "lead@141003.example.jp",
        "子育て 一郎",
        "department",
        "141003",
        Some(y.department_id),
    );
    let id = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        "防災訓練",
        "防災訓練を一緒に。",
    );
    route(&app, &y.desk_key, id, y.department_id, &[]).await;
    assert!(
        assign(&app, &lead_key, id, Some(lead))
            .await
            .status
            .is_success()
    );

    // Re-routing to the same lead keeps the assignee.
    route(
        &app,
        &y.desk_key,
        id,
        y.department_id,
        &[y.other_department_id],
    )
    .await;
    let r = app
        .get(&format!("/api/v1/proposals/{id}"), Some(&y.desk_key))
        .await;
    assert_eq!(r.body["assignee"]["id"], json!(lead));

    // Routing to another lead department clears it, and says so.
    route(
        &app,
        &y.desk_key,
        id,
        y.other_department_id,
        &[y.department_id],
    )
    .await;
    let r = app
        .get(&format!("/api/v1/proposals/{id}"), Some(&y.desk_key))
        .await;
    assert!(r.body.get("assignee").is_none(), "{}", r.text);
    assert!(
        bodies(&r.body)
            .contains(&"主管課の変更により、担当者（子育て 一郎）を外しました".to_owned()),
        "{:?}",
        bodies(&r.body)
    );
    // Now only a related department: its staff may no longer assign.
    assign(&app, &lead_key, id, Some(lead))
        .await
        .assert_problem(403, "forbidden");
}

async fn my_view_lists_exactly_mine_across_pages(backend: crate::helpers::Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let (me, my_key) = staff_user(
        &app,
        "me@141003.example.jp",
        "窓口 自分",
        "desk",
        "141003",
        None,
    );
    let (other, _) = staff_user(
        &app,
        "you@141003.example.jp",
        "窓口 他人",
        "desk",
        "141003",
        None,
    );
    let mut mine = vec![];
    for i in 0..24 {
        let id = submit_to(
            &app,
            w.partner_a.0,
            "141003",
            &format!("提案 {i}"),
            "地域の見守りを一緒に。",
        );
        match i % 3 {
            0 => {
                assert!(
                    assign(&app, &my_key, id, Some(me))
                        .await
                        .status
                        .is_success()
                );
                mine.push(id);
            }
            1 => assert!(
                assign(&app, &my_key, id, Some(other))
                    .await
                    .status
                    .is_success()
            ),
            _ => {}
        }
    }
    // Assigned to me once and then to someone else: not mine any more.
    let moved = submit_to(
        &app,
        w.partner_a.0,
        "141003",
        "移った提案",
        "地域の見守り。",
    );
    assert!(
        assign(&app, &my_key, moved, Some(me))
            .await
            .status
            .is_success()
    );
    assert!(
        assign(&app, &y.desk_key, moved, Some(other))
            .await
            .status
            .is_success()
    );

    let mut seen = vec![];
    let mut url = "/api/v1/proposals?assignee=me&limit=3".to_owned();
    let mut pages = 0;
    loop {
        let r = app.get(&url, Some(&my_key)).await;
        assert!(r.status.is_success(), "{}", r.text);
        for p in r.body["items"].as_array().unwrap() {
            assert_eq!(p["assignee"]["id"], json!(me));
            seen.push(p["id"].as_i64().unwrap());
        }
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/proposals?assignee=me&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert!(pages >= 3);
    seen.sort_unstable();
    mine.sort_unstable();
    assert_eq!(seen, mine);
    // Another desk member's 「自分の担当」 is theirs, not mine.
    let r = app
        .get("/api/v1/proposals?assignee=me&limit=100", Some(&y.desk_key))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    // `none` lists the rest; filters combine (none of mine is paused).
    let r = app
        .get("/api/v1/proposals?assignee=none&limit=100", Some(&my_key))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 8);
    let r = app
        .get(
            "/api/v1/proposals?assignee=me&paused=true&limit=100",
            Some(&my_key),
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    app.get("/api/v1/proposals?assignee=someone", Some(&my_key))
        .await
        .assert_problem(422, "invalid");
    app.get("/api/v1/proposals?due=later", Some(&my_key))
        .await
        .assert_problem(422, "invalid");
}

/// 期限超過・間近 lists the open proposals with a running clock overdue or due within
/// three business days (not a paused one); 資料待ち the paused ones; both combine.
async fn views_list_due_soon_and_waiting_for_documents(backend: crate::helpers::Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let desk = Some(w.yokohama.desk_key.as_str());
    let submit = |t: &str| submit_to(&app, w.partner_a.0, "141003", t, "地域の見守りを一緒に。");
    let (paused, later, late, soon) = (
        submit("止めた"),
        submit("先の"),
        submit("過ぎた"),
        submit("近い"),
    );
    let today = kyoso::domain::proposals::local_date(chrono::Utc::now().naive_utc());
    set_proposer_due(&app, late, today - chrono::TimeDelta::days(3));
    set_proposer_due(&app, soon, today);
    set_proposer_due(&app, later, today + chrono::TimeDelta::days(60));
    // Overdue too, but its clocks stand still while the desk waits for documents.
    set_proposer_due(&app, paused, today - chrono::TimeDelta::days(3));
    let r = app
        .post(
            &format!("/api/v1/proposals/{paused}/pause"),
            desk,
            &json!({"body": "図面をお送りください"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let ids = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    let mut expected = vec![late, soon];
    expected.sort_unstable();
    assert_eq!(
        ids(&app.get("/api/v1/proposals?due=soon", desk).await.body),
        expected
    );
    assert_eq!(
        ids(&app.get("/api/v1/proposals?paused=true", desk).await.body),
        vec![paused]
    );
    assert!(
        ids(&app
            .get("/api/v1/proposals?paused=true&due=soon", desk)
            .await
            .body)
        .is_empty()
    );
    // Combined with a state and 自分の担当.
    assert_eq!(
        ids(&app
            .get("/api/v1/proposals?due=soon&state=received", desk)
            .await
            .body),
        expected
    );
    assert!(
        ids(&app
            .get("/api/v1/proposals?due=soon&assignee=me", desk)
            .await
            .body)
        .is_empty()
    );
    // A decided proposal is in neither view.
    let r = app
        .post(
            &format!("/api/v1/proposals/{late}/transition"),
            desk,
            &json!({"to": "withdrawn"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(
        ids(&app.get("/api/v1/proposals?due=soon", desk).await.body),
        vec![soon]
    );
}
