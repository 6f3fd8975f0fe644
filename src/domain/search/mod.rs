//! Search on the service side: the engine (the tantivy index with Japanese analysis,
//! derived from the database), keeping it in step with the index change log, and the
//! searches and matches the API offers.

pub mod consistency;
pub mod documents;
pub mod follow;
pub mod matches;
pub mod query;

use std::path::Path;
use std::sync::{Arc, Mutex};

use search_index::{AnalysisMode, Analyzers, OpenOutcome, SearchIndex, Writer, WriterOptions};

use crate::domain::error::{AppError, AppResult};

/// The one command that ends bigram-only search on Debian: it installs the IPADIC source
/// that [`search_index::Analyzers::load`] compiles at the next start. Named wherever the
/// degraded mode is reported (start-up banner, /readyz, the console's header).
pub const INSTALL_DICTIONARY: &str = "sudo apt-get install -y mecab-ipadic";

/// The index, its analyzers, and its one writer.
#[derive(Clone)]
pub struct SearchEngine {
    pub index: SearchIndex,
    pub analyzers: Analyzers,
    /// One writer per index: whoever applies changes (the follower thread, a rebuild,
    /// a test) takes this lock.
    writer: Arc<Mutex<Writer>>,
    /// What happened when the index was opened.
    pub opened: Arc<OpenOutcome>,
}

impl SearchEngine {
    /// Loads the analyzers (building the IPADIC dictionary into `data_dir/dict` on first
    /// use) and opens the index under `data_dir/index`, recreating it when it is missing,
    /// corrupt or of an older schema. A fresh index must then be rebuilt from the
    /// database: see [`follow::rebuild`].
    pub fn open(data_dir: &Path, ipadic_dir: &Path) -> anyhow::Result<SearchEngine> {
        let analyzers = Analyzers::load(data_dir, ipadic_dir);
        Self::open_with(&data_dir.join("index"), analyzers)
    }

    pub fn open_with(index_dir: &Path, analyzers: Analyzers) -> anyhow::Result<SearchEngine> {
        std::fs::create_dir_all(index_dir)?;
        let (index, opened) = SearchIndex::open_or_create(index_dir, &analyzers)?;
        let writer = index.writer(WriterOptions::default())?;
        Ok(SearchEngine {
            index,
            analyzers,
            writer: Arc::new(Mutex::new(writer)),
            opened: Arc::new(opened),
        })
    }

    pub fn needs_rebuild(&self) -> bool {
        self.opened.needs_full_reindex()
    }

    pub fn bigram_only(&self) -> bool {
        self.analyzers.mode() == AnalysisMode::BigramOnly
    }

    /// How the text is analysed, as /healthz and /readyz name it: `morphological`
    /// (IPADIC + bigrams) or `bigram_only` (no dictionary: search works, ranks worse).
    pub fn analysis_name(&self) -> &'static str {
        if self.bigram_only() {
            "bigram_only"
        } else {
            "morphological"
        }
    }

    pub(crate) fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Writer) -> AppResult<T>,
    ) -> AppResult<T> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut w)
    }

    /// The last change of the log the index contains.
    pub fn checkpoint(&self) -> AppResult<i64> {
        Ok(self.index.checkpoint().map_err(index_error)?.unwrap_or(0) as i64)
    }
}

/// An index failure that is not the caller's fault.
pub fn index_error(e: search_index::Error) -> AppError {
    match e {
        search_index::Error::Query(q) => AppError::field("q", q.code(), q.to_string()),
        other => AppError::internal(other),
    }
}
