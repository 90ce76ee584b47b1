//! The SQLite store: WAL so readers never block the writer, `BEGIN IMMEDIATE`
//! for every write transaction so a CLI and a daemon writing at once wait for
//! each other (within `busy_timeout`) instead of failing with "database is
//! locked", and `synchronous=FULL` so a committed event survives power loss
//! (feed polling's own writes excepted, which a poll redoes: see
//! `SqliteStore::polling`).

mod accounts;
mod batches;
mod board;
mod calendar;
mod checkpoint;
mod digests;
mod events;
mod forecast;
mod hooks;
mod hosts;
mod idempotency;
mod jobs;
mod lockouts;
mod mail;
mod ops;
mod prospects;
mod reps;
mod rules;
mod sending;
mod sequences;
mod shared_statements;
mod sources;
mod tasks;
mod webhooks;

use super::*;
use crate::domain::prospect::Language;
use chrono::{NaiveDate, SecondsFormat};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use shared_statements::{
    append_event_on, event_from_row, holding, insert_events_counting_new, insert_events_returning_new, move_on,
    EVENT_COLUMNS, EVENT_COLUMNS_E,
};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's writers take turns here, in the order they asked,
    /// before `BEGIN IMMEDIATE`. SQLite lets one writer in at a time and
    /// makes the others sleep in its busy handler (1, 2, 5 … 100 ms), so two
    /// of our own writers colliding (a poll's writer and its next claim)
    /// cost whole milliseconds; other processes still meet the busy timeout.
    writing: Arc<tokio::sync::Mutex<()>>,
    /// One connection for feed polling's own writes, with
    /// `synchronous=NORMAL`: a commit reaches the disk at the next flush,
    /// not at once (a first poll of many feeds spent about a fifth of its time
    /// waiting for flushes). What a power cut can take back is safe to lose:
    /// a poll's events go with the source's new state (validators, next
    /// poll) in one transaction, so a poll taken back is polled again and
    /// brings the same events under the same keys; a claim taken back only
    /// frees its sources. And nothing can outlive it that acted on it: any
    /// later commit on the other connections (rules, reminders, sending)
    /// flushes the log, and with it every earlier commit. An application
    /// crash loses nothing (the log is in the system's hands). It never
    /// checkpoints: `checkpoints` does, beside it (`checkpoint.rs`).
    ///
    /// Nor does it check foreign keys: its statements (`sources.rs`: claims,
    /// leases, a poll's events and the source's new state) delete nothing
    /// and set no reference they did not read from its row in the same
    /// statement — a poll's events take prospect and rep from the prospect's
    /// row (`shared_event_insert`, `event_insert`), under the write lock.
    /// Checked, each of a first poll's events looked its prospect and rep up
    /// again: `cargo bench --bench poll`'s first poll of 10,000 realistic
    /// feeds read 45–52 % of fetch-only (mean 48) with the checks and 49–54 %
    /// (mean 53) without, five runs each in turns; the process's CPU 275 µs
    /// a feed against 245. Anything else must go through `pool`.
    ///
    /// Its statement journals are kept in memory (`temp_store=MEMORY`): a
    /// poll's multi-row insert inside a batch's transaction keeps the pages
    /// it changes so it can be undone alone, and past 64 KiB SQLite spilled
    /// them to a temporary file it opened and wrote at each such insert (a
    /// tenth of the database thread's time in a first poll of realistic
    /// feeds). They hold one statement's pages at most.
    polling: SqlitePool,
    checkpoints: checkpoint::Checkpoints,
}

/// A write transaction holding this process's turn to write; the turn ends
/// when it commits or is dropped. Derefs to the connection, as a
/// `Transaction` does.
pub(super) struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

pub(super) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { action, source }
}

/// Times are stored as fixed-width RFC 3339 UTC text, so they sort and compare as strings.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Dates (a local date, no time) are stored as `YYYY-MM-DD`.
pub(super) fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A stored date column, if set.
pub(super) fn parse_day(text: Option<String>) -> StoreResult<Option<NaiveDate>> {
    text.map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(format!("date '{d}': {e}"))))
        .transpose()
}

pub(super) fn parse_ts(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time '{text}': {e}")))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str, busy_timeout: Duration, max_connections: u32) -> StoreResult<SqliteStore> {
        let open_error = |reason: String| StoreError::Open {
            url: url.to_string(),
            reason,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| open_error(format!("{e}; write it like sqlite://data/rapport.db")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy_timeout);
        let file = options.get_filename().to_path_buf();
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| open_error(format!("cannot create folder {}: {e}", parent.display())))?;
        }
        let pool = pool_of(options.clone(), max_connections, busy_timeout)
            .await
            .map_err(|e| open_error(e.to_string()))?;
        MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| open_error(format!("applying migrations failed: {e}")))?;
        let polling = pool_of(
            options
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(false)
                .pragma("wal_autocheckpoint", "0")
                .pragma("temp_store", "memory"),
            1,
            busy_timeout,
        )
        .await
        .map_err(|e| open_error(e.to_string()))?;
        restrict_database_files(&file);
        Ok(SqliteStore {
            checkpoints: checkpoint::Checkpoints::on(pool.clone()),
            pool,
            polling,
            writing: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) async fn write_tx(&self) -> StoreResult<WriteTx> {
        self.begin_on(&self.pool).await
    }

    /// A write of feed polling's own state (claims, leases, a poll's
    /// results) on the polling connection: its commit is not flushed to the
    /// disk at once. See `SqliteStore::polling` for why that loses nothing.
    pub(super) async fn poll_tx(&self) -> StoreResult<WriteTx> {
        self.begin_on(&self.polling).await
    }

    /// This process's turn to write, then a write transaction on `pool`.
    async fn begin_on(&self, pool: &SqlitePool) -> StoreResult<WriteTx> {
        let turn = self.writing.clone().lock_owned().await;
        let tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("start a write transaction"))?;
        Ok(WriteTx { tx, _turn: turn })
    }
}

/// A pool of connections to the database of `options`.
async fn pool_of(
    options: SqliteConnectOptions,
    max_connections: u32,
    busy_timeout: Duration,
) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        // A connection whose COMMIT failed (a full disk) is left inside a
        // transaction SQLite may already have rolled back; returned to the
        // pool, every later BEGIN on it would fail. The ping runs the
        // rollback a dropped transaction queued; a connection still in a
        // transaction after it is closed, and a fresh one opened when needed.
        .after_release(|conn, _| {
            Box::pin(async move {
                use sqlx::Connection;
                conn.ping().await?;
                Ok(!conn.is_in_transaction())
            })
        })
        .max_connections(max_connections.max(1))
        .acquire_timeout(busy_timeout + Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// The database, its WAL and shared-memory files are the owner's alone, also
/// when an older build made them readable by others; a folder others can
/// read is pointed out (it may be shared, so it is not changed).
fn restrict_database_files(file: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            let path = std::path::PathBuf::from(name);
            if let Ok(meta) = std::fs::metadata(&path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
                        tracing::warn!(file = %path.display(), error = %e, "cannot make the database file private");
                    }
                }
            }
        }
        let folder = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if std::fs::metadata(folder).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            tracing::warn!(folder = %folder.display(), "the database's folder is readable by others; run `chmod 700` on it");
        }
    }
}

// ---- row mapping -------------------------------------------------------------

fn rep_from_row(row: &SqliteRow) -> StoreResult<Rep> {
    let language: String = row.get("language");
    Ok(Rep {
        id: row.get("id"),
        name: row.get("name"),
        email: row.get("email"),
        time_zone: row.get("time_zone"),
        digest_hour: row.get::<i64, _>("digest_hour") as u8,
        language: Language::parse(&language).map_err(StoreError::Corrupt)?,
    })
}

/// Not found unless prospect `id` exists in `scope`: every change to a
/// prospect's data starts with this, inside its transaction.
pub(super) async fn check_scope(conn: &mut SqliteConnection, scope: RepScope, id: ProspectId) -> StoreResult<()> {
    let found: Option<i64> = match scope {
        RepScope::Team => sqlx::query_scalar("SELECT 1 FROM prospects WHERE id = ?").bind(id),
        RepScope::Rep(rep) => sqlx::query_scalar("SELECT 1 FROM prospects WHERE id = ? AND rep_id = ?")
            .bind(id)
            .bind(rep),
    }
    .fetch_optional(conn)
    .await
    .map_err(db("find a prospect"))?;
    found
        .map(drop)
        .ok_or_else(|| StoreError::NotFound(format!("no prospect #{id}")))
}

pub(super) fn scope_clause(builder: &mut QueryBuilder<'_, Sqlite>, scope: RepScope) {
    match scope {
        RepScope::Rep(rep) => {
            builder.push(" AND p.rep_id = ").push_bind(rep);
        }
        RepScope::Team => {}
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await {
            tracing::warn!(error = %e, "could not write the write-ahead log back into the database");
        }
        self.polling.close().await;
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Actor;

    /// A connection setting of `pool`'s, as a number.
    async fn pragma(pool: &SqlitePool, name: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(&format!("PRAGMA {name}"))
            .fetch_one(pool)
            .await
            .expect("the setting reads")
    }

    /// A store in a temporary folder (the folder must outlive it).
    async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
        let store = SqliteStore::open(&url, Duration::from_secs(5), 2)
            .await
            .expect("the store opens");
        (dir, store)
    }

    #[tokio::test]
    async fn only_feed_polling_commits_without_waiting_for_the_disk() {
        let (_dir, store) = temp_store().await;
        // 2 is FULL (flushed at every commit), 1 NORMAL (flushed at the next checkpoint).
        assert_eq!(
            pragma(&store.pool, "synchronous").await,
            2,
            "every other write waits for the disk"
        );
        assert_eq!(
            pragma(&store.polling, "synchronous").await,
            1,
            "polling's own writes do not"
        );
        let mut tx = store.poll_tx().await.expect("a polling transaction");
        sqlx::query("INSERT INTO reps (name, email, time_zone, digest_hour, created_at) VALUES ('A', 'a@example.com', 'UTC', 8, '2026-12-01T00:00:00Z')")
            .execute(&mut *tx)
            .await
            .expect("a write");
        tx.commit().await.expect("it commits");
        let reps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reps")
            .fetch_one(&store.pool)
            .await
            .expect("a read");
        assert_eq!(reps, 1, "one database: the other connections see polling's commits");
    }

    #[tokio::test]
    async fn polling_checks_no_foreign_keys_yet_writes_no_event_of_a_missing_prospect() {
        let (_dir, store) = temp_store().await;
        assert_eq!(
            pragma(&store.pool, "foreign_keys").await,
            1,
            "every other write is checked"
        );
        assert_eq!(pragma(&store.polling, "foreign_keys").await, 0, "polling's are not");
        assert_eq!(
            pragma(&store.polling, "temp_store").await,
            2,
            "polling's statement journals stay in memory"
        );
        // A poll's post for a prospect that does not exist (erased meanwhile):
        // the insert reads prospect and rep from the prospect's row, so nothing is written.
        let post = crate::domain::event::payload::FeedPost {
            source: 1,
            platform: "blog".into(),
            url: None,
            title: None,
            text: Some("hello".into()),
            published: None,
            author: None,
        };
        let now = Utc::now();
        let events = [
            NewEvent::with(999, now, "post:999:a".into(), Actor::System("feed:blog".into()), &post),
            NewEvent::with(
                999,
                now,
                "post:999:b".into(),
                Actor::System("feed:mastodon".into()),
                &post,
            ),
        ];
        // Two actors: `event_insert`; one event: `shared_event_insert`.
        let mut tx = store.poll_tx().await.expect("a polling transaction");
        let added = insert_events_counting_new(&mut tx, &events, now)
            .await
            .expect("the insert runs");
        let one = insert_events_counting_new(&mut tx, &events[..1], now)
            .await
            .expect("the insert runs");
        tx.commit().await.expect("it commits");
        assert_eq!((added, one), (0, 0));
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&store.pool)
            .await
            .expect("a read");
        assert_eq!(stored, 0, "no event without its prospect");
    }

    #[tokio::test]
    async fn polling_s_commits_are_checkpointed_beside_it_not_by_it() {
        let (dir, store) = temp_store().await;
        let file = dir.path().join("rapport.db");
        assert_eq!(
            pragma(&store.polling, "wal_autocheckpoint").await,
            0,
            "the polling connection never checkpoints"
        );
        assert_eq!(
            pragma(&store.pool, "wal_autocheckpoint").await,
            1000,
            "the others do, as SQLite's default"
        );
        // Four megabytes written by polling: SQLite alone would have checkpointed in its commit.
        let mut tx = store.poll_tx().await.expect("a polling transaction");
        for i in 0..1000 {
            sqlx::query("INSERT INTO reps (name, email, time_zone, digest_hour, created_at) VALUES (?, ?, 'UTC', 8, '2026-12-01T00:00:00Z')")
                .bind("x".repeat(4000))
                .bind(format!("r{i}@example.com"))
                .execute(&mut *tx)
                .await
                .expect("a write");
        }
        tx.commit().await.expect("it commits");
        let before = std::fs::metadata(&file).expect("the database file").len();
        assert!(
            before < 1_000_000,
            "the pages are still only in the log: {before} bytes"
        );
        store.checkpoints.start();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while store.checkpoints.finished() == 0 {
            assert!(std::time::Instant::now() < deadline, "the checkpoint never finished");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let after = std::fs::metadata(&file).expect("the database file").len();
        assert!(
            after > 4_000_000,
            "the checkpoint wrote the pages into the file: {after} bytes"
        );
    }
}
