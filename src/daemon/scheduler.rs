//! Claims due job runs against the stored schedule.
//!
//! Each job's next run lives in the database in UTC. A run is claimed by
//! moving that next run forward with a compare-and-set *before* the job
//! starts, so a restart never repeats a run that started, a run due while the
//! daemon was down happens once when it comes back (not once per missed
//! tick), and two daemons sharing a database never both take the same run.

use super::jobs::{Job, JobContext, JobError};
use crate::config::JobConfig;
use crate::domain::schedule::CronSchedule;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

struct Entry {
    job: Arc<dyn Job>,
    schedule: CronSchedule,
    timeout: Duration,
    next_run: Option<DateTime<Utc>>,
}

/// A run this worker has claimed and must now execute.
pub struct ClaimedRun {
    pub name: String,
    pub run_id: i64,
    pub scheduled_for: DateTime<Utc>,
    job: Arc<dyn Job>,
    timeout: Duration,
}

pub struct Scheduler {
    entries: Vec<Entry>,
    running: HashSet<String>,
}

/// The next run stored for a job that will never run again.
fn never() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z").map_or(DateTime::<Utc>::MAX_UTC, |t| t.with_timezone(&Utc))
}

impl Scheduler {
    /// Registers the jobs' schedules with the store and loads their next runs.
    pub async fn register(ctx: &JobContext, jobs: Vec<(Arc<dyn Job>, JobConfig)>) -> Result<Scheduler, JobError> {
        let now = ctx.clock.now();
        let default_timeout = ctx.settings.config.daemon.job_timeout_secs;
        let mut entries = Vec::new();
        for (job, config) in jobs {
            let schedule = CronSchedule::parse(&config.schedule, &config.time_zone)
                .map_err(|e| format!("job {}: {e}", job.name()))?;
            let planned = schedule.next_after(now).unwrap_or_else(never);
            let stored = ctx
                .store
                .ensure_job(job.name(), schedule.expression(), schedule.zone().name(), planned)
                .await?;
            tracing::info!(job = job.name(), schedule = schedule.expression(), zone = schedule.zone().name(), next_run = %stored, "job registered");
            entries.push(Entry {
                job,
                schedule,
                timeout: Duration::from_secs(config.timeout_secs.unwrap_or(default_timeout)),
                next_run: (stored != never()).then_some(stored),
            });
        }
        Ok(Scheduler {
            entries,
            running: HashSet::new(),
        })
    }

    /// Claims every job due at `now` that is not still running from before.
    /// A job whose claim fails (a locked or full database) is left for the
    /// next call; the runs claimed before it are returned all the same, so
    /// none is claimed and then lost.
    pub async fn claim_due(&mut self, ctx: &JobContext, now: DateTime<Utc>) -> Result<Vec<ClaimedRun>, JobError> {
        let mut claimed = Vec::new();
        let mut failure = None;
        for index in 0..self.entries.len() {
            match self.claim_entry(index, ctx, now).await {
                Ok(Some(run)) => claimed.push(run),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(job = self.entries[index].job.name(), error = %e, "could not claim a job run; trying again soon");
                    failure.get_or_insert(e);
                }
            }
        }
        match failure {
            Some(e) if claimed.is_empty() => Err(e),
            _ => Ok(claimed),
        }
    }

    async fn claim_entry(
        &mut self,
        index: usize,
        ctx: &JobContext,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedRun>, JobError> {
        let entry = &mut self.entries[index];
        {
            let name = entry.job.name();
            let Some(due) = entry.next_run.filter(|due| *due <= now) else {
                return Ok(None);
            };
            if self.running.contains(name) {
                return Ok(None);
            }
            let next = entry.schedule.next_after(now).unwrap_or_else(never);
            match ctx.store.claim_job_run(name, due, next, now).await? {
                Some(run_id) => {
                    self.running.insert(name.to_string());
                    entry.next_run = (next != never()).then_some(next);
                    Ok(Some(ClaimedRun {
                        name: name.to_string(),
                        run_id,
                        scheduled_for: due,
                        job: entry.job.clone(),
                        timeout: entry.timeout,
                    }))
                }
                None => {
                    // Another worker took it: adopt the schedule it stored.
                    let stored = ctx
                        .store
                        .ensure_job(name, entry.schedule.expression(), entry.schedule.zone().name(), next)
                        .await?;
                    entry.next_run = (stored != never()).then_some(stored);
                    Ok(None)
                }
            }
        }
    }

    /// Lets a job be claimed again once its run has ended.
    pub fn mark_finished(&mut self, name: &str) {
        self.running.remove(name);
    }

    /// How long until the earliest next run (zero if one is overdue).
    /// Jobs still running are left out: they are claimed again only once
    /// they have finished, which wakes the loop anyway.
    pub fn time_until_next(&self, now: DateTime<Utc>) -> Duration {
        self.entries
            .iter()
            .filter(|e| !self.running.contains(e.job.name()))
            .filter_map(|e| e.next_run)
            .min()
            .map(|next| (next - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(3600))
    }
}

/// Runs a claimed job under its timeout and records how it ended. A failure
/// is logged and recorded; the job runs again at its next scheduled time.
pub async fn execute(ctx: &JobContext, run: ClaimedRun) {
    let span = tracing::info_span!("job", name = %run.name, run_id = run.run_id, scheduled_for = %run.scheduled_for);
    async {
        tracing::debug!("job started");
        // A panicking job is a failed run like any other: it must not stop
        // the job from being scheduled again.
        let guarded = std::panic::AssertUnwindSafe(run.job.run(ctx)).catch_unwind();
        let outcome = match tokio::time::timeout(run.timeout, guarded).await {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(e))) => Some(e.to_string()),
            Ok(Err(_)) => Some("the job panicked; this is a bug in rapport, please report it with the log".to_string()),
            Err(_) => Some(format!(
                "timed out after {} s; raise jobs.{}.timeout_secs if it needs longer",
                run.timeout.as_secs(),
                run.name
            )),
        };
        if let Err(e) = ctx
            .store
            .finish_job_run(run.run_id, outcome.as_deref(), ctx.clock.now())
            .await
        {
            tracing::error!(error = %e, "could not record the end of a job run");
        }
        // Logged once recorded: what the log says has ended, the job runs table says too.
        match &outcome {
            None => tracing::debug!("job finished"),
            Some(error) => tracing::error!(%error, "job failed; it runs again at its next scheduled time"),
        }
    }
    .instrument(span)
    .await
}
