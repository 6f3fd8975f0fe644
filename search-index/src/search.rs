//! Search: text query + filters + visibility rule → ranked hits with
//! highlighted snippets, exact total, facet counts and a cursor.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::document::{ANY_PARTNER_KIND, DocType};
use crate::error::Result;
use crate::fingerprint::fnv1a64;
use crate::highlight::Highlighter;
use crate::index::SearchIndex;
use crate::query::{self, QueryError};
use crate::region::{NATIONWIDE, covering_regions, is_prefecture};
use crate::schema::{FACETS, Fields};

/// Most hits per page.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset a cursor may reach; past it, refine the query.
pub const MAX_OFFSET: usize = 10_000;
/// Longest snippet of a title, in bytes of the original text (what tantivy's
/// snippet generator measured before [`crate::highlight`]; about 66 Japanese
/// characters). A field without a match shows this many characters instead.
const TITLE_SNIPPET_BYTES: usize = 200;
/// Longest snippet of a body, as [`TITLE_SNIPPET_BYTES`] (about 53 Japanese characters).
const BODY_SNIPPET_BYTES: usize = 160;

/// Which non-public records a searcher may see.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisibilityScope {
    /// Outsiders, partners: public records only.
    #[default]
    PublicOnly,
    /// Staff of one municipality: public records plus that municipality's
    /// internal ones (never another municipality's).
    PublicPlusInternalOf(String),
}

/// Filters; every set filter must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    pub policy_field: Option<String>,
    /// A municipality or prefecture code. Needs match their own municipality
    /// (or any in the prefecture); offers match when a region covers it:
    /// the code itself, its prefecture, or nationwide.
    pub municipality: Option<String>,
    pub zone: Option<String>,
    /// Offers of this partner kind, and needs that want it (or any kind).
    pub partner_kind: Option<String>,
    /// Any of these statuses (empty: any status).
    pub status: Vec<String>,
    pub department_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub visibility: VisibilityScope,
}

/// One search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    /// Empty: all types.
    pub doc_types: Vec<DocType>,
    pub filters: Filters,
    /// 1..=100.
    pub limit: usize,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hit {
    pub doc_type: DocType,
    pub id: i64,
    pub score: f32,
    /// HTML: matches in `<mark>`, everything else escaped.
    pub title_snippet: String,
    pub body_snippet: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchResults {
    /// Exact number of matching records.
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Facet name → (value, count), most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
    pub next_cursor: Option<String>,
}

impl SearchIndex {
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(QueryError::BadLimit { max: MAX_LIMIT }.into());
        }
        let checksum = request_checksum(req);
        let offset = match &req.cursor {
            Some(c) => decode_cursor(c, checksum)?,
            None => 0,
        };
        let searcher = self.searcher();
        let generation = searcher.generation().generation_id();
        // Every field of the request decides the page, so all of it is the key.
        let key = serde_json::to_string(req)?;
        if let Some(cached) = self.results_cache().get(generation, &key) {
            return Ok(cached);
        }
        let results = self.search_uncached(req, &searcher, checksum, offset)?;
        self.results_cache().put(generation, key, &results);
        Ok(results)
    }

    /// The search itself, on `searcher`, from `offset` (the cursor's).
    fn search_uncached(
        &self,
        req: &SearchRequest,
        searcher: &Searcher,
        checksum: u64,
        offset: usize,
    ) -> Result<SearchResults> {
        let f = self.fields();
        let text = query::build(&req.query, self.analyzers(), f)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text.query.box_clone())];
        for filter in filter_clauses(f, &req.doc_types, &req.filters) {
            // Filters decide membership only; scoring stays with the text.
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let full = BooleanQuery::new(clauses);
        let mut facet_collector = FacetCollector::for_field("facet");
        for name in FACETS {
            facet_collector.add_facet(format!("/{name}").as_str());
        }
        let top = TopDocs::with_limit(req.limit).and_offset(offset);
        let sentence = text.ranked && crate::matching::is_sentence(&text.parsed, self.analyzers());
        let (scored, total, facet_counts): (Vec<(f32, DocAddress)>, usize, _) = if sentence {
            // A pasted sentence: ranked any-term (see `sentence_page`).
            let page = self.sentence_page(
                searcher,
                &text,
                filter_clauses(f, &req.doc_types, &req.filters),
                offset,
                req.limit,
                facet_collector,
            )?;
            (page.hits, page.total, page.facets)
        } else if text.ranked {
            searcher.search(&full, &(top.order_by_score(), Count, facet_collector))?
        } else {
            let (newest, total, facets) = searcher.search(
                &full,
                &(
                    top.order_by_fast_field::<i64>("updated_at", Order::Desc),
                    Count,
                    facet_collector,
                ),
            )?;
            (
                newest.into_iter().map(|(_, a)| (0.0, a)).collect(),
                total,
                facets,
            )
        };

        let snippets = Highlighter::new(self.analyzers(), &text.parsed);
        let mut hits = Vec::with_capacity(scored.len());
        let mut identities = Identities::new(searcher);
        for (score, addr) in scored {
            let (doc_type, id) = identities.read(addr)?;
            let stored: TantivyDocument = searcher.doc(addr)?;
            let title = stored_text(&stored, f.title_ja);
            let body = stored_text(&stored, f.body_ja);
            hits.push(Hit {
                doc_type,
                id,
                score,
                title_snippet: snippets.snippet(title, TITLE_SNIPPET_BYTES, TITLE_SNIPPET_BYTES),
                body_snippet: snippets.snippet(body, BODY_SNIPPET_BYTES, BODY_SNIPPET_BYTES),
            });
        }

        let mut facets = BTreeMap::new();
        for name in FACETS {
            let mut values: Vec<(String, u64)> = facet_counts
                .get(format!("/{name}").as_str())
                .filter_map(|(facet, count)| {
                    facet
                        .to_path()
                        .last()
                        .map(|value| (value.to_string(), count))
                })
                .collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            facets.insert(name.to_string(), values);
        }

        let next = offset + hits.len();
        let next_cursor = (next < total && next < MAX_OFFSET && !hits.is_empty())
            .then(|| encode_cursor(next, checksum));
        Ok(SearchResults {
            total,
            hits,
            facets,
            next_cursor,
        })
    }
}

impl SearchIndex {
    /// The ids of the records of `doc_type` (in `municipality` and of `owner_id`, when
    /// given) whose text matches `query`, best first, at most `cap` of them, with the
    /// number that matched.
    ///
    /// For lists the caller filters, orders and pages itself (the staff inbox): the index
    /// answers only "which records say this", so it applies no visibility rule; the
    /// caller must read the ids back through its own permissions.
    pub fn matching_ids(
        &self,
        query: &str,
        doc_type: DocType,
        municipality: Option<&str>,
        owner_id: Option<i64>,
        cap: usize,
    ) -> Result<(Vec<i64>, usize)> {
        let f = self.fields();
        let text = query::build(query, self.analyzers(), f)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, text.query.box_clone()),
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    term_query(f.doc_type, doc_type.as_str()),
                    0.0,
                )),
            ),
        ];
        if let Some(code) = municipality {
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(term_query(f.municipality, code), 0.0)),
            ));
        }
        if let Some(o) = owner_id {
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_i64(f.owner, o),
                        IndexRecordOption::Basic,
                    )),
                    0.0,
                )),
            ));
        }
        let searcher = self.searcher();
        let (top, total): (Vec<(f32, DocAddress)>, usize) = searcher.search(
            &BooleanQuery::new(clauses),
            &(TopDocs::with_limit(cap.max(1)).order_by_score(), Count),
        )?;
        let mut identities = Identities::new(&searcher);
        let mut ids = Vec::with_capacity(top.len());
        for (_, addr) in top {
            ids.push(identities.read(addr)?.1);
        }
        Ok((ids, total))
    }
}

/// The doc type and id of a hit, from fast fields (no document load).
/// Reads hits' type and id from the fast fields, opening each segment's two
/// columns once per search rather than once per hit (opening a column was a
/// visible share of a fast query).
pub(crate) struct Identities<'a> {
    searcher: &'a Searcher,
    columns: Vec<Option<(Column<u64>, Column<i64>)>>,
}

impl<'a> Identities<'a> {
    pub(crate) fn new(searcher: &'a Searcher) -> Identities<'a> {
        Identities {
            searcher,
            columns: vec![None; searcher.segment_readers().len()],
        }
    }

    pub(crate) fn read(&mut self, addr: DocAddress) -> Result<(DocType, i64)> {
        // An address from another searcher could name a segment this one
        // lacks; checking here also keeps `segment_reader` from panicking.
        let Some(slot) = self.columns.get_mut(addr.segment_ord as usize) else {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "no segment #{} in this searcher",
                addr.segment_ord
            ))
            .into());
        };
        let (kind, id) = match slot {
            Some(columns) => columns,
            None => {
                let ff = self.searcher.segment_reader(addr.segment_ord).fast_fields();
                slot.insert((ff.u64("kind")?, ff.i64("id")?))
            }
        };
        let kind = kind.first(addr.doc_id).unwrap_or(0);
        let id = id.first(addr.doc_id).unwrap_or(0);
        Ok((DocType::from_code(kind).unwrap_or(DocType::Need), id))
    }
}

pub(crate) fn stored_text(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("")
}

fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// The filter clauses of a request (each must match).
pub(crate) fn filter_clauses(
    f: &Fields,
    doc_types: &[DocType],
    filters: &Filters,
) -> Vec<Box<dyn Query>> {
    let mut out: Vec<Box<dyn Query>> = Vec::new();
    if !doc_types.is_empty() {
        out.push(any_of(
            doc_types
                .iter()
                .map(|t| term_query(f.doc_type, t.as_str()))
                .collect(),
        ));
    }
    if let Some(p) = &filters.policy_field {
        out.push(term_query(f.policy_field, p));
    }
    if let Some(m) = &filters.municipality {
        out.push(municipality_filter(f, m));
    }
    if let Some(z) = &filters.zone {
        out.push(term_query(f.zone, z));
    }
    if let Some(k) = &filters.partner_kind {
        out.push(any_of(vec![
            term_query(f.partner_kind, k),
            term_query(f.partner_kind_wanted, k),
            term_query(f.partner_kind_wanted, ANY_PARTNER_KIND),
        ]));
    }
    if !filters.status.is_empty() {
        out.push(any_of(
            filters
                .status
                .iter()
                .map(|s| term_query(f.status, s))
                .collect(),
        ));
    }
    if let Some(d) = filters.department_id {
        out.push(Box::new(TermQuery::new(
            Term::from_field_i64(f.department, d),
            IndexRecordOption::Basic,
        )));
    }
    if let Some(o) = filters.owner_id {
        out.push(Box::new(TermQuery::new(
            Term::from_field_i64(f.owner, o),
            IndexRecordOption::Basic,
        )));
    }
    out.push(visibility_filter(f, &filters.visibility));
    out
}

/// Records located in or serving `code` (see [`Filters::municipality`]).
pub(crate) fn municipality_filter(f: &Fields, code: &str) -> Box<dyn Query> {
    if is_prefecture(code) {
        any_of(vec![
            term_query(f.municipality, code),
            term_query(f.municipality, NATIONWIDE),
            term_query(f.prefecture, code),
        ])
    } else {
        any_of(
            covering_regions(code)
                .iter()
                .map(|r| term_query(f.municipality, r))
                .collect(),
        )
    }
}

fn visibility_filter(f: &Fields, scope: &VisibilityScope) -> Box<dyn Query> {
    let public = term_query(f.visibility, "public");
    match scope {
        VisibilityScope::PublicOnly => public,
        VisibilityScope::PublicPlusInternalOf(municipality) => {
            // Exactly the municipality's own code: an internal record is
            // never shown to a neighbour through prefecture or nationwide.
            let own_internal = BooleanQuery::new(vec![
                (Occur::Must, term_query(f.visibility, "internal")),
                (Occur::Must, term_query(f.municipality, municipality)),
            ]);
            any_of(vec![public, Box::new(own_internal)])
        }
    }
}

// ---- cursors ----

/// Binds a cursor to the search it came from (everything but the page).
fn request_checksum(req: &SearchRequest) -> u64 {
    let filters = serde_json::to_vec(&req.filters).unwrap_or_default();
    let types: Vec<&str> = req.doc_types.iter().map(|t| t.as_str()).collect();
    fnv1a64(&[
        req.query.trim().as_bytes(),
        types.join(",").as_bytes(),
        &filters,
    ])
}

fn encode_cursor(offset: usize, checksum: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{offset}.{checksum:016x}"))
}

fn decode_cursor(cursor: &str, checksum: u64) -> Result<usize, QueryError> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| QueryError::BadCursor)?;
    let raw = String::from_utf8(raw).map_err(|_| QueryError::BadCursor)?;
    let (offset, sum) = raw.split_once('.').ok_or(QueryError::BadCursor)?;
    let offset: usize = offset.parse().map_err(|_| QueryError::BadCursor)?;
    if sum != format!("{checksum:016x}") || offset > MAX_OFFSET {
        return Err(QueryError::BadCursor);
    }
    Ok(offset)
}
