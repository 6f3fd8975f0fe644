//! Lists katakana and alphanumeric runs of real text that the current
//! analysis splits into pieces: candidates for `userdic/kyoso-terms.csv`.
//! A person decides; compounds of known words must not be added.
//!
//! Usage: cargo run --example userdic_candidates -p search-index -- DATA_DIR FILE.jsonl...
//!        cargo run --example userdic_candidates -p search-index -- DATA_DIR --words WORD...

use std::collections::BTreeMap;
use std::path::Path;

use search_index::Analyzers;
use search_index::analysis::dictionary::DEFAULT_IPADIC_DIR;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((data_dir, files)) = args.split_first() else {
        return Err("usage: userdic_candidates DATA_DIR FILE.jsonl...".into());
    };
    let analyzers = Analyzers::load(Path::new(data_dir), Path::new(DEFAULT_IPADIC_DIR));
    eprintln!("{}", analyzers.status());
    if let Some((flag, words)) = files.split_first()
        && flag == "--words"
    {
        for word in words {
            let pieces: Vec<String> = analyzers
                .ja_index_tokens(word)
                .into_iter()
                .map(|t| t.text)
                .collect();
            println!("{word}\t{}", pieces.join(" / "));
        }
        return Ok(());
    }
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for file in files {
        for line in std::fs::read_to_string(file)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            for key in ["title", "body"] {
                let text = v.get(key).and_then(|t| t.as_str()).unwrap_or_default();
                let norm = search_index::analysis::normalize::normalize(text);
                for run in loanword_runs(&norm) {
                    *runs.entry(run).or_default() += 1;
                }
            }
        }
    }
    let mut rows: Vec<(usize, String, Vec<String>)> = runs
        .into_iter()
        .filter_map(|(run, n)| {
            let pieces: Vec<String> = analyzers
                .ja_index_tokens(&run)
                .into_iter()
                .map(|t| t.text)
                .collect();
            (pieces.len() > 1).then_some((n, run, pieces))
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (n, run, pieces) in rows {
        println!("{n}\t{run}\t{}", pieces.join(" / "));
    }
    Ok(())
}

/// Maximal runs of katakana (with ー) or of ASCII letters/digits mixed with
/// katakana, at least two characters long.
fn loanword_runs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        let kana = matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー');
        if kana || c.is_ascii_alphanumeric() {
            cur.push(c);
        } else {
            if cur.chars().count() >= 2 {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    if cur.chars().count() >= 2 {
        out.push(cur);
    }
    out
}
