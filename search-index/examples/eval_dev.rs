//! Need → offer matching on a judged set; prints one JSON line for the
//! matcher and one for the bigram-BM25 baseline.
//!
//! Usage: cargo run --release --example eval_dev -p search-index -- DATA_DIR SET_DIR
//! (SET_DIR holds needs.jsonl, offers.jsonl and qrels.tsv; DATA_DIR caches
//! the built dictionary.)

use std::path::Path;

use search_index::{Analyzers, DEFAULT_IPADIC_DIR};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data_dir, set_dir] = &args[..] else {
        return Err("usage: eval_dev DATA_DIR SET_DIR".into());
    };
    let analyzers = Analyzers::load(Path::new(data_dir), Path::new(DEFAULT_IPADIC_DIR));
    eprintln!("{}", analyzers.status());
    let set = Path::new(set_dir);
    let (matcher, baseline) = search_index::eval::evaluate(
        &set.join("needs.jsonl"),
        &set.join("offers.jsonl"),
        &set.join("qrels.tsv"),
        &analyzers,
    )?;
    println!("{}", serde_json::to_string(&matcher)?);
    println!("{}", serde_json::to_string(&baseline)?);
    Ok(())
}
