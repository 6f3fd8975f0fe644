//! kyoso's search index: Japanese analysis, the tantivy schema, the writer,
//! query parsing, search with filters and facets, and need↔offer matching.
//!
//! The database is the source of truth; this index is derived from it and can
//! always be rebuilt (see [`index::OpenOutcome`]).

pub mod analysis;
mod fingerprint;

pub use analysis::{AnalysisMode, AnalysisStatus, Analyzers};
