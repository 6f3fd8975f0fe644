//! Warming an opened index before it serves, so the first searches after a start
//! do not pay for cold files: the load run's first query took 3.5 s (28 s on a busy
//! machine) while the index's files were read in by page faults, and the latency
//! tail of the whole run came from the requests queued behind it.

use std::io::Read;

use crate::error::Result;
use crate::index::SearchIndex;
use crate::search::SearchRequest;

/// Queries run once to exercise the query analysis, scoring and snippets: a word in
/// most records, and two words (a phrase on the bigram fields).
const WARM_QUERIES: [&str; 2] = ["市", "地域 活性化"];

impl SearchIndex {
    /// Reads what searches touch: every file of the index directory once (into the
    /// operating system's page cache), each segment's term dictionaries, fast fields
    /// and facet column, and a few searches. Returns the bytes of files read.
    pub fn warm(&self) -> Result<u64> {
        let mut bytes = 0u64;
        if let Some(dir) = self.dir() {
            let mut buf = vec![0u8; 1 << 20];
            for entry in std::fs::read_dir(dir)?.flatten() {
                let path = entry.path();
                if !path.is_file() {
                    continue;
                }
                // A file removed meanwhile (a merge) is simply not warmed.
                let Ok(mut file) = std::fs::File::open(&path) else {
                    continue;
                };
                while let Ok(n) = file.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    bytes += n as u64;
                }
            }
        }
        let searcher = self.searcher();
        let f = self.fields();
        for segment in searcher.segment_readers() {
            for field in [
                f.title_ja,
                f.body_ja,
                f.title_bi,
                f.body_bi,
                f.doc_type,
                f.policy_field,
                f.municipality,
                f.prefecture,
                f.zone,
                f.partner_kind,
                f.partner_kind_wanted,
                f.status,
                f.visibility,
            ] {
                segment.inverted_index(field)?;
            }
            let ff = segment.fast_fields();
            ff.u64("kind")?;
            ff.i64("id")?;
            ff.i64("updated_at")?;
            segment.facet_reader("facet")?;
        }
        for query in WARM_QUERIES {
            self.search(&SearchRequest {
                query: query.into(),
                limit: 10,
                ..Default::default()
            })?;
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::test_support::analyzers;
    use crate::document::DocType;
    use crate::index::{SearchIndex, WriterOptions};
    use crate::search::SearchRequest;
    use crate::tests::doc;

    #[test]
    fn warming_reads_the_files_and_leaves_the_index_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = SearchIndex::open_or_create(dir.path(), analyzers()).unwrap();
        // An empty index warms too.
        index.warm().unwrap();
        let mut w = index.writer(WriterOptions::default()).unwrap();
        w.upsert(&doc(DocType::Need, 1, "地域の防災", "市の避難所"))
            .unwrap();
        w.commit().unwrap();
        let bytes = index.warm().unwrap();
        assert!(bytes > 0);
        let r = index
            .search(&SearchRequest {
                query: "防災".into(),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.total, 1);
        // In memory there are no files, and warming still works.
        let memory = SearchIndex::in_memory(analyzers()).unwrap();
        assert_eq!(memory.warm().unwrap(), 0);
    }
}
