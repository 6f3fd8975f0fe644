//! What the `kyoso` subcommands do, beyond parsing their flags (src/main.rs): start the
//! search engine, serve (start-up, the background jobs, graceful stop), rebuild the
//! index, evaluate matching, run the search benchmark, seed the load scenario.

pub mod bench;
pub mod eval_matching;
pub mod load_seed;
pub mod load_text;
pub mod mail;
pub mod search;
pub mod serve;
