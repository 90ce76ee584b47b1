//! What a job is, and the jobs this part of rapport ships.

use async_trait::async_trait;

pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// A pass's summary: at info when it did something, else at debug, so the
/// log of an idle daemon stays quiet.
macro_rules! summary {
    ($busy:expr, $($field:tt)+) => {
        if $busy {
            tracing::info!($($field)+)
        } else {
            tracing::debug!($($field)+)
        }
    };
}

/// What every job works with: the use cases' store, settings and clock.
pub type JobContext = crate::app::Core;

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
        let pruned = crate::app::status::housekeeping(ctx).await?;
        summary!(pruned > 0, pruned_job_runs = pruned, "housekeeping done");
        Ok(())
    }
}

/// Polls every feed that is due. The poller lives as long as the daemon, so
/// per-host pacing and cached robots.txt rules carry over between runs.
#[derive(Default)]
pub struct PollFeeds {
    poller: tokio::sync::OnceCell<crate::sources::poll::Poller>,
}

#[async_trait]
impl Job for PollFeeds {
    fn name(&self) -> &'static str {
        "poll-feeds"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let poller = self
            .poller
            .get_or_try_init(|| async { crate::app::sources::poller(ctx) })
            .await?;
        let report = poller.poll_due(None, &|_| {}).await?;
        summary!(
            report.polled > 0,
            polled = report.polled,
            new_posts = report.new_posts,
            unchanged = report.unchanged,
            failed = report.failed,
            broken = report.broken,
            "feeds polled"
        );
        Ok(())
    }
}

/// Reads every configured mailbox once: the safety net under the IDLE
/// watchers, and the only reader for servers without IDLE.
pub struct SyncMail;

#[async_trait]
impl Job for SyncMail {
    fn name(&self) -> &'static str {
        "sync-mail"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let report = mail_sync(ctx).sync_all().await;
        summary!(
            report.new_events + report.unreadable > 0,
            mailboxes = report.mailboxes,
            new_events = report.new_events,
            headers = report.headers_fetched,
            unreadable = report.unreadable,
            "mail synced"
        );
        problems(&report.errors)
    }
}

pub fn mail_sync(ctx: &JobContext) -> crate::sources::mail::sync::MailSync {
    crate::app::mail::syncer(ctx)
}

/// One sending pass over the sequences. The sender (and its mail transport)
/// lives as long as the daemon.
#[derive(Default)]
pub struct SendSequences {
    sender: tokio::sync::OnceCell<crate::sequences::SequenceSender>,
    /// Sequence files that cannot be used: their enrolments wait.
    reported: Reported,
}

#[async_trait]
impl Job for SendSequences {
    fn name(&self) -> &'static str {
        "send-sequences"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let (_, broken) = ctx.settings.load_sequences();
        let broken = broken
            .into_iter()
            .flat_map(|file| file.problems.into_iter().map(move |p| format!("{}: {p}", file.file)))
            .collect();
        self.reported.update("the sequence files", broken);
        let sender = self
            .sender
            .get_or_try_init(|| async { crate::app::sequences::sender(ctx) })
            .await?;
        let report = crate::app::sequences::send_pass(sender).await?;
        summary!(
            report.sent + report.tasks + report.stopped + report.refused + report.reconciled + report.unknown > 0,
            sent = report.sent,
            tasks = report.tasks,
            stopped = report.stopped,
            waiting = report.deferred,
            refused = report.refused,
            settled = report.reconciled,
            unknown = report.unknown,
            "sequences sent"
        );
        problems(&report.errors)
    }
}

/// Applies the stage rules to new events and idle prospects. A broken rules
/// file is logged once (and again when it changes or is fixed), not at every
/// run; `rapport status`, `config check` and the digest show it meanwhile.
#[derive(Default)]
pub struct ApplyRules {
    reported: Reported,
}

#[async_trait]
impl Job for ApplyRules {
    fn name(&self) -> &'static str {
        "apply-rules"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let runner = crate::app::rules::runner(ctx);
        let report = match crate::app::rules::run_pass(&runner, &()).await {
            Err(crate::app::AppError::Problems { problems, .. }) => {
                self.reported.update("the rules file", problems);
                return Ok(());
            }
            other => other?,
        };
        self.reported.update("the rules file", Vec::new());
        summary!(
            report.events > 0 || report.advanced + report.suggested + report.reminded > 0,
            events = report.events,
            advanced = report.advanced,
            suggested = report.suggested,
            reminded = report.reminded,
            skipped = report.skipped.len(),
            "rules applied"
        );
        Ok(())
    }
}

/// Sends each rep's daily digest at their local hour. The sender (and its
/// mail transport) lives as long as the daemon.
#[derive(Default)]
pub struct SendDigests {
    sender: tokio::sync::OnceCell<crate::digest::DigestSender>,
}

#[async_trait]
impl Job for SendDigests {
    fn name(&self) -> &'static str {
        "send-digests"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let sender = self
            .sender
            .get_or_try_init(|| async { crate::app::digest::sender(ctx) })
            .await?;
        let report = sender.run_pass().await?;
        summary!(
            report.sent > 0,
            sent = report.sent,
            skipped = report.skipped,
            "digests sent"
        );
        problems(&report.errors)
    }
}

/// Queues and sends outgoing webhooks (`[[webhooks.out]]`); nothing to do
/// without receivers. The dispatcher (and its HTTP client) lives as long as
/// the daemon.
#[derive(Default)]
pub struct DeliverWebhooks {
    dispatcher: std::sync::OnceLock<crate::webhooks::Dispatcher>,
}

#[async_trait]
impl Job for DeliverWebhooks {
    fn name(&self) -> &'static str {
        "deliver-webhooks"
    }

    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        if ctx.settings.config.webhooks.out.is_empty() {
            return Ok(());
        }
        let dispatcher = self.dispatcher.get_or_init(|| crate::app::webhooks::dispatcher(ctx));
        let report = dispatcher.run_pass().await?;
        summary!(
            report.queued + report.delivered + report.retried + report.gave_up > 0,
            queued = report.queued,
            delivered = report.delivered,
            retried = report.retried,
            gave_up = report.gave_up,
            "webhooks delivered"
        );
        Ok(())
    }
}

/// A run with problems fails, naming them all, so the job log shows them.
fn problems(errors: &[String]) -> Result<(), JobError> {
    match errors.is_empty() {
        true => Ok(()),
        false => Err(errors.join("; ").into()),
    }
}

/// The problems a job last logged, so a broken file is reported when it
/// breaks, changes or is fixed, not at every run of a job that runs each minute.
#[derive(Default)]
struct Reported(std::sync::Mutex<Vec<String>>);

impl Reported {
    fn update(&self, what: &str, problems: Vec<String>) {
        let mut last = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last == problems {
            return;
        }
        if problems.is_empty() {
            tracing::info!("{what} can be used again");
        } else {
            tracing::error!(
                problems = %problems.join("; "),
                "{what} cannot be used until fixed (logged once; `rapport config check` lists every problem)"
            );
        }
        *last = problems;
    }
}
