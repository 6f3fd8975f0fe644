//! Bulk actions (一括操作), duplicates (重複) and the 所管外 return, tried to break: a
//! batch with one row the caller may not touch, or one closed row, changes nothing and
//! names the row; each row gets its own event; the cap holds. A duplicate never links
//! across municipalities, to itself or in a cycle, and never tells a proposer another
//! proposer's receipt number. A return is the lead department's alone, reaches the
//! desk and the 所管未定 queue, and its reason never reaches the proposer.

use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, World};
use crate::inbox::submit_to;
use crate::on_both_backends;

on_both_backends!(
    bulk_route_changes_every_row_with_its_own_event_and_mail,
    one_refused_row_refuses_the_whole_batch,
    the_cap_and_the_callers_of_bulk,
    duplicates_link_within_one_municipality_without_cycles,
    a_duplicate_tells_the_proposer_only_what_is_theirs,
    only_the_lead_department_returns_and_the_desk_hears_of_it,
    the_console_form_refuses_in_japanese_and_keeps_the_choice,
);

fn outbox(app: &TestApp) -> Vec<(String, String, String, String)> {
    use diesel::prelude::*;
    use kyoso::storage::schema::mail_outbox::dsl::*;
    let mut conn = app.db.conn().unwrap();
    mail_outbox
        .select((dedupe_key, recipient_email, subject, body_text))
        .order(id)
        .load(&mut *conn)
        .unwrap()
}

async fn get(app: &TestApp, key: &str, id: i64) -> Reply {
    app.get(&format!("/api/v1/proposals/{id}"), Some(key)).await
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

async fn bulk(app: &TestApp, key: Option<&str>, ids: &[i64], action: Value) -> Reply {
    app.post(
        "/api/v1/proposals/bulk",
        key,
        &json!({"proposal_ids": ids, "action": action}),
    )
    .await
}

fn kinds(view: &Value) -> Vec<String> {
    view["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn proposal(app: &TestApp, w: &World, title: &str) -> i64 {
    submit_to(
        app,
        w.partner_a.0,
        "141003",
        title,
        "公園の清掃活動を一緒に進めたい。",
    )
}

async fn bulk_route_changes_every_row_with_its_own_event_and_mail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let ids: Vec<i64> = (0..3)
        .map(|i| proposal(&app, &w, &format!("公園の清掃 {i}")))
        .collect();
    let r = bulk(
        &app,
        Some(&y.desk_key),
        &ids,
        json!({"kind": "route", "input": {"primary_department_id": y.department_id,
               "other_department_ids": [y.other_department_id, y.other_department_id]}}),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(r.body["count"], json!(3));
    for id in &ids {
        let v = get(&app, &y.desk_key, *id).await;
        assert_eq!(v.body["state"], json!("routed"));
        assert_eq!(v.body["departments"].as_array().unwrap().len(), 2);
        let routed = kinds(&v.body).iter().filter(|k| *k == "routed").count();
        assert_eq!(routed, 1, "one routing event per proposal: {}", v.text);
        // The routing notice, written in the same transaction, once per proposal.
        let mails = outbox(&app)
            .into_iter()
            .filter(|m| m.0.starts_with(&format!("proposal_routed:{id}:")))
            .count();
        assert!(mails >= 1, "routing mail for {id}");
    }
}

async fn one_refused_row_refuses_the_whole_batch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let mine = proposal(&app, &w, "自分の課の提案");
    let theirs = proposal(&app, &w, "他の課の提案");
    route(&app, &y.desk_key, mine, y.department_id, &[]).await;
    route(&app, &y.desk_key, theirs, y.other_department_id, &[]).await;

    // A department acting on another department's proposal: nothing changes, and the
    // row it may not see is named by the id it sent, nothing more.
    let r = bulk(
        &app,
        Some(&y.dept_key),
        &[mine, theirs],
        json!({"kind": "transition", "input": {"to": "in_dialogue"}}),
    )
    .await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("proposal_ids/1".to_owned(), "not_found".to_owned())]
    );
    assert!(!r.text.contains("他の課の提案"), "{}", r.text);
    assert_eq!(
        get(&app, &y.desk_key, mine).await.body["state"],
        json!("routed")
    );

    // A related department sees the proposal but does not decide: refused, by number.
    route(
        &app,
        &y.desk_key,
        theirs,
        y.other_department_id,
        &[y.department_id],
    )
    .await;
    let r = bulk(
        &app,
        Some(&y.dept_key),
        &[mine, theirs],
        json!({"kind": "transition", "input": {"to": "in_dialogue"}}),
    )
    .await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("proposal_ids/1".to_owned(), "forbidden".to_owned())]
    );
    assert_eq!(
        get(&app, &y.desk_key, mine).await.body["state"],
        json!("routed")
    );

    // A closed proposal in the selection: the open ones are not routed either, no
    // event is written and no routing mail queued.
    let open = proposal(&app, &w, "まだ受付済の提案");
    let closed = proposal(&app, &w, "見送った提案");
    let d = app
        .post(
            &format!("/api/v1/proposals/{closed}/transition"),
            Some(&y.desk_key),
            &json!({"to": "declined", "reason_code": "other", "reason": "今回は見送ります。"}),
        )
        .await;
    assert!(d.status.is_success(), "{}", d.text);
    let closed_number = get(&app, &y.desk_key, closed).await.body["receipt_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let mails_before = outbox(&app).len();
    let events_before = kinds(&get(&app, &y.desk_key, open).await.body).len();
    let r = bulk(
        &app,
        Some(&y.desk_key),
        &[open, closed],
        json!({"kind": "route", "input": {"primary_department_id": y.department_id}}),
    )
    .await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("proposal_ids/1".to_owned(), "conflict".to_owned())]
    );
    assert!(r.text.contains(&closed_number), "{}", r.text);
    let v = get(&app, &y.desk_key, open).await;
    assert_eq!(v.body["state"], json!("received"));
    assert_eq!(kinds(&v.body).len(), events_before);
    assert_eq!(
        outbox(&app).len(),
        mails_before,
        "no mail from a refused batch"
    );

    // Declining in bulk needs its reason code and text, as one proposal does.
    let r = bulk(
        &app,
        Some(&y.desk_key),
        &[open],
        json!({"kind": "transition", "input": {"to": "declined"}}),
    )
    .await;
    r.assert_problem(422, "invalid");
    let fields: Vec<String> = r.field_codes().into_iter().map(|(f, _)| f).collect();
    assert!(fields.contains(&"reason_code".to_owned()), "{fields:?}");
    assert!(fields.contains(&"reason".to_owned()), "{fields:?}");
}

async fn the_cap_and_the_callers_of_bulk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let id = proposal(&app, &w, "上限の確認");
    let many: Vec<i64> = (0..201).map(|i| id + i).collect();
    let action = json!({"kind": "assign", "input": {"assignee_id": null}});
    let r = bulk(&app, Some(&y.desk_key), &many, action.clone()).await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("proposal_ids".to_owned(), "too_many".to_owned())]
    );
    bulk(&app, Some(&y.desk_key), &[], action.clone())
        .await
        .assert_problem(422, "invalid");
    bulk(&app, Some(&w.partner_a.1), &[id], action.clone())
        .await
        .assert_problem(403, "forbidden");
    bulk(&app, None, &[id], action.clone())
        .await
        .assert_problem(401, "unauthenticated");
    // Another municipality's desk: the row is not found, nothing more.
    let r = bulk(&app, Some(&w.kobe.desk_key), &[id], action.clone()).await;
    r.assert_problem(422, "invalid");
    assert!(!r.text.contains("上限の確認"));
    // 200 distinct ids are accepted up to the rows themselves (here: not found).
    let r = bulk(&app, Some(&y.desk_key), &many[..200], action).await;
    r.assert_problem(422, "invalid");
    assert_eq!(r.field_codes().len(), 199);
}

async fn mark(app: &TestApp, key: &str, id: i64, original: &str) -> Reply {
    app.post(
        &format!("/api/v1/proposals/{id}/duplicate"),
        Some(key),
        &json!({"original": original}),
    )
    .await
}

fn number(r: &Reply) -> String {
    r.body["receipt_number"].as_str().unwrap().to_owned()
}

async fn duplicates_link_within_one_municipality_without_cycles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let first = proposal(&app, &w, "河川敷の清掃");
    let second = proposal(&app, &w, "河川敷の清掃（再送）");
    let third = proposal(&app, &w, "河川敷の清掃（三度目）");
    let n_first = number(&get(&app, &y.desk_key, first).await);
    let n_second = number(&get(&app, &y.desk_key, second).await);
    let n_third = number(&get(&app, &y.desk_key, third).await);

    mark(&app, &y.desk_key, third, &n_third)
        .await
        .assert_problem(422, "invalid");
    let r = mark(&app, &y.desk_key, second, &n_first).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(r.body["state"], json!("declined"));
    assert_eq!(r.body["decline"]["code"], json!("duplicate"));
    assert_eq!(r.body["duplicate_of"]["receipt_number"], json!(n_first));
    let history: Vec<String> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"].as_str().map(str::to_owned))
        .collect();
    assert!(
        history.contains(&format!("重複（{n_first} と同じ）")),
        "{history:?}"
    );
    let original = get(&app, &y.desk_key, first).await;
    assert_eq!(
        original.body["duplicates"][0]["receipt_number"],
        json!(n_second)
    );

    // No cycle: the original cannot become a duplicate of its duplicate (the second
    // is closed, but the link would still loop), nor through a chain.
    let r = mark(&app, &y.desk_key, first, &n_second).await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("original".to_owned(), "cycle".to_owned())]
    );
    let r = mark(&app, &y.desk_key, third, &n_second).await;
    assert!(r.status.is_success(), "a chain is fine: {}", r.text);
    let r = mark(&app, &y.desk_key, first, &n_third).await;
    assert_eq!(
        r.field_codes(),
        vec![("original".to_owned(), "cycle".to_owned())]
    );
    // A closed proposal cannot be closed again.
    mark(&app, &y.desk_key, second, &n_first)
        .await
        .assert_problem(409, "conflict");
    // Unknown numbers and malformed ones.
    mark(&app, &y.desk_key, first, "2026-999999")
        .await
        .assert_problem(422, "invalid");
    mark(&app, &y.desk_key, first, "かわせみ")
        .await
        .assert_problem(422, "invalid");

    // Another municipality: 神戸市's numbering is its own, so 横浜市's number of a
    // proposal 神戸市 does not have is not found there, and 横浜市's proposal cannot be
    // marked by 神戸市's desk at all.
    let kobe = submit_to(
        &app,
        w.partner_b.0,
        "281000",
        "神戸の提案",
        "港の清掃を進めたい。",
    );
    let r = mark(&app, &w.kobe.desk_key, kobe, &n_third).await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        vec![("original".to_owned(), "not_found".to_owned())]
    );
    mark(&app, &w.kobe.desk_key, first, &n_third)
        .await
        .assert_problem(404, "not_found");

    // A department marks only what it leads.
    let fourth = proposal(&app, &w, "河川敷の清掃（四度目）");
    route(
        &app,
        &y.desk_key,
        fourth,
        y.other_department_id,
        &[y.department_id],
    )
    .await;
    mark(&app, &y.dept_key, fourth, &n_first)
        .await
        .assert_problem(403, "forbidden");
    // In bulk, every row a duplicate of one original; the original itself refuses.
    let fifth = proposal(&app, &w, "河川敷の清掃（五度目）");
    let r = bulk(
        &app,
        Some(&y.desk_key),
        &[fifth, first],
        json!({"kind": "duplicate", "input": {"original": n_first}}),
    )
    .await;
    assert_eq!(
        r.field_codes(),
        vec![("proposal_ids/1".to_owned(), "invalid".to_owned())]
    );
    assert_eq!(
        get(&app, &y.desk_key, fifth).await.body["state"],
        json!("received")
    );
    let r = bulk(
        &app,
        Some(&y.desk_key),
        &[fifth, fourth],
        json!({"kind": "duplicate", "input": {"original": n_first}}),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);
    let original = get(&app, &y.desk_key, first).await;
    assert_eq!(original.body["duplicates"].as_array().unwrap().len(), 3);
}

async fn a_duplicate_tells_the_proposer_only_what_is_theirs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let original = proposal(&app, &w, "ため池の見守りセンサー");
    let n_original = number(&get(&app, &y.desk_key, original).await);
    let own_repeat = proposal(&app, &w, "ため池の見守りセンサー（再）");
    let other = submit_to(
        &app,
        w.partner_b.0,
        "141003",
        "ため池にセンサーを",
        "ため池の水位を見守りたい。",
    );

    let r = mark(&app, &y.desk_key, own_repeat, &n_original).await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = mark(&app, &y.desk_key, other, &n_original).await;
    assert!(r.status.is_success(), "{}", r.text);

    // Partner A's own repeat: told the earlier number, which is theirs.
    let a = get(&app, &w.partner_a.1, own_repeat).await;
    assert_eq!(a.body["duplicate_of"]["receipt_number"], json!(n_original));
    assert!(
        a.body["decline"]["text"]
            .as_str()
            .unwrap()
            .contains(&n_original)
    );
    // Partner B: merged with an earlier proposal, never whose or which.
    let b = get(&app, &w.partner_b.1, other).await;
    assert_eq!(b.body["state"], json!("declined"));
    assert!(b.body.get("duplicate_of").is_none(), "{}", b.text);
    assert!(!b.text.contains(&n_original), "{}", b.text);
    assert!(!b.text.contains("ため池の見守りセンサー"), "{}", b.text);
    assert!(
        !b.text.contains("重複（"),
        "the internal line stays internal: {}",
        b.text
    );
    // Partner B cannot list partner A's proposal as its original's duplicates either.
    get(&app, &w.partner_b.1, original)
        .await
        .assert_problem(404, "not_found");
    let mails = outbox(&app);
    let to_b: Vec<_> = mails
        .iter()
        .filter(|m| m.0.starts_with(&format!("proposal_status:{other}:")))
        .collect();
    assert_eq!(to_b.len(), 1, "{mails:?}");
    assert!(
        to_b[0].3.contains("先にお受けした同じ内容の提案"),
        "{}",
        to_b[0].3
    );
    assert!(!to_b[0].3.contains(&n_original), "{}", to_b[0].3);
    let to_a: Vec<_> = mails
        .iter()
        .filter(|m| m.0.starts_with(&format!("proposal_status:{own_repeat}:")))
        .collect();
    assert_eq!(to_a.len(), 1);
    assert!(to_a[0].3.contains(&n_original), "{}", to_a[0].3);
}

async fn only_the_lead_department_returns_and_the_desk_hears_of_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let id = proposal(&app, &w, "商店街の空き店舗活用");
    route(
        &app,
        &y.desk_key,
        id,
        y.department_id,
        &[y.other_department_id],
    )
    .await;
    let me = app.get("/api/v1/me", Some(&y.dept_key)).await;
    let dept_staff = me.body["staff"]["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/assign"),
            Some(&y.dept_key),
            &json!({"assignee_id": dept_staff}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let reason = "庁内限り：空き店舗は経済局の所管です（8813）";
    let give_back = |key: String, reason: &'static str| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/proposals/{id}/return"),
                Some(&key),
                &json!({ "reason": reason }),
            )
            .await
        }
    };
    let other_dept = crate::helpers::staff_key(
        &app.db,
        "other-dept2@141003.example.jp",
        "department",
        "141003",
        Some(y.other_department_id),
    );
    give_back(other_dept, reason)
        .await
        .assert_problem(403, "forbidden");
    give_back(y.desk_key.clone(), reason)
        .await
        .assert_problem(403, "forbidden");
    give_back(w.partner_a.1.clone(), reason)
        .await
        .assert_problem(403, "forbidden");
    give_back(w.kobe.dept_key.clone(), reason)
        .await
        .assert_problem(404, "not_found");
    give_back(y.dept_key.clone(), "")
        .await
        .assert_problem(422, "invalid");

    let r = give_back(y.dept_key.clone(), reason).await;
    assert!(r.status.is_success(), "{}", r.text);
    let v = get(&app, &y.desk_key, id).await;
    assert_eq!(v.body["state"], json!("received"));
    assert_eq!(v.body["unassigned"], json!(true));
    assert_eq!(v.body["departments"], json!([]));
    assert!(v.body.get("assignee").is_none(), "{}", v.text);
    assert!(kinds(&v.body).contains(&"returned".to_owned()));
    assert!(v.text.contains(reason));
    // The department no longer sees it; the desk's 所管未定 list does.
    get(&app, &y.dept_key, id)
        .await
        .assert_problem(404, "not_found");
    let q = app
        .get("/api/v1/proposals?unassigned=true", Some(&y.desk_key))
        .await;
    assert!(
        q.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == json!(id)),
        "{}",
        q.text
    );
    // The desk is told, with the reason; the proposer never reads it.
    let mails = outbox(&app);
    let to_desk: Vec<_> = mails
        .iter()
        .filter(|m| m.0.starts_with(&format!("proposal_returned:{id}:")))
        .collect();
    assert!(
        to_desk
            .iter()
            .any(|m| m.1 == "desk@141003.example.jp" && m.3.contains(reason)),
        "{mails:?}"
    );
    assert!(to_desk.iter().all(|m| m.1.contains("141003.example.jp")));
    assert!(
        mails
            .iter()
            .all(|m| !m.3.contains(reason) || m.0.starts_with("proposal_returned:"))
    );
    let p = get(&app, &w.partner_a.1, id).await;
    assert!(!p.text.contains(reason), "{}", p.text);
    assert!(!kinds(&p.body).contains(&"returned".to_owned()));
    // Returned twice is refused: it is no department's now.
    give_back(y.dept_key.clone(), reason)
        .await
        .assert_problem(404, "not_found");
    // The desk routes again as before.
    route(&app, &y.desk_key, id, y.other_department_id, &[]).await;
}

async fn the_console_form_refuses_in_japanese_and_keeps_the_choice(backend: Backend) {
    use crate::console::{Session, csrf_of};
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    crate::helpers::set_passwords(&app.db, &["dept@141003.example.jp"]);
    let mine = proposal(&app, &w, "画面から一括で扱う提案");
    let theirs = proposal(&app, &w, "画面から見えない提案");
    route(&app, &y.desk_key, mine, y.department_id, &[]).await;
    route(&app, &y.desk_key, theirs, y.other_department_id, &[]).await;
    let mut s = Session::new(&app);
    s.login("dept@141003.example.jp", crate::helpers::TEST_PASSWORD)
        .await;
    let inbox = s.get("/admin/inbox").await;
    assert_eq!(inbox.status, 200);
    assert!(
        inbox.text.contains(&format!("id=\"sel-{mine}\"")),
        "{}",
        inbox.text
    );
    assert!(inbox.text.contains("を選択"));
    assert!(!inbox.text.contains(&format!("id=\"sel-{theirs}\"")));
    let csrf = csrf_of(&inbox.text);

    // Nothing chosen: said so, in Japanese.
    let p = s
        .post(
            "/admin/inbox/bulk",
            &[
                ("csrf", &csrf),
                ("action", "transition"),
                ("to", "in_dialogue"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.text);
    assert!(
        p.text.contains("処理する提案を選んでください"),
        "{}",
        p.text
    );

    // A row the department may not see: refused by its id, nothing changed, the
    // department's own row still checked and the chosen state kept.
    let (m, t) = (mine.to_string(), theirs.to_string());
    let p = s
        .post(
            "/admin/inbox/bulk",
            &[
                ("csrf", &csrf),
                ("ids", &m),
                ("ids", &t),
                ("action", "transition"),
                ("to", "in_dialogue"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.text);
    assert!(p.text.contains("どの提案も変更していません"), "{}", p.text);
    assert!(p.text.contains(&format!("ID {theirs}：")), "{}", p.text);
    assert!(!p.text.contains("画面から見えない提案"));
    let checkbox = p
        .text
        .split(&format!("id=\"sel-{mine}\""))
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap_or_default()
        .to_owned();
    assert!(checkbox.contains("checked"), "{checkbox}");
    assert_eq!(
        get(&app, &y.desk_key, mine).await.body["state"],
        json!("routed")
    );

    // Its own row alone goes through, and the inbox says so.
    let p = s
        .post(
            "/admin/inbox/bulk",
            &[
                ("csrf", &csrf),
                ("ids", &m),
                ("action", "transition"),
                ("to", "in_dialogue"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.text);
    assert!(
        p.location
            .as_deref()
            .unwrap_or_default()
            .contains("done=bulk")
    );
    assert_eq!(
        get(&app, &y.desk_key, mine).await.body["state"],
        json!("in_dialogue")
    );

    // 所管外 from the proposal page: back to the inbox, the proposal gone from it.
    let p = s
        .post(
            &format!("/admin/proposals/{mine}/return"),
            &[("csrf", &csrf), ("reason", "経済局の所管です")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.text);
    assert_eq!(p.location.as_deref(), Some("/admin/inbox?done=return"));
    let inbox = s.get("/admin/inbox?done=return").await;
    assert!(inbox.text.contains("所管外として窓口へ返しました"));
    assert!(!inbox.text.contains("画面から一括で扱う提案"));
}
