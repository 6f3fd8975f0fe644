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

mod authorization;
mod browser;
mod chaos;
mod cli;
mod compose;
mod console;
mod credentials;
mod demo;
mod desk;
mod errors;
mod freshness;
mod health;
mod housekeeping;
mod integrity;
mod mail;
mod marketplace;
mod migrations;
mod openapi;
mod search;
mod search_follow;
mod smtp;
mod staff_accounts;
