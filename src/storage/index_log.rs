//! The index change log: one row per change of searchable text, written in the same
//! transaction as the change, so the search index can always catch up with the database.
//! Also the one consistent read the follower makes of it (`follow_view`), with the
//! PostgreSQL snapshot it was made under, so that a gap in the ids can be told apart
//! from a transaction that has not committed yet (see `domain::search::follow`).

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::error::StorageError;
use super::schema::index_changes;
use super::{AnyConnection, Db, job_state, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocType {
    Need,
    Offer,
    Proposal,
}

impl DocType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Need => "need",
            Self::Offer => "offer",
            Self::Proposal => "proposal",
        }
    }
}

pub fn record(conn: &mut AnyConnection, doc_type: DocType, doc_id: i64) -> QueryResult<()> {
    // PostgreSQL: make sure this transaction has its id *before* the sequence hands out
    // the change id. Then a transaction holding a change id that a reader cannot see yet
    // is always listed as in progress in that reader's snapshot, which is what lets the
    // follower decide when a gap is a rollback (see `domain::search::follow`). The
    // record's own write usually assigned it already; this makes it a rule.
    if let AnyConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_current_xact_id()").execute(conn)?;
    }
    diesel::insert_into(index_changes::table)
        .values((
            index_changes::doc_type.eq(doc_type.as_str()),
            index_changes::doc_id.eq(doc_id),
            index_changes::created_at.eq(now()),
        ))
        .execute(conn)?;
    super::index_signal::note_recorded();
    Ok(())
}

/// One recorded change.
#[derive(Debug, Clone, Queryable)]
pub struct Change {
    pub id: i64,
    pub doc_type: String,
    pub doc_id: i64,
    pub created_at: chrono::NaiveDateTime,
}

/// Changes after `after_id`, oldest first.
/// The columns a `Change` is read from.
const CHANGE_COLUMNS: (
    index_changes::id,
    index_changes::doc_type,
    index_changes::doc_id,
    index_changes::created_at,
) = (
    index_changes::id,
    index_changes::doc_type,
    index_changes::doc_id,
    index_changes::created_at,
);

pub fn pending(conn: &mut AnyConnection, after_id: i64, limit: i64) -> QueryResult<Vec<Change>> {
    index_changes::table
        .filter(index_changes::id.gt(after_id))
        .order(index_changes::id)
        .limit(limit)
        .select(CHANGE_COLUMNS)
        .load(conn)
}

/// The newest change id, 0 when none.
pub fn max_id(conn: &mut AnyConnection) -> QueryResult<i64> {
    index_changes::table
        .select(diesel::dsl::max(index_changes::id))
        .first::<Option<i64>>(conn)
        .map(|m| m.unwrap_or(0))
}

/// How many changes wait after `after_id`.
pub fn backlog(conn: &mut AnyConnection, after_id: i64) -> QueryResult<i64> {
    index_changes::table
        .filter(index_changes::id.gt(after_id))
        .count()
        .get_result(conn)
}

/// Deletes the changes recorded before `before`; returns the newest id deleted (0 when
/// none was), which every index must have passed or be rebuilt.
pub fn prune_before(conn: &mut AnyConnection, before: chrono::NaiveDateTime) -> QueryResult<i64> {
    let through = index_changes::table
        .filter(index_changes::created_at.lt(before))
        .select(diesel::dsl::max(index_changes::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    if through > 0 {
        diesel::delete(index_changes::table.filter(index_changes::id.le(through))).execute(conn)?;
    }
    Ok(through)
}

/// A PostgreSQL snapshot's bounds as 64-bit transaction ids (`xid8`, which never wrap):
/// every transaction below `xmin` had ended when it was taken. `xmax` is one past the
/// newest transaction that had *ended*, not a bound on those handed out: a transaction
/// in progress may have an id at or above it and then is listed nowhere in the snapshot
/// (see `horizon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub xmin: u64,
    pub xmax: u64,
}

#[derive(QueryableByName)]
struct SnapshotRow {
    #[diesel(sql_type = Text)]
    xmin: String,
    #[diesel(sql_type = Text)]
    xmax: String,
}

/// The snapshot the current statement (in REPEATABLE READ: the transaction) reads;
/// `None` on SQLite, which has no concurrent writers to account for.
pub fn current_snapshot(conn: &mut AnyConnection) -> Result<Option<Snapshot>, StorageError> {
    if let AnyConnection::Sqlite(_) = conn {
        return Ok(None);
    }
    let row: SnapshotRow = diesel::sql_query(
        "SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax \
         FROM pg_current_snapshot() AS s",
    )
    .get_result(conn)?;
    let parse = |v: &str| {
        v.parse::<u64>()
            .map_err(|e| StorageError::other(anyhow::anyhow!("PostgreSQL sent the xid {v:?}: {e}")))
    };
    Ok(Some(Snapshot {
        xmin: parse(&row.xmin)?,
        xmax: parse(&row.xmax)?,
    }))
}

/// A transaction id above every one handed out before the current transaction's
/// snapshot was taken: the current transaction's own id, assigned now (PostgreSQL
/// only; this is the one thing a snapshot does not tell). Once a later snapshot's
/// `xmin` reaches it, every transaction that was in progress — or had merely drawn its
/// id — when this one's snapshot was taken has ended. It costs one transaction id, so
/// readers ask for it only when they need it.
fn horizon(conn: &mut AnyConnection) -> Result<u64, StorageError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        xid: String,
    }
    let row: Row =
        diesel::sql_query("SELECT pg_current_xact_id()::text AS xid").get_result(conn)?;
    row.xid.parse::<u64>().map_err(|e| {
        StorageError::other(anyhow::anyhow!(
            "PostgreSQL sent the xid {:?}: {e}",
            row.xid
        ))
    })
}

/// What the follower sees of the log in one snapshot.
#[derive(Debug, Default)]
pub struct View {
    /// The snapshot it was read under (PostgreSQL only).
    pub snapshot: Option<Snapshot>,
    /// PostgreSQL only, and only when `next` skips ids (after `after` or between its
    /// changes): a transaction id above that of every writer which had drawn a skipped
    /// id when the snapshot was taken (see `horizon`). A skipped id is passed once a
    /// later snapshot's `xmin` reaches it.
    pub horizon: Option<u64>,
    /// Up to `limit` changes after `after`, oldest first.
    pub next: Vec<Change>,
    /// The changes that have appeared in the id ranges asked about.
    pub filled: Vec<Change>,
    /// The newest change id pruned from the log (`job_state` entry `pruned_key`).
    pub pruned_through: i64,
}

/// Reads, in one snapshot, the changes after `after` (at most `limit`), the changes now
/// present in the inclusive id ranges `gaps`, the point the log was pruned through and
/// the snapshot itself. On PostgreSQL the transaction is REPEATABLE READ, so every
/// query sees the same snapshot as `pg_current_snapshot()` describes; on SQLite a read
/// transaction already sees one snapshot.
pub fn follow_view(
    db: &Db,
    after: i64,
    gaps: &[(i64, i64)],
    limit: i64,
    pruned_key: &str,
) -> Result<View, StorageError> {
    db.read_snapshot(|conn| {
        let snapshot = current_snapshot(conn)?;
        let next = pending(conn, after, limit)?;
        // Asked for after the snapshot was taken (by the first statement), so it is
        // above the id of every writer that had drawn a change id by then.
        let mut previous = after;
        let skips = next.iter().any(|c| {
            let skipped = c.id > previous + 1;
            previous = c.id;
            skipped
        });
        let horizon = match snapshot {
            Some(_) if skips => Some(horizon(conn)?),
            _ => None,
        };
        let mut filled = vec![];
        for &(from, to) in gaps {
            filled.extend(between(conn, from, to)?);
        }
        let pruned_through = job_state::get(conn, pruned_key)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(View {
            snapshot,
            horizon,
            next,
            filled,
            pruned_through,
        })
    })
}

/// The changes with ids in `from..=to`, oldest first.
fn between(conn: &mut AnyConnection, from: i64, to: i64) -> QueryResult<Vec<Change>> {
    index_changes::table
        .filter(index_changes::id.between(from, to))
        .order(index_changes::id)
        .select(CHANGE_COLUMNS)
        .load(conn)
}

/// The newest change id and, on PostgreSQL, the `horizon` of the snapshot it was read
/// in: once a snapshot's `xmin` reaches it, every change id below the newest belongs to
/// a transaction that has ended.
pub fn max_id_with_horizon(db: &Db) -> Result<(i64, Option<u64>), StorageError> {
    db.read_snapshot(|conn| {
        let newest = max_id(conn)?;
        let horizon = match conn {
            AnyConnection::Postgresql(_) => Some(horizon(conn)?),
            AnyConnection::Sqlite(_) => None,
        };
        Ok((newest, horizon))
    })
}
