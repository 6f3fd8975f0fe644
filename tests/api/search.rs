//! Search and matching through the API on both databases, and the index's life: built
//! from the change log, rebuilt when missing or corrupt, caught up after a crash.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::helpers::{
    Backend, Reply, ScratchDir, TestApp, World, analyzers, count_hits, fresh_database, need_body,
    partner,
};
use crate::on_both_backends;
use kyoso::domain::search::{SearchEngine, follow};
use kyoso::storage::Db;

on_both_backends!(
    japanese_search_with_visibility_facets_and_pages,
    a_created_offer_is_searchable_within_a_second,
    matching_both_ways_with_filters_explanations_and_feedback,
    the_index_is_rebuilt_and_catches_up_after_a_crash,
    a_pasted_sentence_is_ranked_any_term_within_the_rules,
    a_page_of_hits_reads_as_single_reads_do_also_from_a_stale_index,
    a_page_of_hits_costs_the_same_queries_however_many_hits,
);

/// Percent-encodes a query parameter (UTF-8 bytes; unreserved ASCII kept).
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A problem statement pasted into the search box: as keywords (every word required) it
/// would find nothing; as a sentence it finds the records that share its words, best
/// first, never fewer than its own words as keywords find, under the same visibility
/// rules and filters, with an exact total and pages that add up.
async fn a_pasted_sentence_is_ranked_any_term_within_the_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let k = &w.kobe;
    let bridge = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need(
                "ドローンで橋梁点検を効率化したい",
                "老朽化した橋梁の点検に人手がかかる。ドローンの活用を検討したい。",
                y.department_id,
                "public",
            ),
        )
        .await;
    let internal = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need(
                "橋梁点検の人手不足（庁内検討）",
                "橋梁の老朽化と点検の人手不足について庁内で検討する。",
                y.department_id,
                "internal",
            ),
        )
        .await;
    let park = app
        .post(
            "/api/v1/needs",
            Some(&k.dept_key),
            &need(
                "公園清掃ボランティアの募集",
                "週末に公園を清掃する市民ボランティアを募りたい。",
                k.department_id,
                "public",
            ),
        )
        .await;
    let drone = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &offer(
                "ドローン点検サービス",
                "ドローンで橋やトンネルを点検し、記録を納品します。",
                &["infrastructure_mobility"],
                &["nationwide"],
            ),
        )
        .await;
    for r in [&bridge, &internal, &park, &drone] {
        assert_eq!(r.status, 201, "{}", r.text);
    }
    wait_indexed(&app).await;
    let bridge_id = format!("need:{}", bridge.body["id"]);
    let internal_id = format!("need:{}", internal.body["id"]);
    let park_id = format!("need:{}", park.body["id"]);
    let drone_id = format!("offer:{}", drone.body["id"]);

    let sentence =
        "市内の橋梁が老朽化しているが点検の人手が足りないので、ドローンで点検を効率化したい";
    let url = |extra: &str| format!("/api/v1/search?q={}{extra}", enc(sentence));
    // As a phrase (quoted, so every word is required in order) nothing says this.
    let phrase = app
        .get(
            &format!("/api/v1/search?q={}", enc(&format!("\"{sentence}\""))),
            None,
        )
        .await;
    assert_eq!(phrase.status, 200, "{}", phrase.text);
    assert_eq!(phrase.body["total"], 0, "{}", phrase.text);

    let anon = app.get(&url(""), None).await;
    assert_eq!(anon.status, 200, "{}", anon.text);
    let found = ids(&anon);
    assert_eq!(found.first(), Some(&bridge_id), "{found:?}");
    assert!(found.contains(&drone_id), "{found:?}");
    assert!(
        !found.contains(&internal_id),
        "internal need shown to an outsider: {found:?}"
    );
    // The park need shares at most a kana ending (したい / 募りたい): last if there.
    if let Some(p) = found.iter().position(|id| *id == park_id) {
        assert_eq!(p, found.len() - 1, "{found:?}");
    }
    assert_eq!(anon.body["total"], found.len(), "{}", anon.text);
    let scores: Vec<f64> = anon.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]), "{scores:?}");
    // Facets count the same set.
    let types: u64 = anon.body["facets"]["doc_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(types as usize, found.len(), "{}", anon.text);

    // Recall holds: whatever a few of its words find as keywords, the sentence finds.
    for words in ["ドローン", "橋梁 点検", "老朽化"] {
        let kw = app
            .get(&format!("/api/v1/search?q={}", enc(words)), None)
            .await;
        for id in ids(&kw) {
            assert!(found.contains(&id), "{words}: {id} missing from {found:?}");
        }
    }

    // Staff of the municipality see their internal need; another municipality's do not.
    let own = ids(&app.get(&url(""), Some(&y.desk_key)).await);
    assert!(own.contains(&internal_id), "{own:?}");
    let other = ids(&app.get(&url(""), Some(&k.desk_key)).await);
    assert!(!other.contains(&internal_id), "{other:?}");

    // Filters hold.
    let offers = app.get(&url("&type=offer"), None).await;
    assert_eq!(ids(&offers), [drone_id], "{}", offers.text);
    let kobe = app.get(&url("&type=need&municipality=281000"), None).await;
    assert!(
        ids(&kobe).iter().all(|id| *id != bridge_id),
        "{}",
        kobe.text
    );

    // Pages of one add up to the same ranking.
    let mut paged = Vec::new();
    let mut next = url("&limit=1");
    loop {
        let page = app.get(&next, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.body["total"], found.len());
        paged.extend(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => next = url(&format!("&limit=1&cursor={}", enc(c))),
            None => break,
        }
        assert!(paged.len() <= found.len(), "pages repeat: {paged:?}");
    }
    assert_eq!(paged, found);
}

fn need(title: &str, body: &str, dept: i64, visibility: &str) -> Value {
    let mut b = need_body(title, dept, visibility, "open");
    b["body"] = json!(body);
    b
}

fn offer(title: &str, body: &str, fields: &[&str], regions: &[&str]) -> Value {
    json!({"kind": "technology", "title": title, "body": body, "policy_fields": fields, "regions": regions})
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits: {}", r.text))
        .iter()
        .map(|h| {
            format!(
                "{}:{}",
                h["record"]["type"].as_str().unwrap(),
                h["record"]["id"]
            )
        })
        .collect()
}

async fn wait_indexed(app: &TestApp) {
    follow::catch_up(&app.db, &app.search).unwrap();
}

async fn japanese_search_with_visibility_facets_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let public = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need(
                "ドローンで橋梁点検を効率化したい",
                "老朽化した橋の点検に人手がかかる。ドローンの活用を検討したい。",
                y.department_id,
                "public",
            ),
        )
        .await;
    let internal = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need(
                "庁内向け：ドローン操縦研修",
                "職員向けにドローンの操縦研修を企画したい。",
                y.department_id,
                "internal",
            ),
        )
        .await;
    let tokyo = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need(
                "東京都との広域連携",
                "東京都と連携した観光施策を検討したい。",
                y.department_id,
                "public",
            ),
        )
        .await;
    let o = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &offer(
                "ＤＸ推進とサーバー運用",
                "自治体のＤＸ推進を支援し、サーバーの運用を代行します。",
                &["governance_dx"],
                &["nationwide"],
            ),
        )
        .await;
    for r in [&public, &internal, &tokyo, &o] {
        assert_eq!(r.status, 201, "{}", r.text);
    }
    wait_indexed(&app).await;
    let (pid, iid, oid) = (
        public.body["id"].clone(),
        internal.body["id"].clone(),
        o.body["id"].clone(),
    );

    let anon = app
        .get(
            "/api/v1/search?q=%E3%83%89%E3%83%AD%E3%83%BC%E3%83%B3",
            None,
        )
        .await; // ドローン
    assert_eq!(anon.status, 200, "{}", anon.text);
    assert_eq!(ids(&anon), [format!("need:{pid}")]);
    assert!(
        anon.body["hits"][0]["title_snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );
    let staff = app
        .get(
            "/api/v1/search?q=%E3%83%89%E3%83%AD%E3%83%BC%E3%83%B3",
            Some(&y.desk_key),
        )
        .await;
    let mut found = ids(&staff);
    found.sort();
    let mut expected = vec![format!("need:{pid}"), format!("need:{iid}")];
    expected.sort();
    assert_eq!(found, expected);
    let other_town = app
        .get(
            "/api/v1/search?q=%E3%83%89%E3%83%AD%E3%83%BC%E3%83%B3",
            Some(&w.kobe.desk_key),
        )
        .await;
    assert_eq!(ids(&other_town), [format!("need:{pid}")]);

    // Width and long-vowel variants find the offer: DX / ＤＸ, サーバ / サーバー.
    let q = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    for variant in ["DX", "ｄｘ", "サーバ", "ｻｰﾊﾞｰ"] {
        let r = app
            .get(&format!("/api/v1/search?q={}", q(variant)), None)
            .await;
        assert_eq!(ids(&r), [format!("offer:{oid}")], "{variant}: {}", r.text);
    }
    // Phrases and exclusions.
    let r = app
        .get(&format!("/api/v1/search?q={}", q("\"橋梁点検\"")), None)
        .await;
    assert_eq!(ids(&r), [format!("need:{pid}")]);
    let r = app
        .get(
            &format!("/api/v1/search?q={}", q("ドローン -橋梁")),
            Some(&y.desk_key),
        )
        .await;
    assert_eq!(ids(&r), [format!("need:{iid}")]);
    // Filters and facets.
    let r = app
        .get(&format!("/api/v1/search?q={}&type=offer", q("推進")), None)
        .await;
    assert_eq!(ids(&r), [format!("offer:{oid}")]);
    let r = app.get("/api/v1/search?field=governance_dx", None).await;
    assert_eq!(ids(&r), [format!("offer:{oid}")]);
    assert!(
        r.body["facets"]
            .as_object()
            .unwrap()
            .values()
            .any(|v| v.as_array().is_some_and(|a| !a.is_empty())),
        "{}",
        r.text
    );
    // Pages: one hit per page over the three public records.
    let mut seen = vec![];
    let mut cursor = String::new();
    loop {
        let r = app
            .get(&format!("/api/v1/search?limit=1&cursor={cursor}"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["total"], 3);
        seen.extend(ids(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    // Odd input gets results or a clear 4xx, never a 500.
    for odd in [
        "\"unbalanced",
        "-",
        "!!!",
        "（）「」",
        "🙂",
        "a\u{0}b",
        &"長".repeat(300),
        "- - -",
        "\"\"",
        "OR AND NOT",
        "title:foo",
        "*",
    ] {
        let r = app.get(&format!("/api/v1/search?q={}", q(odd)), None).await;
        assert!(r.status.as_u16() < 500, "{odd:?}: {}", r.text);
        if !r.status.is_success() {
            assert_eq!(r.content_type(), "application/problem+json");
            assert_eq!(r.body["code"], "invalid", "{odd:?}: {}", r.text);
        }
    }
    app.get("/api/v1/search?cursor=garbage", None)
        .await
        .assert_problem(422, "invalid");
    app.get("/api/v1/search?type=proposal", None)
        .await
        .assert_problem(422, "invalid");
    let ready = app.get("/readyz", None).await;
    assert_eq!(
        ready.body["search"]["analysis"], "morphological",
        "{}",
        ready.text
    );
}

async fn a_created_offer_is_searchable_within_a_second(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let created = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &offer(
                "デマンド交通の運行管理システム",
                "予約に応じて乗合車両を配車します。",
                &["infrastructure_mobility"],
                &["nationwide"],
            ),
        )
        .await;
    let started = Instant::now();
    let id = created.body["id"].clone();
    loop {
        // 運行管理
        let r = app
            .get(
                "/api/v1/search?q=%E9%81%8B%E8%A1%8C%E7%AE%A1%E7%90%86",
                None,
            )
            .await;
        if ids(&r) == [format!("offer:{id}")] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not searchable after 1 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn matching_both_ways_with_filters_explanations_and_feedback(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let n = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need("保育所の入所申請をオンライン化したい", "保育所の入所申請が紙で、窓口が混雑している。保護者がスマートフォンから申請できる仕組みを導入したい。", y.department_id, "public"),
        )
        .await;
    let nid = n.body["id"].as_i64().unwrap();
    let good = app.post("/api/v1/offers", Some(&w.partner_a.1), &offer("子育て手続きのオンライン申請サービス", "保育所の入所申請など子育ての手続きを、スマートフォンから申請できるサービスを提供します。", &["childcare_education"], &["nationwide"])).await;
    let unrelated = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &offer(
                "温泉地の観光プロモーション",
                "温泉地の魅力を発信する観光プロモーションを企画します。",
                &["culture_sports_tourism"],
                &["nationwide"],
            ),
        )
        .await;
    // Serves only Hyogo: never offered for Yokohama however well it reads.
    let elsewhere = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_b.1),
            &offer(
                "保育所の入所申請オンライン化の支援",
                "保育所の入所申請をスマートフォンで受け付ける仕組みを作ります。",
                &["childcare_education"],
                &["280003"],
            ),
        )
        .await;
    // The need wants companies and NPOs; a university's offer is filtered out.
    let (_, uni) = partner(&app.db, "港北大学", "university");
    let academic = app
        .post(
            "/api/v1/offers",
            Some(&uni),
            &offer(
                "保育所の入所申請に関する研究",
                "保育所の入所申請とスマートフォン申請の研究です。",
                &["childcare_education"],
                &["nationwide"],
            ),
        )
        .await;
    wait_indexed(&app).await;
    let (gid, eid, aid) = (
        good.body["id"].as_i64().unwrap(),
        elsewhere.body["id"].as_i64().unwrap(),
        academic.body["id"].as_i64().unwrap(),
    );

    let m = app.get(&format!("/api/v1/needs/{nid}/matches"), None).await;
    assert_eq!(m.status, 200, "{}", m.text);
    let ranked: Vec<i64> = m
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["offer"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ranked.first(), Some(&gid), "{}", m.text);
    assert!(
        !ranked.contains(&eid) && !ranked.contains(&aid),
        "filters ignored: {ranked:?}"
    );
    let top = &m.body[0]["explanation"];
    assert!(!top["matched_terms"].as_array().unwrap().is_empty());
    let norm = top["normalized_score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&norm) && norm > 0.0);
    if let Some(u) = unrelated.body["id"]
        .as_i64()
        .and_then(|u| ranked.iter().position(|x| *x == u))
    {
        assert!(u > 0);
    }

    let back = app
        .get(&format!("/api/v1/offers/{gid}/matches"), None)
        .await;
    assert_eq!(back.body[0]["need"]["id"], nid, "{}", back.text);

    // Feedback: a rejected pair disappears; only the need's municipality's staff may judge.
    let path = format!("/api/v1/needs/{nid}/matches/{gid}/feedback");
    let r = app
        .call(
            awc::http::Method::PUT,
            &path,
            Some(&w.kobe.desk_key),
            Some(&json!({"verdict": "not_relevant"})),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .call(
            awc::http::Method::PUT,
            &path,
            Some(&w.partner_a.1),
            Some(&json!({"verdict": "good"})),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .call(
            awc::http::Method::PUT,
            &path,
            Some(&y.dept_key),
            Some(&json!({"verdict": "not_relevant"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let offered = |r: &Reply| -> Vec<i64> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["offer"]["id"].as_i64().unwrap())
            .collect()
    };
    let m = app.get(&format!("/api/v1/needs/{nid}/matches"), None).await;
    assert!(
        !offered(&m).contains(&gid),
        "rejected pair still offered: {}",
        m.text
    );

    let r = app
        .call(
            awc::http::Method::PUT,
            &path,
            Some(&y.dept_key),
            Some(&json!({"verdict": "good"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let m = app.get(&format!("/api/v1/needs/{nid}/matches"), None).await;
    assert_eq!(m.body[0]["offer"]["id"], gid);
    // Internal needs are matched only for their own staff.
    let inner = app
        .post(
            "/api/v1/needs",
            Some(&y.dept_key),
            &need(
                "庁内の保育申請",
                "保育所の入所申請",
                y.department_id,
                "internal",
            ),
        )
        .await;
    app.get(&format!("/api/v1/needs/{}/matches", inner.body["id"]), None)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get(
            &format!("/api/v1/needs/{}/matches", inner.body["id"]),
            Some(&y.desk_key)
        )
        .await
        .status,
        200
    );
}

async fn the_index_is_rebuilt_and_catches_up_after_a_crash(backend: Backend) {
    let scratch = ScratchDir::new();
    let db = Db::open(fresh_database(backend, &scratch), 2).unwrap();
    db.migrate().unwrap();
    let w = World::seed(&db);
    let actor = kyoso::domain::actor::Actor::Partner(kyoso::domain::ids::PartnerId(w.partner_a.0));
    let mk = |title: &str| {
        kyoso::domain::offers::create(
            &db,
            &actor,
            kyoso::domain::offers::NewOfferInput {
                kind: "technology".into(),
                title: title.into(),
                body: "地域の防災訓練を支援します。".into(),
                policy_fields: vec!["safety".into()],
                regions: None,
            },
        )
        .unwrap()
    };
    mk("防災アプリの提供");
    let dir = scratch.0.join("index");

    // First start: no index yet, so it is built from the database.
    {
        let engine = SearchEngine::open_with(&dir, analyzers()).unwrap();
        assert!(engine.needs_rebuild());
        follow::rebuild(&db, &engine, |_, _| {}).unwrap();
        assert_eq!(count_hits(&engine, "防災"), 1);
    }
    // Written while the service was down: the next start catches up from the log.
    mk("防災無線の保守");
    {
        let engine = SearchEngine::open_with(&dir, analyzers()).unwrap();
        assert!(!engine.needs_rebuild());
        assert_eq!(count_hits(&engine, "防災"), 1);
        assert_eq!(follow::catch_up(&db, &engine).unwrap(), 1);
        assert_eq!(count_hits(&engine, "防災"), 2);
    }
    // A crash after the index applied a change but before it committed: nothing was
    // committed, the checkpoint did not move, and the change is applied again.
    mk("防災士の派遣");
    {
        let engine = SearchEngine::open_with(&dir, analyzers()).unwrap();
        let before = engine.checkpoint().unwrap();
        kyoso::domain::search::follow::apply_without_commit_for_tests(&db, &engine).unwrap();
        assert_eq!(engine.checkpoint().unwrap(), before);
    }
    {
        let engine = SearchEngine::open_with(&dir, analyzers()).unwrap();
        assert_eq!(count_hits(&engine, "防災"), 2);
        follow::catch_up(&db, &engine).unwrap();
        assert_eq!(count_hits(&engine, "防災"), 3);
    }
    // A corrupt index is recreated and refilled.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json")
            || p.file_name().is_some_and(|n| n == "meta.json")
        {
            std::fs::write(&p, b"{ this is not an index").unwrap();
        }
    }
    {
        let engine = SearchEngine::open_with(&dir, analyzers()).unwrap();
        assert!(engine.needs_rebuild(), "{:?}", engine.opened);
        follow::rebuild(&db, &engine, |_, _| {}).unwrap();
        assert_eq!(count_hits(&engine, "防災"), 3);
    }
    // A missing index likewise.
    std::fs::remove_dir_all(&dir).unwrap();
    let engine = SearchEngine::open_with(&dir, analyzers()).unwrap();
    assert!(engine.needs_rebuild());
    follow::rebuild(&db, &engine, |_, _| {}).unwrap();
    assert_eq!(count_hits(&engine, "防災"), 3);
}

on_both_backends!(without_the_dictionary_search_runs_on_bigrams_and_says_so);

async fn without_the_dictionary_search_runs_on_bigrams_and_says_so(backend: Backend) {
    // A data directory with no built dictionary, and no IPADIC source to build one from.
    let empty = ScratchDir::new();
    let missing =
        search_index::Analyzers::load(&empty.0, std::path::Path::new("/nonexistent/ipadic"));

    let app = TestApp::spawn_with(backend, missing).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(
        ready.body["search"]["analysis"], "bigram_only",
        "{}",
        ready.text
    );
    assert!(
        ready.body["search"]["message"]
            .as_str()
            .unwrap()
            .contains("IPADIC")
    );
    let w = World::seed(&app.db);
    let o = app
        .post(
            "/api/v1/offers",
            Some(&w.partner_a.1),
            &offer(
                "ドローンによる橋梁点検",
                "ドローンで点検します。",
                &["safety"],
                &["nationwide"],
            ),
        )
        .await;
    wait_indexed(&app).await;
    let r = app.get("/api/v1/search?q=%E6%A9%8B%E6%A2%81", None).await; // 橋梁
    assert_eq!(ids(&r), [format!("offer:{}", o.body["id"])], "{}", r.text);
}

/// Changes a record behind the index's back: no change-log row, so the index keeps
/// what it had (a stale index, as after a lost change or a lagging node).
fn change_unindexed(app: &TestApp, sql: String) {
    use diesel::RunQueryDsl;
    app.db
        .write(|conn| -> Result<_, kyoso::storage::StorageError> {
            diesel::sql_query(sql)
                .execute(conn)
                .map_err(kyoso::storage::StorageError::other)
        })
        .unwrap();
}

/// The `(type:id, record)` pairs of a search page, checking every record against the
/// single read (`GET /needs/{id}`, `GET /offers/{id}`) the same caller gets.
async fn hits_as_single_reads(app: &TestApp, path: &str, key: Option<&str>) -> Vec<String> {
    let r = app.get(path, key).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for h in r.body["hits"].as_array().unwrap() {
        let record = &h["record"];
        let single = app
            .get(
                &format!(
                    "/api/v1/{}s/{}",
                    record["type"].as_str().unwrap(),
                    record["id"]
                ),
                key,
            )
            .await;
        assert_eq!(
            single.status, 200,
            "a hit the caller cannot read: {}",
            single.text
        );
        let mut expected = single.body.clone();
        expected["type"] = record["type"].clone();
        assert_eq!(
            record, &expected,
            "{path}: the hit differs from the single read"
        );
    }
    ids(&r)
}

/// A page of hits of both types is read in one batch; it must give exactly what the
/// single reads give, in the index's order, and must drop what the caller may no longer
/// see although the index (stale) still says it may.
async fn a_page_of_hits_reads_as_single_reads_do_also_from_a_stale_index(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    let mut needs = vec![];
    for (title, visibility) in [
        ("防災訓練の参加者を増やしたい", "public"),
        ("防災倉庫の備蓄品を管理したい", "public"),
        ("防災無線の聞こえにくさを解消したい", "public"),
        ("庁内向け：防災担当の研修", "internal"),
    ] {
        let r = app
            .post(
                "/api/v1/needs",
                Some(&y.dept_key),
                &need(
                    title,
                    "地域の防災力を高める取り組みを検討したい。",
                    y.department_id,
                    visibility,
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        needs.push(r.body["id"].as_i64().unwrap());
    }
    let mut offers = vec![];
    for (key, title) in [
        (&w.partner_a.1, "防災アプリの提供"),
        (&w.partner_b.1, "防災ワークショップの運営"),
        (&w.partner_a.1, "防災ドローンによる被害把握"),
    ] {
        let r = app
            .post(
                "/api/v1/offers",
                Some(key),
                &offer(
                    title,
                    "防災の取り組みを支援します。",
                    &["safety"],
                    &["nationwide"],
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        offers.push(r.body["id"].as_i64().unwrap());
    }
    wait_indexed(&app).await;
    let path = "/api/v1/search?q=%E9%98%B2%E7%81%BD&limit=50"; // 防災
    let anon_before = hits_as_single_reads(&app, path, None).await;
    assert_eq!(anon_before.len(), 6, "{anon_before:?}");
    let staff_before = hits_as_single_reads(&app, path, Some(&y.desk_key)).await;
    assert_eq!(staff_before.len(), 7, "{staff_before:?}");

    // Behind the index: a public need becomes internal, another a draft, an offer is
    // archived; a need is renamed (the record shows the database's text).
    let (hidden, drafted, archived, renamed) = (needs[0], needs[1], offers[0], needs[2]);
    change_unindexed(
        &app,
        format!("UPDATE needs SET visibility = 'internal' WHERE id = {hidden}"),
    );
    change_unindexed(
        &app,
        format!("UPDATE needs SET status = 'draft' WHERE id = {drafted}"),
    );
    change_unindexed(
        &app,
        format!("UPDATE offers SET status = 'archived' WHERE id = {archived}"),
    );
    change_unindexed(
        &app,
        format!("UPDATE needs SET title = '改名したニーズ' WHERE id = {renamed}"),
    );
    let gone = [
        format!("need:{hidden}"),
        format!("need:{drafted}"),
        format!("offer:{archived}"),
    ];
    let anon_after = hits_as_single_reads(&app, path, None).await;
    let expected: Vec<String> = anon_before
        .iter()
        .filter(|h| !gone.contains(h))
        .cloned()
        .collect();
    assert_eq!(
        anon_after, expected,
        "stale hits must drop out, the rest keep their order"
    );
    // Staff of the need's town still read all of them (internal and draft needs of
    // their own town, archived offers), in the same order.
    let staff_after = hits_as_single_reads(&app, path, Some(&y.desk_key)).await;
    assert_eq!(staff_after, staff_before);
    // Another town's staff: not Yokohama's internal or draft needs; archived offers yes.
    let kobe = hits_as_single_reads(&app, path, Some(&w.kobe.desk_key)).await;
    assert!(!kobe.contains(&format!("need:{hidden}")), "{kobe:?}");
    assert!(!kobe.contains(&format!("need:{drafted}")), "{kobe:?}");
    assert!(!kobe.contains(&format!("need:{}", needs[3])), "{kobe:?}");
    assert!(kobe.contains(&format!("offer:{archived}")), "{kobe:?}");

    // Matches read their page the same way: never a need the caller may not see, never
    // an archived offer, each record as its single read.
    let m = app
        .get(
            &format!("/api/v1/offers/{}/matches?limit=50", offers[1]),
            None,
        )
        .await;
    assert_eq!(m.status, 200, "{}", m.text);
    let matched: Vec<i64> = m
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["need"]["id"].as_i64().unwrap())
        .collect();
    assert!(matched.contains(&renamed), "{}", m.text);
    for x in m.body.as_array().unwrap() {
        let id = x["need"]["id"].as_i64().unwrap();
        assert!(![hidden, drafted, needs[3]].contains(&id), "{}", m.text);
        let single = app.get(&format!("/api/v1/needs/{id}"), None).await;
        assert_eq!(x["need"], single.body);
    }
    let m = app
        .get(
            &format!("/api/v1/needs/{renamed}/matches?limit=50"),
            Some(&y.desk_key),
        )
        .await;
    assert_eq!(m.status, 200, "{}", m.text);
    let matched: Vec<i64> = m
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["offer"]["id"].as_i64().unwrap())
        .collect();
    assert!(!matched.contains(&archived), "{}", m.text);
    assert!(
        matched.contains(&offers[1]) && matched.contains(&offers[2]),
        "{}",
        m.text
    );
    for x in m.body.as_array().unwrap() {
        let id = x["offer"]["id"].as_i64().unwrap();
        let single = app
            .get(&format!("/api/v1/offers/{id}"), Some(&y.desk_key))
            .await;
        assert_eq!(x["offer"], single.body);
    }
}

/// Search reads its page of hits in a fixed number of queries: twelve hits of both
/// types cost as many statements as two (counted with diesel's instrumentation on the
/// only connection of a one-connection pool).
async fn a_page_of_hits_costs_the_same_queries_however_many_hits(backend: Backend) {
    use kyoso::domain::actor::Actor;
    use kyoso::domain::search::query::{SearchQuery, search};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let app = TestApp::spawn(backend).await;
    let w = World::seed(&app.db);
    let y = &w.yokohama;
    for i in 0..6 {
        let extra = if i == 0 { "と津波避難" } else { "" };
        let r = app
            .post(
                "/api/v1/needs",
                Some(&y.dept_key),
                &need(
                    &format!("防災訓練{extra}の企画 その{i}"),
                    "地域の防災力を高めたい。",
                    y.department_id,
                    "public",
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let key = if i % 2 == 0 {
            &w.partner_a.1
        } else {
            &w.partner_b.1
        };
        let r = app
            .post(
                "/api/v1/offers",
                Some(key),
                &offer(
                    &format!("防災{extra}の支援 その{i}"),
                    "防災の取り組みを支援します。",
                    &["safety"],
                    &["nationwide"],
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    wait_indexed(&app).await;
    let db = Db::open(app.db.target().clone(), 1).unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    {
        let counter = statements.clone();
        let mut conn = db.conn().unwrap();
        diesel::Connection::set_instrumentation(
            &mut *conn,
            move |e: diesel::connection::InstrumentationEvent<'_>| {
                if matches!(
                    e,
                    diesel::connection::InstrumentationEvent::StartQuery { .. }
                ) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            },
        );
    }
    let cost = |q: &str| {
        let before = statements.load(Ordering::SeqCst);
        let page = search(
            &db,
            &app.search,
            &Actor::Anonymous,
            SearchQuery {
                q: Some(q.into()),
                limit: Some(50),
                ..Default::default()
            },
        )
        .unwrap();
        (page.hits.len(), statements.load(Ordering::SeqCst) - before)
    };
    let (few, few_cost) = cost("津波");
    let (many, many_cost) = cost("防災");
    assert_eq!((few, many), (2, 12));
    assert!(few_cost > 0, "the instrumentation counted nothing");
    assert_eq!(
        many_cost, few_cost,
        "12 hits cost {many_cost} statements, 2 hits {few_cost}"
    );
}
