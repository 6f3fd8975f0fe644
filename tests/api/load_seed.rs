//! `kyoso load-seed` at a tiny scale on both backends: it writes exactly the volume asked
//! for through the domain code (gapless receipt numbers per municipality, a received
//! event on every proposal and a routed event on every routed one), the index finds the
//! seeded text, the files the load run reads hold working keys and ids, and it refuses
//! a database that already holds data.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::helpers::{Backend, ScratchDir, TestApp};
use crate::on_both_backends;
use kyoso::commands::load_seed::{self, Options, Volume};

on_both_backends!(load_seed_writes_what_the_domain_writes_and_the_run_files_work);

trait Ok200 {
    fn ok(&self);
}

impl Ok200 for crate::helpers::Reply {
    fn ok(&self) {
        assert_eq!(self.status.as_u16(), 200, "{}", self.text);
    }
}

async fn load_seed_writes_what_the_domain_writes_and_the_run_files_work(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    // The rebuild is the index path under test, not the follower.
    drop(app.follower.take());
    let out = ScratchDir::new();
    let options = Options {
        volume: Volume {
            municipalities: 3,
            documents: 90,
            partners: 12,
            proposals: 160,
        },
        seed: 7,
        // Parallel writers on PostgreSQL (SQLite uses one whatever is asked).
        jobs: 3,
        out: out.0.clone(),
    };
    let report = load_seed::run_with(&app.db, &app.search, &options).unwrap();
    let table = report.table();
    assert!(
        table.contains("proposals") && table.contains("search index"),
        "{table}"
    );

    let mut conn = app.db.conn().unwrap();
    let conn = &mut *conn;
    {
        use kyoso::storage::schema::{municipalities, needs, offers, partners};
        let n: i64 = municipalities::table.count().get_result(conn).unwrap();
        assert_eq!(n, 3);
        let p: i64 = partners::table.count().get_result(conn).unwrap();
        assert_eq!(p, 12);
        let needs_n: i64 = needs::table.count().get_result(conn).unwrap();
        let offers_n: i64 = offers::table.count().get_result(conn).unwrap();
        assert_eq!(needs_n + offers_n, 90);
        assert!(
            needs_n > 20 && offers_n > 20,
            "{needs_n} needs, {offers_n} offers"
        );
    }

    // Receipt numbers 1..n per municipality and fiscal year, whatever the writers' order.
    use kyoso::storage::schema::{proposal_events as e, proposals as p};
    let rows: Vec<(i64, i64, i32, i32, String)> = p::table
        .select((
            p::id,
            p::municipality_id,
            p::receipt_year,
            p::receipt_seq,
            p::state,
        ))
        .load(conn)
        .unwrap();
    assert_eq!(rows.len(), 160);
    let mut seqs: HashMap<(i64, i32), Vec<i32>> = HashMap::new();
    for (_, m, y, s, _) in &rows {
        seqs.entry((*m, *y)).or_default().push(*s);
    }
    assert!(seqs.len() >= 2, "proposals in several municipalities");
    for (key, mut s) in seqs {
        s.sort_unstable();
        let expected: Vec<i32> = (1..=s.len() as i32).collect();
        assert_eq!(s, expected, "receipt numbers of {key:?} not gapless");
    }

    // Events: one `received` per proposal; `routed` exactly on the routed ones.
    let events: Vec<(i64, String)> = e::table
        .select((e::proposal_id, e::kind))
        .load(conn)
        .unwrap();
    let mut kinds: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, k) in events {
        kinds.entry(id).or_default().push(k);
    }
    let mut routed = 0;
    for (id, _, _, _, state) in &rows {
        let k = kinds.get(id).cloned().unwrap_or_default();
        assert_eq!(
            k.iter().filter(|k| *k == "received").count(),
            1,
            "proposal {id}: {k:?}"
        );
        if state == "routed" {
            routed += 1;
            assert!(k.iter().any(|k| k == "routed"), "proposal {id}: {k:?}");
        } else {
            assert_eq!(state, "received");
            assert!(!k.iter().any(|k| k == "routed"), "proposal {id}: {k:?}");
        }
    }
    assert!(routed > 20 && routed < 140, "{routed} of 160 routed");

    // The run's files: keys that work, ids that resolve, queries, the peer's documents.
    let env: HashMap<String, String> = std::fs::read_to_string(out.0.join("load.env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let need: i64 = std::fs::read_to_string(out.0.join("need_ids.txt"))
        .unwrap()
        .lines()
        .next()
        .expect("an open public need")
        .parse()
        .unwrap();
    let offer: i64 = std::fs::read_to_string(out.0.join("offer_ids.txt"))
        .unwrap()
        .lines()
        .next()
        .expect("an offer")
        .parse()
        .unwrap();
    let partner = env.get("PARTNER_KEY").map(String::as_str);
    let desk = env.get("DESK_KEY").map(String::as_str);
    app.get(&format!("/api/v1/needs/{need}"), partner)
        .await
        .ok();
    app.get(&format!("/api/v1/offers/{offer}"), partner)
        .await
        .ok();
    let matches = app
        .get(&format!("/api/v1/needs/{need}/matches"), partner)
        .await;
    matches.ok();
    let inbox = app.get("/api/v1/proposals?limit=50", desk).await;
    inbox.ok();
    assert!(
        !inbox.body["items"].as_array().unwrap().is_empty(),
        "{}",
        inbox.text
    );
    app.get("/api/v1/desk/deadlines", desk).await.ok();
    let queries = std::fs::read_to_string(out.0.join("queries.txt")).unwrap();
    assert!(queries.lines().count() >= 100);

    // The search index holds the seeded text: an offer's exact title finds it.
    let docs = std::fs::read_to_string(out.0.join("docs.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(docs.lines().next().unwrap()).unwrap();
    let title = first["title"].as_str().unwrap();
    let q = kyoso::console::layout::url_encode(&format!("\"{title}\""));
    let found = app.get(&format!("/api/v1/search?q={q}"), partner).await;
    found.ok();
    assert!(found.body["total"].as_u64().unwrap() >= 1, "{}", found.text);
    assert!(found.text.contains(title), "{title} not in {}", found.text);
    let common = app
        .get("/api/v1/search?q=%E8%87%AA%E6%B2%BB%E4%BD%93", None)
        .await;
    assert!(
        common.body["total"].as_u64().unwrap() >= 10,
        "{}",
        common.text
    );

    // A second run would mix with real data: refused.
    let again = load_seed::run_with(&app.db, &app.search, &options)
        .err()
        .expect("refused");
    assert!(format!("{again:#}").contains("empty database"), "{again:#}");
}
