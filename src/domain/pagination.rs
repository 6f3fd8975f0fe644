//! Cursor pagination: lists are ordered newest first by id, and the cursor is an opaque
//! token for "ids below this one". Clients pass back `next_cursor` unchanged.

use base64::Engine;
use serde::Serialize;

use super::error::{AppError, AppResult};

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

impl PageRequest {
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> AppResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::field(
                "limit",
                "out_of_range",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let before_id = cursor.filter(|c| !c.is_empty()).map(decode).transpose()?;
        Ok(Self { before_id, limit })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and makes the next cursor from the last id.
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        id: impl Fn(&R) -> i64,
        view: impl FnOnce(Vec<R>) -> AppResult<Vec<T>>,
    ) -> AppResult<Page<T>> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(id(r)))
        } else {
            None
        };
        Ok(Page {
            items: view(rows)?,
            next_cursor,
        })
    }
}

fn encode(id: i64) -> String {
    ENGINE.encode(format!("v1:{id}"))
}

fn decode(cursor: &str) -> AppResult<i64> {
    let bad = || AppError::field("cursor", "format", "is not a cursor this API returned");
    let bytes = ENGINE.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("v1:")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        assert_eq!(decode(&encode(42)).unwrap(), 42);
        assert!(decode("garbage!").is_err());
        assert!(decode(&ENGINE.encode("v1:-3")).is_err());
        assert!(PageRequest::parse(None, Some(0)).is_err());
        assert!(PageRequest::parse(None, Some(101)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_cursor_and_limit_parse_or_are_refused(
            cursor in "\\PC{0,40}",
            limit in proptest::num::i64::ANY,
        ) {
            let _ = PageRequest::parse(Some(&cursor), Some(limit));
        }

        #[test]
        fn every_cursor_the_api_returns_reads_back(id in 1i64..=i64::MAX) {
            proptest::prop_assert_eq!(decode(&encode(id)).unwrap(), id);
        }
    }
}
