//! The daemon: runs named jobs on cron schedules until SIGINT/SIGTERM.
//!
//! The jobs are listed once, in `config::JOBS` (name, default schedule, time
//! limit); [`job_for`] makes each from its name.

mod jobs;
mod scheduler;

pub use jobs::{
    mail_sync, ApplyRules, DeliverWebhooks, Housekeeping, Job, JobContext, JobError, PollFeeds, SendDigests,
    SendSequences, SyncMail,
};
pub use scheduler::{ClaimedRun, Scheduler};

use crate::config::{JobConfig, Settings};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Every job the daemon knows, by config name (`[jobs.NAME]`).
pub use crate::config::JOB_NAMES;

/// Makes the job of a name in `config::JOBS`.
fn job_for(name: &str) -> Option<Arc<dyn Job>> {
    match name {
        "housekeeping" => Some(Arc::new(Housekeeping)),
        "poll-feeds" => Some(Arc::new(PollFeeds::default())),
        "sync-mail" => Some(Arc::new(SyncMail)),
        "send-sequences" => Some(Arc::new(SendSequences::default())),
        "apply-rules" => Some(Arc::new(ApplyRules::default())),
        "send-digests" => Some(Arc::new(SendDigests::default())),
        "deliver-webhooks" => Some(Arc::new(DeliverWebhooks::default())),
        _ => None,
    }
}

/// The enabled jobs of a configuration with their settings.
pub fn configured_jobs(settings: &Settings) -> Vec<(Arc<dyn Job>, JobConfig)> {
    settings
        .config
        .jobs
        .iter()
        .filter(|(_, job)| job.enabled)
        .filter_map(|(name, job)| job_for(name).map(|j| (j, job.clone())))
        .collect()
}

/// Longest sleep between checks, so a clock change or a schedule edited by
/// another worker is noticed soon.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// Pause after the database could not be reached before trying again.
const RETRY_AFTER_STORE_ERROR: Duration = Duration::from_secs(2);

/// The daemon's listeners, bound before it starts (a taken port is a clear
/// error at start, not a failure later).
#[derive(Default)]
pub struct Listeners {
    /// The board, the API, webhooks and unsubscribe links (`[http]`).
    pub http: Option<tokio::net::TcpListener>,
    /// `/metrics` (`[metrics]`).
    pub metrics: Option<tokio::net::TcpListener>,
}

/// Runs `jobs` on their schedules until `shutdown` resolves, then gives
/// running jobs the configured grace period before cancelling them.
pub async fn run(
    ctx: JobContext,
    jobs: Vec<(Arc<dyn Job>, JobConfig)>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> Result<(), JobError> {
    let listener = listeners.http;
    // Links already mailed are signed with the stored key: without it the
    // listener would answer every one as invalid, so the daemon does not start.
    let unsubscribe_key = match &listener {
        Some(_) => Some(Arc::new(crate::app::unsubscribe::key(&ctx).await.map_err(|e| {
            format!("cannot read the unsubscribe links' signing key from the database: {e}")
        })?)),
        None => None,
    };
    let mut scheduler = Scheduler::register(&ctx, jobs).await?;
    let grace = Duration::from_secs(ctx.settings.config.daemon.shutdown_grace_secs);
    let mut running: JoinSet<String> = JoinSet::new();
    let (stop_watchers, stop) = tokio::sync::watch::channel(false);
    let mut watchers = start_mail_watchers(&ctx, stop.clone());
    if let Some(listener) = listeners.metrics {
        crate::metrics::install();
        let mut stop = stop.clone();
        let core = ctx.clone();
        watchers.spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|stop| *stop).await;
            };
            if let Err(e) = crate::web::metrics::serve(listener, core, stopped).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
    }
    if let (Some(listener), Some(secret)) = (listener, unsubscribe_key) {
        watchers.spawn(serve_http(ctx.clone(), listener, secret, stop));
    }
    tokio::pin!(shutdown);
    loop {
        let now = ctx.clock.now();
        let pause = match scheduler.claim_due(&ctx, now).await {
            Ok(claimed) => {
                for run in claimed {
                    let ctx = ctx.clone();
                    running.spawn(async move {
                        let name = run.name.clone();
                        scheduler::execute(&ctx, run).await;
                        name
                    });
                }
                scheduler.time_until_next(now).min(MAX_SLEEP)
            }
            Err(e) => {
                tracing::error!(error = %e, "could not check the job schedule; retrying");
                RETRY_AFTER_STORE_ERROR
            }
        };
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(pause) => {}
            Some(finished) = running.join_next(), if !running.is_empty() => {
                if let Ok(name) = finished {
                    scheduler.mark_finished(&name);
                }
            }
        }
    }
    tracing::info!(running = running.len(), grace_secs = grace.as_secs(), "shutting down");
    // Watchers stop between batches, releasing their folders; each stored batch is
    // its own transaction, so one cut off after the grace period loses nothing.
    let _ = stop_watchers.send(true);
    let drained = tokio::time::timeout(grace, async {
        while running.join_next().await.is_some() {}
        while watchers.join_next().await.is_some() {}
    })
    .await;
    watchers.abort_all();
    if drained.is_err() {
        tracing::warn!(
            cancelled = running.len(),
            "jobs still running after the grace period were cancelled"
        );
        running.abort_all();
    }
    tracing::info!("stopped");
    Ok(())
}

/// The HTTP listener (one-click unsubscribe), until the daemon stops.
async fn serve_http(
    ctx: JobContext,
    listener: tokio::net::TcpListener,
    secret: Arc<Vec<u8>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let state = crate::web::WebState::new(ctx.clone(), secret.as_ref().clone());
    let stopped = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    if let Err(e) = crate::web::serve(listener, state, &ctx.settings.config.http, stopped).await {
        tracing::error!(error = %e, "the HTTP listener failed");
    }
}

/// One IDLE watcher per mailbox that wants it, so replies arrive within
/// seconds; servers without IDLE are left to the `sync-mail` schedule.
fn start_mail_watchers(ctx: &JobContext, stop: tokio::sync::watch::Receiver<bool>) -> JoinSet<()> {
    let mut watchers = JoinSet::new();
    let sync_enabled = ctx.settings.config.jobs.get("sync-mail").is_some_and(|job| job.enabled);
    for (name, config) in ctx
        .settings
        .config
        .mailboxes
        .iter()
        .filter(|(_, c)| c.idle && sync_enabled)
    {
        let watch = crate::sources::mail::watch::watch(
            mail_sync(ctx),
            name.clone(),
            config.clone(),
            crate::sources::mail::watch::WithoutIdle::Stop,
            stop.clone(),
        );
        watchers.spawn(watch);
    }
    watchers
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_listed_job_can_be_made_and_is_named_as_listed() {
        for spec in crate::config::JOBS {
            let job = super::job_for(spec.name).unwrap_or_else(|| panic!("no maker for job {}", spec.name));
            assert_eq!(job.name(), spec.name);
        }
    }
}
