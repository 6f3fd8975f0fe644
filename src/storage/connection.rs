//! Database connections for both backends: the backend is chosen from the URL scheme,
//! connections are pooled with r2d2, SQLite is configured on every connect (WAL, foreign
//! keys, busy timeout), and every unit of work goes through one transaction helper.
//!
//! The helper owns the transaction's whole life: it begins (on SQLite a write begins as
//! `BEGIN IMMEDIATE`, so a writer never has to upgrade a read lock and fail with
//! `SQLITE_BUSY_SNAPSHOT` beside another process), runs the closure, and commits or rolls
//! back — also when the closure panics. A connection that still holds a transaction, or
//! whose transaction state is broken, is never handed out again (`has_broken`): a later
//! request would otherwise write inside a transaction nobody commits, and everything it
//! answered 201 would vanish at the next restart.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::StorageError;
use super::index_signal::{self, IndexSignal};

/// One connection type over both backends. SQLite goes last: it accepts any string.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Postgres(String),
    Sqlite(PathBuf),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "unsupported database URL scheme `{0}:`; use postgres://… or sqlite://PATH (or a plain file path)"
    )]
    UnknownScheme(String),
    #[error(
        "the SQLite database's directory `{0}` does not exist; create it or choose another path"
    )]
    MissingDirectory(String),
    #[error("the database URL is empty")]
    Empty,
}

impl DatabaseTarget {
    /// Parses `postgres://…`, `postgresql://…`, `sqlite://PATH`, `sqlite:PATH` or a plain
    /// path. A SQLite file's directory must exist already.
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(TargetError::Empty);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            rest
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(TargetError::UnknownScheme(scheme.to_owned()));
        } else {
            url
        };
        let path = PathBuf::from(path);
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(TargetError::MissingDirectory(dir.display().to_string()));
        }
        Ok(Self::Sqlite(path))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// Opens connections of the backend the URL named, never falling back to another one.
#[derive(Debug, Clone)]
pub struct Manager {
    target: DatabaseTarget,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        match &self.target {
            DatabaseTarget::Postgres(url) => diesel::PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseTarget::Sqlite(path) => {
                let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; the busy timeout makes a second
                // process (a CLI command beside the server) wait instead of failing.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction (or with a broken transaction state) is
    /// dropped by the pool instead of being reused; closing it rolls the transaction back.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The database handle the domain uses: a pool plus the rule for write transactions.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    target: DatabaseTarget,
    /// SQLite allows one writer; serialising writes in-process avoids SQLITE_BUSY on
    /// lock upgrades inside deferred transactions.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// Moves when a write transaction commits changes to the index change log.
    index_signal: Arc<IndexSignal>,
}

impl Db {
    pub fn open(target: DatabaseTarget, pool_size: u32) -> anyhow::Result<Self> {
        let sqlite = matches!(target, DatabaseTarget::Sqlite(_));
        if let DatabaseTarget::Sqlite(path) = &target {
            // WAL is a property of the file, and switching a new file to it takes a lock
            // SQLite does not wait for (busy timeout or not). The pool opens all its
            // connections at once, each asking for WAL: on a fresh file some failed with
            // "database is locked" and were retried (r2d2 logged an ERROR per failure,
            // e.g. on every first `kyoso demo`). One connection switches the file first;
            // the pool's connections then find it in WAL already.
            let mut first = diesel::SqliteConnection::establish(&path.to_string_lossy())
                .map_err(|e| anyhow::anyhow!("cannot open the SQLite database: {e}"))?;
            first
                .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                .map_err(|e| anyhow::anyhow!("cannot switch the SQLite database to WAL: {e}"))?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager {
                target: target.clone(),
            })
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot connect to the {} database: {e}",
                    target.backend_name()
                )
            })?;
        Ok(Self {
            pool,
            target,
            sqlite_writer: sqlite.then(|| Arc::new(Mutex::new(()))),
            index_signal: Arc::new(IndexSignal::default()),
        })
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    /// What the index follower waits on (see `index_signal`).
    pub fn index_signal(&self) -> &Arc<IndexSignal> {
        &self.index_signal
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite_writer.is_some()
    }

    pub fn conn(&self) -> Result<PooledConn, StorageError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one transaction: everything it writes commits together or not at all.
    ///
    /// The closure's error type is the caller's (the domain's `AppError`); storage's own
    /// failures reach it through `From<StorageError>`.
    pub fn write<T, E: From<StorageError> + std::fmt::Display>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        // The guard is declared after the connection, so it is released first; the
        // transaction is over by then (`in_transaction` commits or rolls back itself).
        let _guard = self
            .sqlite_writer
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
        let armed = test_hook::take(&self.target);
        let recorded = index_signal::recorded_here();
        let result = in_transaction(&mut conn, Access::Write, |c| {
            let value = f(c)?;
            if armed {
                test_hook::fire();
            }
            Ok(value)
        });
        // Committed with changes to the index log: wake the follower (and, through it,
        // the other nodes) now rather than at its next poll.
        if result.is_ok() && index_signal::recorded_here() != recorded {
            self.index_signal.local_change();
        }
        result
    }

    /// Runs `f` on one connection to read. On SQLite in a read transaction, one
    /// snapshot; on PostgreSQL each statement sees what was committed when it began (no
    /// transaction in release builds, a READ ONLY one in debug builds) — use
    /// [`Db::read_snapshot`] where several statements must agree. Never write here.
    pub fn read<T, E: From<StorageError> + std::fmt::Display>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        in_transaction(&mut conn, Access::Read, f)
    }

    /// Runs `f` in a read-only transaction whose statements all see one snapshot (on
    /// PostgreSQL REPEATABLE READ; a SQLite read transaction already does).
    pub fn read_snapshot<T, E: From<StorageError> + std::fmt::Display>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        in_transaction(&mut conn, Access::Snapshot, f)
    }

    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get()?;
        run_migrations(&mut conn)
    }

    pub fn ping(&self) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1").map_err(StorageError::other)
    }
}

/// A test hook: the next write transaction on one database panics after its work and
/// before its commit, so that tests can prove, through the real HTTP app, that a panic
/// loses nothing but its own request. Only Rust code can arm it (tests do); a process
/// that never calls `panic_in_next_write` pays one atomic load per write.
mod test_hook {
    use super::DatabaseTarget;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    static ANY: AtomicBool = AtomicBool::new(false);
    static ARMED: Mutex<Vec<DatabaseTarget>> = Mutex::new(Vec::new());

    pub fn arm(target: &DatabaseTarget) {
        ARMED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(target.clone());
        ANY.store(true, Ordering::SeqCst);
    }

    pub fn take(target: &DatabaseTarget) -> bool {
        if !ANY.load(Ordering::SeqCst) {
            return false;
        }
        let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        let Some(i) = armed.iter().position(|t| t == target) else {
            return false;
        };
        armed.swap_remove(i);
        true
    }

    #[expect(
        clippy::panic,
        reason = "the hook's whole purpose; armed only by tests"
    )]
    pub fn fire() {
        panic!("test hook: a panic inside a write transaction");
    }
}

/// Arms the test hook: the next `Db::write` on `target` panics before its commit.
#[doc(hidden)]
pub fn panic_in_next_write(target: &DatabaseTarget) {
    test_hook::arm(target);
}

/// What a transaction is for; decides how SQLite begins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Snapshot,
    Write,
}

fn begin(conn: &mut AnyConnection, access: Access) -> diesel::QueryResult<()> {
    match conn {
        // A deferred SQLite transaction takes the write lock only at its first write, and
        // fails at once (busy timeout or not) if another process wrote since it read.
        AnyConnection::Sqlite(c) if access == Access::Write => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        // Only in debug builds (see `in_transaction`).
        AnyConnection::Postgresql(c) if access == Access::Read => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN READ ONLY")
        }
        AnyConnection::Postgresql(c) if access == Access::Snapshot => {
            AnsiTransactionManager::begin_transaction_sql(
                c,
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            )
        }
        _ => <AnyConnection as Connection>::TransactionManager::begin_transaction(conn),
    }
}

/// Runs `f` in a transaction on `conn` and always ends that transaction: commit on
/// success, rollback on an error or a panic. A panic becomes an internal error (the
/// client gets a 500 problem) after its transaction was rolled back; should even the
/// rollback fail, the connection reports itself broken and the pool discards it.
fn in_transaction<T, E: From<StorageError> + std::fmt::Display>(
    conn: &mut AnyConnection,
    access: Access,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E> {
    type Tm = <AnyConnection as Connection>::TransactionManager;
    // On PostgreSQL (READ COMMITTED) a read transaction gives its statements nothing
    // they do not have alone — each sees what was committed when it began — and costs
    // two round trips (BEGIN, COMMIT). Release builds run reads without one; debug
    // builds, the tests among them, run them in a READ ONLY transaction, so a write
    // slipped into a read fails there instead of committing statement by statement.
    if access == Access::Read
        && matches!(conn, AnyConnection::Postgresql(_))
        && !cfg!(debug_assertions)
    {
        return match catch_unwind(AssertUnwindSafe(|| f(&mut *conn))) {
            Ok(result) => result,
            Err(panic) => {
                let what = panic_message(panic.as_ref());
                log::error!("a panic inside a database read ({what})");
                Err(
                    StorageError::other(anyhow::anyhow!("panic inside a database read: {what}"))
                        .into(),
                )
            }
        };
    }
    begin(conn, access).map_err(StorageError::from)?;
    match catch_unwind(AssertUnwindSafe(|| f(&mut *conn))) {
        Ok(Ok(value)) => {
            Tm::commit_transaction(conn).map_err(StorageError::from)?;
            Ok(value)
        }
        Ok(Err(e)) => {
            if let Err(rollback) = Tm::rollback_transaction(conn) {
                log::warn!("rolling back after `{e}` failed: {rollback}");
            }
            Err(e)
        }
        Err(panic) => {
            let what = panic_message(panic.as_ref());
            let rolled_back = Tm::rollback_transaction(conn);
            log::error!(
                "a panic inside a database transaction ({what}); rolled back: {}",
                match &rolled_back {
                    Ok(()) => "yes".to_owned(),
                    Err(e) => format!("no ({e}); the connection is discarded"),
                }
            );
            Err(StorageError::other(anyhow::anyhow!(
                "panic inside a database transaction: {what}"
            ))
            .into())
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Applies pending migrations of the connection's backend; returns the names applied.
pub fn run_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration, newest first (used by the migration test and by
/// `kyoso migrate --down-all`).
pub fn revert_all_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        AnyConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))?;
    Ok(reverted.iter().map(ToString::to_string).collect())
}

/// The default SQLite file under the data directory.
pub fn default_sqlite_path(data_dir: &Path) -> PathBuf {
    data_dir.join("kyoso.sqlite3")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert!(matches!(
            DatabaseTarget::parse("postgres://u@h/db"),
            Ok(DatabaseTarget::Postgres(_))
        ));
        assert!(matches!(
            DatabaseTarget::parse("postgresql://u@h/db"),
            Ok(DatabaseTarget::Postgres(_))
        ));
        assert!(matches!(
            DatabaseTarget::parse("sqlite://kyoso.db"),
            Ok(DatabaseTarget::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseTarget::parse("kyoso.db"),
            Ok(DatabaseTarget::Sqlite(_))
        ));
        assert_eq!(
            DatabaseTarget::parse("mysql://x/y"),
            Err(TargetError::UnknownScheme("mysql".into()))
        );
        assert!(matches!(
            DatabaseTarget::parse("sqlite:///no/such/dir/kyoso.db"),
            Err(TargetError::MissingDirectory(_))
        ));
        assert_eq!(DatabaseTarget::parse("  "), Err(TargetError::Empty));
    }

    /// The bundled SQLite is built with the query planner stability guarantee
    /// (`.cargo/config.toml`): without it a statement with a bound LIMIT is prepared
    /// again at every execution (4.5 % of the search route's CPU samples, measured). A
    /// build that lost the setting (the file not beside the workspace) fails here.
    #[test]
    fn sqlite_is_built_with_a_stable_query_plan() {
        #[derive(diesel::QueryableByName)]
        struct Opt {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<Opt> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut c)
            .unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "{:?}",
            options
                .iter()
                .map(|o| &o.compile_options)
                .collect::<Vec<_>>()
        );
    }
}
