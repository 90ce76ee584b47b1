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

use sqlx::SqlitePool;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(super) struct Checkpoints {
    pool: SqlitePool,
    running: Arc<AtomicBool>,
    /// Checkpoints finished (tests wait on it).
    done: Arc<AtomicU64>,
}

impl Checkpoints {
    pub(super) fn on(pool: SqlitePool) -> Checkpoints {
        Checkpoints {
            pool,
            running: Arc::new(AtomicBool::new(false)),
            done: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Starts a checkpoint beside the caller, unless one is running: that
    /// one copies what was committed before it began, and the next commit
    /// after it ends starts another for the rest.
    pub(super) fn start(&self) {
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
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
