//! Copying the write-ahead log back into the database file beside the
//! poll writer, not inside it. SQLite checkpoints in the connection whose
//! commit crossed 1,000 log pages, there and then: a first poll's writer
//! (a chain of statements no other thread can take over) stopped every few
//! hundred feeds to read back and write out megabytes and wait for the disk.
//! The polling connection therefore does not checkpoint itself
//! (`wal_autocheckpoint=0`); after each of its poll commits a PASSIVE
//! checkpoint runs on a connection of the main pool — it never waits for
//! a writer nor holds one back — at most one at a time. The other
//! connections checkpoint as before, and a clean stop writes the whole
//! log back (`Store::close`). Measured in `cargo bench --bench poll`
//! (10,000 realistic feeds, runs taken in turns): the first poll 36–41 %
//! of fetch-only with the writer checkpointing, 39–43 % with the
//! checkpoints beside it, 44–48 % with none at all.
//!
//! They start at most once a second (`EVERY`): a commit sooner than that
//! after the last one's start has its checkpoint wait out the second, and
//! the commits meanwhile are copied by that one. Started after every
//! commit, a first poll's checkpoints ran back to back, copying again the
//! pages each commit dirties anew (index pages, the sources' rows) and
//! waiting for the disk each time; the log's size is the same either way
//! (a checkpoint beside a writer that never pauses cannot restart it).
//! Measured in `cargo bench --bench poll` (10,000 realistic feeds, six
//! runs each taken in turns): the first poll 43–49 % of fetch-only (mean
//! 47) with a checkpoint after every commit, 45–53 % (mean 50) once a
//! second; the process's CPU 285 µs a feed against 268.

use sqlx::SqlitePool;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The shortest time from one checkpoint's start to the next one's.
const EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub(super) struct Checkpoints {
    pool: SqlitePool,
    /// Set from a checkpoint's scheduling to its end (waiting included).
    running: Arc<AtomicBool>,
    /// When the last checkpoint started.
    last: Arc<Mutex<Option<Instant>>>,
    every: Duration,
    /// Checkpoints finished (tests wait on it).
    done: Arc<AtomicU64>,
}

impl Checkpoints {
    pub(super) fn on(pool: SqlitePool) -> Checkpoints {
        Checkpoints::every(pool, EVERY)
    }

    fn every(pool: SqlitePool, every: Duration) -> Checkpoints {
        Checkpoints {
            pool,
            running: Arc::new(AtomicBool::new(false)),
            last: Arc::new(Mutex::new(None)),
            every,
            done: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Starts a checkpoint beside the caller — at once, or when `every` has
    /// passed since the last one started — unless one is waiting or running:
    /// that one copies what was committed before it began, and the next
    /// commit after it ends schedules another for the rest.
    pub(super) fn start(&self) {
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let last = *this.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(last) = last {
                tokio::time::sleep_until(last + this.every).await;
            }
            *this.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&this.pool).await {
                tracing::debug!(error = %e, "a checkpoint beside the poll writer failed; the next poll's commit starts another");
            }
            this.done.fetch_add(1, Ordering::AcqRel);
            this.running.store(false, Ordering::Release);
        });
    }

    #[cfg(test)]
    pub(super) fn finished(&self) -> u64 {
        self.done.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn finished(checkpoints: &Checkpoints, count: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while checkpoints.finished() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "checkpoint {count} never finished"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_checkpoint_starts_at_once_then_no_sooner_than_the_interval_after_the_last() {
        let pool = SqlitePool::connect("sqlite::memory:").await.expect("a database");
        // The first runs at once: it finishes long before a day is up.
        let daily = Checkpoints::every(pool.clone(), Duration::from_secs(24 * 3600));
        daily.start();
        finished(&daily, 1).await;

        let interval = Duration::from_millis(300);
        let checkpoints = Checkpoints::every(pool, interval);
        let began = Instant::now();
        checkpoints.start();
        finished(&checkpoints, 1).await;
        // Two commits within the interval: one checkpoint, when it is up.
        checkpoints.start();
        checkpoints.start();
        finished(&checkpoints, 2).await;
        assert!(
            began.elapsed() >= interval,
            "the second started a whole interval after the first"
        );
        assert_eq!(checkpoints.finished(), 2, "the commits meanwhile did not start another");
    }
}
