//! A small cache of whole search results, valid for one searcher generation.
//!
//! The same searches come again and again (the load run's 1,000 queries, a portal's
//! popular words), and a common word costs milliseconds of scoring, counting and
//! faceting however often it is asked. Groonga's `select`, the peer of the load run,
//! caches its results the same way by default (the last 100 commands, dropped on any
//! change). An entry is the engine's answer to one exact request (query, types,
//! filters including the caller's visibility scope, limit, cursor) and holds only
//! what the index says; the service still reads every hit back from the database
//! through its visibility rule, so a cached page never shows a record the caller may
//! not see now. Any commit makes a new searcher generation, and the first lookup
//! under it drops every entry, so results are never older than the index.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::search::SearchResults;

/// Entries kept; the least recently used goes first. An entry is a page of at most
/// 100 hits with snippets and the facet counts: tens of kilobytes at most.
pub const RESULTS_CACHE_ENTRIES: usize = 256;

#[derive(Default)]
struct State {
    generation: u64,
    tick: u64,
    entries: HashMap<String, (u64, SearchResults)>,
}

/// See the module comment.
#[derive(Default)]
pub(crate) struct ResultsCache {
    state: Mutex<State>,
}

impl ResultsCache {
    /// The results cached for `key` under searcher `generation`.
    pub(crate) fn get(&self, generation: u64, key: &str) -> Option<SearchResults> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.generation != generation {
            s.entries.clear();
            s.generation = generation;
            return None;
        }
        s.tick += 1;
        let tick = s.tick;
        let (used, results) = s.entries.get_mut(key)?;
        *used = tick;
        Some(results.clone())
    }

    /// Remembers `results` for `key` under `generation` (ignored when the cache has
    /// moved on to a newer generation meanwhile).
    pub(crate) fn put(&self, generation: u64, key: String, results: &SearchResults) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.generation != generation {
            if generation < s.generation {
                return;
            }
            s.entries.clear();
            s.generation = generation;
        }
        if s.entries.len() >= RESULTS_CACHE_ENTRIES && !s.entries.contains_key(&key) {
            let oldest = s
                .entries
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                s.entries.remove(&k);
            }
        }
        s.tick += 1;
        let tick = s.tick;
        s.entries.insert(key, (tick, results.clone()));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(total: usize) -> SearchResults {
        SearchResults {
            total,
            hits: Vec::new(),
            facets: Default::default(),
            next_cursor: None,
        }
    }

    #[test]
    fn entries_live_for_one_generation() {
        let c = ResultsCache::default();
        c.put(1, "a".into(), &results(1));
        assert_eq!(c.get(1, "a").map(|r| r.total), Some(1));
        assert!(c.get(1, "b").is_none());
        // A newer generation drops everything.
        assert!(c.get(2, "a").is_none());
        assert_eq!(c.len(), 0);
        // A result computed on an older searcher is not kept.
        c.put(1, "a".into(), &results(1));
        assert!(c.get(2, "a").is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn least_recently_used_goes_first() {
        let c = ResultsCache::default();
        for i in 0..RESULTS_CACHE_ENTRIES {
            c.put(1, format!("k{i}"), &results(i));
        }
        // k0 used again: k1 is now the oldest.
        assert!(c.get(1, "k0").is_some());
        c.put(1, "new".into(), &results(0));
        assert_eq!(c.len(), RESULTS_CACHE_ENTRIES);
        assert!(c.get(1, "k0").is_some());
        assert!(c.get(1, "k1").is_none());
        assert!(c.get(1, "new").is_some());
    }
}
