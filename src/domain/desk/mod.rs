//! The desk's tools around proposals: routing rules, deadlines, statistics and the
//! weekly report mail.

pub mod deadlines;
pub mod rules;
pub mod stats;
pub mod weekly_report;

use crate::domain::actor::Actor;
use crate::domain::error::{AppError, AppResult};
use crate::domain::municipalities::find_by_code;
use crate::storage::AnyConnection;

/// The municipality a desk call is about: the caller's own, or for a deployment admin
/// the one named by `code`.
pub fn municipality_of(
    conn: &mut AnyConnection,
    actor: &Actor,
    code: Option<&str>,
) -> AppResult<i64> {
    let s = actor.require_staff()?;
    match (s.municipality, code) {
        (Some(own), None) => Ok(own.0),
        (Some(own), Some(code)) => {
            let m = find_by_code(conn, code)?;
            if m.id != own.0 {
                return Err(AppError::Forbidden("this belongs to another municipality"));
            }
            Ok(own.0)
        }
        (None, Some(code)) => Ok(find_by_code(conn, code)?.id),
        (None, None) => Err(AppError::field(
            "municipality",
            "required",
            "deployment admins name the municipality",
        )),
    }
}
