//! Need ↔ offer matching, MoreLikeThis-style: the source document's most
//! telling terms become a weighted OR query against the other side.
//!
//! Term selection: morphological terms of the title (counted ×2) and body,
//! weighted by tf·idf; very common terms (document frequency above
//! [`MAX_DF_RATIO`]) and one-character kana, Latin letters or digits are
//! dropped; the best [`MAX_TERMS`] are kept. A few bigram terms not already
//! inside a chosen morpheme add recall for what the dictionary cuts badly,
//! at a lower weight. Each term queries the title (boosted) and the body.
//!
//! Filters follow what a partner or a municipality could actually take up:
//! need → active offers whose regions cover the need's municipality and
//! whose partner kind the need wants; offer → open, public needs in the
//! offer's regions that want its kind (or any kind).

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

use crate::document::{ANY_PARTNER_KIND, DocType, Document};
use crate::error::{Error, Result};
use crate::index::SearchIndex;
use crate::region::{NATIONWIDE, covering_regions, is_prefecture};
use crate::schema::Fields;
use crate::search::{Identities, MAX_LIMIT};

/// Morphological terms kept from the source document. Needs and offers
/// are short (a title and a paragraph), so the cap rarely bites; it bounds
/// the query for long documents. (A cap of 25, Lucene MoreLikeThis's
/// default for long texts, dropped useful words of short ones: on the dev
/// set recall@10 fell from 0.98 to 0.93.)
pub const MAX_TERMS: usize = 60;
/// Bigram terms kept in addition.
pub const MAX_BIGRAM_TERMS: usize = 8;
/// Terms in more than this share of documents say nothing about a topic…
pub const MAX_DF_RATIO: f32 = 0.25;
/// …once the index is large enough for shares to mean something: in a
/// young index of a few dozen records every topic word looks common.
const MIN_DF_FOR_RATIO: u64 = 20;
/// A title word counts as this many body words: titles state the topic.
const SOURCE_TITLE_WEIGHT: f32 = 2.0;
/// A match in the candidate's title weighs more than one in its body.
const TARGET_TITLE_BOOST: f32 = 1.5;
const TARGET_BODY_BOOST: f32 = 1.0;
/// Bigram terms relative to morphological ones.
const BIGRAM_BOOST: f32 = 0.3;
/// Score factor when the candidate shares the source's policy field: a
/// structured signal the author chose, worth a modest nudge.
const POLICY_FIELD_FACTOR: f32 = 1.2;
/// Score factor for records the staff marked as good matches before.
const FEEDBACK_BOOST: f32 = 1.2;

/// What to match, with the feedback the service has stored.
#[derive(Clone, Debug)]
pub struct MatchRequest {
    /// A need (→ offers), an offer (→ needs) or a proposal (→ needs).
    pub source: Document,
    /// 1..=100.
    pub limit: usize,
    /// Marked as good matches: a small score boost.
    pub boost_ids: Vec<i64>,
    /// Marked as not relevant: never returned.
    pub exclude_ids: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MatchHit {
    pub doc_type: DocType,
    pub id: i64,
    /// BM25-based score, comparable within one request only.
    pub score: f32,
    /// 0..1: the weighted share of the source's selected terms that occur in
    /// this hit (Σ weights of matched terms / Σ weights of all selected
    /// terms). Comparable across requests, unlike `score`.
    pub normalized: f32,
    /// The selected terms found in the hit, most telling first.
    pub matched_terms: Vec<String>,
}

/// A selected term and its weight (tf·idf, scaled so the best is 1).
#[derive(Clone, Debug)]
pub(crate) struct WeightedTerm {
    pub text: String,
    pub weight: f32,
}

impl SearchIndex {
    /// Find the records on the other side that fit `req.source`, best first.
    pub fn match_documents(&self, req: &MatchRequest) -> Result<Vec<MatchHit>> {
        let target = match req.source.doc_type {
            DocType::Need => DocType::Offer,
            DocType::Offer | DocType::Proposal => DocType::Need,
        };
        let filters = match_filters(self.fields(), &req.source, target);
        self.rank(req, target, filters)
    }

    /// Records of type `target` in the source's own municipality that read like it,
    /// whatever their status or visibility: for that municipality's staff only (similar
    /// past proposals with their outcome, related needs).
    pub fn similar_in_municipality(
        &self,
        req: &MatchRequest,
        target: DocType,
    ) -> Result<Vec<MatchHit>> {
        let f = self.fields();
        let codes: Vec<&str> = req
            .source
            .municipality_codes
            .iter()
            .map(String::as_str)
            .collect();
        let filters = vec![
            key_query(f.doc_type, target.as_str()),
            any_term(f.municipality, &codes),
        ];
        self.rank(req, target, filters)
    }

    /// Ranks records of `target` that pass `filters` by the source's telling terms.
    fn rank(
        &self,
        req: &MatchRequest,
        target: DocType,
        filters: Vec<Box<dyn Query>>,
    ) -> Result<Vec<MatchHit>> {
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(Error::Invalid(format!("limit must be 1..={MAX_LIMIT}")));
        }
        let searcher = self.searcher();
        let f = self.fields();
        let src = &req.source;
        let (ja_terms, bi_terms) = self.select_terms(&searcher, src)?;
        if ja_terms.is_empty() && bi_terms.is_empty() {
            return Ok(Vec::new());
        }

        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in &ja_terms {
            push_term(
                &mut should,
                f.title_ja,
                &t.text,
                t.weight * TARGET_TITLE_BOOST,
            );
            push_term(
                &mut should,
                f.body_ja,
                &t.text,
                t.weight * TARGET_BODY_BOOST,
            );
        }
        for t in &bi_terms {
            let w = t.weight * BIGRAM_BOOST;
            push_term(&mut should, f.title_bi, &t.text, w * TARGET_TITLE_BOOST);
            push_term(&mut should, f.body_bi, &t.text, w * TARGET_BODY_BOOST);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        for filter in filters {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let mut excluded: Vec<String> = req.exclude_ids.iter().map(|id| target.key(*id)).collect();
        excluded.push(src.key());
        for key in excluded {
            clauses.push((Occur::MustNot, key_query(f.key, &key)));
        }
        let query = BooleanQuery::new(clauses);

        // Fetch more than asked so the policy-field and feedback factors can
        // reorder the head of the list.
        let fetch = (req.limit * 3).max(30) + req.boost_ids.len().min(20);
        let top = searcher.search(&query, &TopDocs::with_limit(fetch).order_by_score())?;
        let boosted: HashSet<i64> = req.boost_ids.iter().copied().collect();
        let mut scored: Vec<(f32, DocAddress, i64)> = Vec::with_capacity(top.len());
        let mut identities = Identities::new(&searcher);
        for (score, addr) in top {
            let (_, id) = identities.read(addr)?;
            let mut score = if boosted.contains(&id) {
                score * FEEDBACK_BOOST
            } else {
                score
            };
            if shares_policy_field(&searcher, f, addr, &src.policy_fields)? {
                score *= POLICY_FIELD_FACTOR;
            }
            scored.push((score, addr, id));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.truncate(req.limit);

        let addrs: Vec<DocAddress> = scored.iter().map(|s| s.1).collect();
        let presence = term_presence(&searcher, f, &ja_terms, &addrs)?;
        let total_weight: f32 = ja_terms.iter().map(|t| t.weight).sum();
        Ok(scored
            .into_iter()
            .zip(presence)
            .map(|((score, _, id), present)| {
                let matched: Vec<&WeightedTerm> = ja_terms
                    .iter()
                    .zip(&present)
                    .filter(|(_, p)| **p)
                    .map(|(t, _)| t)
                    .collect();
                let weight: f32 = matched.iter().map(|t| t.weight).sum();
                MatchHit {
                    doc_type: target,
                    id,
                    score,
                    normalized: if total_weight > 0.0 {
                        (weight / total_weight).clamp(0.0, 1.0)
                    } else {
                        0.0
                    },
                    matched_terms: matched.iter().map(|t| t.text.clone()).collect(),
                }
            })
            .collect())
    }

    /// The source's most telling morphological and bigram terms.
    pub(crate) fn select_terms(
        &self,
        searcher: &Searcher,
        src: &Document,
    ) -> Result<(Vec<WeightedTerm>, Vec<WeightedTerm>)> {
        let a = self.analyzers();
        let f = self.fields();
        let n = searcher.num_docs().max(1) as f32;

        let mut tf: HashMap<String, f32> = HashMap::new();
        for (text, weight) in [(&src.title, SOURCE_TITLE_WEIGHT), (&src.body, 1.0)] {
            for t in a.ja_index_tokens(text) {
                *tf.entry(t.text).or_default() += weight;
            }
        }
        let mut ja = Vec::with_capacity(tf.len());
        for (text, freq) in tf {
            if is_stop_like(&text) {
                continue;
            }
            let df = doc_freq(searcher, &[f.title_ja, f.body_ja], &text)?;
            if df == 0 || too_common(df, n) {
                continue;
            }
            ja.push(WeightedTerm {
                weight: freq * idf(df, n),
                text,
            });
        }
        let ja = top_k(ja, MAX_TERMS);

        // Bigrams the chosen morphemes do not already contain: mostly parts
        // of words the dictionary cut badly or does not know.
        let mut bi_tf: HashMap<String, f32> = HashMap::new();
        for (text, weight) in [(&src.title, SOURCE_TITLE_WEIGHT), (&src.body, 1.0)] {
            for t in a.bigram_query_tokens(text) {
                if t.text.chars().count() == 2
                    && !t.text.chars().any(is_hiragana)
                    && !ja.iter().any(|m| m.text.contains(&t.text))
                {
                    *bi_tf.entry(t.text).or_default() += weight;
                }
            }
        }
        let mut bi = Vec::with_capacity(bi_tf.len());
        for (text, freq) in bi_tf {
            let df = doc_freq(searcher, &[f.title_bi, f.body_bi], &text)?;
            if df == 0 || too_common(df, n) {
                continue;
            }
            bi.push(WeightedTerm {
                weight: freq * idf(df, n),
                text,
            });
        }
        let mut bi = top_k(bi, MAX_BIGRAM_TERMS);
        // Scale bigrams against the morphological terms, not against each other.
        let ja_max = ja.first().map(|t| t.weight).unwrap_or(1.0);
        let ja = scale(ja, ja_max);
        bi.iter_mut()
            .for_each(|t| t.weight /= ja_max.max(f32::EPSILON));
        Ok((ja, bi))
    }
}

/// Bigrams with hiragana are mostly grammar (を十, 見を, ぎた): rare, so
/// highly weighted by idf, yet meaningless.
fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

fn too_common(df: u64, n: f32) -> bool {
    df > MIN_DF_FOR_RATIO && df as f32 / n > MAX_DF_RATIO
}

/// BM25's idf.
fn idf(df: u64, n: f32) -> f32 {
    let df = df as f32;
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Documents containing `text` in any of `fields` (upper bound: the max).
fn doc_freq(searcher: &Searcher, fields: &[Field], text: &str) -> Result<u64> {
    let mut df = 0;
    for &field in fields {
        df = df.max(searcher.doc_freq(&Term::from_field_text(field, text))?);
    }
    Ok(df)
}

fn top_k(mut terms: Vec<WeightedTerm>, k: usize) -> Vec<WeightedTerm> {
    terms.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.text.cmp(&b.text))
    });
    terms.truncate(k);
    terms
}

fn scale(mut terms: Vec<WeightedTerm>, max: f32) -> Vec<WeightedTerm> {
    let max = max.max(f32::EPSILON);
    terms.iter_mut().for_each(|t| t.weight /= max);
    terms
}

/// One kana, Latin letter or digit: particles the analyzer let through,
/// initials, list numbers. One kanji (市, 町, 森) can carry meaning and is
/// left to idf.
fn is_stop_like(text: &str) -> bool {
    let mut chars = text.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return text.chars().all(|c| c.is_ascii_digit());
    };
    c.is_ascii_alphanumeric() || matches!(c, '\u{3041}'..='\u{30FF}')
}

fn push_term(should: &mut Vec<(Occur, Box<dyn Query>)>, field: Field, text: &str, boost: f32) {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    should.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
}

fn key_query(field: Field, key: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, key),
        IndexRecordOption::Basic,
    ))
}

fn any_term(field: Field, values: &[&str]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        values
            .iter()
            .map(|v| (Occur::Should, key_query(field, v)))
            .collect(),
    ))
}

/// Filters for matching `src` against records of type `target`.
pub(crate) fn match_filters(f: &Fields, src: &Document, target: DocType) -> Vec<Box<dyn Query>> {
    let mut out = vec![key_query(f.doc_type, target.as_str())];
    match target {
        DocType::Offer => {
            out.push(key_query(f.status, "active"));
            // Offers whose regions cover the need's municipality.
            let mut regions: Vec<String> = Vec::new();
            for m in &src.municipality_codes {
                for r in covering_regions(m) {
                    if !regions.contains(&r) {
                        regions.push(r);
                    }
                }
            }
            if !regions.is_empty() {
                let refs: Vec<&str> = regions.iter().map(String::as_str).collect();
                out.push(any_term(f.municipality, &refs));
            }
            if !src.partner_kinds_wanted.is_empty() {
                let kinds: Vec<&str> = src
                    .partner_kinds_wanted
                    .iter()
                    .map(String::as_str)
                    .collect();
                out.push(any_term(f.partner_kind, &kinds));
            }
        }
        DocType::Need | DocType::Proposal => {
            out.push(key_query(f.status, "open"));
            out.push(key_query(f.visibility, "public"));
            // Needs located where the offer serves, unless it serves everywhere.
            if !src.municipality_codes.is_empty()
                && !src.municipality_codes.iter().any(|r| r == NATIONWIDE)
            {
                let mut places: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for r in &src.municipality_codes {
                    let field = if is_prefecture(r) {
                        f.prefecture
                    } else {
                        f.municipality
                    };
                    places.push((Occur::Should, key_query(field, r)));
                }
                out.push(Box::new(BooleanQuery::new(places)));
            }
            if let Some(kind) = &src.partner_kind {
                out.push(any_term(f.partner_kind_wanted, &[kind, ANY_PARTNER_KIND]));
            }
        }
    }
    out
}

/// For each hit, which of `terms` occur in its title or body, read from the
/// postings (no re-analysis of the hit's text).
fn term_presence(
    searcher: &Searcher,
    f: &Fields,
    terms: &[WeightedTerm],
    hits: &[DocAddress],
) -> Result<Vec<Vec<bool>>> {
    let mut out = vec![vec![false; terms.len()]; hits.len()];
    let mut by_segment: BTreeMap<u32, Vec<(DocId, usize)>> = BTreeMap::new();
    for (i, a) in hits.iter().enumerate() {
        by_segment
            .entry(a.segment_ord)
            .or_default()
            .push((a.doc_id, i));
    }
    for (segment, mut docs) in by_segment {
        docs.sort_unstable();
        let reader = searcher.segment_reader(segment);
        for field in [f.title_ja, f.body_ja] {
            let inverted = reader.inverted_index(field)?;
            for (ti, t) in terms.iter().enumerate() {
                let term = Term::from_field_text(field, &t.text);
                let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                for &(doc, hi) in &docs {
                    if postings.doc() == TERMINATED {
                        break;
                    }
                    if postings.doc() <= doc
                        && postings.seek(doc) == doc
                        && let Some(present) = out.get_mut(hi).and_then(|row| row.get_mut(ti))
                    {
                        // Always there: `hi` enumerates `hits`, `ti` `terms`.
                        *present = true;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Whether the hit carries one of the source's policy fields.
fn shares_policy_field(
    searcher: &Searcher,
    f: &Fields,
    addr: DocAddress,
    wanted: &[String],
) -> Result<bool> {
    if wanted.is_empty() {
        return Ok(false);
    }
    let reader = searcher.segment_reader(addr.segment_ord);
    let inverted = reader.inverted_index(f.policy_field)?;
    for p in wanted {
        let term = Term::from_field_text(f.policy_field, p);
        if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
            // A fresh cursor starts on its first document; seeking backwards is not
            // allowed, and a first document past ours means ours is not there.
            && postings.doc() <= addr.doc_id
            && postings.seek(addr.doc_id) == addr.doc_id
        {
            return Ok(true);
        }
    }
    Ok(false)
}
