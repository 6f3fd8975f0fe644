//! A scoring union ("any of these clauses") that stays lazy inside an
//! intersection, with an optional fallback tier.
//!
//! tantivy's `BooleanQuery` of should-clauses builds a `BufferedUnionScorer`,
//! which fills a window of 4,096 doc ids from every clause whenever it is
//! moved: each phrase clause then checks positions for every candidate in
//! the window, although the intersection with the query's other words only
//! asks about a few documents. This union forwards `seek_danger` to its
//! clauses instead, so a phrase clause checks positions only for the
//! documents the intersection actually proposes (tantivy's phrase scorer
//! answers `seek_danger` with one positional check).
//!
//! Clauses come in tiers. A document matches when any clause of any tier
//! matches. It is scored by the first tier with a matching clause: the sum
//! of that tier's matching clauses. A later tier's clauses are only checked
//! on documents the earlier tiers do not match, so a fallback (bigram
//! substring) phrase costs nothing on the documents the primary
//! (morphological) clauses already match. With one tier, matches and scores
//! are those of a `BooleanQuery` of should-clauses.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{
    DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED, TantivyError, Term,
};

/// Any clause of any tier must match; see the module comment for scores.
#[derive(Debug)]
pub struct AnyOfQuery {
    tiers: Vec<Vec<Box<dyn Query>>>,
}

impl Clone for AnyOfQuery {
    fn clone(&self) -> Self {
        AnyOfQuery {
            tiers: self
                .tiers
                .iter()
                .map(|t| t.iter().map(|q| q.box_clone()).collect())
                .collect(),
        }
    }
}

impl AnyOfQuery {
    /// One tier: matches and scores like a `BooleanQuery` of should-clauses.
    #[cfg(test)]
    pub fn new(clauses: Vec<Box<dyn Query>>) -> AnyOfQuery {
        AnyOfQuery {
            tiers: vec![clauses],
        }
    }

    /// `primary` scores a document when one of its clauses matches;
    /// otherwise `fallback` does.
    pub fn tiered(primary: Vec<Box<dyn Query>>, fallback: Vec<Box<dyn Query>>) -> AnyOfQuery {
        AnyOfQuery {
            tiers: vec![primary, fallback],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tiers.iter().all(Vec::is_empty)
    }
}

impl Query for AnyOfQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let mut tiers = Vec::with_capacity(self.tiers.len());
        for tier in &self.tiers {
            tiers.push(
                tier.iter()
                    .map(|q| q.weight(enable_scoring))
                    .collect::<tantivy::Result<Vec<_>>>()?,
            );
        }
        Ok(Box::new(AnyOfWeight { tiers }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in self.tiers.iter().flatten() {
            q.query_terms(visitor);
        }
    }
}

struct AnyOfWeight {
    tiers: Vec<Vec<Box<dyn Weight>>>,
}

impl AnyOfWeight {
    /// The clauses' scorers, tier by tier, created at `target` with tantivy's
    /// `scorer_danger`: a phrase then does not look for its first match up
    /// front (which reads the positions of every candidate up to it, all of
    /// them when the phrase matches nothing), but only checks what it is
    /// asked about. Clauses that match nothing are left out.
    fn children_at(
        &self,
        reader: &SegmentReader,
        target: DocId,
        boost: Score,
    ) -> tantivy::Result<Vec<Vec<Child>>> {
        let mut tiers = Vec::with_capacity(self.tiers.len());
        for tier in &self.tiers {
            let mut children = Vec::with_capacity(tier.len());
            for w in tier {
                let (found, scorer) = w.scorer_danger(reader, target, boost)?;
                let (pos, defined) = match found {
                    SeekDangerResult::Found => (target, true),
                    SeekDangerResult::SeekLowerBound(bound) => (bound, false),
                };
                if pos < TERMINATED {
                    children.push(Child {
                        scorer,
                        pos,
                        defined,
                    });
                }
            }
            if !children.is_empty() {
                tiers.push(children);
            }
        }
        Ok(tiers)
    }
}

impl Weight for AnyOfWeight {
    /// The union walked from its first match (the query alone, or leading
    /// an intersection): every clause finds its own first match, with its
    /// own `seek`, which for a phrase is faster than one probe per
    /// candidate. Inside an intersection tantivy asks for
    /// [`Weight::scorer_danger`] instead (see `children_at`).
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut tiers = Vec::with_capacity(self.tiers.len());
        let mut clauses = 0;
        for tier in &self.tiers {
            let mut children = Vec::with_capacity(tier.len());
            for w in tier {
                let scorer = w.scorer(reader, boost)?;
                let pos = scorer.doc();
                if pos != TERMINATED {
                    children.push(Child {
                        scorer,
                        pos,
                        defined: true,
                    });
                }
            }
            clauses += children.len();
            if !children.is_empty() {
                tiers.push(children);
            }
        }
        if clauses <= 1 {
            // One clause (or none): it is the union.
            return Ok(tiers
                .pop()
                .and_then(|mut tier| tier.pop())
                .map_or_else(|| Box::new(EmptyScorer) as Box<dyn Scorer>, |c| c.scorer));
        }
        let mut scorer = AnyOfScorer {
            tiers,
            doc: 0,
            scoring_tier: 0,
        };
        scorer.settle_from(0);
        Ok(Box::new(scorer))
    }

    fn scorer_danger(
        &self,
        reader: &SegmentReader,
        target: DocId,
        boost: Score,
    ) -> tantivy::Result<(SeekDangerResult, Box<dyn Scorer>)> {
        let mut tiers = self.children_at(reader, target, boost)?;
        if tiers.iter().map(Vec::len).sum::<usize>() <= 1 {
            // One clause (or none): it is the union, in the state
            // `scorer_danger` left it.
            return Ok(match tiers.pop().and_then(|mut tier| tier.pop()) {
                None => (
                    SeekDangerResult::SeekLowerBound(TERMINATED),
                    Box::new(EmptyScorer),
                ),
                Some(only) if only.defined => (SeekDangerResult::Found, only.scorer),
                Some(only) => (SeekDangerResult::SeekLowerBound(only.pos), only.scorer),
            });
        }
        let mut scorer = AnyOfScorer {
            tiers,
            doc: target,
            scoring_tier: 0,
        };
        let found = scorer.seek_danger(target);
        Ok((found, Box::new(scorer)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        let mut explanation =
            Explanation::new("first matching tier: sum of its clauses", scorer.score());
        for tier in &self.tiers {
            let mut any = false;
            for w in tier {
                if let Ok(child) = w.explain(reader, doc) {
                    explanation.add_detail(child);
                    any = true;
                }
            }
            if any {
                break;
            }
        }
        Ok(explanation)
    }
}

struct Child {
    scorer: Box<dyn Scorer>,
    /// The scorer's document while `defined`; otherwise a lower bound: after
    /// `seek_danger` missed, the scorer's state is undefined, it has no
    /// match from the missed target up to `pos` (exclusive), and it may only
    /// be moved by `seek_danger` until that returns `Found`. Kept here so
    /// the union's bookkeeping does not call into the scorer.
    pos: DocId,
    defined: bool,
}

impl Child {
    /// Where the child is: its document, or its lower bound while undefined.
    fn pos(&self) -> DocId {
        self.pos
    }

    fn is_on(&self, doc: DocId) -> bool {
        self.defined && self.pos == doc
    }

    /// Does the child match `t`? Only checks `t` (one positional check for
    /// a phrase). `t` must not be below any target the child was asked about.
    fn probe(&mut self, t: DocId) -> bool {
        if self.pos > t {
            return false;
        }
        if self.pos == t && self.defined {
            return true;
        }
        match self.scorer.seek_danger(t) {
            SeekDangerResult::Found => {
                self.pos = t;
                self.defined = true;
                true
            }
            SeekDangerResult::SeekLowerBound(b) => {
                self.pos = b;
                self.defined = false;
                false
            }
        }
    }

    /// The child's first match ≥ `t`, leaving it in a defined state
    /// (or at `TERMINATED`, reported as a lower bound).
    fn next(&mut self, t: DocId) -> DocId {
        if self.defined {
            if self.pos < t {
                self.pos = self.scorer.seek(t);
            }
            return self.pos;
        }
        let mut t = t.max(self.pos);
        while t < TERMINATED {
            if self.probe(t) {
                return t;
            }
            t = self.pos;
        }
        self.pos = TERMINATED;
        self.defined = false;
        TERMINATED
    }
}

struct AnyOfScorer {
    /// The clauses of the non-empty tiers, in order.
    tiers: Vec<Vec<Child>>,
    doc: DocId,
    /// The tier that scores `doc`.
    scoring_tier: usize,
}

impl AnyOfScorer {
    /// Move to the first match ≥ `t`: the first tier is walked with `next`,
    /// the later tiers are only probed below the first tier's next match.
    fn settle_from(&mut self, t: DocId) -> DocId {
        let Some((first, later)) = self.tiers.split_first_mut() else {
            // No clause: nothing matches (the weight never builds this).
            self.doc = TERMINATED;
            return TERMINATED;
        };
        let mut upper = TERMINATED;
        for c in first.iter_mut() {
            upper = upper.min(c.next(t));
        }
        self.doc = upper;
        self.scoring_tier = 0;
        // Later tiers: look for a match in [t, upper), smallest first.
        for (tier_no, tier) in (1..).zip(later.iter_mut()) {
            loop {
                let best = self.doc;
                // The lowest candidate of this tier below the best match so far.
                let Some((c, at)) = tier
                    .iter_mut()
                    .map(|c| {
                        let at = c.pos().max(t);
                        (c, at)
                    })
                    .filter(|&(_, at)| at < best)
                    .min_by_key(|&(_, at)| at)
                else {
                    break;
                };
                if best == TERMINATED {
                    // The earlier tiers have no match left: every later
                    // document is this tier's to find, so its clauses are
                    // walked like the first tier's (a phrase scorer's own
                    // seek finds its next match faster than one probe per
                    // candidate).
                    let doc = c.next(at);
                    if doc < self.doc {
                        self.doc = doc;
                        self.scoring_tier = tier_no;
                    }
                } else if c.probe(at) {
                    self.doc = at;
                    self.scoring_tier = tier_no;
                }
            }
        }
        if self.doc != TERMINATED && self.scoring_tier > 0 {
            // Settle every clause of the scoring tier on `doc`.
            let doc = self.doc;
            for c in self.tiers.get_mut(self.scoring_tier).into_iter().flatten() {
                c.probe(doc);
            }
        }
        self.doc
    }
}

impl DocSet for AnyOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.settle_from(self.doc + 1)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        self.settle_from(target)
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        for (tier_no, tier) in self.tiers.iter_mut().enumerate() {
            let mut found = false;
            for c in tier.iter_mut() {
                found |= c.probe(target);
            }
            if found {
                self.doc = target;
                self.scoring_tier = tier_no;
                return SeekDangerResult::Found;
            }
        }
        let bound = self
            .tiers
            .iter()
            .flatten()
            .map(Child::pos)
            .min()
            .unwrap_or(TERMINATED);
        SeekDangerResult::SeekLowerBound(bound)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.tiers
            .iter()
            .flatten()
            .map(|c| c.scorer.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.tiers.iter().flatten().map(|c| c.scorer.cost()).sum()
    }
}

impl Scorer for AnyOfScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        let mut score = 0.0;
        for c in self.tiers.get_mut(self.scoring_tier).into_iter().flatten() {
            if c.is_on(doc) {
                score += c.scorer.score();
            }
        }
        score
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, DocSetCollector, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, doc};

    use super::*;

    /// The union agrees with a `BooleanQuery` of should-clauses, alone and
    /// inside intersections (where `seek_danger` is used).
    #[test]
    fn agrees_with_boolean_should() {
        let mut sb = Schema::builder();
        let a = sb.add_text_field("a", STRING);
        let b = sb.add_text_field("b", STRING);
        let index = Index::create_in_ram(sb.build());
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..3000u32 {
            let mut d = doc!();
            for (field, m, name) in [(a, 3, "x"), (b, 7, "x"), (a, 5, "y"), (b, 11, "z")] {
                if i % m == 0 {
                    d.add_text(field, name);
                }
            }
            w.add_document(d).unwrap();
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let t = |f, s: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, s),
                IndexRecordOption::WithFreqs,
            ))
        };
        let any_x = || AnyOfQuery::new(vec![t(a, "x"), t(b, "x")]);
        let bool_x = || BooleanQuery::union(vec![t(a, "x"), t(b, "x")]);
        let cases: Vec<(Box<dyn Query>, Box<dyn Query>)> = vec![
            (Box::new(any_x()), Box::new(bool_x())),
            (
                Box::new(BooleanQuery::intersection(vec![
                    Box::new(any_x()),
                    t(a, "y"),
                ])),
                Box::new(BooleanQuery::intersection(vec![
                    Box::new(bool_x()),
                    t(a, "y"),
                ])),
            ),
            (
                Box::new(BooleanQuery::intersection(vec![
                    t(b, "z"),
                    Box::new(any_x()),
                    Box::new(AnyOfQuery::new(vec![t(a, "y"), t(b, "z")])),
                ])),
                Box::new(BooleanQuery::intersection(vec![
                    t(b, "z"),
                    Box::new(bool_x()),
                    Box::new(BooleanQuery::union(vec![t(a, "y"), t(b, "z")])),
                ])),
            ),
            (
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(any_x())),
                    (Occur::MustNot, t(a, "y")),
                ])),
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(bool_x())),
                    (Occur::MustNot, t(a, "y")),
                ])),
            ),
        ];
        for (ours, theirs) in cases {
            let got = searcher.search(&*ours, &DocSetCollector).unwrap();
            let want = searcher.search(&*theirs, &DocSetCollector).unwrap();
            assert_eq!(got, want, "{ours:?}");
            assert_eq!(
                searcher.search(&*ours, &Count).unwrap(),
                searcher.search(&*theirs, &Count).unwrap()
            );
            for addr in want.iter().take(50) {
                let x = ours.explain(&searcher, *addr).unwrap().value();
                let y = theirs.explain(&searcher, *addr).unwrap().value();
                assert!((x - y).abs() < 1e-4, "{x} vs {y}");
            }
        }
    }

    /// Phrase clauses, created lazily inside intersections
    /// (`scorer_danger`) and eagerly alone: matches, counts and scores agree
    /// with a `BooleanQuery` of should-clauses, also when a phrase matches
    /// nothing.
    #[test]
    fn phrases_lazy_and_eager_agree_with_boolean_should() {
        use tantivy::query::PhraseQuery;
        use tantivy::schema::TEXT;
        let mut sb = Schema::builder();
        let a = sb.add_text_field("a", TEXT);
        let b = sb.add_text_field("b", TEXT);
        let index = Index::create_in_ram(sb.build());
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let words = ["x", "y", "z", "q"];
        for i in 0..4000u32 {
            // A pseudo-random word sequence per field, so phrases match
            // in some documents only.
            let text = |seed: u32| {
                (0..6)
                    .map(|k| words[((i * 7 + seed * 13 + k * k * 5 + i / 3) % 4) as usize])
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let mut d = doc!();
            d.add_text(a, text(1));
            d.add_text(b, text(2));
            if i % 9 == 0 {
                d.add_text(b, "rare");
            }
            w.add_document(d).unwrap();
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let phrase = |f, x: &str, y: &str| -> Box<dyn Query> {
            Box::new(PhraseQuery::new(vec![
                Term::from_field_text(f, x),
                Term::from_field_text(f, y),
            ]))
        };
        let t = |f, s: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, s),
                IndexRecordOption::WithFreqs,
            ))
        };
        for (x, y) in [
            ("x", "y"),
            ("z", "x"),
            ("q", "q"),
            ("rare", "x"),
            ("x", "rare"),
        ] {
            let tiered = || {
                AnyOfQuery::tiered(
                    vec![phrase(a, x, y)],
                    vec![phrase(b, x, y), phrase(b, y, x)],
                )
            };
            let all =
                || BooleanQuery::union(vec![phrase(a, x, y), phrase(b, x, y), phrase(b, y, x)]);
            let cases: Vec<(Box<dyn Query>, Box<dyn Query>)> = vec![
                (Box::new(tiered()), Box::new(all())),
                (
                    Box::new(BooleanQuery::intersection(vec![
                        Box::new(tiered()),
                        t(b, "rare"),
                    ])),
                    Box::new(BooleanQuery::intersection(vec![
                        Box::new(all()),
                        t(b, "rare"),
                    ])),
                ),
                (
                    Box::new(BooleanQuery::intersection(vec![
                        t(a, "z"),
                        Box::new(tiered()),
                    ])),
                    Box::new(BooleanQuery::intersection(vec![t(a, "z"), Box::new(all())])),
                ),
                (
                    Box::new(BooleanQuery::intersection(vec![
                        Box::new(tiered()),
                        Box::new(AnyOfQuery::tiered(
                            vec![phrase(a, "y", "z")],
                            vec![phrase(b, "q", "x")],
                        )),
                    ])),
                    Box::new(BooleanQuery::intersection(vec![
                        Box::new(all()),
                        Box::new(BooleanQuery::union(vec![
                            phrase(a, "y", "z"),
                            phrase(b, "q", "x"),
                        ])),
                    ])),
                ),
            ];
            for (ours, theirs) in cases {
                let got = searcher.search(&*ours, &DocSetCollector).unwrap();
                let want = searcher.search(&*theirs, &DocSetCollector).unwrap();
                assert_eq!(got, want, "{x} {y}: {ours:?}");
                assert_eq!(searcher.search(&*ours, &Count).unwrap(), want.len());
                let top = searcher
                    .search(&*ours, &TopDocs::with_limit(50_000).order_by_score())
                    .unwrap();
                assert_eq!(top.len(), want.len());
                for (score, addr) in top.iter().take(200) {
                    let e = ours.explain(&searcher, *addr).unwrap().value();
                    assert!((score - e).abs() < 1e-4, "{addr:?}: {score} vs {e}");
                }
            }
        }
    }

    /// Tiered: matches are those of all clauses; a document is scored by
    /// the primary clauses when they match, else by the fallback ones.
    #[test]
    fn tiers_match_all_and_score_first_matching_tier() {
        let mut sb = Schema::builder();
        let a = sb.add_text_field("a", STRING);
        let b = sb.add_text_field("b", STRING);
        let index = Index::create_in_ram(sb.build());
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..5000u32 {
            let mut d = doc!();
            for (field, m, name) in [
                (a, 3, "x"),
                (b, 7, "x"),
                (a, 5, "y"),
                (b, 4, "y"),
                (a, 11, "z"),
            ] {
                if i % m == 0 {
                    d.add_text(field, name);
                }
            }
            w.add_document(d).unwrap();
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let t = |f, s: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, s),
                IndexRecordOption::WithFreqs,
            ))
        };
        let tiered = || AnyOfQuery::tiered(vec![t(a, "x")], vec![t(b, "x"), t(b, "y")]);
        let all = || BooleanQuery::union(vec![t(a, "x"), t(b, "x"), t(b, "y")]);
        let cases: Vec<(Box<dyn Query>, Box<dyn Query>)> = vec![
            (Box::new(tiered()), Box::new(all())),
            (
                Box::new(BooleanQuery::intersection(vec![
                    Box::new(tiered()),
                    t(a, "z"),
                ])),
                Box::new(BooleanQuery::intersection(vec![Box::new(all()), t(a, "z")])),
            ),
            (
                Box::new(BooleanQuery::intersection(vec![
                    t(a, "y"),
                    Box::new(tiered()),
                    Box::new(AnyOfQuery::tiered(vec![t(a, "z")], vec![t(b, "y")])),
                ])),
                Box::new(BooleanQuery::intersection(vec![
                    t(a, "y"),
                    Box::new(all()),
                    Box::new(BooleanQuery::union(vec![t(a, "z"), t(b, "y")])),
                ])),
            ),
        ];
        for (ours, theirs) in cases {
            let got = searcher.search(&*ours, &DocSetCollector).unwrap();
            let want = searcher.search(&*theirs, &DocSetCollector).unwrap();
            assert_eq!(got, want, "{ours:?}");
            assert_eq!(searcher.search(&*ours, &Count).unwrap(), want.len());
        }
        // Scores of the bare tiered query.
        let primary = t(a, "x");
        let fallback = BooleanQuery::union(vec![t(b, "x"), t(b, "y")]);
        let q = tiered();
        let top = searcher
            .search(&q, &TopDocs::with_limit(10_000).order_by_score())
            .unwrap();
        assert_eq!(top.len(), searcher.search(&all(), &Count).unwrap());
        for (score, addr) in top {
            let want = match primary.explain(&searcher, addr) {
                Ok(e) => e.value(),
                Err(_) => fallback.explain(&searcher, addr).unwrap().value(),
            };
            assert!((score - want).abs() < 1e-4, "{addr:?}: {score} vs {want}");
        }
    }
}
