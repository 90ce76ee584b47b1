//! The daemon's schedule in the database: each job's next run, claimed once
//! across workers, and the record of every run (how it ended, and why it failed).

use super::StoreResult;
pub use crate::domain::records::JobRun;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Registers a job's schedule. When the schedule (or zone) changed, or the
    /// job is new, `next_run` is stored; otherwise the stored next run stands.
    /// Returns the next run in force.
    async fn ensure_job(
        &self,
        name: &str,
        schedule: &str,
        time_zone: &str,
        next_run: DateTime<Utc>,
    ) -> StoreResult<DateTime<Utc>>;
    /// Claims the run due at `due` by moving the job's next run to `next`;
    /// returns the run's id, or `None` if another worker claimed it first.
    async fn claim_job_run(
        &self,
        name: &str,
        due: DateTime<Utc>,
        next: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<i64>>;
    async fn finish_job_run(&self, run_id: i64, error: Option<&str>, now: DateTime<Utc>) -> StoreResult<()>;
    async fn job_runs(&self, name: &str) -> StoreResult<Vec<JobRun>>;
    /// Each job's latest run, by job name.
    async fn latest_job_runs(&self) -> StoreResult<Vec<JobRun>>;
    /// Prunes finished job runs older than `keep_until` and lets the database tidy itself.
    async fn housekeeping(&self, keep_until: DateTime<Utc>) -> StoreResult<u64>;
}
