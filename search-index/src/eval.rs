//! Offline evaluation of need → offer matching on judged pairs
//! (`relevance-dev`-style files): recall@10, MRR@10 and nDCG@10 (gain
//! 2^grade − 1), for the matcher and for a plain bigram-BM25 baseline.
//!
//! The service wraps the same idea through its database as
//! `kyoso eval-matching DIR`; this module works straight from the files.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::analysis::Analyzers;
use crate::document::{DocType, Document};
use crate::error::{Error, Result};
use crate::index::{SearchIndex, WriterOptions};
use crate::matching::{MatchRequest, match_filters};
use crate::search::Identities;

/// Cut-off of every metric.
pub const K: usize = 10;

#[derive(Debug, Deserialize)]
struct NeedRow {
    id: String,
    municipality_code: String,
    title: String,
    body: String,
    #[serde(default)]
    policy_field: Option<String>,
    #[serde(default)]
    desired_partner_kinds: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct OfferRow {
    id: String,
    partner_kind: String,
    title: String,
    body: String,
    #[serde(default)]
    policy_fields: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
}

/// Metrics of one system, averaged over judged needs.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    pub system: String,
    pub needs: usize,
    pub recall_at_10: f64,
    pub mrr_at_10: f64,
    pub ndcg_at_10: f64,
}

/// A loaded evaluation set: needs and offers as index documents, judgments
/// by numeric id.
pub struct EvalSet {
    pub needs: Vec<Document>,
    pub offers: Vec<Document>,
    /// need id → (offer id → grade)
    pub qrels: HashMap<i64, HashMap<i64, u32>>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text = fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(Error::from))
        .collect()
}

impl EvalSet {
    /// Load the three files. String ids become 1-based numbers in file order.
    pub fn load(needs_jsonl: &Path, offers_jsonl: &Path, qrels_tsv: &Path) -> Result<EvalSet> {
        let need_rows: Vec<NeedRow> = read_jsonl(needs_jsonl)?;
        let offer_rows: Vec<OfferRow> = read_jsonl(offers_jsonl)?;
        let mut need_ids = HashMap::new();
        let needs = need_rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let id = i as i64 + 1;
                need_ids.insert(r.id, id);
                Document {
                    doc_type: DocType::Need,
                    id,
                    title: r.title,
                    body: r.body,
                    policy_fields: r.policy_field.into_iter().collect(),
                    municipality_codes: vec![r.municipality_code],
                    zone: None,
                    partner_kind: None,
                    partner_kinds_wanted: r.desired_partner_kinds,
                    status: "open".into(),
                    visibility: "public".into(),
                    department_id: None,
                    owner_id: None,
                    updated_at_unix: 0,
                }
            })
            .collect();
        let mut offer_ids = HashMap::new();
        let offers = offer_rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let id = i as i64 + 1;
                offer_ids.insert(r.id, id);
                Document {
                    doc_type: DocType::Offer,
                    id,
                    title: r.title,
                    body: r.body,
                    policy_fields: r.policy_fields,
                    municipality_codes: r.regions,
                    zone: None,
                    partner_kind: Some(r.partner_kind),
                    partner_kinds_wanted: Vec::new(),
                    status: "active".into(),
                    visibility: "public".into(),
                    department_id: None,
                    owner_id: None,
                    updated_at_unix: 0,
                }
            })
            .collect();
        let mut qrels: HashMap<i64, HashMap<i64, u32>> = HashMap::new();
        for line in fs::read_to_string(qrels_tsv)?.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let [need, offer, grade] = cols[..] else {
                continue;
            };
            let (Some(&n), Some(&o), Ok(g)) = (
                need_ids.get(need),
                offer_ids.get(offer),
                grade.trim().parse::<u32>(),
            ) else {
                continue;
            };
            qrels.entry(n).or_default().insert(o, g);
        }
        Ok(EvalSet {
            needs,
            offers,
            qrels,
        })
    }

    /// An in-memory index holding every need and offer (needs included so
    /// document frequencies look like production's).
    pub fn build_index(&self, analyzers: &Analyzers) -> Result<SearchIndex> {
        let index = SearchIndex::in_memory(analyzers)?;
        let mut w = index.writer(WriterOptions::default())?;
        for d in self.needs.iter().chain(&self.offers) {
            w.add_new(d)?;
        }
        w.commit()?;
        Ok(index)
    }
}

/// Evaluate the matcher and the bigram baseline on the three files.
pub fn evaluate(
    needs_jsonl: &Path,
    offers_jsonl: &Path,
    qrels_tsv: &Path,
    analyzers: &Analyzers,
) -> Result<(EvalReport, EvalReport)> {
    let set = EvalSet::load(needs_jsonl, offers_jsonl, qrels_tsv)?;
    let index = set.build_index(analyzers)?;
    let matcher = score_system("matching", &set, |need| {
        let hits = index.match_documents(&MatchRequest {
            source: need.clone(),
            limit: K,
            boost_ids: Vec::new(),
            exclude_ids: Vec::new(),
        })?;
        Ok(hits.into_iter().map(|h| h.id).collect())
    })?;
    let baseline = score_system("bigram_bm25_baseline", &set, |need| {
        bigram_baseline(&index, need, K)
    })?;
    Ok((matcher, baseline))
}

fn score_system(
    name: &str,
    set: &EvalSet,
    mut rank: impl FnMut(&Document) -> Result<Vec<i64>>,
) -> Result<EvalReport> {
    let (mut recall, mut mrr, mut ndcg, mut judged) = (0.0, 0.0, 0.0, 0usize);
    for need in &set.needs {
        let Some(rels) = set.qrels.get(&need.id) else {
            continue;
        };
        if !rels.values().any(|g| *g > 0) {
            continue;
        }
        judged += 1;
        let mut ranked = rank(need)?;
        ranked.truncate(K);
        let relevant = rels.values().filter(|g| **g > 0).count();
        let found = ranked
            .iter()
            .filter(|id| rels.get(id).is_some_and(|g| *g > 0))
            .count();
        recall += found as f64 / relevant as f64;
        if let Some(pos) = ranked
            .iter()
            .position(|id| rels.get(id).is_some_and(|g| *g > 0))
        {
            mrr += 1.0 / (pos as f64 + 1.0);
        }
        let gain = |g: u32| 2f64.powi(g as i32) - 1.0;
        let dcg: f64 = ranked
            .iter()
            .enumerate()
            .map(|(i, id)| gain(*rels.get(id).unwrap_or(&0)) / (i as f64 + 2.0).log2())
            .sum();
        let mut ideal: Vec<u32> = rels.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(K)
            .enumerate()
            .map(|(i, g)| gain(*g) / (i as f64 + 2.0).log2())
            .sum();
        if idcg > 0.0 {
            ndcg += dcg / idcg;
        }
    }
    let n = judged.max(1) as f64;
    Ok(EvalReport {
        system: name.to_string(),
        needs: judged,
        recall_at_10: recall / n,
        mrr_at_10: mrr / n,
        ndcg_at_10: ndcg / n,
    })
}

/// The baseline: every bigram of the need's title and body as one OR query
/// on the bigram fields, plain BM25, the same filters as the matcher.
pub fn bigram_baseline(index: &SearchIndex, need: &Document, limit: usize) -> Result<Vec<i64>> {
    let f = index.fields();
    let a = index.analyzers();
    let mut terms: Vec<String> = a
        .bigram_query_tokens(&format!("{}\n{}", need.title, need.body))
        .into_iter()
        .map(|t| t.text)
        .collect();
    terms.sort();
    terms.dedup();
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for t in &terms {
        for field in [f.title_bi, f.body_bi] {
            should.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                )),
            ));
        }
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
    for filter in match_filters(f, need, DocType::Offer) {
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
    }
    let searcher = index.searcher();
    let top = searcher.search(
        &BooleanQuery::new(clauses),
        &TopDocs::with_limit(limit).order_by_score(),
    )?;
    let mut identities = Identities::new(&searcher);
    top.into_iter()
        .map(|(_, addr)| Ok(identities.read(addr)?.1))
        .collect()
}
