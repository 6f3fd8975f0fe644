use std::fs;

use super::doc;
use crate::analysis::Analyzers;
use crate::analysis::test_support::analyzers;
use crate::document::DocType;
use crate::index::{MARKER_FILE, OpenOutcome, RebuildReason, SearchIndex, WriterOptions};
use crate::search::SearchRequest;

fn count(index: &SearchIndex, q: &str) -> usize {
    index
        .search(&SearchRequest {
            query: q.into(),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .total
}

#[test]
fn missing_dir_is_created_then_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("index");
    let (index, outcome) = SearchIndex::open_or_create(&dir, analyzers()).unwrap();
    assert_eq!(outcome, OpenOutcome::Created);
    assert!(outcome.needs_full_reindex());
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.upsert(&doc(DocType::Need, 1, "防災訓練", "避難所の運営"))
        .unwrap();
    w.commit_with_checkpoint(7).unwrap();
    drop(w);
    drop(index);
    let (index, outcome) = SearchIndex::open_or_create(&dir, analyzers()).unwrap();
    assert_eq!(outcome, OpenOutcome::Opened);
    assert_eq!(index.num_docs(), 1);
    assert_eq!(index.checkpoint().unwrap(), Some(7));
}

#[test]
fn checkpoint_round_trip_and_plain_commit_keeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap();
    assert_eq!(index.checkpoint().unwrap(), None);
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.upsert(&doc(DocType::Offer, 1, "見守り", "高齢者"))
        .unwrap();
    w.commit_with_checkpoint(42).unwrap();
    assert_eq!(index.checkpoint().unwrap(), Some(42));
    w.delete(DocType::Offer, 1);
    w.commit().unwrap();
    assert_eq!(index.checkpoint().unwrap(), Some(42));
    assert_eq!(index.num_docs(), 0);
    w.commit_with_checkpoint(u64::MAX).unwrap();
    assert_eq!(index.checkpoint().unwrap(), Some(u64::MAX));
}

#[test]
fn garbage_files_are_wiped() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("meta.json"), b"\x00\xffnot json").unwrap();
    fs::write(tmp.path().join("junk.bin"), b"junk").unwrap();
    fs::create_dir(tmp.path().join("sub")).unwrap();
    let (index, outcome) = SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap();
    assert_eq!(
        outcome,
        OpenOutcome::RebuiltBecause(RebuildReason::MarkerMissing)
    );
    assert!(!tmp.path().join("junk.bin").exists());
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn corrupt_tantivy_files_are_wiped() {
    let tmp = tempfile::tempdir().unwrap();
    drop(SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap());
    fs::write(tmp.path().join("meta.json"), b"{ broken").unwrap();
    let (_, outcome) = SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap();
    assert!(
        matches!(
            outcome,
            OpenOutcome::RebuiltBecause(RebuildReason::Corrupt(_))
        ),
        "{outcome:?}"
    );
    let (_, outcome) = SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap();
    assert_eq!(outcome, OpenOutcome::Opened);
}

#[test]
fn old_schema_version_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    drop(SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap());
    let marker = tmp.path().join(MARKER_FILE);
    let text = fs::read_to_string(&marker).unwrap();
    let old = text.replace(
        &format!("\"schema_version\": {}", crate::SCHEMA_VERSION),
        "\"schema_version\": 0",
    );
    assert_ne!(text, old);
    fs::write(&marker, old).unwrap();
    let (_, outcome) = SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap();
    assert_eq!(
        outcome,
        OpenOutcome::RebuiltBecause(RebuildReason::OldSchema {
            found: 0,
            expected: crate::SCHEMA_VERSION
        })
    );
}

#[test]
fn analysis_mode_change_is_rebuilt_and_bigram_only_still_searches() {
    let tmp = tempfile::tempdir().unwrap();
    let bigram = Analyzers::bigram_only("test: no dictionary");
    let (index, outcome) = SearchIndex::open_or_create(tmp.path(), &bigram).unwrap();
    assert_eq!(outcome, OpenOutcome::Created);
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.upsert(&doc(
        DocType::Need,
        1,
        "ドローンで橋を点検",
        "サーバーの保守",
    ))
    .unwrap();
    w.commit().unwrap();
    assert_eq!(count(&index, "ドローン"), 1);
    assert_eq!(count(&index, "サーバ"), 1);
    assert_eq!(count(&index, "橋"), 1);
    drop(w);
    drop(index);
    let (_, outcome) = SearchIndex::open_or_create(tmp.path(), analyzers()).unwrap();
    assert!(
        matches!(
            outcome,
            OpenOutcome::RebuiltBecause(RebuildReason::AnalysisChanged { .. })
        ),
        "{outcome:?}"
    );
}

#[test]
fn missing_ipadic_source_gives_bigram_only() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Analyzers::load(tmp.path(), &tmp.path().join("no-such-ipadic"));
    assert_eq!(a.mode(), crate::AnalysisMode::BigramOnly);
    assert!(a.status().message.contains("bigram"), "{}", a.status());
}

#[test]
fn upsert_replaces_and_delete_all_clears() {
    let index = super::memory_index(&[doc(DocType::Need, 1, "古い題名", "本文")]);
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.upsert(&doc(DocType::Need, 1, "新しい題名", "本文"))
        .unwrap();
    w.commit().unwrap();
    assert_eq!(index.num_docs(), 1);
    assert_eq!(count(&index, "古い"), 0);
    assert_eq!(count(&index, "新しい"), 1);
    w.delete_all().unwrap();
    w.commit().unwrap();
    assert_eq!(index.num_docs(), 0);
}

/// A process killed inside a commit may leave that commit's delete file behind
/// (tantivy names it `<segment>.<opstamp>.del` and creates it exclusively) while
/// `meta.json` still describes the commit before. The next process counts opstamps on
/// from `meta.json`, so when it applies the same changes — as the index follower does
/// after a restart — its commit wants the same name: without a clean-up at start it
/// failed with `FileAlreadyExists`, and `kyoso serve` could not start until the index
/// was rebuilt. Here the leftovers of such a commit are laid into a copy of the index
/// taken before it.
#[test]
fn a_commit_cut_off_by_a_crash_leaves_nothing_the_next_commit_trips_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (live, crashed) = (tmp.path().join("live"), tmp.path().join("crashed"));
    let files = |dir: &std::path::Path| -> std::collections::BTreeSet<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    // What the restarted process does first: apply change 4, a deletion.
    let apply_change_4 = |dir: &std::path::Path| {
        let (index, outcome) = SearchIndex::open_or_create(dir, analyzers()).unwrap();
        assert_eq!(outcome, OpenOutcome::Opened);
        assert_eq!(index.checkpoint().unwrap(), Some(3));
        let mut w = index.writer(WriterOptions::default()).unwrap();
        w.delete(DocType::Need, 2);
        w.commit_with_checkpoint(4).unwrap();
        assert_eq!(index.checkpoint().unwrap(), Some(4));
        assert_eq!(count(&index, "防災訓練"), 2);
    };
    {
        let (index, _) = SearchIndex::open_or_create(&live, analyzers()).unwrap();
        let mut w = index.writer(WriterOptions::default()).unwrap();
        for id in 1..=3 {
            w.upsert(&doc(DocType::Need, id, "防災訓練", "避難所の運営"))
                .unwrap();
        }
        w.commit_with_checkpoint(3).unwrap();
    }
    fs::create_dir(&crashed).unwrap();
    for name in files(&live) {
        if !name.ends_with(".lock") {
            fs::copy(live.join(&name), crashed.join(&name)).unwrap();
        }
    }
    // The run the crash cut off: its delete file was written, its meta.json not.
    apply_change_4(&live);
    let before = files(&crashed);
    let left_over: Vec<String> = files(&live)
        .into_iter()
        .filter(|n| n.ends_with(".del") && !before.contains(n))
        .collect();
    assert!(!left_over.is_empty(), "the commit wrote no delete file");
    for name in left_over.iter().chain([&".managed.json".to_owned()]) {
        fs::copy(live.join(name), crashed.join(name)).unwrap();
    }
    // The next run does the same on what the crash left.
    apply_change_4(&crashed);
}
