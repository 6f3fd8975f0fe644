//! What the `kyoso` subcommands do, beyond parsing their flags (src/main.rs): start the
//! search engine, rebuild the index, evaluate matching, run the search benchmark.

pub mod bench;
pub mod eval_matching;
pub mod mail;
pub mod search;
