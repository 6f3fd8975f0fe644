//! Offline evaluation of ranking, built so that it cannot flatter the
//! matcher: every system of one run ranks the same records under the same
//! filters, the metrics have one implementation ([`judge`]), and a setting
//! is only ever measured on queries it was not chosen on ([`cross_validate`]:
//! k folds by a hash of the query's id, a grid searched on k − 1 folds,
//! measured on the last).
//!
//! Two data sets: judged need → offer pairs (`relevance-dev`, see
//! [`evaluate_matching`]; the service loads them through its domain code as
//! `kyoso eval-matching`) and general Japanese retrieval (JSQuAD's
//! validation split reshaped, see [`evaluate_retrieval`]). Baselines are
//! plain Okapi BM25 ([`Bm25`], the formula of rank_bm25's `BM25Okapi`)
//! over character bigrams, over kyoso's morphological tokens, and over
//! IPADIC's raw MeCab-style tokens.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde::Deserialize;
use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::analysis::Analyzers;
use crate::document::{DocType, Document};
use crate::error::{Error, Result};
use crate::fingerprint::fnv1a64;
use crate::index::{SearchIndex, WriterOptions};
use crate::matching::{Candidate, MatchParams, fuse, fuse_scores, match_filters};
use crate::search::{Filters, Identities, MAX_LIMIT};

/// Cut-off of every metric.
pub const K: usize = 10;
/// Folds of the cross-validation.
pub const FOLDS: usize = 5;

/// One query's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueryScore {
    pub recall: f64,
    pub rr: f64,
    pub ndcg: f64,
    /// 1-based rank of the first relevant record in the whole ranking.
    pub first_rank: Option<usize>,
}

/// Recall@10, reciprocal rank@10 and nDCG@10 (gain 2^grade − 1) of one
/// ranking (best first, any length) against its judgments (id → grade;
/// grade 0 or missing: not relevant). The only metric code of the project.
pub fn judge(ranked: &[i64], judged: &HashMap<i64, u32>) -> QueryScore {
    let grade = |id: &i64| judged.get(id).copied().unwrap_or(0);
    let ranks: Vec<(usize, u32)> = ranked
        .iter()
        .enumerate()
        .filter(|(_, id)| grade(id) > 0)
        .map(|(i, id)| (i, grade(id)))
        .collect();
    judge_ranks(&ranks, judged)
}

/// [`judge`] from the 0-based positions of the relevant records in a
/// ranking (with their grades): what the metrics depend on.
fn judge_ranks(ranks: &[(usize, u32)], judged: &HashMap<i64, u32>) -> QueryScore {
    let relevant = judged.values().filter(|g| **g > 0).count();
    let found = ranks.iter().filter(|(p, _)| *p < K).count();
    let first = ranks.iter().map(|(p, _)| *p).min();
    let gain = |g: u32| 2f64.powi(g.min(30) as i32) - 1.0;
    let discount = |i: usize| (i as f64 + 2.0).log2();
    let dcg: f64 = ranks
        .iter()
        .filter(|(p, _)| *p < K)
        .map(|(p, g)| gain(*g) / discount(*p))
        .sum();
    let mut ideal: Vec<u32> = judged.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(K)
        .enumerate()
        .map(|(i, g)| gain(*g) / discount(i))
        .sum();
    QueryScore {
        recall: if relevant > 0 {
            found as f64 / relevant as f64
        } else {
            0.0
        },
        rr: first
            .filter(|p| *p < K)
            .map_or(0.0, |p| 1.0 / (p as f64 + 1.0)),
        ndcg: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        first_rank: first.map(|p| p + 1),
    }
}

/// [`judge`] of the ranking `params` gives `candidates` ([`fuse`]), without
/// sorting them: a relevant record's position is the number of candidates
/// ordered before it (higher score, or the same score and a lower id).
pub fn judge_fused(
    candidates: &[Candidate],
    params: &MatchParams,
    judged: &HashMap<i64, u32>,
) -> QueryScore {
    let scores = fuse_scores(candidates, params);
    let mut ranks = Vec::new();
    for (c, &s) in candidates.iter().zip(&scores) {
        let g = judged.get(&c.id).copied().unwrap_or(0);
        if g == 0 || s <= 0.0 {
            continue;
        }
        let before = candidates
            .iter()
            .zip(&scores)
            .filter(|(o, t)| **t > 0.0 && (**t > s || (**t == s && o.id < c.id)))
            .count();
        ranks.push((before, g));
    }
    // Summed in ranking order, as `judge` sums.
    ranks.sort_unstable();
    judge_ranks(&ranks, judged)
}

/// Means over queries.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub queries: usize,
    pub recall_at_10: f64,
    pub mrr_at_10: f64,
    pub ndcg_at_10: f64,
}

impl Summary {
    pub fn of<'a>(scores: impl IntoIterator<Item = &'a QueryScore>) -> Summary {
        let mut s = Summary::default();
        for q in scores {
            s.queries += 1;
            s.recall_at_10 += q.recall;
            s.mrr_at_10 += q.rr;
            s.ndcg_at_10 += q.ndcg;
        }
        let n = s.queries.max(1) as f64;
        s.recall_at_10 /= n;
        s.mrr_at_10 /= n;
        s.ndcg_at_10 /= n;
        s
    }

    /// Mean of several summaries (each fold counts once).
    pub fn mean(parts: &[Summary]) -> Summary {
        let n = parts.len().max(1) as f64;
        Summary {
            queries: parts.iter().map(|p| p.queries).sum(),
            recall_at_10: parts.iter().map(|p| p.recall_at_10).sum::<f64>() / n,
            mrr_at_10: parts.iter().map(|p| p.mrr_at_10).sum::<f64>() / n,
            ndcg_at_10: parts.iter().map(|p| p.ndcg_at_10).sum::<f64>() / n,
        }
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} |",
            self.queries, self.recall_at_10, self.mrr_at_10, self.ndcg_at_10
        )
    }
}

/// The fold of a query: FNV-1a of its id (as written in the data set)
/// modulo `folds`. Deterministic across runs, machines and file orders.
pub fn fold_of(id: &str, folds: usize) -> usize {
    (fnv1a64(&[id.as_bytes()]) % folds.max(1) as u64) as usize
}

/// The grid setting with the best mean nDCG@10 over the queries `train`
/// selects (then MRR@10, then the earlier setting).
pub fn select(grid_scores: &[Vec<QueryScore>], train: impl Fn(usize) -> bool) -> usize {
    let mut best = (0usize, f64::MIN, f64::MIN);
    for (s, scores) in grid_scores.iter().enumerate() {
        let chosen: Vec<&QueryScore> = scores
            .iter()
            .enumerate()
            .filter(|(q, _)| train(*q))
            .map(|(_, x)| x)
            .collect();
        let sum = Summary::of(chosen);
        if sum.ndcg_at_10 > best.1 + 1e-12
            || ((sum.ndcg_at_10 - best.1).abs() <= 1e-12 && sum.mrr_at_10 > best.2 + 1e-12)
        {
            best = (s, sum.ndcg_at_10, sum.mrr_at_10);
        }
    }
    best.0
}

/// One fold of a cross-validation.
#[derive(Clone, Debug)]
pub struct FoldResult {
    pub fold: usize,
    /// Index into the grid of the setting chosen on the other folds.
    pub chosen: usize,
    /// That setting on this fold.
    pub tuned: Summary,
    /// The fixed systems (baselines) on this fold, in input order.
    pub fixed: Vec<Summary>,
}

/// k-fold cross-validation: for each fold, the grid setting that does best
/// on the other folds, measured on this one, beside the fixed systems.
pub fn cross_validate(
    grid_scores: &[Vec<QueryScore>],
    fixed: &[Vec<QueryScore>],
    folds: &[usize],
    k: usize,
) -> Vec<FoldResult> {
    (0..k)
        .map(|fold| {
            let in_fold = |q: usize| folds.get(q) == Some(&fold);
            let chosen = select(grid_scores, |q| !in_fold(q));
            let on_fold = |scores: &Vec<QueryScore>| {
                Summary::of(
                    scores
                        .iter()
                        .enumerate()
                        .filter(|(q, _)| in_fold(*q))
                        .map(|(_, x)| x),
                )
            };
            FoldResult {
                fold,
                chosen,
                tuned: grid_scores.get(chosen).map(on_fold).unwrap_or_default(),
                fixed: fixed.iter().map(on_fold).collect(),
            }
        })
        .collect()
}

/// Plain Okapi BM25 over pre-tokenised documents, as rank_bm25's
/// `BM25Okapi`: idf = ln((N − df + 0.5) / (df + 0.5)), negative idf
/// replaced by ε × the mean idf (ε = 0.25), every query token counted as
/// often as it occurs.
pub struct Bm25 {
    k1: f64,
    b: f64,
    avgdl: f64,
    lengths: Vec<f64>,
    tf: Vec<HashMap<String, f64>>,
    idf: HashMap<String, f64>,
}

impl Bm25 {
    pub fn new(docs: &[Vec<String>], k1: f64, b: f64) -> Bm25 {
        let n = docs.len();
        let mut df: HashMap<String, f64> = HashMap::new();
        let mut tf = Vec::with_capacity(n);
        let mut lengths = Vec::with_capacity(n);
        for d in docs {
            let mut counts: HashMap<String, f64> = HashMap::new();
            for t in d {
                *counts.entry(t.clone()).or_default() += 1.0;
            }
            for t in counts.keys() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
            lengths.push(d.len() as f64);
            tf.push(counts);
        }
        let avgdl = lengths.iter().sum::<f64>() / n.max(1) as f64;
        let mut idf: HashMap<String, f64> = df
            .into_iter()
            .map(|(t, f)| (t, ((n as f64 - f + 0.5) / (f + 0.5)).ln()))
            .collect();
        let mean = idf.values().sum::<f64>() / idf.len().max(1) as f64;
        for v in idf.values_mut() {
            if *v < 0.0 {
                *v = 0.25 * mean;
            }
        }
        Bm25 {
            k1,
            b,
            avgdl,
            lengths,
            tf,
            idf,
        }
    }

    /// rank_bm25's defaults.
    pub fn okapi(docs: &[Vec<String>]) -> Bm25 {
        Bm25::new(docs, 1.5, 0.75)
    }

    /// Score of every document, in input order.
    pub fn scores(&self, query: &[String]) -> Vec<f64> {
        let mut out = vec![0.0; self.tf.len()];
        for q in query {
            let Some(idf) = self.idf.get(q) else {
                continue;
            };
            for ((s, tf), len) in out.iter_mut().zip(&self.tf).zip(&self.lengths) {
                if let Some(f) = tf.get(q) {
                    let norm = 1.0 - self.b + self.b * len / self.avgdl.max(f64::EPSILON);
                    *s += idf * f * (self.k1 + 1.0) / (f + self.k1 * norm);
                }
            }
        }
        out
    }

    /// Document indices by score, best first, among `allowed` (all when
    /// `None`); documents without any query token are left out, as a search
    /// engine would; ties by index.
    pub fn rank(&self, query: &[String], allowed: Option<&[bool]>) -> Vec<usize> {
        let scores = self.scores(query);
        let mut order: Vec<usize> = (0..scores.len())
            .filter(|&i| {
                scores.get(i).is_some_and(|s| *s != 0.0)
                    && allowed.is_none_or(|a| a.get(i).copied().unwrap_or(false))
            })
            .collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (scores.get(a), scores.get(b));
            y.unwrap_or(&0.0)
                .total_cmp(x.unwrap_or(&0.0))
                .then(a.cmp(&b))
        });
        order
    }
}

// ---------------------------------------------------------------------------
// Need → offer matching

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

/// A judged set ready for the index: needs and offers as documents, their
/// ids in the data set, judgments by document id.
#[derive(Clone, Debug, Default)]
pub struct EvalSet {
    pub needs: Vec<Document>,
    pub offers: Vec<Document>,
    /// Document id → id in the data set ("n0001", "o0042").
    pub need_keys: HashMap<i64, String>,
    pub offer_keys: HashMap<i64, String>,
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

/// `qrels.tsv`: a header, then `query<TAB>doc<TAB>grade`.
pub fn read_qrels(path: &Path) -> Result<Vec<(String, String, u32)>> {
    let mut out = Vec::new();
    for line in fs::read_to_string(path)?.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [q, d, g] = cols[..] {
            let grade = g
                .trim()
                .parse::<u32>()
                .map_err(|e| Error::Invalid(format!("{}: grade {g:?}: {e}", path.display())))?;
            out.push((q.to_string(), d.to_string(), grade));
        }
    }
    Ok(out)
}

impl EvalSet {
    /// Load `needs.jsonl`, `offers.jsonl` and `qrels.tsv` from `dir`. Ids
    /// become 1-based numbers in file order.
    pub fn load(dir: &Path) -> Result<EvalSet> {
        let need_rows: Vec<NeedRow> = read_jsonl(&dir.join("needs.jsonl"))?;
        let offer_rows: Vec<OfferRow> = read_jsonl(&dir.join("offers.jsonl"))?;
        let mut set = EvalSet::default();
        let mut by_key: HashMap<String, i64> = HashMap::new();
        for (i, r) in need_rows.into_iter().enumerate() {
            let id = i as i64 + 1;
            by_key.insert(r.id.clone(), id);
            set.need_keys.insert(id, r.id);
            let mut d = blank(DocType::Need, id, r.title, r.body);
            d.policy_fields = r.policy_field.into_iter().collect();
            d.municipality_codes = vec![r.municipality_code];
            d.partner_kinds_wanted = r.desired_partner_kinds;
            set.needs.push(d);
        }
        let mut offer_by_key: HashMap<String, i64> = HashMap::new();
        for (i, r) in offer_rows.into_iter().enumerate() {
            let id = i as i64 + 1;
            offer_by_key.insert(r.id.clone(), id);
            set.offer_keys.insert(id, r.id);
            let mut d = blank(DocType::Offer, id, r.title, r.body);
            d.policy_fields = r.policy_fields;
            d.municipality_codes = r.regions;
            d.partner_kind = Some(r.partner_kind);
            set.offers.push(d);
        }
        for (need, offer, grade) in read_qrels(&dir.join("qrels.tsv"))? {
            if let (Some(&n), Some(&o)) = (by_key.get(&need), offer_by_key.get(&offer)) {
                set.qrels.entry(n).or_default().insert(o, grade);
            }
        }
        Ok(set)
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

fn blank(doc_type: DocType, id: i64, title: String, body: String) -> Document {
    Document {
        doc_type,
        id,
        title,
        body,
        policy_fields: Vec::new(),
        municipality_codes: Vec::new(),
        zone: None,
        partner_kind: None,
        partner_kinds_wanted: Vec::new(),
        status: if doc_type == DocType::Offer {
            "active"
        } else {
            "open"
        }
        .into(),
        visibility: "public".into(),
        department_id: None,
        owner_id: None,
        updated_at_unix: 0,
    }
}

/// Everything one evaluation run measured, per query and per system.
pub struct Evaluation {
    /// What was evaluated, for the report's header.
    pub title: String,
    pub grid: Vec<MatchParams>,
    /// The setting kyoso ships ([`MatchParams::default`]).
    pub shipped: MatchParams,
    /// Query ids as written in the data set.
    pub keys: Vec<String>,
    pub folds: Vec<usize>,
    /// [setting][query]
    pub grid_scores: Vec<Vec<QueryScore>>,
    /// The shipped setting per query (also in `grid_scores` when on the grid).
    pub kyoso: Vec<QueryScore>,
    /// Baselines: name and per-query scores.
    pub baselines: Vec<(String, Vec<QueryScore>)>,
    /// Per-query lines (ranks, top hit, reasons).
    pub lines: Vec<String>,
}

impl Evaluation {
    /// The report: whole set (shipped setting vs baselines), then k folds
    /// (setting chosen on the other folds) with their mean.
    pub fn report(&self, folds: usize, per_query: bool) -> String {
        let mut out = String::new();
        if per_query {
            for l in &self.lines {
                let _ = writeln!(out, "{l}");
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "## {}", self.title);
        let _ = writeln!(
            out,
            "\nWhole set; kyoso with its shipped setting ({}):\n",
            self.shipped.label()
        );
        let _ = writeln!(out, "| system | queries | recall@10 | MRR@10 | nDCG@10 |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        let _ = writeln!(out, "{}", Summary::of(&self.kyoso).row("kyoso"));
        for (name, scores) in &self.baselines {
            let _ = writeln!(out, "{}", Summary::of(scores).row(name));
        }
        let all = select(&self.grid_scores, |_| true);
        if let Some(p) = self.grid.get(all) {
            let _ = writeln!(
                out,
                "\nThe grid's best setting on the whole set (what CV selects for shipping): {}",
                p.label()
            );
        }
        if folds < 2 {
            return out;
        }
        let fixed: Vec<Vec<QueryScore>> = self.baselines.iter().map(|b| b.1.clone()).collect();
        let results = cross_validate(&self.grid_scores, &fixed, &self.folds, folds);
        let _ = writeln!(
            out,
            "\n{folds}-fold cross-validation (fold = FNV-1a(id) mod {folds}; setting chosen on the other folds by best nDCG@10 over {} grid settings):\n",
            self.grid.len()
        );
        let _ = writeln!(
            out,
            "| fold | queries | chosen setting | system | recall@10 | MRR@10 | nDCG@10 |"
        );
        let _ = writeln!(out, "|---:|---:|---|---|---:|---:|---:|");
        for r in &results {
            let label = self
                .grid
                .get(r.chosen)
                .map(|p| p.label())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {label} | kyoso | {:.3} | {:.3} | {:.3} |",
                r.fold,
                r.tuned.queries,
                r.tuned.recall_at_10,
                r.tuned.mrr_at_10,
                r.tuned.ndcg_at_10
            );
            for ((name, _), s) in self.baselines.iter().zip(&r.fixed) {
                let _ = writeln!(
                    out,
                    "| {} | {} | | {name} | {:.3} | {:.3} | {:.3} |",
                    r.fold, s.queries, s.recall_at_10, s.mrr_at_10, s.ndcg_at_10
                );
            }
        }
        let tuned: Vec<Summary> = results.iter().map(|r| r.tuned).collect();
        let _ = writeln!(
            out,
            "\nMean over folds:\n\n| system | queries | recall@10 | MRR@10 | nDCG@10 |\n|---|---:|---:|---:|---:|"
        );
        let _ = writeln!(out, "{}", Summary::mean(&tuned).row("kyoso (CV)"));
        for (i, (name, _)) in self.baselines.iter().enumerate() {
            let parts: Vec<Summary> = results
                .iter()
                .filter_map(|r| r.fixed.get(i).copied())
                .collect();
            let _ = writeln!(out, "{}", Summary::mean(&parts).row(name));
        }
        out
    }
}

/// Ids of every record the matcher may return for `source` (the same
/// filters as [`SearchIndex::match_documents`]), for the baselines.
pub fn match_pool(index: &SearchIndex, source: &Document) -> Result<Vec<i64>> {
    let f = index.fields();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(AllQuery))];
    for filter in match_filters(f, source, DocType::Offer) {
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
    }
    let searcher = index.searcher();
    let limit = (searcher.num_docs() as usize).max(1);
    let top = searcher.search(
        &BooleanQuery::new(clauses),
        &TopDocs::with_limit(limit).order_by_score(),
    )?;
    let mut identities = Identities::new(&searcher);
    top.into_iter()
        .map(|(_, addr)| Ok(identities.read(addr)?.1))
        .collect()
}

/// Ids of `candidates` in the order `params` fuses them.
pub fn fused_ids(candidates: &[Candidate], params: &MatchParams) -> Vec<i64> {
    fuse(candidates, params)
        .into_iter()
        .filter_map(|(i, _)| candidates.get(i).map(|c| c.id))
        .collect()
}

/// Need → offer matching on `set` indexed in `index`: kyoso's matcher (every
/// grid setting, from one search per need) beside plain BM25 over bigrams
/// and over kyoso's morphological tokens of title + body, all restricted to
/// the offers that pass the matcher's filters. `kyoso_ranking` gives the
/// shipped matcher's ranking of a need as the service computes it (the
/// domain's matching function), so the "kyoso" row is the real path.
pub fn evaluate_matching(
    index: &SearchIndex,
    set: &EvalSet,
    mut kyoso_ranking: impl FnMut(&Document) -> Result<(Vec<i64>, Vec<String>)>,
) -> Result<Evaluation> {
    let a = index.analyzers();
    let grid = MatchParams::matching_grid();
    let text = |d: &Document| format!("{}\n{}", d.title, d.body);
    let bigrams = |t: &str| -> Vec<String> {
        a.bigram_query_tokens(t)
            .into_iter()
            .map(|t| t.text)
            .collect()
    };
    let morphs =
        |t: &str| -> Vec<String> { a.ja_index_tokens(t).into_iter().map(|t| t.text).collect() };
    let offer_pos: HashMap<i64, usize> = set
        .offers
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id, i))
        .collect();
    let bm_bigram = Bm25::okapi(
        &set.offers
            .iter()
            .map(|d| bigrams(&text(d)))
            .collect::<Vec<_>>(),
    );
    let bm_morph = Bm25::okapi(
        &set.offers
            .iter()
            .map(|d| morphs(&text(d)))
            .collect::<Vec<_>>(),
    );
    let key = |keys: &HashMap<i64, String>, id: i64| {
        keys.get(&id).cloned().unwrap_or_else(|| id.to_string())
    };
    let mut ev = Evaluation {
        title: "need → offer matching".into(),
        grid_scores: vec![Vec::new(); grid.len()],
        grid,
        shipped: MatchParams::default(),
        keys: Vec::new(),
        folds: Vec::new(),
        kyoso: Vec::new(),
        baselines: vec![
            ("bigram BM25 (title+body)".into(), Vec::new()),
            ("morphological BM25 (title+body)".into(), Vec::new()),
        ],
        lines: Vec::new(),
    };
    for need in &set.needs {
        let Some(judged) = set
            .qrels
            .get(&need.id)
            .filter(|j| j.values().any(|g| *g > 0))
        else {
            continue;
        };
        let need_key = key(&set.need_keys, need.id);
        ev.folds.push(fold_of(&need_key, FOLDS));
        let (_, candidates) = index.match_candidates(need)?;
        for (params, scores) in ev.grid.iter().zip(&mut ev.grid_scores) {
            scores.push(judge_fused(&candidates, params, judged));
        }
        let (shipped, reasons) = kyoso_ranking(need)?;
        let ours = judge(&shipped, judged);
        ev.kyoso.push(ours);

        let pool = match_pool(index, need)?;
        let mut allowed = vec![false; set.offers.len()];
        for id in pool {
            if let Some(slot) = offer_pos.get(&id).and_then(|&i| allowed.get_mut(i)) {
                *slot = true;
            }
        }
        let to_ids = |order: Vec<usize>| -> Vec<i64> {
            order
                .into_iter()
                .filter_map(|i| set.offers.get(i).map(|d| d.id))
                .collect()
        };
        let base_b = judge(
            &to_ids(bm_bigram.rank(&bigrams(&text(need)), Some(&allowed))),
            judged,
        );
        let base_m = judge(
            &to_ids(bm_morph.rank(&morphs(&text(need)), Some(&allowed))),
            judged,
        );
        let rank = |s: &QueryScore| s.first_rank.map_or("-".to_string(), |r| r.to_string());
        let adopted: Vec<String> = judged
            .iter()
            .filter(|(_, g)| **g > 0)
            .map(|(id, _)| key(&set.offer_keys, *id))
            .collect();
        ev.lines.push(format!(
            "{need_key}\tadopted={}\trank kyoso={} bigram={} morph={}\tndcg@10 kyoso={:.3} bigram={:.3}\ttop={}\treasons={}",
            adopted.join(","),
            rank(&ours),
            rank(&base_b),
            rank(&base_m),
            ours.ndcg,
            base_b.ndcg,
            shipped
                .first()
                .map_or("-".to_string(), |id| key(&set.offer_keys, *id)),
            reasons.join(" "),
        ));
        if let Some(b) = ev.baselines.get_mut(0) {
            b.1.push(base_b);
        }
        if let Some(b) = ev.baselines.get_mut(1) {
            b.1.push(base_m);
        }
        ev.keys.push(need_key);
    }
    Ok(ev)
}

// ---------------------------------------------------------------------------
// General retrieval (JSQuAD)

#[derive(Debug, Deserialize)]
struct RetrievalDoc {
    id: String,
    title: String,
    body: String,
}

#[derive(Debug, Deserialize)]
struct RetrievalQuery {
    id: String,
    text: String,
}

/// Ranking of paragraphs for questions (`docs.jsonl`, `queries.jsonl`,
/// `qrels.tsv` in `dir`): kyoso's index and ranked any-term search
/// ([`SearchIndex::rank_text`] for the shipped row; every setting of
/// [`MatchParams::text_grid`] for the cross-validation) beside plain Okapi
/// BM25 over IPADIC's MeCab-style tokens (`plain` is IPADIC in normal mode
/// without the user dictionary or normalisation: fugashi's wakati output,
/// in process) and over character bigrams.
pub fn evaluate_retrieval(
    analyzers: &Analyzers,
    plain: &lindera::segmenter::Segmenter,
    dir: &Path,
    limit: Option<usize>,
) -> Result<Evaluation> {
    let docs: Vec<RetrievalDoc> = read_jsonl(&dir.join("docs.jsonl"))?;
    let mut queries: Vec<RetrievalQuery> = read_jsonl(&dir.join("queries.jsonl"))?;
    if let Some(n) = limit {
        queries.truncate(n);
    }
    let doc_ids: HashMap<String, i64> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i as i64 + 1))
        .collect();
    let mut qrels: HashMap<String, HashMap<i64, u32>> = HashMap::new();
    for (q, d, g) in read_qrels(&dir.join("qrels.tsv"))? {
        if let Some(&id) = doc_ids.get(&d) {
            qrels.entry(q).or_default().insert(id, g);
        }
    }
    let index = SearchIndex::in_memory(analyzers)?;
    let mut w = index.writer(WriterOptions::default())?;
    for (i, d) in docs.iter().enumerate() {
        w.add_new(&blank(
            DocType::Offer,
            i as i64 + 1,
            d.title.clone(),
            d.body.clone(),
        ))?;
    }
    w.commit()?;

    let mecab = |text: &str| -> Vec<String> {
        plain
            .segment(std::borrow::Cow::Borrowed(text))
            .map(|tokens| {
                tokens
                    .into_iter()
                    .map(|t| t.surface.into_owned())
                    .filter(|s| !s.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let bm = Bm25::okapi(
        &docs
            .iter()
            .map(|d| mecab(&format!("{} {}", d.title, d.body)))
            .collect::<Vec<_>>(),
    );
    // The same plain BM25 over character bigrams (as the matching baseline).
    let bigrams = |t: &str| -> Vec<String> {
        analyzers
            .bigram_query_tokens(t)
            .into_iter()
            .map(|t| t.text)
            .collect()
    };
    let bm_bigram = Bm25::okapi(
        &docs
            .iter()
            .map(|d| bigrams(&format!("{}\n{}", d.title, d.body)))
            .collect::<Vec<_>>(),
    );
    let grid = MatchParams::text_grid();
    let mut ev = Evaluation {
        title: "general retrieval (questions → paragraphs)".into(),
        grid_scores: vec![Vec::new(); grid.len()],
        grid,
        shipped: MatchParams::text(),
        keys: Vec::new(),
        folds: Vec::new(),
        kyoso: Vec::new(),
        baselines: vec![
            ("MeCab-IPADIC BM25 (rank_bm25 recipe)".into(), Vec::new()),
            ("bigram BM25 (title+body)".into(), Vec::new()),
        ],
        lines: Vec::new(),
    };
    for q in &queries {
        let Some(judged) = qrels.get(&q.id) else {
            continue;
        };
        let (_, candidates) = index.rank_text_candidates(&q.text, DocType::Offer)?;
        for (params, scores) in ev.grid.iter().zip(&mut ev.grid_scores) {
            scores.push(judge_fused(&candidates, params, judged));
        }
        // The shipped path itself, as deep as one page goes.
        let shipped: Vec<i64> = index
            .rank_text(&q.text, DocType::Offer, &Filters::default(), MAX_LIMIT)?
            .into_iter()
            .map(|h| h.id)
            .collect();
        let ours = judge(&shipped, judged);
        ev.kyoso.push(ours);
        let ranked: Vec<i64> = bm
            .rank(&mecab(&q.text), None)
            .into_iter()
            .map(|i| i as i64 + 1)
            .collect();
        let base = judge(&ranked, judged);
        if let Some(b) = ev.baselines.get_mut(0) {
            b.1.push(base);
        }
        let ranked: Vec<i64> = bm_bigram
            .rank(&bigrams(&q.text), None)
            .into_iter()
            .map(|i| i as i64 + 1)
            .collect();
        if let Some(b) = ev.baselines.get_mut(1) {
            b.1.push(judge(&ranked, judged));
        }
        let rank = |s: &QueryScore| s.first_rank.map_or("-".to_string(), |r| r.to_string());
        ev.lines.push(format!(
            "{}\trank kyoso={} mecab_bm25={}",
            q.id,
            rank(&ours),
            rank(&base)
        ));
        ev.folds.push(fold_of(&q.id, FOLDS));
        ev.keys.push(q.id.clone());
    }
    Ok(ev)
}

/// The tantivy field-sum bigram query the first baseline of this project
/// used (every distinct bigram once, on title and body fields); kept for
/// comparison with earlier figures.
pub fn bigram_field_baseline(
    index: &SearchIndex,
    need: &Document,
    limit: usize,
) -> Result<Vec<i64>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(i64, u32)]) -> HashMap<i64, u32> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn metrics_of_one_ranking() {
        let j = judged(&[(7, 2)]);
        let s = judge(&[1, 7, 3], &j);
        assert_eq!(s.first_rank, Some(2));
        assert!((s.rr - 0.5).abs() < 1e-9);
        assert!((s.recall - 1.0).abs() < 1e-9);
        assert!((s.ndcg - 1.0 / 3f64.log2()).abs() < 1e-9);
        // Beyond the cut-off: counted as a rank, not in the metrics.
        let far: Vec<i64> = (100..120).chain([7]).collect();
        let s = judge(&far, &j);
        assert_eq!(s.first_rank, Some(21));
        assert_eq!((s.recall, s.rr, s.ndcg), (0.0, 0.0, 0.0));
        // Graded gain: a grade-1 record above the grade-2 one is not ideal.
        let j = judged(&[(1, 1), (2, 2)]);
        assert!((judge(&[2, 1], &j).ndcg - 1.0).abs() < 1e-9);
        assert!(judge(&[1, 2], &j).ndcg < 1.0);
    }

    #[test]
    fn judging_fused_scores_equals_judging_the_sorted_ranking() {
        // Ties on purpose (equal parts), zeros (matched by one part only or
        // none), and a relevant record below, at and above the cut-off.
        let candidates: Vec<Candidate> = (0..40i64)
            .map(|i| Candidate {
                id: 100 - i,
                addr: tantivy::DocAddress::new(0, i as u32),
                title: (i % 3) as f32,
                body: (i % 5) as f32 * 0.5,
                all_title: (i % 4) as f32,
                all_body: ((i * 7) % 11) as f32 * 0.3,
                bigram: ((i * 3) % 7) as f32,
                bigram_tf: ((i * 5) % 9) as f32,
                same_field: i % 2 == 0,
                joined: crate::matching::JoinedStats {
                    content: vec![(1.5, (i % 3) as f32, (i % 2) as f32)],
                    all: vec![(0.7, (i % 2) as f32, (i % 4) as f32), (2.0, 0.0, 1.0)],
                    title_len: (5 + i % 6) as f32,
                    body_len: (20 + i % 13) as f32,
                    avg_title_len: 7.0,
                    avg_body_len: 25.0,
                },
            })
            .collect();
        let grid: Vec<MatchParams> = MatchParams::matching_grid()
            .into_iter()
            .chain(MatchParams::text_grid())
            .map(|p| MatchParams {
                policy_factor: 1.3,
                ..p
            })
            .collect();
        for relevant in [61i64, 70, 99, 100, 85] {
            let j = judged(&[(relevant, 2), (77, 1)]);
            for p in &grid {
                assert_eq!(
                    judge_fused(&candidates, p, &j),
                    judge(&fused_ids(&candidates, p), &j),
                    "{} relevant {relevant}",
                    p.label()
                );
            }
        }
    }

    #[test]
    fn folds_are_deterministic_and_balanced_enough() {
        assert_eq!(fold_of("n0001", 5), fold_of("n0001", 5));
        assert_eq!(fold_of("n0001", 5), (fnv1a64(&[b"n0001"]) % 5) as usize);
        let mut sizes = [0usize; 5];
        for i in 0..1000 {
            sizes[fold_of(&format!("n{i:04}"), 5)] += 1;
        }
        assert!(sizes.iter().all(|s| (150..=250).contains(s)), "{sizes:?}");
        assert!((0..50).all(|i| fold_of(&format!("q{i}"), 5) < 5));
    }

    #[test]
    fn a_setting_is_measured_only_on_folds_it_was_not_chosen_on() {
        // Setting 0 is perfect on fold-0 queries only, setting 1 on the others.
        let folds: Vec<usize> = (0..10).map(|q| q % 5).collect();
        let hit = QueryScore {
            recall: 1.0,
            rr: 1.0,
            ndcg: 1.0,
            first_rank: Some(1),
        };
        let miss = QueryScore::default();
        let s0: Vec<QueryScore> = folds
            .iter()
            .map(|f| if *f == 0 { hit } else { miss })
            .collect();
        let s1: Vec<QueryScore> = folds
            .iter()
            .map(|f| if *f == 0 { miss } else { hit })
            .collect();
        let r = cross_validate(&[s0, s1], &[], &folds, 5);
        // Fold 0: chosen on folds 1-4, where setting 1 wins; it misses on fold 0.
        assert_eq!(r[0].chosen, 1);
        assert_eq!(r[0].tuned.ndcg_at_10, 0.0);
        assert!(
            r[1..]
                .iter()
                .all(|f| f.chosen == 1 && f.tuned.ndcg_at_10 == 1.0)
        );
    }

    #[test]
    fn bm25_matches_rank_bm25() {
        // rank_bm25 BM25Okapi(corpus).get_scores(["a"]) for this corpus:
        // idf(a) = ln((3-1+0.5)/(1+0.5)); idf(b) = ln(0.5/2.5) < 0 → ε·mean.
        let docs: Vec<Vec<String>> = [vec!["a", "b"], vec!["b", "b"], vec!["b", "c", "c"]]
            .iter()
            .map(|d| d.iter().map(|s| s.to_string()).collect())
            .collect();
        let bm = Bm25::okapi(&docs);
        let s = bm.scores(&["a".to_string()]);
        let idf = (2.5f64 / 1.5).ln();
        let avgdl = 7.0 / 3.0;
        let expected = idf * 2.5 / (1.0 + 1.5 * (0.25 + 0.75 * 2.0 / avgdl));
        assert!((s[0] - expected).abs() < 1e-9, "{s:?}");
        assert_eq!(&s[1..], &[0.0, 0.0]);
        assert_eq!(bm.rank(&["c".to_string()], None), vec![2]);
        // "b" is in every document: its idf is ε × the mean idf, negative here
        // as in rank_bm25, so the longer document ranks first; the filter holds.
        assert_eq!(
            bm.rank(&["b".to_string()], Some(&[true, false, true])),
            vec![2, 0]
        );
    }
}
