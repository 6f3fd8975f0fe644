//! Integration tests: one binary driving the real HTTP app on SQLite and PostgreSQL.

mod helpers;

mod authorization;
mod browser;
mod cli;
mod compose;
mod console;
mod demo;
mod desk;
mod errors;
mod freshness;
mod housekeeping;
mod mail;
mod mail_once;
mod marketplace;
mod migrations;
mod openapi;
mod search;
mod smtp;
mod staff_accounts;
