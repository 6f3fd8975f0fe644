use super::{doc, memory_index};
use crate::document::{DocType, Document};
use crate::matching::MatchRequest;

fn offer(id: i64, title: &str, body: &str, regions: &[&str], kind: &str) -> Document {
    let mut d = doc(DocType::Offer, id, title, body);
    d.municipality_codes = regions.iter().map(|r| r.to_string()).collect();
    d.partner_kind = Some(kind.into());
    d.policy_fields = vec!["environment_energy".into()];
    d
}

fn fixture() -> (Vec<Document>, Document) {
    let offers = vec![
        offer(
            1,
            "わなの作動を知らせる鳥獣害対策IoT",
            "箱わなに通知装置を付け、シカやイノシシの捕獲を写真付きで知らせます。見回りの負担を減らします。",
            &["nationwide"],
            "company",
        ),
        offer(
            2,
            "子育て世帯向けオンライン相談",
            "保育士が子育ての悩みにオンラインで答えます。",
            &["nationwide"],
            "company",
        ),
        offer(
            3,
            "観光客向け多言語案内",
            "観光案内を多言語で提供します。",
            &["nationwide"],
            "company",
        ),
        offer(
            4,
            "シカの食害を防ぐ電気柵",
            "農地や学校の敷地へのシカの侵入を電気柵で防ぎます。",
            &["401307"],
            "company",
        ),
        offer(
            5,
            "大学による野生動物の生態調査",
            "シカやイノシシの行動を調査し、被害対策を提案します。",
            &["280003"],
            "university",
        ),
        offer(
            6,
            "避難所運営の訓練支援",
            "防災訓練と避難所運営を支援します。",
            &["nationwide"],
            "company",
        ),
    ];
    let mut need = doc(
        DocType::Need,
        100,
        "シカによる被害を防ぎたい",
        "町内でシカやイノシシが畑や学校の敷地に侵入し、被害が続いている。わなの見回りの負担も大きい。",
    );
    need.municipality_codes = vec!["285862".into()];
    need.partner_kinds_wanted = vec!["company".into()];
    need.policy_fields = vec!["environment_energy".into()];
    (offers, need)
}

#[test]
fn need_finds_the_obviously_related_offer_first() {
    let (offers, need) = fixture();
    let mut all = offers.clone();
    all.push(need.clone());
    let index = memory_index(&all);
    let hits = index
        .match_documents(&MatchRequest {
            source: need.clone(),
            limit: 10,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    assert_eq!(ids.first(), Some(&1), "{hits:?}");
    // Fukuoka-only offer does not serve the need's town; the university is
    // not a kind the need wants.
    assert!(!ids.contains(&4) && !ids.contains(&5), "{ids:?}");
    assert!(hits.iter().all(|h| h.doc_type == DocType::Offer));
    let top = &hits[0];
    assert!(top.matched_terms.iter().any(|t| t == "シカ"), "{top:?}");
    assert!(top.normalized > 0.0 && top.normalized <= 1.0);
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));

    // Feedback: an excluded offer disappears.
    let hits = index
        .match_documents(&MatchRequest {
            source: need,
            limit: 10,
            boost_ids: vec![6],
            exclude_ids: vec![1],
        })
        .unwrap();
    assert!(hits.iter().all(|h| h.id != 1));
}

#[test]
fn offer_finds_needs_in_its_regions() {
    let (offers, need) = fixture();
    let mut far_need = need.clone();
    far_need.id = 101;
    far_need.municipality_codes = vec!["130001".into()];
    let mut internal_need = need.clone();
    internal_need.id = 102;
    internal_need.visibility = "internal".into();
    let mut all = offers.clone();
    all.extend([need, far_need, internal_need]);
    let index = memory_index(&all);
    let hits = index
        .match_documents(&MatchRequest {
            source: offers[3].clone(), // Fukuoka only
            limit: 10,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");
    let hits = index
        .match_documents(&MatchRequest {
            source: offers[0].clone(), // nationwide
            limit: 10,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    assert!(
        ids.contains(&100) && ids.contains(&101) && !ids.contains(&102),
        "{ids:?}"
    );
}

/// A hit earlier in its segment than every record of the source's policy field: the
/// field check must not seek a fresh postings cursor backwards.
#[test]
fn hits_before_the_first_record_of_the_field_are_scored() {
    let mut first = offer(
        1,
        "シカの見回り支援",
        "シカの見回りを支援します。",
        &["nationwide"],
        "company",
    );
    first.policy_fields = vec!["safety".into()];
    let second = offer(
        2,
        "シカの電気柵",
        "シカの侵入を電気柵で防ぎます。",
        &["nationwide"],
        "company",
    );
    let mut need = doc(
        DocType::Need,
        100,
        "シカの被害",
        "シカの被害を防ぎたい。見回りと電気柵。",
    );
    need.municipality_codes = vec!["285862".into()];
    need.policy_fields = vec!["environment_energy".into()];
    let index = memory_index(&[first, second, need.clone()]);
    let hits = index
        .match_documents(&MatchRequest {
            source: need,
            limit: 10,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    assert!(ids.contains(&1) && ids.contains(&2), "{ids:?}");
}

/// Words that may never be shown as the reason for a match.
const FUNCTION_WORDS: &[&str] = &[
    "ある",
    "する",
    "なる",
    "いる",
    "できる",
    "こと",
    "ため",
    "方",
    "もの",
    "よう",
    "日",
    "後",
    "割",
    "の",
    "を",
    "に",
    "が",
    "は",
    "年",
    "月",
    "等",
];

#[test]
fn reasons_are_weighty_content_words_in_order() {
    let (offers, need) = fixture();
    let mut all = offers.clone();
    all.push(need.clone());
    let index = memory_index(&all);
    let hits = index
        .match_documents(&MatchRequest {
            source: need,
            limit: 10,
            boost_ids: vec![],
            exclude_ids: vec![],
        })
        .unwrap();
    assert!(!hits.is_empty());
    for h in &hits {
        for t in &h.matched_terms {
            assert!(!FUNCTION_WORDS.contains(&t.as_str()), "{t} in {h:?}");
        }
    }
    assert!(
        hits[0].matched_terms.iter().any(|t| t == "シカ"),
        "{hits:?}"
    );
}

#[test]
fn eval_matching_smoke() {
    use crate::eval::{EvalSet, evaluate_matching};
    let (offers, need) = fixture();
    let mut set = EvalSet {
        needs: vec![need.clone()],
        offers: offers.clone(),
        ..EvalSet::default()
    };
    set.need_keys.insert(need.id, "n1".into());
    set.qrels.insert(need.id, [(1, 2)].into_iter().collect());
    let index = set
        .build_index(crate::analysis::test_support::analyzers())
        .unwrap();
    let ev = evaluate_matching(&index, &set, |n| {
        let hits = index
            .match_documents(&MatchRequest {
                source: n.clone(),
                limit: 100,
                boost_ids: vec![],
                exclude_ids: vec![],
            })
            .unwrap();
        Ok((hits.iter().map(|h| h.id).collect(), vec![]))
    })
    .unwrap();
    assert_eq!(ev.kyoso.len(), 1);
    assert_eq!(ev.kyoso[0].first_rank, Some(1));
    assert_eq!(ev.baselines.len(), 2);
    // Offers 4 (Fukuoka) and 5 (university) fail the filters for every system.
    let report = ev.report(5, true);
    assert!(
        report.contains("| kyoso | 1 | 1.000 | 1.000 | 1.000 |"),
        "{report}"
    );
    assert!(report.contains("rank kyoso=1"), "{report}");
    assert!(report.contains("5-fold cross-validation"), "{report}");
}

#[test]
fn eval_retrieval_smoke() {
    use crate::analysis::dictionary::{DEFAULT_IPADIC_DIR, load_plain_segmenter};
    use crate::eval::evaluate_retrieval;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("docs.jsonl"),
        "{\"id\":\"p1\",\"title\":\"梅雨\",\"body\":\"梅雨は北海道と小笠原諸島にはない。\"}\n\
         {\"id\":\"p2\",\"title\":\"台風\",\"body\":\"台風は夏から秋に日本へ来る。\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("queries.jsonl"),
        "{\"id\":\"q1\",\"text\":\"梅雨がないのは北海道とどこか。\"}\n\
         {\"id\":\"q2\",\"text\":\"台風が来る季節は？\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("qrels.tsv"),
        "query_id\tdoc_id\tgrade\nq1\tp1\t1\nq2\tp2\t1\n",
    )
    .unwrap();
    let data = std::env::temp_dir().join("kyoso-search-index-tests");
    let plain = load_plain_segmenter(std::path::Path::new(DEFAULT_IPADIC_DIR), &data).unwrap();
    let ev = evaluate_retrieval(
        crate::analysis::test_support::analyzers(),
        &plain,
        dir.path(),
        None,
    )
    .unwrap();
    assert_eq!(ev.keys, ["q1", "q2"]);
    assert!(
        ev.kyoso.iter().all(|s| s.first_rank == Some(1)),
        "{:?}",
        ev.kyoso
    );
    // On two documents most IPADIC tokens occur in both; the baseline only has to run.
    assert_eq!(ev.baselines[0].1.len(), 2);
}

/// Ranked any-term search for a free text ([`crate::SearchIndex::rank_text`]): a
/// question that shares only some words (a number, a suffix-like noun) with
/// the paragraph answering it still finds it first; no word is required; the
/// search filters and the visibility rule hold; the limit is checked.
#[test]
fn rank_text_finds_the_answering_record_and_keeps_the_filters() {
    use crate::search::{Filters, VisibilityScope};
    let mut docs = vec![
        doc(
            DocType::Offer,
            1,
            "梅雨",
            "梅雨は北海道と小笠原諸島を除く日本の各地で見られる。1年のうち6月ごろに始まる。",
        ),
        doc(
            DocType::Offer,
            2,
            "梅雨",
            "梅雨前線は5月に沖縄から北上し、7月に東北へ達する。",
        ),
        doc(
            DocType::Offer,
            3,
            "台風",
            "台風は8月から9月に多く上陸する。",
        ),
        doc(
            DocType::Need,
            4,
            "梅雨どきの浸水",
            "梅雨の時期に北海道でも浸水が起きた。",
        ),
    ];
    let mut internal = doc(
        DocType::Offer,
        5,
        "梅雨",
        "梅雨は北海道と小笠原諸島を除く日本で見られる。",
    );
    internal.visibility = "internal".into();
    docs.push(internal);
    let index = memory_index(&docs);
    let ids = |q: &str, filters: &Filters| -> Vec<i64> {
        index
            .rank_text(q, DocType::Offer, filters, 10)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    let public = Filters::default();
    // 梅雨前線, 7月 and 東北 are in paragraph 2 only; 北海道 (a word of
    // paragraph 1) does not outweigh them, and paragraph 1 still follows.
    let found = ids("梅雨前線が7月に達するのは東北と北海道のどちら?", &public);
    assert_eq!(found.first(), Some(&2), "{found:?}");
    assert!(found.contains(&1), "{found:?}");
    // Offers only, public only: the need and the internal offer never come.
    assert!(!found.contains(&4) && !found.contains(&5), "{found:?}");
    // The municipality's own staff see its internal record.
    let staff = Filters {
        visibility: VisibilityScope::PublicPlusInternalOf("281000".into()),
        ..Filters::default()
    };
    assert!(ids("小笠原諸島を除く", &staff).contains(&5));
    // Nothing searchable, nothing found; a bad limit is an error.
    assert!(ids("。、!?", &public).is_empty());
    assert!(index.rank_text("梅雨", DocType::Offer, &public, 0).is_err());
    assert!(
        index
            .rank_text("梅雨", DocType::Offer, &public, 101)
            .is_err()
    );
}
