//! The databases admit exactly the words the code knows: after migrating, every CHECK
//! list of spellings on both backends is compared with the vocabulary declared for its
//! column (`kyoso::values::vocab`). A word added to a vocabulary without its migration,
//! or a migration without its word, fails here; so does a new CHECK list on a column
//! nobody classified.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use regex::Regex;

use crate::helpers::{Backend, ScratchDir, fresh_database};
use crate::on_both_backends;
use kyoso::storage::Db;
use kyoso::storage::connection::{AnyConnection, run_migrations};
use kyoso::values::vocab::all_vocabularies;

on_both_backends!(check_lists_match_the_vocabularies);

/// Which vocabulary each column with a CHECK list of words holds.
const COLUMNS: &[(&str, &str, &str)] = &[
    ("department_policy_fields", "policy_field", "PolicyField"),
    ("needs", "policy_field", "PolicyField"),
    ("offer_policy_fields", "policy_field", "PolicyField"),
    ("proposals", "policy_field", "PolicyField"),
    ("routing_rules", "policy_field", "PolicyField"),
    ("staff_users", "role", "Role"),
    ("staff_users", "locale", "Locale"),
    ("staff_users", "status", "StaffStatus"),
    ("partners", "kind", "PartnerKind"),
    ("partners", "status", "PartnerStatus"),
    ("partners", "locale", "Locale"),
    ("need_partner_kinds", "partner_kind", "PartnerKind"),
    ("needs", "visibility", "Visibility"),
    ("needs", "status", "NeedStatus"),
    ("offers", "kind", "OfferKind"),
    ("offers", "status", "OfferStatus"),
    ("proposals", "channel", "Channel"),
    ("proposals", "state", "ProposalState"),
    ("proposals", "decline_reason_code", "DeclineReason"),
    ("proposal_events", "kind", "EventKind"),
    ("proposal_attachments", "content_kind", "AttachmentKind"),
    ("subscriptions", "delivery", "DeliveryChoice"),
    ("mail_outbox", "locale", "Locale"),
    ("mail_outbox", "status", "MailStatus"),
];

/// CHECK lists of words that are no vocabulary of the domain (internal markers).
const NOT_VOCABULARIES: &[(&str, &str)] = &[
    ("mail_outbox", "recipient_type"),
    ("mail_outbox", "delivery"),
    ("index_changes", "doc_type"),
    ("match_feedback", "verdict"),
    ("audit_events", "actor_type"),
    ("link_revocations", "recipient_type"),
    ("demo_records", "record_type"),
];

/// Vocabularies stored in columns without a CHECK list (the code alone keeps them
/// closed); listed so that one gaining a CHECK list is then compared too.
const UNCHECKED: &[&str] = &["NoticeKind"];

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// (table, column) → the words its CHECK constraints list.
fn check_lists(conn: &mut AnyConnection) -> BTreeMap<(String, String), BTreeSet<String>> {
    let (sql, list) = match conn {
        AnyConnection::Postgresql(_) => (
            "SELECT c.conrelid::regclass::text AS table_name, pg_get_constraintdef(c.oid) AS definition \
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE c.contype = 'c' AND n.nspname = 'public'",
            // (status = ANY (ARRAY['active'::text, 'suspended'::text]))
            Regex::new(r"\(?(\w+)\)?(?:::text)?\s*=\s*ANY\s*\(+ARRAY\[([^\]]*)\]").unwrap(),
        ),
        AnyConnection::Sqlite(_) => (
            "SELECT name AS table_name, sql AS definition FROM sqlite_master \
             WHERE type = 'table' AND sql IS NOT NULL",
            // status IN ('active', 'suspended')
            Regex::new(r"(\w+)\s+IN\s*\(\s*('[^)]*)\)").unwrap(),
        ),
    };
    let word = Regex::new(r"'([^']*)'").unwrap();
    let rows = diesel::sql_query(sql).load::<Check>(conn).unwrap();
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    // A generated column's expression may test a vocabulary column against a subset
    // of its words (proposals.next_due_on: the open states); that is no CHECK list.
    let generated =
        Regex::new(r"(?s)GENERATED\s+ALWAYS\s+AS\s*\(.*?\)\s*(VIRTUAL|STORED)").unwrap();
    for r in rows {
        let definition = generated.replace_all(&r.definition, "");
        for m in list.captures_iter(&definition) {
            let words: BTreeSet<String> =
                word.captures_iter(&m[2]).map(|w| w[1].to_owned()).collect();
            if words.is_empty() {
                continue;
            }
            let key = (r.table_name.trim_matches('"').to_owned(), m[1].to_owned());
            let prev = out.insert(key.clone(), words.clone());
            assert!(
                prev.is_none_or(|p| p == words),
                "two different CHECK lists on {key:?}"
            );
        }
    }
    out
}

async fn check_lists_match_the_vocabularies(backend: Backend) {
    let scratch = ScratchDir::new();
    let db = Db::open(fresh_database(backend, &scratch), 1).unwrap();
    let mut conn = db.conn().unwrap();
    run_migrations(&mut conn).unwrap();
    let checks = check_lists(&mut conn);
    let vocabularies: BTreeMap<&str, BTreeSet<String>> = all_vocabularies()
        .into_iter()
        .map(|v| (v.name, v.words.iter().map(|w| (*w).to_owned()).collect()))
        .collect();

    let mut problems = vec![];
    let mut covered = BTreeSet::new();
    for ((table, column), words) in &checks {
        let declared = COLUMNS
            .iter()
            .find(|(t, c, _)| t == table && c == column)
            .map(|(_, _, v)| *v);
        match declared {
            Some(v) => {
                covered.insert(v);
                let Some(known) = vocabularies.get(v) else {
                    problems.push(format!("{table}.{column}: no vocabulary named {v}"));
                    continue;
                };
                if known != words {
                    problems.push(format!(
                        "{table}.{column} admits {words:?}, but {v} declares {known:?}: write the \
                         migration that changes the CHECK list, or the word"
                    ));
                }
            }
            None if NOT_VOCABULARIES.contains(&(table.as_str(), column.as_str())) => {}
            None => problems.push(format!(
                "{table}.{column} has a CHECK list {words:?} but no vocabulary here: add it to \
                 COLUMNS or NOT_VOCABULARIES"
            )),
        }
    }
    for (table, column, v) in COLUMNS {
        if !checks.contains_key(&((*table).to_owned(), (*column).to_owned())) {
            problems.push(format!("{table}.{column} ({v}) has no CHECK list any more"));
        }
    }
    for v in vocabularies.keys() {
        if !covered.contains(v) && !UNCHECKED.contains(v) {
            problems.push(format!(
                "vocabulary {v} is stored in no column with a CHECK list"
            ));
        }
        if covered.contains(v) && UNCHECKED.contains(v) {
            problems.push(format!(
                "vocabulary {v} now has a CHECK list: drop it from UNCHECKED"
            ));
        }
    }
    assert!(problems.is_empty(), "{backend:?}:\n{}", problems.join("\n"));
    // The parser found the lists it should: a broken regex must not pass silently.
    assert!(checks.len() >= COLUMNS.len(), "{checks:#?}");
}
