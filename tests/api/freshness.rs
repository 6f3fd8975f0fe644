//! Freshness of needs on both backends: an open need past its open-until date is closed
//! (off the open board and out of search for open needs), its department is told once —
//! or the desk when the department has no staff accounts — and it can be published again
//! only with a date that has not passed.

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{Backend, TestApp, World, need_body};
use crate::on_both_backends;
use kyoso::domain::need_freshness;
use kyoso::domain::proposals::local_date;
use kyoso::domain::search::follow;
use kyoso::storage::now;

on_both_backends!(needs_past_their_date_are_closed_and_their_department_told);

/// (recipient, subject) of the need_expired mails in the outbox.
fn expiry_mails(app: &TestApp) -> Vec<(String, String)> {
    use kyoso::storage::schema::mail_outbox::dsl as m;
    let mut conn = app.db.conn().unwrap();
    m::mail_outbox
        .filter(m::kind.eq("need_expired"))
        .order(m::id)
        .select((m::recipient_email, m::subject))
        .load(&mut *conn)
        .unwrap()
}

async fn needs_past_their_date_are_closed_and_their_department_told(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let today = local_date(now());
    let with_date = |title: &str, department: i64, status: &str, until: chrono::NaiveDate| {
        let mut b = need_body(title, department, "public", status);
        b["open_until"] = json!(until.to_string());
        b
    };

    // An open need cannot be published with a date that has passed; a draft can.
    let refused = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &with_date(
                "期限切れの募集",
                y.department_id,
                "open",
                today - TimeDelta::days(1),
            ),
        )
        .await;
    refused.assert_problem(422, "invalid");
    assert_eq!(
        refused.field_codes(),
        [("open_until".to_owned(), "past".to_owned())]
    );
    let draft = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &with_date(
                "下書きの募集",
                y.department_id,
                "draft",
                today - TimeDelta::days(1),
            ),
        )
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text);

    // Two open needs with a date ten days ahead (one of a department without staff
    // accounts) and one without a date.
    let until = today + TimeDelta::days(10);
    let mut ids = vec![];
    for (title, department) in [
        ("保育所の入所申請をオンライン化したい", y.department_id),
        ("防災倉庫の備蓄品を管理したい", y.other_department_id),
    ] {
        let r = app
            .post(
                "/api/v1/needs",
                Some(&y.desk_key),
                &with_date(title, department, "open", until),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    let lasting = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need_body("期限のない募集", y.department_id, "public", "open"),
        )
        .await;
    assert_eq!(lasting.status, 201, "{}", lasting.text);

    // On the last day they are still open; the day after, both are closed.
    assert_eq!(need_freshness::run(&app.db, until).unwrap(), 0);
    assert_eq!(
        need_freshness::run(&app.db, until + TimeDelta::days(1)).unwrap(),
        2
    );
    for id in &ids {
        let n = app.get(&format!("/api/v1/needs/{id}"), None).await;
        assert_eq!(n.body["status"], "closed", "{}", n.text);
        assert!(n.body["closed_at"].is_string());
    }
    let lasting_now = app
        .get(&format!("/api/v1/needs/{}", lasting.body["id"]), None)
        .await;
    assert_eq!(lasting_now.body["status"], "open");

    // Off the board of open needs, in the list and in search.
    let open = app
        .get("/api/v1/needs?municipality=141003&status=open", None)
        .await;
    let open_ids: Vec<i64> = open.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert!(ids.iter().all(|id| !open_ids.contains(id)), "{}", open.text);
    follow::catch_up(&app.db, &app.search).unwrap();
    let found = app
        .get(
            "/api/v1/search?q=%E4%BF%9D%E8%82%B2%E6%89%80&type=need&status=open",
            None,
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    let hits: Vec<i64> = found.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["record"]["id"].as_i64().unwrap())
        .collect();
    // Only the need without a date, whose text is the same, is still found.
    assert_eq!(
        hits,
        [lasting.body["id"].as_i64().unwrap()],
        "{}",
        found.text
    );

    // The department was told, and for the department without accounts the desk.
    let mails = expiry_mails(&app);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[0].0, "dept@141003.example.jp");
    assert!(
        mails[0].1.contains("保育所の入所申請をオンライン化したい"),
        "{mails:?}"
    );
    assert!(mails[0].1.starts_with("【募集期限】"), "{mails:?}");
    assert_eq!(mails[1].0, "desk@141003.example.jp");
    // Told once.
    assert_eq!(
        need_freshness::run(&app.db, until + TimeDelta::days(2)).unwrap(),
        0
    );
    assert_eq!(expiry_mails(&app).len(), 2);

    // Published again only with a date that has not passed.
    let id = ids[0];
    app.patch(
        &format!("/api/v1/needs/{id}"),
        Some(&y.dept_key),
        &json!({"status": "open", "open_until": (today - TimeDelta::days(1)).to_string()}),
    )
    .await
    .assert_problem(422, "invalid");
    let reopened = app
        .patch(
            &format!("/api/v1/needs/{id}"),
            Some(&y.dept_key),
            &json!({"status": "open", "open_until": (today + TimeDelta::days(60)).to_string()}),
        )
        .await;
    assert_eq!(reopened.status, 200, "{}", reopened.text);
    assert_eq!(reopened.body["status"], "open");
}
