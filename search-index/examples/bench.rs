//! The benchmark engine for the shared harness (cmd protocol).
//!
//! Usage:
//!   bench [--data-dir DIR] index DOCS.jsonl INDEX_DIR
//!   bench [--data-dir DIR] query INDEX_DIR            (line protocol on stdin/stdout)
//!   bench [--data-dir DIR] match DOCS.jsonl INDEX_DIR [COUNT]
//! DIR caches the built dictionary (default: the system temp dir).

use std::io::{BufWriter, stdin, stdout};
use std::path::{Path, PathBuf};

use search_index::{Analyzers, DEFAULT_IPADIC_DIR, bench};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut data_dir = std::env::temp_dir().join("kyoso-bench");
    if args.first().map(String::as_str) == Some("--data-dir") && args.len() > 1 {
        data_dir = PathBuf::from(args.remove(1));
        args.remove(0);
    }
    let analyzers = Analyzers::load(&data_dir, Path::new(DEFAULT_IPADIC_DIR));
    eprintln!("{}", analyzers.status());
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["index", docs, dir] => {
            let report = bench::bench_index(Path::new(docs), Path::new(dir), &analyzers)?;
            eprintln!("{}", serde_json::to_string(&report)?);
        }
        ["query", dir] => {
            let out = BufWriter::new(stdout().lock());
            bench::bench_query(Path::new(dir), &analyzers, stdin().lock(), out)?;
        }
        ["match", docs, dir, ref rest @ ..] => {
            let count = rest.first().and_then(|c| c.parse().ok()).unwrap_or(1000);
            let report = bench::bench_match(Path::new(docs), Path::new(dir), &analyzers, count)?;
            println!("{}", serde_json::to_string(&report)?);
        }
        _ => {
            return Err(
                "usage: bench [--data-dir DIR] index DOCS DIR | query DIR | match DOCS DIR [COUNT]"
                    .into(),
            );
        }
    }
    Ok(())
}
