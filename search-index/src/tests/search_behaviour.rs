use super::{doc, memory_index};
use crate::document::{DocType, Document};
use crate::error::Error;
use crate::index::SearchIndex;
use crate::query::QueryError;
use crate::search::{Filters, SearchRequest, SearchResults, VisibilityScope};

fn run(index: &SearchIndex, query: &str, filters: Filters) -> SearchResults {
    index
        .search(&SearchRequest {
            query: query.into(),
            filters,
            limit: 20,
            ..Default::default()
        })
        .unwrap()
}

fn ids(r: &SearchResults) -> Vec<i64> {
    r.hits.iter().map(|h| h.id).collect()
}

fn corpus() -> Vec<Document> {
    let mut kyoto = doc(
        DocType::Need,
        1,
        "京都の観光案内",
        "観光客向けの案内を多言語化したい",
    );
    kyoto.municipality_codes = vec!["261009".into()];
    let tokyo = doc(
        DocType::Need,
        2,
        "東京都の防災",
        "東京都内の避難所を案内したい",
    );
    let drone = doc(
        DocType::Offer,
        3,
        "ドローンによる橋梁点検",
        "サーバーで画像を解析します <b>&</b>",
    );
    let mut internal_a = doc(
        DocType::Need,
        4,
        "内部検討中の防災課題",
        "庁内限定の防災メモ",
    );
    internal_a.visibility = "internal".into();
    internal_a.municipality_codes = vec!["281000".into()];
    let mut internal_b = doc(
        DocType::Need,
        5,
        "別の市の防災課題",
        "他市の庁内限定の防災メモ",
    );
    internal_b.visibility = "internal".into();
    internal_b.municipality_codes = vec!["401307".into()];
    let mut nationwide = doc(
        DocType::Offer,
        6,
        "全国対応の防災アプリ",
        "防災情報を配信します",
    );
    nationwide.municipality_codes = vec!["nationwide".into()];
    nationwide.policy_fields = vec!["safety".into(), "governance_dx".into()];
    let mut hyogo = doc(
        DocType::Offer,
        7,
        "兵庫県内の防災研修",
        "防災研修を行います",
    );
    hyogo.municipality_codes = vec!["280003".into()];
    hyogo.partner_kind = Some("university".into());
    let mut fukuoka = doc(DocType::Offer, 8, "福岡市の防災研修", "防災研修を行います");
    fukuoka.municipality_codes = vec!["401307".into()];
    let mut child = doc(
        DocType::Need,
        9,
        "子育て支援の窓口",
        "子育て支援をオンラインで",
    );
    child.policy_fields = vec!["childcare_education".into()];
    vec![
        kyoto, tokyo, drone, internal_a, internal_b, nationwide, hyogo, fukuoka, child,
    ]
}

#[test]
fn morphology_ranks_kyoto_above_tokyo_to() {
    let index = memory_index(&corpus());
    let r = run(&index, "京都", Filters::default());
    // The bigram field also finds 東京都, but below the real 京都.
    assert_eq!(ids(&r), [1, 2]);
    assert!(r.hits[0].score > r.hits[1].score * 2.0);
}

#[test]
fn words_are_anded_phrases_and_exclusions_work() {
    let index = memory_index(&corpus());
    let mut both = ids(&run(&index, "防災 研修", Filters::default()));
    both.sort();
    assert_eq!(both, [7, 8]);
    assert_eq!(
        ids(&run(&index, "防災 研修 -福岡", Filters::default())),
        [7]
    );
    assert_eq!(ids(&run(&index, "\"子育て支援\"", Filters::default())), [9]);
    assert_eq!(ids(&run(&index, "ｻｰﾊﾞｰ", Filters::default())), [3]);
    assert_eq!(
        ids(&run(&index, "ＤＲＯＮＥ ドローン", Filters::default())),
        Vec::<i64>::new()
    );
    // One kanji: found inside longer words via the bigram prefix.
    assert!(ids(&run(&index, "橋", Filters::default())).contains(&3));
}

#[test]
fn visibility_scopes() {
    let index = memory_index(&corpus());
    let with = |scope| {
        ids(&run(
            &index,
            "防災",
            Filters {
                visibility: scope,
                ..Default::default()
            },
        ))
    };
    let public = with(VisibilityScope::PublicOnly);
    assert!(!public.contains(&4) && !public.contains(&5));
    let own = with(VisibilityScope::PublicPlusInternalOf("281000".into()));
    assert!(own.contains(&4) && !own.contains(&5));
    let other = with(VisibilityScope::PublicPlusInternalOf("130001".into()));
    assert!(!other.contains(&4) && !other.contains(&5));
    // A prefecture-level scope must not open a city's internal records.
    let pref = with(VisibilityScope::PublicPlusInternalOf("280003".into()));
    assert!(!pref.contains(&4));
}

#[test]
fn region_coverage_filters() {
    let index = memory_index(&corpus());
    let kobe = Filters {
        municipality: Some("281000".into()),
        ..Default::default()
    };
    let r = index
        .search(&SearchRequest {
            query: "防災".into(),
            doc_types: vec![DocType::Offer],
            filters: kobe,
            limit: 10,
            cursor: None,
        })
        .unwrap();
    let mut got = ids(&r);
    got.sort();
    // nationwide + Hyogo-wide + Kobe's own; not Fukuoka's.
    assert_eq!(got, [6, 7]);
    let hyogo_pref = run(
        &index,
        "防災",
        Filters {
            municipality: Some("280003".into()),
            ..Default::default()
        },
    );
    let got = ids(&hyogo_pref);
    assert!(got.contains(&2) && got.contains(&6) && got.contains(&7) && !got.contains(&8));
}

#[test]
fn other_filters_and_facets() {
    let index = memory_index(&corpus());
    let r = run(
        &index,
        "防災",
        Filters {
            partner_kind: Some("university".into()),
            ..Default::default()
        },
    );
    // The university offer, plus needs that accept any kind.
    assert!(ids(&r).contains(&7) && ids(&r).contains(&2) && !ids(&r).contains(&8));
    let r = run(
        &index,
        "",
        Filters {
            policy_field: Some("childcare_education".into()),
            ..Default::default()
        },
    );
    assert_eq!(ids(&r), [9]);
    let r = run(
        &index,
        "防災",
        Filters {
            status: vec!["active".into()],
            ..Default::default()
        },
    );
    assert_eq!(r.total, 3);
    let facets = &r.facets;
    assert_eq!(facets["doc_type"], [("offer".to_string(), 3)]);
    assert!(facets["policy_field"].contains(&("safety".to_string(), 3)));
    assert!(facets["policy_field"].contains(&("governance_dx".to_string(), 1)));
    assert!(facets["municipality"].contains(&("nationwide".to_string(), 1)));
    assert!(facets.contains_key("zone") && facets.contains_key("status"));
}

#[test]
fn snippets_mark_matches_and_escape_the_rest() {
    let index = memory_index(&corpus());
    let r = run(&index, "サーバー 解析", Filters::default());
    let hit = &r.hits[0];
    assert_eq!(hit.id, 3);
    assert!(
        hit.body_snippet.contains("<mark>サーバー</mark>"),
        "{}",
        hit.body_snippet
    );
    assert!(hit.body_snippet.contains("<mark>解析</mark>"));
    assert!(
        hit.body_snippet.contains("&lt;b&gt;&amp;&lt;/b"),
        "{}",
        hit.body_snippet
    );
    assert!(!hit.title_snippet.contains("<mark>"));
    // A match only on the bigram field is still highlighted.
    let r = run(&index, "京都", Filters::default());
    let tokyo = r.hits.iter().find(|h| h.id == 2).unwrap();
    assert!(
        tokyo.title_snippet.contains("<mark>"),
        "{}",
        tokyo.title_snippet
    );
}

#[test]
fn cursor_pagination() {
    let docs: Vec<Document> = (1..=7)
        .map(|i| doc(DocType::Need, i, &format!("防災の課題その{i}"), "防災"))
        .collect();
    let index = memory_index(&docs);
    let mut req = SearchRequest {
        query: "防災".into(),
        limit: 3,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let r = index.search(&req).unwrap();
        assert_eq!(r.total, 7);
        seen.extend(ids(&r));
        match r.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, (1..=7).collect::<Vec<_>>());

    let first = index
        .search(&SearchRequest {
            query: "防災".into(),
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    let other = SearchRequest {
        query: "課題".into(),
        limit: 3,
        cursor: first.next_cursor,
        ..Default::default()
    };
    assert!(matches!(
        index.search(&other),
        Err(Error::Query(QueryError::BadCursor))
    ));
    let garbage = SearchRequest {
        query: "防災".into(),
        limit: 3,
        cursor: Some("!!not-a-cursor".into()),
        ..Default::default()
    };
    assert!(matches!(
        index.search(&garbage),
        Err(Error::Query(QueryError::BadCursor))
    ));
}

#[test]
fn blank_and_exclusion_only_queries_browse_newest_first() {
    let index = memory_index(&corpus());
    let r = run(&index, "", Filters::default());
    assert_eq!(r.total, 7);
    assert_eq!(r.hits[0].id, 9);
    let r = run(&index, "-防災", Filters::default());
    assert_eq!(ids(&r), [9, 3, 1]);
}

#[test]
fn odd_inputs_never_panic() {
    let index = memory_index(&corpus());
    let mut inputs: Vec<String> = [
        "",
        " ",
        "　",
        "\"",
        "\"\"",
        "“",
        "”",
        "-",
        "--",
        "- -",
        "-\"",
        "\"-",
        "!!!",
        "。、・",
        "😀",
        "😀😀 防災",
        "\u{0}",
        "\u{7}\u{1b}[31m",
        "\u{200b}",
        "\u{feff}防災",
        "a\u{0301}",
        "ﾞﾟ",
        "ｰ",
        "ー",
        "ーー",
        "㈱",
        "①②",
        "%s%n",
        "<script>",
        "\\",
        "*",
        "?",
        "AND OR NOT",
        "title:防災",
        "(防災",
        "防災)",
        "[1 TO 2]",
        "^2",
        "~",
        "\u{10FFFF}",
        "\u{E000}",
        "ｶﾞｷﾞｸﾞ",
        "𠮷野家",
        "ℌ𝔢𝔩𝔩𝔬",
        "١٢٣",
        "עברית",
        "한국어",
        "Ελληνικά",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Deterministic pseudo-random strings over a mix of code points.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let pool: Vec<char> = "防災 子育て\"“”-－　ーｰﾞ😀\u{0}\u{301}abcＡＢ１!。、・~*:()"
        .chars()
        .collect();
    for _ in 0..300 {
        let len = (seed % 24) as usize;
        let mut s = String::new();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed.is_multiple_of(5) {
                s.push(char::from_u32((seed >> 20) as u32 % 0x11_0000).unwrap_or('?'));
            } else {
                s.push(pool[(seed >> 8) as usize % pool.len()]);
            }
        }
        inputs.push(s);
    }
    inputs.push("防災 ".repeat(16));
    inputs.push("防".repeat(250));
    for q in &inputs {
        let res = index.search(&SearchRequest {
            query: q.clone(),
            limit: 5,
            ..Default::default()
        });
        match res {
            Ok(_) | Err(Error::Query(_)) => {}
            Err(e) => panic!("{q:?}: unexpected error {e}"),
        }
    }
    assert!(matches!(
        index.search(&SearchRequest {
            query: "!!!".into(),
            limit: 5,
            ..Default::default()
        }),
        Err(Error::Query(QueryError::NothingSearchable))
    ));
}

#[test]
fn words_spanning_scripts_match_as_substrings() {
    let index = memory_index(&[
        doc(
            DocType::Need,
            1,
            "生成AIの業務活用",
            "議事録を生成ＡＩで作りたい",
        ),
        doc(DocType::Need, 2, "AIの活用", "生成された文書をAIで確認"),
    ]);
    for q in ["生成AI", "生成ＡＩ", "成AI", "生成ai 業務"] {
        assert_eq!(ids(&run(&index, q, Filters::default())), [1], "{q}");
    }
    // Each part alone finds both.
    assert_eq!(run(&index, "AI", Filters::default()).total, 2);
    assert_eq!(run(&index, "生成", Filters::default()).total, 2);
}

/// A pasted problem statement is ranked any-term: records that share some
/// of its words are found (the all-words query finds none), best first,
/// within the filters and visibility rule, with an exact total and pages
/// that neither skip nor repeat.
#[test]
fn a_sentence_query_ranks_any_term_within_the_filters() {
    let mut docs = corpus();
    let mut bridge = doc(
        DocType::Offer,
        20,
        "橋梁の老朽化点検",
        "老朽化した橋梁をドローンで点検し、点検記録を自治体に納めます",
    );
    bridge.status = "active".into();
    docs.push(bridge);
    let index = memory_index(&docs);
    let sentence =
        "市内の橋梁が老朽化しており、点検の人手が足りないので、ドローンなどで点検を効率化したい";
    let parsed = crate::query::parse(sentence).unwrap();
    assert!(crate::matching::is_sentence(&parsed, index.analyzers()));
    // Keywords stay keywords.
    let keywords = crate::query::parse("防災 避難所").unwrap();
    assert!(!crate::matching::is_sentence(&keywords, index.analyzers()));
    let quoted = crate::query::parse(&format!("\"{sentence}\"")).unwrap();
    assert!(!crate::matching::is_sentence(&quoted, index.analyzers()));

    let all = run(&index, sentence, Filters::default());
    let found = ids(&all);
    assert_eq!(found.first(), Some(&20), "{found:?}");
    assert!(
        found.contains(&3),
        "the drone offer shares ドローン: {found:?}"
    );
    assert_eq!(all.total, found.len());
    assert!(all.hits.windows(2).all(|w| w[0].score >= w[1].score));
    // Internal records of other municipalities stay out, filters hold.
    assert!(!found.contains(&5) && !found.contains(&4), "{found:?}");
    let r = index
        .search(&SearchRequest {
            query: sentence.into(),
            doc_types: vec![DocType::Need],
            limit: 20,
            ..Default::default()
        })
        .unwrap();
    assert!(r.hits.iter().all(|h| h.doc_type == DocType::Need));
    // Pages of one: the same records in the same order, none twice.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = index
            .search(&SearchRequest {
                query: sentence.into(),
                limit: 1,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page.total, all.total);
        paged.extend(ids(&page));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, found);
}

/// The joined BM25F reads each word's frequency in title and body and the
/// two lengths from the index; with k1 → the BM25 formula by hand.
#[test]
fn joined_stats_read_frequencies_and_lengths() {
    let a = doc(
        DocType::Offer,
        1,
        "橋梁 点検",
        "橋梁 の 点検 と 橋梁 の 補修",
    );
    let b = doc(DocType::Offer, 2, "公園 清掃", "公園 の 清掃");
    let index = memory_index(&[a, b]);
    let (terms, candidates) = index.rank_text_candidates("橋梁", DocType::Offer).unwrap();
    assert!(!terms.is_empty());
    let c = candidates.iter().find(|c| c.id == 1).unwrap();
    let stats = &c.joined;
    let hit = stats.all.iter().find(|(_, t, _)| *t > 0.0).unwrap();
    assert_eq!((hit.1, hit.2), (1.0, 2.0), "{stats:?}");
    assert!(stats.title_len >= 2.0 && stats.body_len > stats.title_len);
    assert!(stats.avg_title_len > 0.0 && stats.avg_body_len > 0.0);
    // b = 0: no length normalisation; tf 3 with title weight 1.
    let (w, _, _) = *hit;
    let expected = w * 3.0 * 2.2 / (3.0 + 1.2);
    let got = stats.score(crate::matching::QueryWords::All, 1.2, 0.0, 1.0);
    assert!((got - expected).abs() < 1e-4, "{got} vs {expected}");
    // A title counted twice: tf 4.
    let got = stats.score(crate::matching::QueryWords::All, 1.2, 0.0, 2.0);
    assert!((got - w * 4.0 * 2.2 / (4.0 + 1.2)).abs() < 1e-4);
    // The other record does not contain the word.
    assert!(
        candidates
            .iter()
            .all(|c| c.id != 2 || c.joined.all.is_empty())
    );
}

#[test]
fn cached_results_never_outlive_a_commit_nor_cross_scopes() {
    let index = memory_index(&corpus());
    let first = run(&index, "防災", Filters::default());
    // The same request again is answered from the cache, identically.
    assert_eq!(run(&index, "防災", Filters::default()), first);
    assert!(index.results_cache().len() >= 1);
    // Another scope is another request: never the public page.
    let staff = Filters {
        visibility: VisibilityScope::PublicPlusInternalOf("281000".into()),
        ..Default::default()
    };
    let inside = run(&index, "防災", staff.clone());
    assert!(ids(&inside).contains(&4), "{:?}", ids(&inside));
    assert!(!ids(&run(&index, "防災", Filters::default())).contains(&4));
    assert!(ids(&run(&index, "サーバー", Filters::default())).contains(&3));
    // A commit (a new record, a deleted one) is seen by the next search at once.
    let mut w = index
        .writer(crate::index::WriterOptions::default())
        .unwrap();
    w.upsert(&doc(DocType::Need, 77, "新しい防災の課題", "防災"))
        .unwrap();
    w.delete(DocType::Offer, 3);
    w.commit().unwrap();
    let after = run(&index, "防災", Filters::default());
    assert!(ids(&after).contains(&77), "{:?}", ids(&after));
    assert_eq!(after.total, first.total + 1);
    let gone = run(&index, "サーバー", Filters::default());
    assert!(!ids(&gone).contains(&3), "{:?}", ids(&gone));
}
