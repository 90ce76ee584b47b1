//! What a job is, and the jobs this part of rapport ships.

use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::store::Store;
use async_trait::async_trait;
use chrono::Duration;
use std::sync::Arc;

pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// What every job run is handed. Cloning is cheap.
#[derive(Clone)]
pub struct JobContext {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
}

#[async_trait]
pub trait Job: Send + Sync {
    fn name(&self) -> &'static str;
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError>;
}

/// Prunes old job runs and lets the database tidy itself.
pub struct Housekeeping;

#[async_trait]
impl Job for Housekeeping {
    fn name(&self) -> &'static str {
        "housekeeping"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let keep_days = ctx.settings.config.daemon.keep_job_runs_days;
        let keep_until = ctx.clock.now() - Duration::days(keep_days.into());
        let pruned = ctx.store.housekeeping(keep_until).await?;
        tracing::info!(pruned_job_runs = pruned, "housekeeping done");
        Ok(())
    }
}
