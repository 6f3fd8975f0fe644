//! The evaluations of `kyoso eval-matching` and `kyoso eval-retrieval` straight
//! from the files (without the service's database).
//!
//! Usage: cargo run --release --example eval_dev -p search-index -- DATA_DIR SET_DIR [retrieval]
//! (SET_DIR holds needs.jsonl, offers.jsonl and qrels.tsv, or with `retrieval`
//! docs.jsonl, queries.jsonl and qrels.tsv; DATA_DIR caches the built dictionary.)

use std::path::Path;

use search_index::eval::{EvalSet, FOLDS, evaluate_matching, evaluate_retrieval};
use search_index::matching::MatchParams;
use search_index::{Analyzers, DEFAULT_IPADIC_DIR, MatchRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (data_dir, set_dir, retrieval) = match &args[..] {
        [d, s] => (d, s, false),
        [d, s, r] if r == "retrieval" => (d, s, true),
        _ => return Err("usage: eval_dev DATA_DIR SET_DIR [retrieval]".into()),
    };
    let started = std::time::Instant::now();
    let analyzers = Analyzers::load(Path::new(data_dir), Path::new(DEFAULT_IPADIC_DIR));
    eprintln!("{}", analyzers.status());
    if retrieval {
        let plain = search_index::analysis::dictionary::load_plain_segmenter(
            Path::new(DEFAULT_IPADIC_DIR),
            Path::new(data_dir),
        )?;
        let ev = evaluate_retrieval(&analyzers, &plain, Path::new(set_dir), None)?;
        println!("{}", ev.report(FOLDS, false));
        print_grid(&ev);
        eprintln!(
            "{} questions in {:.1} s",
            ev.keys.len(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let set = EvalSet::load(Path::new(set_dir))?;
    let index = set.build_index(&analyzers)?;
    let ev = evaluate_matching(&index, &set, |need| {
        let hits = index.match_documents(&MatchRequest {
            source: need.clone(),
            limit: 100,
            boost_ids: Vec::new(),
            exclude_ids: Vec::new(),
        })?;
        let reasons = hits
            .first()
            .map(|h| h.matched_terms.clone())
            .unwrap_or_default();
        Ok((hits.into_iter().map(|h| h.id).collect(), reasons))
    })?;
    println!("{}", ev.report(FOLDS, true));
    print_grid(&ev);
    if std::env::var_os("KYOSO_EVAL_GRID").is_some() {
        // The free-text setting on need → offer pairs, for comparison.
        let mut scores = Vec::new();
        for need in &set.needs {
            let Some(judged) = set.qrels.get(&need.id) else {
                continue;
            };
            let hits = index.match_documents_with(
                &MatchRequest {
                    source: need.clone(),
                    limit: 100,
                    boost_ids: Vec::new(),
                    exclude_ids: Vec::new(),
                },
                &MatchParams::text(),
            )?;
            let ids: Vec<i64> = hits.into_iter().map(|h| h.id).collect();
            scores.push(search_index::eval::judge(&ids, judged));
        }
        let s = search_index::eval::Summary::of(&scores);
        println!(
            "text setting on this set\t{}\t{:.4}\t{:.4}\t{:.4}",
            MatchParams::text().label(),
            s.recall_at_10,
            s.mrr_at_10,
            s.ndcg_at_10
        );
    }
    Ok(())
}

/// Every grid setting's whole-set figures, when `KYOSO_EVAL_GRID` is set
/// (what was tried, for the log).
fn print_grid(ev: &search_index::eval::Evaluation) {
    if std::env::var_os("KYOSO_EVAL_GRID").is_none() {
        return;
    }
    for (p, scores) in ev.grid.iter().zip(&ev.grid_scores) {
        let s = search_index::eval::Summary::of(scores);
        println!(
            "grid\t{}\t{:.4}\t{:.4}\t{:.4}",
            p.label(),
            s.recall_at_10,
            s.mrr_at_10,
            s.ndcg_at_10
        );
    }
}
