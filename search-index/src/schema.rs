//! The tantivy schema: one index for needs, offers and proposals.
//!
//! Every text is indexed twice: `_ja` (morphological, stored for snippets
//! and matching) and `_bi` (bigrams, not stored). Filters use raw string
//! fields; facet counts come from one facet field holding
//! `/<facet name>/<value>` paths, so one collector counts them all.
//!
//! Bump [`SCHEMA_VERSION`] whenever fields or their options change: an index
//! with another version is rebuilt from the database.

use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};

use crate::analysis::{BIGRAM_ANALYZER, JA_ANALYZER};
use crate::error::Error;

/// Version of the schema and of what goes into it.
pub const SCHEMA_VERSION: u32 = 1;

/// Facet names, in the order results list them.
pub const FACETS: [&str; 6] = [
    "policy_field",
    "municipality",
    "zone",
    "partner_kind",
    "status",
    "doc_type",
];

/// Handles to every field, resolved once.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// "need:123": unique, used to replace and delete a document.
    pub key: Field,
    /// "need" | "offer" | "proposal", for filtering.
    pub doc_type: Field,
    /// 0 | 1 | 2, fast, to read a hit's type without loading the document.
    pub kind: Field,
    pub id: Field,
    pub title_ja: Field,
    pub body_ja: Field,
    pub title_bi: Field,
    pub body_bi: Field,
    pub policy_field: Field,
    /// A need's or proposal's municipality; an offer's regions (codes or "nationwide").
    pub municipality: Field,
    /// Prefecture codes of the values in `municipality`.
    pub prefecture: Field,
    pub zone: Field,
    /// An offer's partner kind.
    pub partner_kind: Field,
    /// A need's desired partner kinds.
    pub partner_kind_wanted: Field,
    pub status: Field,
    pub visibility: Field,
    pub department: Field,
    pub owner: Field,
    pub updated_at: Field,
    pub facet: Field,
}

fn text(analyzer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analyzer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let opts = TextOptions::default().set_indexing_options(indexing);
    if stored { opts.set_stored() } else { opts }
}

/// Build the schema.
pub fn build_schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("key", STRING | STORED);
    b.add_text_field("doc_type", STRING);
    b.add_u64_field("kind", FAST);
    b.add_i64_field("id", INDEXED | FAST | STORED);
    b.add_text_field("title_ja", text(JA_ANALYZER, true));
    b.add_text_field("body_ja", text(JA_ANALYZER, true));
    b.add_text_field("title_bi", text(BIGRAM_ANALYZER, false));
    b.add_text_field("body_bi", text(BIGRAM_ANALYZER, false));
    b.add_text_field("policy_field", STRING);
    b.add_text_field("municipality", STRING);
    b.add_text_field("prefecture", STRING);
    b.add_text_field("zone", STRING);
    b.add_text_field("partner_kind", STRING);
    b.add_text_field("partner_kind_wanted", STRING);
    b.add_text_field("status", STRING);
    b.add_text_field("visibility", STRING);
    b.add_i64_field("department", INDEXED);
    b.add_i64_field("owner", INDEXED | STORED);
    b.add_i64_field("updated_at", FAST | STORED);
    b.add_facet_field("facet", FacetOptions::default());
    b.build()
}

impl Fields {
    pub fn resolve(schema: &Schema) -> Result<Fields, Error> {
        let f = |name: &str| {
            schema
                .get_field(name)
                .map_err(|_| Error::SchemaMismatch(format!("field {name} missing")))
        };
        Ok(Fields {
            key: f("key")?,
            doc_type: f("doc_type")?,
            kind: f("kind")?,
            id: f("id")?,
            title_ja: f("title_ja")?,
            body_ja: f("body_ja")?,
            title_bi: f("title_bi")?,
            body_bi: f("body_bi")?,
            policy_field: f("policy_field")?,
            municipality: f("municipality")?,
            prefecture: f("prefecture")?,
            zone: f("zone")?,
            partner_kind: f("partner_kind")?,
            partner_kind_wanted: f("partner_kind_wanted")?,
            status: f("status")?,
            visibility: f("visibility")?,
            department: f("department")?,
            owner: f("owner")?,
            updated_at: f("updated_at")?,
            facet: f("facet")?,
        })
    }
}
