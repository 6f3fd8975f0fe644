//! What the desk confirmed stays confirmed: a panic inside a transaction poisons no
//! pooled connection, absurd dates from outside are refused before any arithmetic, and
//! parallel workflow actions on one proposal run one after the other.

use chrono::Datelike;
use diesel::prelude::*;
use serde_json::{Value, json};

use kyoso::domain::error::AppError;
use kyoso::storage::Db;

use crate::helpers::{Backend, TestApp, World};
use crate::on_both_backends;

on_both_backends!(
    any_date_from_outside_is_answered_never_with_a_5xx,
    a_panic_inside_a_write_leaves_later_writes_durable,
    a_request_that_panics_gets_a_500_and_keeps_nothing,
    absurd_dates_are_refused_and_nothing_answered_201_is_lost,
    parallel_final_transitions_have_one_winner,
    route_and_reply_at_once_keep_both_effects,
);

fn proposal(title: &str) -> Value {
    json!({
        "municipality_code": "141003",
        "title": title,
        "body": "公園の遊具点検をドローンと画像解析で効率化したい。実証は無償で行います。",
        "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}
    })
}

fn municipality_count(db: &Db) -> i64 {
    use kyoso::storage::schema::municipalities::dsl::*;
    let mut conn = db.conn().unwrap();
    municipalities.count().get_result(&mut *conn).unwrap()
}

/// Opens the same database through a new pool, as a restarted process would: anything
/// left in a transaction nobody committed is not there.
fn reopened(db: &Db) -> Db {
    Db::open(db.target().clone(), 1).expect("reopen the database")
}

async fn a_panic_inside_a_write_leaves_later_writes_durable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // One connection, so the write after the panic must reuse whatever the pool kept.
    let db = Db::open(app.db.target().clone(), 1).unwrap();
    let before = municipality_count(&db);
    // The test catches an unwinding panic too, so that it measures durability whatever
    // the transaction helper does with the panic; kyoso's turns it into an error.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        db.write(|conn| -> Result<(), AppError> {
            diesel::sql_query(
                "INSERT INTO municipalities (code, name, prefecture, first_response_days, decision_days, \
                 created_at, updated_at) \
                 VALUES ('999999', '幻の市', '幻県', 10, 20, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            )
            .execute(conn)
            .map_err(AppError::from)?;
            panic!("a bug in the middle of a write transaction");
        })
    }));
    match outcome {
        Ok(Err(AppError::Internal(e))) => assert!(e.to_string().contains("panic"), "{e}"),
        Err(_) => {}
        other => panic!("expected an internal error, got {other:?}"),
    }
    // Later writes through the same pool, by the domain code the API uses.
    let world = World::seed(&db);
    assert!(world.yokohama.department_id > 0);
    let after = reopened(&db);
    assert_eq!(
        municipality_count(&after),
        before + 2,
        "the seeded municipalities survive, the panicked insert does not"
    );
    drop(after);
    // And a read after a panic in a read transaction works too.
    let read: Result<i64, AppError> = db.read(|_| panic!("a bug while reading"));
    assert!(matches!(read, Err(AppError::Internal(_))));
    assert_eq!(municipality_count(&db), before + 2);
}

/// Through the real HTTP app: a proposal whose write transaction panics (the test hook)
/// is answered 500 problem+json and leaves nothing — not its row, not its receipt
/// number, not its mail; the next proposals are numbered from where the last committed
/// one left off and survive a restart.
async fn a_request_that_panics_gets_a_500_and_keeps_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let partner = w.partner_a.1.as_str();
    let first = app
        .post("/api/v1/proposals", Some(partner), &proposal("一件目"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    kyoso::storage::connection::panic_in_next_write(app.db.target());
    let broken = app
        .post(
            "/api/v1/proposals",
            Some(partner),
            &proposal("途中で落ちる提案"),
        )
        .await;
    broken.assert_problem(500, "internal");
    assert!(
        !broken.text.contains("panic"),
        "the cause stays in the log: {}",
        broken.text
    );
    let mut later = vec![];
    for i in 0..4 {
        let r = app
            .post(
                "/api/v1/proposals",
                Some(partner),
                &proposal(&format!("後続 {i}")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        later.push(r.body["receipt_number"].as_str().unwrap().to_owned());
    }
    assert!(
        later[0].ends_with("-000002"),
        "the panicked number was given back: {later:?}"
    );
    let after = reopened(&app.db);
    let titles: Vec<String> = {
        use kyoso::storage::schema::proposals::dsl::*;
        let mut conn = after.conn().unwrap();
        proposals.select(title).order(id).load(&mut *conn).unwrap()
    };
    assert_eq!(titles, ["一件目", "後続 0", "後続 1", "後続 2", "後続 3"]);
    assert!(
        mails_about_title(&after, "途中で落ちる提案").is_empty(),
        "no mail of the panicked request"
    );
}

fn mails_about_title(db: &Db, needle: &str) -> Vec<String> {
    use kyoso::storage::schema::mail_outbox::dsl::*;
    let mut conn = db.conn().unwrap();
    mail_outbox
        .select(body_text)
        .load::<String>(&mut *conn)
        .unwrap()
        .into_iter()
        .filter(|b| b.contains(needle))
        .collect()
}

async fn absurd_dates_are_refused_and_nothing_answered_201_is_lost(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let (partner, desk) = (w.partner_a.1.as_str(), w.yokohama.desk_key.as_str());
    let extremes = [
        "-262143-01-01",
        "%2B262142-12-31",
        "0000-01-01",
        "9999-12-31",
        "1999-12-31",
        "2100-01-01",
    ];
    // A flood of them, as anonymous, partner and desk, on every date filter.
    for _ in 0..3 {
        for d in extremes {
            for key in [None, Some(partner), Some(desk)] {
                for path in [
                    format!("/api/v1/proposals?from={d}"),
                    format!("/api/v1/proposals?to={d}"),
                    format!("/api/v1/desk/stats?from={d}"),
                    format!("/api/v1/desk/stats?to={d}"),
                ] {
                    let r = app.get(&path, key).await;
                    assert!(
                        [401, 403, 422].contains(&r.status.as_u16()),
                        "{path}: {} {}",
                        r.status,
                        r.text
                    );
                }
            }
        }
    }
    let r = app
        .get("/api/v1/desk/stats?to=%2B262142-12-31", Some(desk))
        .await;
    r.assert_problem(422, "invalid");
    assert_eq!(r.field_codes(), [("to".into(), "out_of_range".into())]);
    let r = app
        .get("/api/v1/proposals?from=-262143-01-01", Some(partner))
        .await;
    r.assert_problem(422, "invalid");
    assert_eq!(r.field_codes(), [("from".into(), "out_of_range".into())]);
    // The edges of the supported span are accepted.
    let r = app
        .get(
            "/api/v1/desk/stats?from=2000-01-01&to=2099-12-31",
            Some(desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Proposals answered 201 after the flood are durable, numbered without gaps.
    let mut numbers = vec![];
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/proposals",
                Some(partner),
                &proposal(&format!("遊具点検の効率化 その{i}")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        numbers.push((
            r.body["id"].as_i64().unwrap(),
            r.body["receipt_number"].as_str().unwrap().to_owned(),
        ));
    }
    // Dates in bodies: an extension, a need's open-until date, a recorded arrival.
    let id = numbers[0].0;
    for until in ["+262142-12-31", "2100-01-01"] {
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/extend"),
                Some(desk),
                &json!({"clock": "proposer", "until": until, "reason": "協議のため"}),
            )
            .await;
        r.assert_problem(422, "invalid");
        assert_eq!(r.field_codes(), [("until".into(), "out_of_range".into())]);
    }
    let mut need =
        crate::helpers::need_body("遊具の点検", w.yokohama.department_id, "public", "open");
    need["open_until"] = json!("+262142-12-31");
    let r = app.post("/api/v1/needs", Some(desk), &need).await;
    r.assert_problem(422, "invalid");
    assert_eq!(
        r.field_codes(),
        [("open_until".into(), "out_of_range".into())]
    );
    let r = app
        .post(
            "/api/v1/desk/proposals",
            Some(desk),
            &json!({
                "channel": "phone", "submitter_name": "山田 花子", "title": "電話での提案",
                "body": "公園の清掃を手伝いたい。", "received_at": "-262143-01-01T00:00:00Z",
                "declarations": {"no_antisocial_forces": true, "consent_to_contact": true}
            }),
        )
        .await;
    assert!(
        r.status == 422 || r.status == 400,
        "{}: {}",
        r.status,
        r.text
    );

    let after = reopened(&app.db);
    for (id, number) in &numbers {
        let row = after
            .read(|c| -> kyoso::domain::error::AppResult<_> {
                Ok(kyoso::storage::proposals::find(c, *id)?)
            })
            .unwrap()
            .unwrap_or_else(|| panic!("proposal {id} ({number}) was lost"));
        assert_eq!(
            &kyoso::domain::proposals::receipt_number(row.receipt_year, row.receipt_seq),
            number
        );
    }
    let seqs: Vec<u32> = numbers
        .iter()
        .map(|(_, n)| n.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "{numbers:?}");
}

/// Property: any date chrono can represent (the type's limits included), as a query
/// parameter or in a body, is answered 2xx when the calendar knows it and 422 naming the
/// field when not — never 5xx. Values are drawn by proptest with a fixed seed.
async fn any_date_from_outside_is_answered_never_with_a_5xx(backend: Backend) {
    use chrono::NaiveDate;
    use proptest::strategy::{Strategy, ValueTree};
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let desk = w.yokohama.desk_key.as_str();
    let r = app
        .post(
            "/api/v1/proposals",
            Some(w.partner_a.1.as_str()),
            &proposal("日付の検査"),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let (min, max) = (
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
    );
    let known = (
        kyoso::domain::calendar::FIRST_DATE.num_days_from_ce(),
        kyoso::domain::calendar::LAST_DATE.num_days_from_ce(),
    );
    // Half anywhere in the type, a quarter near each end of the known span, and the
    // type's own limits.
    let days = proptest::prop_oneof![
        min..=max,
        (known.0 - 400)..(known.0 + 400),
        (known.1 - 400)..(known.1 + 400),
        proptest::strategy::Just(min),
        proptest::strategy::Just(max),
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..48 {
        let n = days.new_tree(&mut runner).unwrap().current();
        let d = NaiveDate::from_num_days_from_ce_opt(n).unwrap();
        let in_range = kyoso::domain::calendar::is_known(d);
        let text = d.to_string();
        let query = text.replace('+', "%2B");
        for (path, field) in [
            (format!("/api/v1/proposals?from={query}"), "from"),
            (
                format!("/api/v1/desk/stats?from=2000-01-01&to={query}"),
                "to",
            ),
        ] {
            let r = app.get(&path, Some(desk)).await;
            if in_range {
                assert_eq!(r.status, 200, "{path}: {}", r.text);
            } else {
                r.assert_problem(422, "invalid");
                assert_eq!(
                    r.field_codes(),
                    [(field.into(), "out_of_range".into())],
                    "{path}"
                );
            }
        }
        let r = app
            .post(
                &format!("/api/v1/proposals/{id}/extend"),
                Some(desk),
                &json!({"clock": "decision", "until": text, "reason": "検査のため"}),
            )
            .await;
        assert!(r.status.as_u16() < 500, "{text}: {}", r.text);
        if !in_range {
            assert_eq!(
                r.field_codes(),
                [("until".into(), "out_of_range".into())],
                "{text}"
            );
        }
    }
}

/// A proposal of Yokohama's, routed and in dialogue, ready for a final decision.
async fn in_dialogue(app: &TestApp, w: &World, title: &str) -> i64 {
    let (partner, desk) = (w.partner_a.1.as_str(), w.yokohama.desk_key.as_str());
    let r = app
        .post("/api/v1/proposals", Some(partner), &proposal(title))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/route"),
            Some(desk),
            &json!({"primary_department_id": w.yokohama.department_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/proposals/{id}/transition"),
            Some(desk),
            &json!({"to": "in_dialogue"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

fn events_of(db: &Db, proposal: i64) -> Vec<(String, Option<String>)> {
    use kyoso::storage::schema::proposal_events::dsl::*;
    let mut conn = db.conn().unwrap();
    proposal_events
        .filter(proposal_id.eq(proposal))
        .order(id)
        .select((kind, to_state))
        .load(&mut *conn)
        .unwrap()
}

fn mails_about(db: &Db, proposal: i64) -> Vec<String> {
    use kyoso::storage::schema::mail_outbox::dsl::*;
    let mut conn = db.conn().unwrap();
    mail_outbox
        .select(dedupe_key)
        .load::<String>(&mut *conn)
        .unwrap()
        .into_iter()
        .filter(|k| k.ends_with(&format!(":{proposal}")) || k.contains(&format!(":{proposal}:")))
        .collect()
}

async fn parallel_final_transitions_have_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let desk = w.yokohama.desk_key.clone();
    for round in 0..6 {
        let id = in_dialogue(&app, &w, &format!("同時の決定 {round}")).await;
        let path = format!("/api/v1/proposals/{id}/transition");
        let adopt = json!({"to": "adopted"});
        let decline = json!({"to": "declined", "reason_code": "no_budget", "reason": "今年度の予算がないため"});
        let (a, b) = futures_join(
            app.post(&path, Some(&desk), &adopt),
            app.post(&path, Some(&desk), &decline),
        )
        .await;
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let finals: Vec<_> = events_of(&app.db, id)
            .into_iter()
            .filter(|(_, to)| matches!(to.as_deref(), Some("adopted" | "declined")))
            .collect();
        assert_eq!(finals.len(), 1, "{finals:?}");
        let decided: Vec<_> = mails_about(&app.db, id)
            .into_iter()
            .filter(|k| k.contains("adopted") || k.contains("declined") || k.contains("decid"))
            .collect();
        assert!(decided.len() <= 1, "{decided:?}");
    }
}

async fn route_and_reply_at_once_keep_both_effects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let (partner, desk) = (w.partner_a.1.clone(), w.yokohama.desk_key.clone());
    for round in 0..6 {
        let r = app
            .post(
                "/api/v1/proposals",
                Some(&partner),
                &proposal(&format!("同時の振り分けと返信 {round}")),
            )
            .await;
        let id = r.body["id"].as_i64().unwrap();
        let (routed, replied) = futures_join(
            app.post(
                &format!("/api/v1/proposals/{id}/route"),
                Some(&desk),
                &json!({"primary_department_id": w.yokohama.department_id}),
            ),
            app.post(
                &format!("/api/v1/proposals/{id}/replies"),
                Some(&desk),
                &json!({"body": "ご提案ありがとうございます。担当課へおつなぎします。"}),
            ),
        )
        .await;
        assert_eq!(routed.status, 200, "{}", routed.text);
        assert_eq!(replied.status, 200, "{}", replied.text);
        let now = app
            .get(&format!("/api/v1/proposals/{id}"), Some(&desk))
            .await;
        assert_eq!(now.body["state"], "routed", "{}", now.text);
        assert_eq!(
            now.body["departments"][0]["id"], w.yokohama.department_id,
            "{}",
            now.text
        );
        assert_eq!(now.body["departments"][0]["primary"], true, "{}", now.text);
        assert!(now.body["first_response_at"].is_string(), "{}", now.text);
    }
}

/// Runs two requests at once on this test's runtime.
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let (a, b) = (std::pin::pin!(a), std::pin::pin!(b));
    let mut a = Some(a);
    let mut b = Some(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if let Some(f) = a.as_mut()
            && let std::task::Poll::Ready(v) = f.as_mut().poll(cx)
        {
            ra = Some(v);
            a = None;
        }
        if let Some(f) = b.as_mut()
            && let std::task::Poll::Ready(v) = f.as_mut().poll(cx)
        {
            rb = Some(v);
            b = None;
        }
        if a.is_none() && b.is_none() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (
        ra.expect("polled to completion"),
        rb.expect("polled to completion"),
    )
}

/// SQLite: cron commands beside `serve` never fail with a busy error. Each command runs
/// as its own process on the same file while the service takes writes; writers begin
/// with `BEGIN IMMEDIATE`, so none has to upgrade a read lock another process made
/// stale (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
#[actix_web::test]
async fn sqlite_cron_commands_beside_the_service_never_fail_busy() {
    // Submits as fast as it can for as long as cron runs: past the per-partner limit.
    let app = TestApp::spawn_for_load(Backend::Sqlite).await;
    let w = World::seed(&app.db);
    let kyoso::storage::connection::DatabaseTarget::Sqlite(path) = app.db.target().clone() else {
        unreachable!("a SQLite test app");
    };
    let data_dir = path.parent().unwrap().to_path_buf();
    let cron = std::thread::spawn(move || {
        let mut failures = vec![];
        for i in 0..12 {
            let email = format!("cron{i}@city.yokohama.example.jp");
            let args: Vec<&str> = if i % 2 == 0 {
                vec![
                    "staff",
                    "add",
                    "--email",
                    &email,
                    "--name",
                    "夜間 担当",
                    "--role",
                    "desk",
                    "--municipality",
                    "141003",
                ]
            } else {
                vec!["digest", "run"]
            };
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyoso"))
                .args(&args)
                .env("DATABASE_URL", format!("sqlite://{}", path.display()))
                .env("KYOSO_DATA_DIR", &data_dir)
                .env_remove("KYOSO_SMTP_URL")
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{args:?}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        failures
    });
    let partner = w.partner_a.1.clone();
    let mut n = 0;
    while !cron.is_finished() {
        let r = app
            .post(
                "/api/v1/proposals",
                Some(&partner),
                &proposal(&format!("夜間の提案 {n}")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        n += 1;
    }
    let failures = cron.join().unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(n > 0);
}

/// SQLite, made deterministic: two processes' connections (two pools) on one file. One
/// writer reads, the other commits a write meanwhile, then the first writes. A deferred
/// transaction would fail there with SQLITE_BUSY_SNAPSHOT; begun as a write, the first
/// holds the lock from its start and the second waits for it instead.
#[actix_web::test]
async fn sqlite_writer_that_read_first_is_not_overtaken() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    World::seed(&app.db);
    let (a, b) = (reopened(&app.db), reopened(&app.db));
    let (read_done, wait_read) = std::sync::mpsc::channel();
    let first = std::thread::spawn(move || {
        a.write(|conn| -> kyoso::domain::error::AppResult<_> {
            let seeded: i64 = {
                use kyoso::storage::schema::municipalities::dsl::*;
                municipalities.count().get_result(conn)?
            };
            assert!(seeded > 0);
            read_done.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(400));
            diesel::sql_query("UPDATE municipalities SET name = name || ''").execute(conn)?;
            Ok(())
        })
    });
    wait_read.recv().unwrap();
    let second = b.write(|conn| -> kyoso::domain::error::AppResult<_> {
        diesel::sql_query("UPDATE municipalities SET updated_at = CURRENT_TIMESTAMP")
            .execute(conn)?;
        Ok(())
    });
    let first = first.join().unwrap();
    assert!(first.is_ok(), "the first writer failed: {first:?}");
    assert!(second.is_ok(), "the second writer failed: {second:?}");
}
