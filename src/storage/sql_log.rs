//! The statement log: with `KYOSO_LOG=warn,kyoso::sql=debug` every statement of every
//! pooled connection is logged with how long it took, so that a slow request can be
//! taken apart statement by statement (how many, which, how long) on the real data.
//! Only the SQL is logged, never the bound values (they may hold e-mail addresses,
//! names and key hashes). Off, it costs nothing: no instrumentation is installed.

use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The log target; enable it at `debug`.
pub const TARGET: &str = "kyoso::sql";

struct SqlLog {
    started: Option<Instant>,
}

impl Instrumentation for SqlLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started = Some(Instant::now()),
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let micros = self.started.take().map_or(0, |t| t.elapsed().as_micros());
                let text = query.to_string();
                let sql = text
                    .split_once(" -- binds: ")
                    .map_or(text.as_str(), |(s, _)| s);
                let failed = if error.is_some() { " (failed)" } else { "" };
                log::debug!(target: TARGET, "{micros} µs{failed}: {sql}");
            }
            _ => {}
        }
    }
}

/// Installs the statement log for every connection opened from now on, if the log
/// filter asks for it. Call once, after the logger is set up and before the pool opens.
pub fn install_if_enabled() {
    if log::log_enabled!(target: TARGET, log::Level::Debug) {
        let installed = diesel::connection::set_default_instrumentation(|| {
            Some(Box::new(SqlLog { started: None }))
        });
        if let Err(e) = installed {
            log::warn!("the statement log could not be installed: {e}");
        }
    }
}
