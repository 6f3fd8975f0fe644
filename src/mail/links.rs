//! The service's public base URL, for links in mail. Set once at start-up from the
//! `public_url` setting; domain code that writes mail reads it here rather than carrying
//! the settings through every call.

use std::sync::OnceLock;

static BASE: OnceLock<String> = OnceLock::new();

/// Sets the base URL; later calls keep the first value.
pub fn set_base(url: &str) {
    let _ = BASE.set(url.trim_end_matches('/').to_owned());
}

pub fn base() -> &'static str {
    BASE.get()
        .map(String::as_str)
        .unwrap_or("http://127.0.0.1:8080")
}
