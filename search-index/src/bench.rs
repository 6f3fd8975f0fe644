//! The benchmark harness's two commands (see the shared bench README): bulk
//! indexing of its JSONL corpus with the production schema and writer, and
//! the line protocol for queries, answered with the production per-word
//! query builder. Also a matching latency run over the corpus's needs.

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, EmptyQuery, Occur, Query};

use crate::analysis::Analyzers;
use crate::document::{DocType, Document};
use crate::error::{Error, Result};
use crate::index::{OpenOutcome, SearchIndex, WriterOptions};
use crate::matching::MatchRequest;
use crate::query::word_query;
use crate::search::Identities;

/// Side file remembering how the corpus spells ids ("d000001"), since the
/// index stores them as numbers.
const ID_FORMAT_FILE: &str = "bench-ids.json";

/// Indexing heap per writer thread for the harness's corpus.
const BENCH_HEAP_BYTES_PER_THREAD: usize = 600_000_000;

#[derive(Deserialize)]
struct CorpusDoc {
    id: String,
    #[serde(rename = "type")]
    doc_type: String,
    title: String,
    body: String,
    #[serde(default)]
    policy_field: Option<String>,
    #[serde(default)]
    municipality: Option<String>,
    #[serde(default)]
    partner_kind: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
struct IdFormat {
    prefix: String,
    width: usize,
}

impl IdFormat {
    fn render(&self, id: i64) -> String {
        format!("{}{:0width$}", self.prefix, id, width = self.width)
    }
}

/// Split "d000042" into ("d", 6 digits, 42).
fn split_id(id: &str) -> Option<(String, usize, i64)> {
    let digits_at = id.find(|c: char| c.is_ascii_digit())?;
    let (prefix, digits) = id.split_at(digits_at);
    let n = digits.parse().ok()?;
    Some((prefix.to_string(), digits.len(), n))
}

impl CorpusDoc {
    fn into_document(self) -> Result<Document> {
        let (_, _, id) =
            split_id(&self.id).ok_or_else(|| Error::Invalid(format!("bad id {}", self.id)))?;
        let doc_type = DocType::parse(&self.doc_type).unwrap_or(DocType::Need);
        let offer = doc_type == DocType::Offer;
        Ok(Document {
            doc_type,
            id,
            title: self.title,
            body: self.body,
            policy_fields: self.policy_field.into_iter().collect(),
            municipality_codes: self.municipality.into_iter().collect(),
            zone: None,
            partner_kind: if offer {
                self.partner_kind.clone()
            } else {
                None
            },
            partner_kinds_wanted: if offer {
                Vec::new()
            } else {
                self.partner_kind.into_iter().collect()
            },
            status: if offer { "active" } else { "open" }.to_string(),
            visibility: "public".to_string(),
            department_id: None,
            owner_id: None,
            updated_at_unix: 0,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct BenchIndexReport {
    pub docs: usize,
    pub seconds: f64,
    /// Part of `seconds` spent merging the segments into one.
    pub merge_seconds: f64,
    pub docs_per_second: f64,
    /// Segments of the finished index (1 after the merge).
    pub segments: usize,
}

/// Index the corpus into `index_dir` (empty), commit and wait for merges.
pub fn bench_index(
    docs_jsonl: &Path,
    index_dir: &Path,
    analyzers: &Analyzers,
) -> Result<BenchIndexReport> {
    let started = Instant::now();
    let (index, _) = SearchIndex::open_or_create(index_dir, analyzers)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    // A heap that holds each thread's share of the corpus: with 128 MB per
    // thread tantivy flushed segments part-way, and merging the extra
    // segments (and flushing them) cost more than the memory. tantivy only
    // allocates what it fills (peak RSS stayed ~215 MiB at 100,000 docs).
    let mut writer = index.writer(WriterOptions {
        heap_bytes: BENCH_HEAP_BYTES_PER_THREAD * threads,
        threads,
    })?;
    let reader = std::io::BufReader::new(fs::File::open(docs_jsonl)?);
    let mut format: Option<IdFormat> = None;
    let mut docs = 0usize;
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let raw: CorpusDoc = serde_json::from_str(&line)?;
        if format.is_none()
            && let Some((prefix, width, _)) = split_id(&raw.id)
        {
            format = Some(IdFormat { prefix, width });
        }
        writer.add_new(&raw.into_document()?)?;
        docs += 1;
    }
    writer.commit()?;
    let merge_started = Instant::now();
    // One segment: queries are faster than over one per indexing thread
    // (engine median 0.24 vs 0.28 ms on the harness's queries, measured
    // side by side), which is worth the second the merge costs here.
    writer.merge_all()?;
    writer.wait_merging_threads()?;
    let merge_seconds = merge_started.elapsed().as_secs_f64();
    fs::write(
        index_dir.join(ID_FORMAT_FILE),
        serde_json::to_vec(&format.unwrap_or_default())?,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(BenchIndexReport {
        docs,
        seconds,
        merge_seconds,
        docs_per_second: docs as f64 / seconds.max(1e-9),
        segments: index.searcher().segment_readers().len(),
    })
}

#[derive(Deserialize)]
struct QueryLine {
    qid: String,
    words: Vec<String>,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    10
}

#[derive(Serialize)]
struct Answer<'a> {
    qid: &'a str,
    ids: Vec<String>,
    total: usize,
    engine_ms: f64,
}

fn open_existing(index_dir: &Path, analyzers: &Analyzers) -> Result<SearchIndex> {
    let (index, outcome) = SearchIndex::open_or_create(index_dir, analyzers)?;
    if outcome != OpenOutcome::Opened {
        return Err(Error::Invalid(format!(
            "no usable index in {}: {outcome:?}",
            index_dir.display()
        )));
    }
    Ok(index)
}

/// Serve the line protocol: READY, then one answer per request line.
pub fn bench_query(
    index_dir: &Path,
    analyzers: &Analyzers,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<()> {
    let index = open_existing(index_dir, analyzers)?;
    let format: IdFormat = fs::read(index_dir.join(ID_FORMAT_FILE))
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .unwrap_or_default();
    let searcher = index.searcher();
    writeln!(output, "READY")?;
    output.flush()?;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let req: QueryLine = serde_json::from_str(&line)?;
        let started = Instant::now();
        // Every word must match in the title or the body (on either analysis).
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = req
            .words
            .iter()
            .filter_map(|w| word_query(w, analyzers, index.fields()))
            .map(|q| (Occur::Must, q))
            .collect();
        // One word is searched as itself: an AND of one clause matches and
        // scores the same, but tantivy would build it as an intersection,
        // which creates its clauses lazily (`scorer_danger`) for probing,
        // while a word walked on its own finds its matches faster eagerly.
        let query: Box<dyn Query> = match clauses.len() {
            0 => Box::new(EmptyQuery),
            1 => clauses
                .pop()
                .map_or_else(|| Box::new(EmptyQuery) as Box<dyn Query>, |(_, q)| q),
            _ => Box::new(BooleanQuery::new(clauses)),
        };
        let (ids, total) = if req.words.is_empty() {
            (Vec::new(), 0)
        } else {
            let (top, total) = searcher.search(
                &*query,
                &(
                    TopDocs::with_limit(req.limit.max(1)).order_by_score(),
                    Count,
                ),
            )?;
            let mut ids = Vec::with_capacity(top.len());
            let mut identities = Identities::new(&searcher);
            for (_, addr) in top {
                ids.push(format.render(identities.read(addr)?.1));
            }
            (ids, total)
        };
        let engine_ms = started.elapsed().as_secs_f64() * 1000.0;
        serde_json::to_writer(
            &mut output,
            &Answer {
                qid: &req.qid,
                ids,
                total,
                engine_ms,
            },
        )?;
        writeln!(output)?;
        output.flush()?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct BenchMatchReport {
    pub requests: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Match up to `count` of the corpus's needs against its offers (top 10)
/// and report latency, including the analysis of the source document.
pub fn bench_match(
    docs_jsonl: &Path,
    index_dir: &Path,
    analyzers: &Analyzers,
    count: usize,
) -> Result<BenchMatchReport> {
    let index = open_existing(index_dir, analyzers)?;
    let reader = std::io::BufReader::new(fs::File::open(docs_jsonl)?);
    let mut needs = Vec::new();
    for line in reader.lines() {
        let raw: CorpusDoc = serde_json::from_str(&line?)?;
        if raw.doc_type == "need" {
            needs.push(raw.into_document()?);
            if needs.len() >= count {
                break;
            }
        }
    }
    let mut times = Vec::with_capacity(needs.len());
    for need in needs {
        let started = Instant::now();
        index.match_documents(&MatchRequest {
            source: need,
            limit: 10,
            boost_ids: Vec::new(),
            exclude_ids: Vec::new(),
        })?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    // The nearest-rank percentile; 0 without measurements.
    let pct = |p: f64| {
        let rank = (p * times.len() as f64).ceil() as usize;
        times
            .get(rank.clamp(1, times.len().max(1)) - 1)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(BenchMatchReport {
        requests: times.len(),
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        max_ms: times.last().copied().unwrap_or(0.0),
    })
}
