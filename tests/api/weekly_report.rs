//! The weekly report mail on both backends: its figures for a known week (proposals
//! received, routed and decided at known times) beside the previous week's, sent once
//! however many runs race for it, to desk and admins who keep it on, as a multipart
//! mail whose CSV attachment a mail client reads.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World};
use crate::on_both_backends;
use crate::smtp::SmtpServer;
use kyoso::domain::calendar::business_days_between;
use kyoso::domain::desk::weekly_report;
use kyoso::mail::send::Mailer;
use kyoso::mail::transport::Transport;
use kyoso::storage::schema::{mail_outbox::dsl as mo, proposal_events as pe, proposals as pr};

on_both_backends!(the_week_in_figures_once_with_its_csv);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn utc(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

/// Moves proposal `id`'s receipt to `at` (UTC).
fn received_at(app: &TestApp, id: i64, at: &str) {
    let mut c = app.db.conn().unwrap();
    diesel::update(pr::table.find(id))
        .set(pr::received_at.eq(utc(at)))
        .execute(&mut *c)
        .unwrap();
}

/// Moves the events of `kind` on proposal `id` to `at` (UTC).
fn event_at(app: &TestApp, id: i64, kind: &str, at: &str) {
    let mut c = app.db.conn().unwrap();
    let n = diesel::update(
        pe::table
            .filter(pe::proposal_id.eq(id))
            .filter(pe::kind.eq(kind)),
    )
    .set(pe::created_at.eq(utc(at)))
    .execute(&mut *c)
    .unwrap();
    assert_eq!(n, 1, "one {kind} event on {id}");
}

async fn record(app: &TestApp, key: &str, channel: &str, at: &str, field: Option<&str>) -> i64 {
    let r = app
        .post(
            "/api/v1/desk/proposals",
            Some(key),
            &json!({"channel": channel, "submitter_name": "市民 一郎", "title": format!("{channel}での提案"), "body": "地域の課題についての提案です。", "received_at": at, "policy_field": field}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn ok(app: &TestApp, path: &str, key: &str, body: Value) {
    let r = app.post(path, Some(key), &body).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
}

/// The CSV's rows, without the byte-order mark, split on CRLF and commas (no field here
/// holds either).
fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    assert!(csv.starts_with('\u{feff}'), "UTF-8 with a BOM");
    assert!(
        csv.ends_with("\r\n") && !csv.replace("\r\n", "").contains('\n'),
        "CRLF"
    );
    csv.trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], item: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.get(1).is_some_and(|i| i == item))
        .unwrap_or_else(|| panic!("no row {item}: {rows:?}"))
}

async fn the_week_in_figures_once_with_its_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let desk = y.desk_key.as_str();
    // The admin keeps it off: no mail.
    let r = app
        .call(
            awc::http::Method::PUT,
            "/api/v1/me/notifications",
            Some(&y.admin_key),
            Some(&json!({"kinds": {"weekly_report": "off"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The previous week (9–15 November 2026, Japan time): one phoned proposal, routed.
    let p1 = record(&app, desk, "phone", "2026-11-10T01:00:00Z", Some("safety")).await;
    // The week (16–22 November): one through the API, one phoned, one mailed.
    let p2 = app
        .post(
            "/api/v1/proposals",
            Some(&w.partner_a.1),
            &json!({"municipality_code": "141003", "title": "見守りカメラ", "body": "公園の見守りカメラの提案です。", "policy_field": "safety"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    received_at(&app, p2, "2026-11-16 01:00");
    let p3 = record(
        &app,
        desk,
        "phone",
        "2026-11-17T01:00:00Z",
        Some("childcare_education"),
    )
    .await;
    let p4 = record(&app, desk, "email", "2026-11-18T01:00:00Z", None).await;
    // Kobe's proposals never count for Yokohama.
    record(
        &app,
        &w.kobe.desk_key,
        "visit",
        "2026-11-17T01:00:00Z",
        None,
    )
    .await;

    let route = |id: i64| format!("/api/v1/proposals/{id}/route");
    let to = json!({"primary_department_id": y.department_id});
    ok(&app, &route(p1), desk, to.clone()).await;
    ok(&app, &route(p2), desk, to.clone()).await;
    ok(&app, &route(p3), desk, to.clone()).await;
    ok(
        &app,
        &format!("/api/v1/proposals/{p1}/transition"),
        desk,
        json!({"to": "declined", "reason_code": "other", "reason": "今回は見送ります。"}),
    )
    .await;
    ok(
        &app,
        &format!("/api/v1/proposals/{p2}/transition"),
        desk,
        json!({"to": "adopted"}),
    )
    .await;
    event_at(&app, p1, "routed", "2026-11-12 01:00");
    event_at(&app, p2, "routed", "2026-11-17 01:00");
    event_at(&app, p3, "routed", "2026-11-20 01:00");
    event_at(&app, p1, "state_changed", "2026-11-19 01:00");
    event_at(&app, p2, "state_changed", "2026-11-20 01:00");
    // p4's first answer was due on Friday the 20th: overdue at the week's end.
    {
        let mut c = app.db.conn().unwrap();
        diesel::update(pr::table.find(p4))
            .set(pr::proposer_due_on.eq(Some(day("2026-11-20"))))
            .execute(&mut *c)
            .unwrap();
    }

    // The previous week's report was made a week ago (nothing waiting then) ...
    let week = day("2026-11-16");
    let before = weekly_report::run_week(&app.db, day("2026-11-09"), "http://kyoso.test").unwrap();
    assert_eq!(
        (before.made, before.mails),
        (2, 3),
        "both towns; not to Yokohama's admin"
    );
    // ... and now p3 waits for its proposer (資料待ち).
    ok(
        &app,
        &format!("/api/v1/proposals/{p3}/pause"),
        desk,
        json!({"body": "企画書の提出をお待ちしています。"}),
    )
    .await;

    // Monday 23 November, 09:00 Japan time: the scheduler's week is 16–22 November.
    let at = utc("2026-11-23 00:00");
    assert_eq!(weekly_report::reported_week(at), week);
    // Two nodes race for it: one makes it.
    let runs: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| weekly_report::run(&app.db, at).unwrap());
        let b = s.spawn(|| weekly_report::run(&app.db, at).unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    assert_eq!(runs.iter().map(|r| r.made).sum::<usize>(), 2, "{runs:?}");
    assert_eq!(runs.iter().map(|r| r.skipped).sum::<usize>(), 2, "{runs:?}");
    assert_eq!(
        weekly_report::run(&app.db, at).unwrap().made,
        0,
        "and once only"
    );
    let queued: Vec<(String, String)> = {
        let mut c = app.db.conn().unwrap();
        mo::mail_outbox
            .filter(mo::kind.eq("weekly_report"))
            .select((mo::recipient_email, mo::dedupe_key))
            .order(mo::id)
            .load(&mut *c)
            .unwrap()
    };
    let yokohama: Vec<&(String, String)> = queued
        .iter()
        .filter(|(_, k)| k.contains(":141003:2026-11-16:"))
        .collect();
    assert_eq!(yokohama.len(), 1, "{queued:?}");
    assert_eq!(
        yokohama[0].0, "desk@141003.example.jp",
        "the admin turned it off"
    );

    let smtp = SmtpServer::start();
    let m = Mailer::new(
        Transport::smtp(&smtp.url()).unwrap(),
        "共創窓口 <kyoso@example.jp>".into(),
        "http://127.0.0.1:8080".into(),
    );
    m.send_due(&app.db, 100).unwrap();
    let msgs = smtp.messages();
    let mail = msgs
        .iter()
        .find(|x| {
            x["to"].as_str().unwrap().contains("desk@141003.example.jp")
                && x["subject"].as_str().unwrap().contains("11月16日")
        })
        .unwrap_or_else(|| panic!("{msgs:#?}"));
    assert_eq!(mail["content_type"], "multipart/mixed");
    assert!(mail["subject"].as_str().unwrap().contains("週次レポート"));
    assert!(mail["html"].as_str().unwrap().contains("新規提案"));
    let files = mail["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{mail:#?}");
    assert_eq!(files[0]["filename"], "weekly-report-141003-2026-11-16.csv");
    assert_eq!(files[0]["content_type"], "text/csv");
    let rows = csv_rows(files[0]["content"].as_str().unwrap());
    assert_eq!(rows[0], ["区分", "項目", "今週", "前週", "差"]);
    assert_eq!(
        row(&rows, "横浜市")[2..4],
        ["2026-11-16/2026-11-22", "2026-11-09/2026-11-15"]
    );
    let r = |item: &str| row(&rows, item)[2..].to_vec();
    assert_eq!(r("新規提案"), ["3", "1", "2"]);
    assert_eq!(r("Web・API"), ["1", "0", "1"]);
    assert_eq!(r("電話"), ["1", "1", "0"]);
    assert_eq!(r("メール"), ["1", "0", "1"]);
    assert_eq!(r("来庁"), ["0", "0", "0"], "Kobe's visit is not Yokohama's");
    assert_eq!(r("防災・安全"), ["1", "1", "0"]);
    assert_eq!(r("子育て・教育")[..2], ["1", "0"]);
    assert_eq!(r("分野未設定"), ["1", "0", "1"]);
    assert_eq!(r("所管課へ回付"), ["2", "1", "1"]);
    assert_eq!(r("採択"), ["1", "0", "1"]);
    assert_eq!(r("見送り"), ["1", "0", "1"]);
    assert_eq!(r("取り下げ"), ["0", "0", "0"]);
    // At the week's end: p4 overdue; p3 waiting (and so not overdue). The previous
    // week's counts are those its report gave: nothing overdue, nothing waiting.
    assert_eq!(r("期限超過"), ["1", "0", "1"]);
    assert_eq!(r("資料待ち"), ["1", "0", "1"]);
    // Medians of business days, from the calendar.
    let bd = |a: &str, b: &str| business_days_between(day(a), day(b)) as f64;
    let routing = (bd("2026-11-16", "2026-11-17") + bd("2026-11-17", "2026-11-20")) / 2.0;
    let decision = (bd("2026-11-10", "2026-11-19") + bd("2026-11-16", "2026-11-20")) / 2.0;
    let prev_routing = bd("2026-11-10", "2026-11-12");
    assert_eq!(
        r("受付から回付まで"),
        [
            format!("{routing:.1}"),
            format!("{prev_routing:.1}"),
            format!("{:.1}", routing - prev_routing)
        ]
    );
    assert_eq!(
        r("受付から結論まで")[..2],
        [format!("{decision:.1}"), String::new()]
    );
    assert_eq!(
        r("受付から結論まで")[2],
        "",
        "no decision the week before: no difference"
    );
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("新規提案：3件（前週 1件、差 +2）"), "{text}");
    assert!(
        text.contains("受付から結論まで") && text.contains("前週 —"),
        "{text}"
    );
    assert!(!text.contains("市民 一郎"), "no proposer in the report");

    // A bulk mail: one click (RFC 8058) turns the report off, and the next week's run
    // sends it to nobody at Yokohama.
    assert_eq!(mail["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let header = mail["list_unsubscribe"].as_str().unwrap();
    let url = header.trim_start_matches('<').trim_end_matches('>');
    let path = &url[url.find("/api/v1/unsubscribe").unwrap()..];
    let done = app
        .call_raw(
            awc::http::Method::POST,
            path,
            None,
            "application/x-www-form-urlencoded",
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let next = weekly_report::run_week(&app.db, day("2026-11-23"), "http://kyoso.test").unwrap();
    assert_eq!(
        (next.made, next.mails),
        (2, 2),
        "Kobe's desk and admin only: {next:?}"
    );
}
