//! A scoring union ("any of these clauses", scores summed) that stays lazy
//! inside an intersection.
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
//! Matches and scores are those of the equivalent `BooleanQuery` of
//! should-clauses: a document matches when any clause does; its score is
//! the sum of the matching clauses' scores.

use tantivy::query::{EnableScoring, EmptyScorer, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED, TantivyError, Term};

/// Any of `clauses` must match; scores add up.
#[derive(Debug)]
pub struct AnyOfQuery {
    clauses: Vec<Box<dyn Query>>,
}

impl Clone for AnyOfQuery {
    fn clone(&self) -> Self {
        AnyOfQuery {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl AnyOfQuery {
    pub fn new(clauses: Vec<Box<dyn Query>>) -> AnyOfQuery {
        AnyOfQuery { clauses }
    }
}

impl Query for AnyOfQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|q| q.weight(enable_scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(AnyOfWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.clauses {
            q.query_terms(visitor);
        }
    }
}

struct AnyOfWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut children = Vec::with_capacity(self.weights.len());
        for w in &self.weights {
            let s = w.scorer(reader, boost)?;
            if s.doc() != TERMINATED {
                children.push(Child {
                    scorer: s,
                    lower_bound: None,
                });
            }
        }
        Ok(match children.len() {
            0 => Box::new(EmptyScorer),
            1 => children.pop().map(|c| c.scorer).unwrap_or_else(|| Box::new(EmptyScorer)),
            _ => {
                let doc = children
                    .iter()
                    .map(|c| c.scorer.doc())
                    .min()
                    .unwrap_or(TERMINATED);
                Box::new(AnyOfScorer { children, doc })
            }
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        let mut explanation = Explanation::new("any of (sum of matching clauses)", scorer.score());
        for w in &self.weights {
            if let Ok(child) = w.explain(reader, doc) {
                explanation.add_detail(child);
            }
        }
        Ok(explanation)
    }
}

struct Child {
    scorer: Box<dyn Scorer>,
    /// `Some(bound)` after `seek_danger` missed: the scorer's state is
    /// undefined, it has no document below `bound`, and it may only be
    /// moved by `seek_danger` until that returns `Found`.
    lower_bound: Option<DocId>,
}

impl Child {
    /// The next document ≥ `target`, leaving the child in a valid state.
    fn seek(&mut self, target: DocId) -> DocId {
        match self.lower_bound {
            None => {
                if self.scorer.doc() < target {
                    self.scorer.seek(target)
                } else {
                    self.scorer.doc()
                }
            }
            Some(bound) => {
                let mut t = target.max(bound);
                loop {
                    if t >= TERMINATED {
                        // Exhausted: nothing more to find, ever.
                        self.lower_bound = Some(TERMINATED);
                        return TERMINATED;
                    }
                    match self.scorer.seek_danger(t) {
                        SeekDangerResult::Found => {
                            self.lower_bound = None;
                            return t;
                        }
                        SeekDangerResult::SeekLowerBound(b) => t = b,
                    }
                }
            }
        }
    }

    /// The current document, or the lower bound while the state is undefined.
    fn position(&self) -> DocId {
        self.lower_bound.unwrap_or_else(|| self.scorer.doc())
    }

    fn is_on(&self, doc: DocId) -> bool {
        self.lower_bound.is_none() && self.scorer.doc() == doc
    }
}

struct AnyOfScorer {
    children: Vec<Child>,
    doc: DocId,
}

impl AnyOfScorer {
    /// Bring every child to its first document ≥ `target` (valid states).
    fn seek_all(&mut self, target: DocId) -> DocId {
        let mut doc = TERMINATED;
        for c in &mut self.children {
            doc = doc.min(c.seek(target));
        }
        self.doc = doc;
        doc
    }
}

impl DocSet for AnyOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let target = self.doc + 1;
        self.seek_all(target)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        // Children left undefined by a successful `seek_danger` have no
        // document at or below `self.doc`; `advance` settles them.
        if self.doc >= target {
            return self.doc;
        }
        self.seek_all(target)
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        let mut found = false;
        let mut bound = TERMINATED;
        for c in &mut self.children {
            let at = c.position();
            if at > target || (at == target && c.lower_bound.is_none()) {
                found |= at == target;
                bound = bound.min(at);
                continue;
            }
            match c.scorer.seek_danger(target) {
                SeekDangerResult::Found => {
                    c.lower_bound = None;
                    found = true;
                }
                SeekDangerResult::SeekLowerBound(b) => {
                    c.lower_bound = Some(b);
                    bound = bound.min(b);
                }
            }
        }
        if found {
            self.doc = target;
            SeekDangerResult::Found
        } else {
            SeekDangerResult::SeekLowerBound(bound)
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.children
            .iter()
            .map(|c| c.scorer.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.children.iter().map(|c| c.scorer.cost()).sum()
    }
}

impl Scorer for AnyOfScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        let mut score = 0.0;
        for c in &mut self.children {
            if c.is_on(doc) {
                score += c.scorer.score();
            }
        }
        score
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, DocSetCollector};
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
        let mut w = index.writer_for_tests().unwrap();
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
                Box::new(BooleanQuery::intersection(vec![Box::new(any_x()), t(a, "y")])),
                Box::new(BooleanQuery::intersection(vec![Box::new(bool_x()), t(a, "y")])),
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
}
