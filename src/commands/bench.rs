//! `kyoso bench-index`, `bench-query` and `bench-match`: kyoso's own analysis, index and
//! query code on the benchmark harness's documents and line protocol, so it can be
//! compared side by side with other engines (see the README's benchmark section).

use std::path::Path;

use search_index::Analyzers;

use crate::config::Settings;

fn analyzers(settings: &Settings) -> Analyzers {
    let a = Analyzers::load(&settings.data_dir, &settings.ipadic_dir);
    eprintln!("{}", a.status());
    a
}

pub fn index(settings: &Settings, docs: &Path, index_dir: &Path) -> anyhow::Result<()> {
    let report = search_index::bench::bench_index(docs, index_dir, &analyzers(settings))?;
    eprintln!("{report:?}");
    Ok(())
}

pub fn query(settings: &Settings, index_dir: &Path) -> anyhow::Result<()> {
    let a = analyzers(settings);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    search_index::bench::bench_query(index_dir, &a, stdin.lock(), stdout.lock())?;
    Ok(())
}

pub fn matching(
    settings: &Settings,
    docs: &Path,
    index_dir: &Path,
    count: usize,
) -> anyhow::Result<()> {
    let report = search_index::bench::bench_match(docs, index_dir, &analyzers(settings), count)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
