//! The web layer the JSON API and the staff console share: the application state every
//! handler gets, the helpers that move blocking domain work off actix's workers, the
//! HTTP status of each domain error, the caller's address, and the HTML shell of pages
//! (maud). `api` and `console` both build on it; neither imports the other.

pub mod files;
pub mod html;
pub mod state;
pub mod status;

/// Largest request body accepted, in bytes (API and console forms). Text fields are
/// limited far below this.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub use state::{AppState, run, run_search, source};
