//! What an operator watches, read from the store at each scrape of
//! `/metrics`: counts that every daemon sharing the database agrees on.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The store's side of the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsSnapshot {
    /// Events stored, by kind.
    pub events_by_kind: Vec<(String, i64)>,
    /// Sequence mail in the outbox, by state (sending, sent, refused, unknown).
    pub outbox_by_state: Vec<(String, i64)>,
    /// Bounces recorded, by class (hard, soft).
    pub bounces_by_class: Vec<(String, i64)>,
    /// Each mailbox folder and when it was last read.
    pub folders: Vec<(String, String, Option<DateTime<Utc>>)>,
    /// Job runs kept (`[daemon] keep_job_runs_days`), by job and outcome.
    pub job_runs: Vec<(String, String, i64)>,
    /// Each job's latest finished run: how long it took, in seconds.
    pub job_last_seconds: Vec<(String, f64)>,
    /// Webhook deliveries waiting for review.
    pub unmatched_deliveries: i64,
    /// The database's size on disk.
    pub database_bytes: i64,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    async fn ops_snapshot(&self) -> StoreResult<OpsSnapshot>;
}
