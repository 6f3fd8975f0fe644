//! kyoso's search index: Japanese analysis, the tantivy schema, the writer,
//! query parsing, search with filters and facets, and need↔offer matching.
//!
//! The database is the source of truth; this index is derived from it and can
//! always be rebuilt (see [`OpenOutcome`]).
//!
//! Typical use by the service:
//! 1. `Analyzers::load(data_dir, DEFAULT_IPADIC_DIR)` once; log `status()`.
//! 2. `SearchIndex::open_or_create(dir, &analyzers)`; if the outcome
//!    `needs_full_reindex()`, refill from the database, else resume the
//!    change log after `checkpoint()`.
//! 3. One thread owns `index.writer(..)`: `upsert`/`delete`, then
//!    `commit_with_checkpoint(change_id)`; changes are searchable on return.
//! 4. Any thread: `index.search(&SearchRequest)`, `index.match_documents(&MatchRequest)`.

pub mod analysis;
pub mod bench;
pub mod document;
pub mod error;
pub mod eval;
mod fingerprint;
pub(crate) mod highlight;
pub mod index;
pub mod matching;
pub mod query;
pub mod region;
pub(crate) mod results_cache;
pub mod schema;
pub mod search;
pub(crate) mod union;
mod warm;

pub use analysis::dictionary::DEFAULT_IPADIC_DIR;
pub use analysis::{AnalysisMode, AnalysisStatus, Analyzers};
pub use document::{DocType, Document};
pub use error::{Error, Result};
pub use index::{OpenOutcome, RebuildReason, SearchIndex, Writer, WriterOptions};
pub use matching::{MatchHit, MatchRequest};
pub use query::QueryError;
pub use schema::SCHEMA_VERSION;
pub use search::{Filters, Hit, SearchRequest, SearchResults, VisibilityScope};

#[cfg(test)]
mod tests;
