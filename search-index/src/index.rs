//! Opening the index directory (or recreating it), the reader, and the one
//! writer.
//!
//! The index is derived data: when its directory is missing, damaged, of an
//! older schema or analysed differently, it is wiped and recreated empty, and
//! [`OpenOutcome`] tells the service to refill it from its database. A marker
//! file (`kyoso-schema.json`) records the schema version and the analysis.
//!
//! Each commit carries the service's "last applied change id" in its payload,
//! so after a crash the service resumes its change log from
//! [`SearchIndex::checkpoint`] instead of reindexing everything.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::schema::Term;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument};

use crate::analysis::{AnalysisMode, Analyzers};
use crate::document::{DocType, Document};
use crate::error::Result;
use crate::results_cache::ResultsCache;
use crate::schema::{Fields, SCHEMA_VERSION, build_schema};

/// Name of the marker file in the index directory.
pub const MARKER_FILE: &str = "kyoso-schema.json";

/// Default heap of the index writer.
pub const DEFAULT_WRITER_HEAP_BYTES: usize = 50_000_000;

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    schema_version: u32,
    analysis_mode: AnalysisMode,
    analysis_id: String,
}

/// What [`SearchIndex::open_or_create`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenOutcome {
    /// There was no index; a new empty one was created. Fill it.
    Created,
    /// The existing index was opened; resume from [`SearchIndex::checkpoint`].
    Opened,
    /// The directory held an unusable index, now replaced by an empty one. Fill it.
    RebuiltBecause(RebuildReason),
}

impl OpenOutcome {
    /// True when the service must (re)index everything from its database.
    pub fn needs_full_reindex(&self) -> bool {
        !matches!(self, OpenOutcome::Opened)
    }
}

/// Why an existing directory was wiped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RebuildReason {
    /// Files but no (readable) marker: not an index this code wrote.
    MarkerMissing,
    /// The marker or tantivy's files could not be read.
    Corrupt(String),
    /// Written by another schema version.
    OldSchema { found: u32, expected: u32 },
    /// Analysed differently (dictionary appeared/disappeared, user dictionary changed).
    AnalysisChanged { found: String, expected: String },
}

impl fmt::Display for RebuildReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebuildReason::MarkerMissing => write!(f, "index marker missing"),
            RebuildReason::Corrupt(why) => write!(f, "index corrupt: {why}"),
            RebuildReason::OldSchema { found, expected } => {
                write!(f, "schema version {found}, expected {expected}")
            }
            RebuildReason::AnalysisChanged { found, expected } => {
                write!(f, "analysis changed from {found} to {expected}")
            }
        }
    }
}

/// Writer settings.
#[derive(Clone, Copy, Debug)]
pub struct WriterOptions {
    /// Total indexing heap, split between threads (≥ 15 MB per thread).
    pub heap_bytes: usize,
    pub threads: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            heap_bytes: DEFAULT_WRITER_HEAP_BYTES,
            threads: 1,
        }
    }
}

/// The open index: search from any thread, write through one [`Writer`].
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzers: Analyzers,
    dir: Option<PathBuf>,
    results: ResultsCache,
}

impl SearchIndex {
    /// Open the index in `dir`, creating or recreating it as needed.
    pub fn open_or_create(dir: &Path, analyzers: &Analyzers) -> Result<(SearchIndex, OpenOutcome)> {
        if !dir.exists() || fs::read_dir(dir)?.next().is_none() {
            fs::create_dir_all(dir)?;
            return Ok((Self::create(dir, analyzers)?, OpenOutcome::Created));
        }
        let reason = match Self::try_open(dir, analyzers) {
            Ok(index) => return Ok((index, OpenOutcome::Opened)),
            Err(reason) => reason,
        };
        log::warn!("search index in {} is rebuilt: {reason}", dir.display());
        wipe(dir)?;
        Ok((
            Self::create(dir, analyzers)?,
            OpenOutcome::RebuiltBecause(reason),
        ))
    }

    /// A fresh index in memory (evaluation, tests).
    pub fn in_memory(analyzers: &Analyzers) -> Result<SearchIndex> {
        let index = Index::create_in_ram(build_schema());
        Self::wrap(index, analyzers, None)
    }

    fn create(dir: &Path, analyzers: &Analyzers) -> Result<SearchIndex> {
        let index = Index::create_in_dir(dir, build_schema())?;
        let marker = Marker {
            schema_version: SCHEMA_VERSION,
            analysis_mode: analyzers.mode(),
            analysis_id: analyzers.analysis_id(),
        };
        // Written after tantivy's files: a crash in between leaves no marker,
        // which the next start treats as "rebuild".
        let tmp = dir.join(format!("{MARKER_FILE}.tmp"));
        fs::write(&tmp, serde_json::to_vec_pretty(&marker)?)?;
        fs::rename(&tmp, dir.join(MARKER_FILE))?;
        Self::wrap(index, analyzers, Some(dir.to_path_buf()))
    }

    fn try_open(
        dir: &Path,
        analyzers: &Analyzers,
    ) -> std::result::Result<SearchIndex, RebuildReason> {
        let raw = match fs::read(dir.join(MARKER_FILE)) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RebuildReason::MarkerMissing);
            }
            Err(e) => return Err(RebuildReason::Corrupt(e.to_string())),
        };
        let marker: Marker = serde_json::from_slice(&raw)
            .map_err(|e| RebuildReason::Corrupt(format!("marker: {e}")))?;
        if marker.schema_version != SCHEMA_VERSION {
            return Err(RebuildReason::OldSchema {
                found: marker.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        if marker.analysis_id != analyzers.analysis_id() {
            return Err(RebuildReason::AnalysisChanged {
                found: marker.analysis_id,
                expected: analyzers.analysis_id(),
            });
        }
        let corrupt = |e: &dyn fmt::Display| RebuildReason::Corrupt(e.to_string());
        let index = Index::open_in_dir(dir).map_err(|e| corrupt(&e))?;
        // Same version number but different fields means someone forgot to
        // bump SCHEMA_VERSION; rebuilding is still the safe answer.
        let found = serde_json::to_value(index.schema()).map_err(|e| corrupt(&e))?;
        let expected = serde_json::to_value(build_schema()).map_err(|e| corrupt(&e))?;
        if found != expected {
            return Err(RebuildReason::OldSchema {
                found: marker.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        let opened =
            Self::wrap(index, analyzers, Some(dir.to_path_buf())).map_err(|e| corrupt(&e))?;
        // Opening the reader loads every segment; also read the commit
        // payload, so a damaged meta.json shows up here and not later.
        opened.checkpoint().map_err(|e| corrupt(&e))?;
        Ok(opened)
    }

    fn wrap(index: Index, analyzers: &Analyzers, dir: Option<PathBuf>) -> Result<SearchIndex> {
        analyzers.register(&index);
        let fields = Fields::resolve(&index.schema())?;
        // Manual: the writer reloads right after each commit, so a change is
        // searchable as soon as commit returns, with no polling delay.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            inner: Arc::new(Inner {
                index,
                reader,
                fields,
                analyzers: analyzers.clone(),
                dir,
                results: ResultsCache::default(),
            }),
        })
    }

    /// The single writer. Keep one per index (tantivy locks the directory).
    pub fn writer(&self, options: WriterOptions) -> Result<Writer> {
        let threads = options.threads.max(1);
        let writer = self
            .inner
            .index
            .writer_with_num_threads(threads, options.heap_bytes)?;
        // Files of a commit that a crash cut off (written, but not in meta.json) are
        // removed before the first commit: tantivy counts opstamps on from meta.json,
        // so redoing the same changes names a delete file exactly as the lost commit
        // did, and creating it would fail (see the test
        // `a_commit_cut_off_by_a_crash_leaves_nothing_the_next_commit_trips_on`).
        writer.garbage_collect_files().wait()?;
        Ok(Writer {
            writer,
            fields: self.inner.fields,
            reader: self.inner.reader.clone(),
            checkpoint: self.checkpoint()?,
        })
    }

    /// Pick up the last commit (the writer does this after its own commits).
    pub fn reload(&self) -> Result<()> {
        Ok(self.inner.reader.reload()?)
    }

    /// The "last applied change id" stored with the last commit.
    pub fn checkpoint(&self) -> Result<Option<u64>> {
        let metas = self.inner.index.load_metas()?;
        Ok(metas.payload.as_deref().and_then(parse_payload))
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }

    pub fn analyzers(&self) -> &Analyzers {
        &self.inner.analyzers
    }

    /// Every document the last commit holds, as (type, id, `updated_at_unix`), sorted.
    /// Read from the fast fields, so it is cheap enough to compare a whole index with
    /// its database (the crash tests do; a consistency check could).
    pub fn inventory(&self) -> Result<Vec<(DocType, i64, i64)>> {
        let searcher = self.searcher();
        let mut out = Vec::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let (kind, id, updated) = (ff.u64("kind")?, ff.i64("id")?, ff.i64("updated_at")?);
            for doc in segment.doc_ids_alive() {
                // Every document this code writes carries all three; one without them
                // is listed as the impossible (need, 0), so a comparison reports it.
                let t = kind.first(doc).and_then(DocType::from_code);
                out.push(match (t, id.first(doc)) {
                    (Some(t), Some(id)) => (t, id, updated.first(doc).unwrap_or(0)),
                    _ => (DocType::Need, 0, 0),
                });
            }
        }
        out.sort_by_key(|(t, id, _)| (t.code(), *id));
        Ok(out)
    }

    /// The directory, or `None` for an in-memory index.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    pub(crate) fn searcher(&self) -> Searcher {
        self.inner.reader.searcher()
    }

    pub(crate) fn fields(&self) -> &Fields {
        &self.inner.fields
    }

    pub(crate) fn results_cache(&self) -> &ResultsCache {
        &self.inner.results
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    checkpoint: Option<u64>,
}

fn parse_payload(raw: &str) -> Option<u64> {
    serde_json::from_str::<Payload>(raw).ok()?.checkpoint
}

/// Remove everything inside `dir`, keeping `dir` itself (it may be a mount point).
fn wipe(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The index writer. Changes become visible at [`Writer::commit`].
pub struct Writer {
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    reader: IndexReader,
    checkpoint: Option<u64>,
}

impl Writer {
    /// Add or replace the document with the same type and id.
    pub fn upsert(&mut self, doc: &Document) -> Result<()> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, &doc.key()));
        self.writer.add_document(doc.to_tantivy(&self.fields))?;
        Ok(())
    }

    /// Add a document known not to be in the index (bulk load into an empty
    /// index): skips the delete that [`Writer::upsert`] queues.
    pub fn add_new(&mut self, doc: &Document) -> Result<()> {
        self.writer.add_document(doc.to_tantivy(&self.fields))?;
        Ok(())
    }

    pub fn delete(&mut self, doc_type: DocType, id: i64) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, &doc_type.key(id)));
    }

    /// Remove every document (before a full reindex).
    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Commit, keeping the last checkpoint, and make the changes searchable.
    pub fn commit(&mut self) -> Result<()> {
        self.commit_payload(self.checkpoint)
    }

    /// Commit and record `change_id` as the last change applied.
    pub fn commit_with_checkpoint(&mut self, change_id: u64) -> Result<()> {
        self.commit_payload(Some(change_id))
    }

    fn commit_payload(&mut self, checkpoint: Option<u64>) -> Result<()> {
        let payload = serde_json::to_string(&Payload { checkpoint })?;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.checkpoint = checkpoint;
        self.reader.reload()?;
        Ok(())
    }

    /// Drop uncommitted changes.
    pub fn rollback(&mut self) -> Result<()> {
        self.writer.rollback()?;
        Ok(())
    }

    /// Merge every committed segment into one (after a bulk load): a
    /// single segment answers queries markedly faster than several. Blocks
    /// until the merge is done; the reader sees the merged segment on return.
    pub fn merge_all(&mut self) -> Result<()> {
        let ids = self.writer.index().searchable_segment_ids()?;
        if ids.len() > 1 {
            self.writer.merge(&ids).wait()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Finish background merges (before exiting a batch job).
    pub fn wait_merging_threads(self) -> Result<()> {
        Ok(self.writer.wait_merging_threads()?)
    }
}
