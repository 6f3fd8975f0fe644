//! Housekeeping on both backends: the index change log is pruned after a week and an
//! index that had not applied the pruned changes is rebuilt rather than left short;
//! delivered mails are deleted after the retention period, pending and failed ones stay.

use chrono::TimeDelta;
use diesel::prelude::*;

use crate::helpers::{Backend, ScratchDir, World, analyzers, count_hits, fresh_database};
use crate::on_both_backends;
use kyoso::domain::actor::Actor;
use kyoso::domain::housekeeping;
use kyoso::domain::ids::PartnerId;
use kyoso::domain::offers::{self, NewOfferInput};
use kyoso::domain::search::{SearchEngine, follow};
use kyoso::domain::vocab::Locale;
use kyoso::mail::outbox::{self, Delivery, Outgoing, RecipientRef};
use kyoso::mail::templates::Rendered;
use kyoso::storage::{Db, now};

on_both_backends!(
    a_log_pruned_past_the_index_rebuilds_it,
    delivered_mail_is_deleted_after_the_retention
);

fn age_log(db: &Db, days: i64) {
    use kyoso::storage::schema::index_changes::dsl as ic;
    let mut conn = db.conn().unwrap();
    diesel::update(ic::index_changes)
        .set(ic::created_at.eq(now() - TimeDelta::days(days)))
        .execute(&mut *conn)
        .unwrap();
}

async fn a_log_pruned_past_the_index_rebuilds_it(backend: Backend) {
    let scratch = ScratchDir::new();
    let db = Db::open(fresh_database(backend, &scratch), 2).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let actor = Actor::Partner(PartnerId(w.partner_a.0));
    let offer = |title: &str| {
        offers::create(
            &db,
            &actor,
            NewOfferInput {
                kind: "technology".into(),
                title: title.into(),
                body: "地域の防災訓練を支援します。".into(),
                policy_fields: vec!["safety".into()],
                regions: None,
            },
        )
        .unwrap();
    };
    offer("防災アプリの提供");
    let engine = SearchEngine::open_with(&scratch.0.join("index"), analyzers()).unwrap();
    follow::rebuild(&db, &engine, |_, _| {}).unwrap();
    assert_eq!(count_hits(&engine, "防災"), 1);

    // A week passes; a young log is kept.
    assert_eq!(
        housekeeping::run(&db, 90, now()).unwrap(),
        housekeeping::Pruned::default()
    );
    // This node is down while two offers are written, and stays down for more than
    // the log's retention, so their log rows are pruned before it could apply them.
    offer("防災無線の保守");
    offer("防災士の派遣");
    age_log(&db, housekeeping::INDEX_LOG_RETENTION_DAYS + 1);
    let pruned = housekeeping::run(&db, 90, now()).unwrap();
    assert!(pruned.index_changes_through > engine.checkpoint().unwrap());
    assert_eq!(
        housekeeping::pruned_through(&db).unwrap(),
        pruned.index_changes_through
    );
    let left: i64 = {
        use kyoso::storage::schema::index_changes::dsl as ic;
        let mut conn = db.conn().unwrap();
        ic::index_changes.count().get_result(&mut *conn).unwrap()
    };
    assert_eq!(left, 0);

    // Catching up from the log alone would miss them: the index is rebuilt instead.
    follow::catch_up(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "防災"), 3);
    assert!(engine.checkpoint().unwrap() >= pruned.index_changes_through);
    // From then on the log is followed as usual.
    offer("防災倉庫の点検");
    assert_eq!(follow::catch_up(&db, &engine).unwrap(), 1);
    assert_eq!(count_hits(&engine, "防災"), 4);
    // Pruning again never moves the recorded point backwards.
    age_log(&db, 30);
    let again = housekeeping::run(&db, 90, now()).unwrap();
    assert!(again.index_changes_through > pruned.index_changes_through);
    assert_eq!(
        housekeeping::run(&db, 90, now())
            .unwrap()
            .index_changes_through,
        0
    );
    assert_eq!(
        housekeeping::pruned_through(&db).unwrap(),
        again.index_changes_through
    );
    follow::catch_up(&db, &engine).unwrap();
    assert_eq!(count_hits(&engine, "防災"), 4);
}

async fn delivered_mail_is_deleted_after_the_retention(backend: Backend) {
    let scratch = ScratchDir::new();
    let db = Db::open(fresh_database(backend, &scratch), 2).unwrap();
    db.migrate().unwrap();
    // (status, age in days) of each mail.
    let mails = [
        ("sent", 120),
        ("digested", 120),
        ("failed", 120),
        ("pending", 120),
        ("sent", 10),
    ];
    db.write(|conn| -> kyoso::domain::error::AppResult<_> {
        for (i, (status, days)) in mails.iter().enumerate() {
            outbox::enqueue(
                conn,
                &Outgoing {
                    dedupe_key: format!("test:{i}"),
                    kind: kyoso::mail::templates::Template::ProposalReceived,
                    recipient: RecipientRef::Guest,
                    recipient_email: "teian@example.com",
                    recipient_name: Some("提案 太郎"),
                    locale: Locale::Ja,
                    delivery: Delivery::Immediate,
                    message: Rendered {
                        subject: "受付のお知らせ".into(),
                        body_text: "提案を受け付けました。".into(),
                        body_html: None,
                    },
                },
            )?;
            use kyoso::storage::schema::mail_outbox::dsl as m;
            diesel::update(m::mail_outbox.filter(m::dedupe_key.eq(format!("test:{i}"))))
                .set((
                    m::status.eq(*status),
                    m::created_at.eq(now() - TimeDelta::days(*days)),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
    .unwrap();
    let pruned = housekeeping::run(&db, 90, now()).unwrap();
    assert_eq!(pruned.mails, 2);
    let left: Vec<String> = {
        use kyoso::storage::schema::mail_outbox::dsl as m;
        let mut conn = db.conn().unwrap();
        m::mail_outbox
            .order(m::id)
            .select(m::dedupe_key)
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(left, ["test:2", "test:3", "test:4"]);
    // A shorter retention takes the recent one too.
    assert_eq!(housekeeping::run(&db, 5, now()).unwrap().mails, 1);
}
