//! The index never misses a committed change: a transaction that commits late and out
//! of order on PostgreSQL is applied when it commits, however long it was open and
//! however many changes committed after it; a rolled-back change holds nothing up. The
//! follower is driven step by step, so no test depends on how long anything takes.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::helpers::{Backend, ScratchDir, World, analyzers, count_hits, fresh_database};
use crate::on_both_backends;
use kyoso::domain::actor::Actor;
use kyoso::domain::ids::PartnerId;
use kyoso::domain::offers::{self, NewOfferInput};
use kyoso::domain::search::{SearchEngine, follow};
use kyoso::storage::connection::DatabaseTarget;
use kyoso::storage::index_log::{self, DocType};
use kyoso::storage::{AnyConnection, Db};

on_both_backends!(a_rolled_back_change_does_not_hold_the_follower);

fn offer(db: &Db, actor: &Actor, title: &str) -> i64 {
    offers::create(
        db,
        actor,
        NewOfferInput {
            kind: "technology".into(),
            title: title.into(),
            body: "地域の取り組みを支援します。".into(),
            policy_fields: vec!["safety".into()],
            regions: None,
        },
    )
    .unwrap()
    .id
    .0
}

fn newest_change(db: &Db) -> i64 {
    db.read(|c| -> kyoso::domain::error::AppResult<_> { Ok(index_log::max_id(c)?) })
        .unwrap()
}

/// Every log row looks a day old: a follower that skipped gaps by age would skip now.
fn age_log(db: &Db) {
    use kyoso::storage::schema::index_changes::dsl as ic;
    let mut conn = db.conn().unwrap();
    diesel::update(ic::index_changes)
        .set(ic::created_at.eq(kyoso::storage::now() - chrono::TimeDelta::days(1)))
        .execute(&mut *conn)
        .unwrap();
}

/// A second connection to the test database, outside the service's pool: the late
/// writer.
fn raw_connection(target: &DatabaseTarget) -> AnyConnection {
    match target {
        DatabaseTarget::Postgres(url) => {
            AnyConnection::Postgresql(diesel::PgConnection::establish(url).unwrap())
        }
        DatabaseTarget::Sqlite(path) => AnyConnection::Sqlite(
            diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap(),
        ),
    }
}

#[test]
fn a_change_committed_late_and_out_of_order_is_indexed_without_a_rebuild() {
    let scratch = ScratchDir::new();
    let target = fresh_database(Backend::Postgres, &scratch);
    let db = Db::open(target.clone(), 4).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let actor = Actor::Partner(PartnerId(w.partner_a.0));
    let early = offer(&db, &actor, "防災アプリの提供");
    let engine = SearchEngine::open_with(&scratch.0.join("index"), analyzers()).unwrap();
    let mut follower = follow::Follower::default();
    follower.catch_up(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "防災"), 1);

    // A writer changes the offer's searchable text, draws its change id through the
    // domain's own storage function, and does not commit.
    let mut late = raw_connection(&target);
    late.batch_execute("BEGIN").unwrap();
    diesel::sql_query("UPDATE offers SET title = '津波避難訓練の支援' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(early)
        .execute(&mut late)
        .unwrap();
    index_log::record(&mut late, DocType::Offer, early).unwrap();
    let late_id = newest_change(&db) + 1;

    // Changes after it commit and are applied at once; the checkpoint waits before it.
    offer(&db, &actor, "防災無線の保守");
    age_log(&db);
    for _ in 0..20 {
        follower.step(&db, &engine).unwrap();
    }
    assert_eq!(count_hits(&engine, "防災"), 2);
    assert_eq!(count_hits(&engine, "津波"), 0);
    assert_eq!(engine.checkpoint().unwrap(), late_id - 1);

    // More than a batch of changes after the open gap does not stall the follower.
    let many = follow::BATCH as usize + 20;
    let busy = offer(&db, &actor, "防災士の派遣");
    db.write(|c| -> kyoso::domain::error::AppResult<_> {
        for _ in 0..many {
            index_log::record(c, DocType::Offer, busy)?;
        }
        Ok(())
    })
    .unwrap();
    offer(&db, &actor, "避難所の運営支援");
    age_log(&db);
    for _ in 0..10 {
        follower.step(&db, &engine).unwrap();
    }
    assert_eq!(
        count_hits(&engine, "避難所"),
        1,
        "changes beyond a batch are applied"
    );
    assert_eq!(engine.checkpoint().unwrap(), late_id - 1);

    // A fresh follower (a restart) re-reads from the checkpoint and still waits.
    let mut restarted = follow::Follower::default();
    restarted.catch_up(&db, &engine).unwrap();
    assert_eq!(engine.checkpoint().unwrap(), late_id - 1);

    // The late writer commits: its change is applied, no rebuild needed, and the
    // checkpoint moves over everything.
    late.batch_execute("COMMIT").unwrap();
    assert_eq!(count_hits(&engine, "津波"), 0);
    follower.step(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "津波"), 1);
    assert_eq!(engine.checkpoint().unwrap(), newest_change(&db));
    // The restarted follower sees the same, from its own state.
    restarted.catch_up(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "津波"), 1);
}

async fn a_rolled_back_change_does_not_hold_the_follower(backend: Backend) {
    let scratch = ScratchDir::new();
    let target = fresh_database(backend, &scratch);
    let db = Db::open(target.clone(), 4).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let actor = Actor::Partner(PartnerId(w.partner_a.0));
    let first = offer(&db, &actor, "防災アプリの提供");
    let engine = SearchEngine::open_with(&scratch.0.join("index"), analyzers()).unwrap();
    let mut follower = follow::Follower::default();
    follower.catch_up(&db, &engine).unwrap();

    // A writer draws a change id and, on PostgreSQL, stays open while another change
    // commits after it (on SQLite writers take turns, so it rolls back first).
    let mut doomed = raw_connection(&target);
    let postgres = backend == Backend::Postgres;
    doomed
        .batch_execute(if postgres { "BEGIN" } else { "BEGIN IMMEDIATE" })
        .unwrap();
    index_log::record(&mut doomed, DocType::Offer, first).unwrap();
    if postgres {
        offer(&db, &actor, "防災無線の保守");
        follower.step(&db, &engine).unwrap();
        assert_eq!(count_hits(&engine, "防災"), 2);
        assert!(engine.checkpoint().unwrap() < newest_change(&db));
        doomed.batch_execute("ROLLBACK").unwrap();
    } else {
        doomed.batch_execute("ROLLBACK").unwrap();
        offer(&db, &actor, "防災無線の保守");
    }
    // Its gap is passed as soon as the follower can know it will never fill: when every
    // transaction that was open when the gap was seen has ended. Transaction ids are
    // shared by the whole PostgreSQL server, so other tests' transactions (in their
    // own databases) can delay that a little; nothing else does.
    let settled = |follower: &mut follow::Follower| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            follower.step(&db, &engine).unwrap();
            if engine.checkpoint().unwrap() == newest_change(&db) {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "the checkpoint stays before a rolled-back change"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    settled(&mut follower);
    assert_eq!(count_hits(&engine, "防災"), 2);
    // Later changes are applied at once, gap or not.
    offer(&db, &actor, "防災士の派遣");
    follower.step(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "防災"), 3);
    settled(&mut follower);
}

/// The ids of a transaction and of its change come in different orders: a writer that
/// got its transaction id first may draw its change id last. A snapshot's `xmax` is one
/// past the newest *completed* transaction, so the open writer of a missing change may
/// be at or above it and appear nowhere in the snapshot, while nothing below looks in
/// progress. The follower must not take that missing change for a rollback, nor may a
/// rebuild read the tables before that writer ended.
#[test]
fn a_change_whose_writer_got_its_transaction_id_later_is_not_passed() {
    let scratch = ScratchDir::new();
    let target = fresh_database(Backend::Postgres, &scratch);
    let db = Db::open(target.clone(), 4).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let actor = Actor::Partner(PartnerId(w.partner_a.0));
    let early = offer(&db, &actor, "防災アプリの提供");
    let other = offer(&db, &actor, "防災無線の保守");
    let engine = SearchEngine::open_with(&scratch.0.join("index"), analyzers()).unwrap();
    let mut follower = follow::Follower::default();
    follower.catch_up(&db, &engine).unwrap();

    let set_title = |conn: &mut AnyConnection, id: i64, title: &str| {
        diesel::sql_query("UPDATE offers SET title = $1 WHERE id = $2")
            .bind::<diesel::sql_types::Text, _>(title)
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(conn)
            .unwrap();
        index_log::record(conn, DocType::Offer, id).unwrap();
    };
    // `first` gets its transaction id, then `late` gets a later one and draws its change
    // id; `first` draws the next change id and commits. `late` stays open (as intake
    // does while it writes its notices).
    let mut first = raw_connection(&target);
    first
        .batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .unwrap();
    let mut late = raw_connection(&target);
    late.batch_execute("BEGIN").unwrap();
    set_title(&mut late, early, "津波避難訓練の支援");
    let late_id = newest_change(&db) + 1;
    set_title(&mut first, other, "避難所の運営支援");
    first.batch_execute("COMMIT").unwrap();

    for _ in 0..5 {
        follower.step(&db, &engine).unwrap();
    }
    assert_eq!(
        count_hits(&engine, "避難所"),
        1,
        "the later change is applied"
    );
    assert_eq!(
        engine.checkpoint().unwrap(),
        late_id - 1,
        "the checkpoint waits before the open change"
    );
    late.batch_execute("COMMIT").unwrap();
    follower.step(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "津波"), 1, "the late change is applied");
    assert_eq!(engine.checkpoint().unwrap(), newest_change(&db));

    // The same order of events during a rebuild: it must not read the tables (and set
    // its checkpoint past the open change) before the late writer ended.
    let mut first = raw_connection(&target);
    first
        .batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .unwrap();
    let mut late = raw_connection(&target);
    late.batch_execute("BEGIN").unwrap();
    set_title(&mut late, early, "土砂災害の監視");
    set_title(&mut first, other, "防災倉庫の点検");
    first.batch_execute("COMMIT").unwrap();
    // A snapshot taken now does not list the late writer: its xid is at or above the
    // snapshot's xmax (when run alone; another test's transaction ending with a later
    // xid would list it, hence only printed). The horizon is above it.
    #[derive(QueryableByName)]
    struct Xid {
        #[diesel(sql_type = diesel::sql_types::Text)]
        xid: String,
    }
    let xid = |conn: &mut AnyConnection, sql: &str| -> u64 {
        diesel::sql_query(sql)
            .get_result::<Xid>(conn)
            .unwrap()
            .xid
            .parse()
            .unwrap()
    };
    let late_xid = xid(&mut late, "SELECT pg_current_xact_id()::text AS xid");
    let mut reader = raw_connection(&target);
    let xmax = xid(
        &mut reader,
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid",
    );
    let (_, horizon) = index_log::max_id_with_horizon(&db).unwrap();
    let horizon = horizon.unwrap();
    println!("late writer xid {late_xid}, snapshot xmax {xmax}, horizon {horizon}");
    assert!(horizon > late_xid);
    std::thread::scope(|s| {
        let rebuilding = s.spawn(|| follow::rebuild(&db, &engine, |_, _| {}).unwrap());
        // A rebuild that does not wait for the late writer reads the tables without
        // its change and finishes; one that waits cannot finish before it commits.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !rebuilding.is_finished() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            !rebuilding.is_finished(),
            "the rebuild finished while a change below its checkpoint was open"
        );
        late.batch_execute("COMMIT").unwrap();
        rebuilding.join().unwrap();
    });
    assert_eq!(
        count_hits(&engine, "土砂"),
        1,
        "the rebuild has the late change"
    );
    assert_eq!(count_hits(&engine, "倉庫"), 1);
}

on_both_backends!(the_index_signal_moves_once_per_committed_write_with_changes);

/// The follower wakes on the process's index signal: it moves once when a write
/// transaction that recorded changes commits — however many it recorded — and not when
/// such a transaction rolls back, nor for a write without changes. A waiting thread is
/// woken by the move, not by its timeout.
async fn the_index_signal_moves_once_per_committed_write_with_changes(backend: Backend) {
    use kyoso::domain::error::{AppError, AppResult};
    use std::time::{Duration, Instant};
    let scratch = ScratchDir::new();
    let db = Db::open(fresh_database(backend, &scratch), 2).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let actor = Actor::Partner(PartnerId(w.partner_a.0));
    let signal = db.index_signal().clone();

    let before = signal.local();
    let id = offer(&db, &actor, "防災アプリの提供");
    assert_eq!(signal.local(), before + 1);

    let failed: AppResult<()> = db.write(|c| {
        index_log::record(c, DocType::Offer, id)?;
        index_log::record(c, DocType::Offer, id)?;
        Err(AppError::internal(anyhow::anyhow!(
            "rolled back on purpose"
        )))
    });
    assert!(failed.is_err());
    assert_eq!(signal.local(), before + 1, "a rolled-back write moved it");

    db.write(|c| -> AppResult<_> {
        kyoso::storage::job_state::set(c, "signal-test", "1")?;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        signal.local(),
        before + 1,
        "a write without changes moved it"
    );

    db.write(|c| -> AppResult<_> {
        for _ in 0..3 {
            index_log::record(c, DocType::Offer, id)?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(signal.local(), before + 2, "one move per transaction");

    let seen = signal.any();
    let waiter = {
        let signal = signal.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            let now = signal.wait_any(seen, Duration::from_secs(30));
            (now, t.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    offer(&db, &actor, "防災無線の保守");
    let (now, waited) = waiter.join().unwrap();
    assert_ne!(now, seen);
    assert!(
        waited < Duration::from_secs(10),
        "woken by the timeout: {waited:?}"
    );
}

/// Two processes' lines on one PostgreSQL database: what one announces the other hears
/// (once, however often it looks), and a line does not hear its own announcement; a
/// line to another database hears nothing.
#[test]
fn peers_on_one_database_hear_each_other_and_not_themselves() {
    use kyoso::storage::index_signal::Peers;
    use std::time::{Duration, Instant};
    let scratch = ScratchDir::new();
    let other_scratch = ScratchDir::new();
    let DatabaseTarget::Postgres(url) = fresh_database(Backend::Postgres, &scratch) else {
        unreachable!()
    };
    let DatabaseTarget::Postgres(other_url) = fresh_database(Backend::Postgres, &other_scratch)
    else {
        unreachable!()
    };
    let mut a = Peers::connect(&url).unwrap();
    let mut b = Peers::connect(&url).unwrap();
    let mut elsewhere = Peers::connect(&other_url).unwrap();
    let heard_within = |p: &mut Peers, within: Duration| {
        let until = Instant::now() + within;
        loop {
            if p.heard().unwrap() {
                return true;
            }
            if Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    a.announce().unwrap();
    assert!(
        heard_within(&mut b, Duration::from_secs(10)),
        "b did not hear a"
    );
    assert!(!b.heard().unwrap(), "heard twice");
    assert!(!a.heard().unwrap(), "a heard itself");
    b.announce().unwrap();
    assert!(
        heard_within(&mut a, Duration::from_secs(10)),
        "a did not hear b"
    );
    assert!(
        !heard_within(&mut elsewhere, Duration::from_millis(300)),
        "another database's line heard it"
    );
}
