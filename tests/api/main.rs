//! Integration tests: one binary driving the real HTTP app on SQLite and PostgreSQL.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unreachable,
    reason = "tests: a failed assumption is a failed test"
)]

mod helpers;

mod assignment;
mod attachments;
mod browser;
mod browser_keys;
mod bulk;
mod cases;
mod chaos;
mod cli;
mod compose;
mod console;
mod credentials;
mod dashboard_labels;
mod degraded;
mod demo;
mod desk;
mod errors;
mod export;
mod freshness;
mod health;
mod housekeeping;
mod hygiene;
mod inbox;
mod integrity;
mod load_seed;
mod login_guard;
mod mail;
mod mail_once;
mod marketplace;
mod migrations;
mod moving_fast;
mod need_page;
mod next_due;
mod nodes;
mod openapi;
mod outcomes;
mod partner_verification;
mod permission_matrix;
mod privacy;
mod reply_templates;
mod search;
mod search_follow;
mod smtp;
mod snapshots;
mod staff_accounts;
mod staff_notices;
mod suggestions;
mod vocabulary_schema;
mod weekly_report;
