//! Tests over a real index (tempdir or memory) with the shared dictionary.

mod index_lifecycle;
mod matching_quality;
mod search_behaviour;

use crate::analysis::test_support::analyzers;
use crate::document::{DocType, Document};
use crate::index::{SearchIndex, WriterOptions};

pub(crate) fn doc(doc_type: DocType, id: i64, title: &str, body: &str) -> Document {
    Document {
        doc_type,
        id,
        title: title.to_string(),
        body: body.to_string(),
        policy_fields: vec!["safety".into()],
        municipality_codes: vec!["281000".into()],
        zone: None,
        partner_kind: (doc_type == DocType::Offer).then(|| "company".to_string()),
        partner_kinds_wanted: Vec::new(),
        status: if doc_type == DocType::Offer {
            "active"
        } else {
            "open"
        }
        .into(),
        visibility: "public".into(),
        department_id: None,
        owner_id: None,
        updated_at_unix: id,
    }
}

pub(crate) fn memory_index(docs: &[Document]) -> SearchIndex {
    let index = SearchIndex::in_memory(analyzers()).unwrap();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    for d in docs {
        w.upsert(d).unwrap();
    }
    w.commit().unwrap();
    index
}
