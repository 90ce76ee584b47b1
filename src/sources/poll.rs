//! Polling: claim the feeds that are due, fetch each through the guarded
//! client (discovering the feed first where only a page is known), turn new
//! items into `post` events, and schedule the next poll by the polling rules.

use super::discovery::{autodiscover, common_paths};
use super::reading::{looks_like_a_feed, read_feed, PollFailure, Polled, PostContext};
use super::robots::RobotsCache;
use super::writer::{PollWriter, Unwritten};
use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::domain::polling::{jitter, FeedHealth, PollPolicy, PollResult};
use crate::net::client::{FetchError, Fetched, HttpClient, Validators};
use crate::store::{Claim, PollRecord, PollSchedule, Source, Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::sync::Arc;
use url::Url;

// Each claimed source is leased for `[feeds] lease_secs` while it is
// polled (batches of `[feeds] claim_batch`), renewed every third of it.

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct PollReport {
    pub polled: u64,
    pub new_posts: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub broken: u64,
    /// Polls not written: another worker took their sources over (this one
    /// held them past its lease, e.g. paused); theirs counts.
    #[serde(skip_serializing_if = "is_zero")]
    pub fenced: u64,
    /// Times a due feed was given back for its host's later turns (its
    /// budget could not reach it in that batch); most are polled later in
    /// the same pass.
    #[serde(skip_serializing_if = "is_zero")]
    pub waiting_for_host: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub struct Poller {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    client: HttpClient,
    robots: RobotsCache,
    policy: PollPolicy,
    first_poll_window: Duration,
    /// Lanes (feeds of one host, one after another) polled at once.
    concurrency: usize,
    /// Sources claimed at a time.
    batch: u32,
    /// How long a claim holds; renewed every third of it while polling.
    lease: Duration,
    /// Sources this poller claimed and has not written back yet. Claiming
    /// leases a source for `lease`; when a pass cannot write (a full
    /// disk), the next pass gives them back first, so they are polled again
    /// within seconds of the database taking writes, not after the lease.
    unwritten: Unwritten,
    /// Per host budget, when the work handed to its lanes ends (`lanes.rs`).
    queued: std::sync::Mutex<std::collections::HashMap<String, DateTime<Utc>>>,
}

impl Poller {
    pub fn new(settings: &Settings, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Poller, FetchError> {
        let feeds = &settings.config.feeds;
        let mut client = HttpClient::new(settings.config.fetch.client_settings())?;
        if store.shared_by_daemons() {
            client = client.with_shared_hosts(Arc::new(super::shared_hosts::StoreHosts(store.clone())));
        }
        Ok(Poller {
            client,
            robots: RobotsCache::default(),
            store,
            clock,
            policy: PollPolicy {
                interval: Duration::minutes(feeds.interval_mins as i64),
                max_interval: Duration::hours(feeds.max_interval_hours as i64),
                broken_after_failures: feeds.broken_after_failures,
                broken_retry: Duration::hours(feeds.broken_retry_hours as i64),
            },
            first_poll_window: Duration::days(feeds.first_poll_window_days as i64),
            concurrency: settings.config.fetch.max_concurrent.max(1),
            batch: feeds.claim_batch.clamp(1, 5000),
            lease: Duration::seconds(feeds.lease_secs.clamp(2, 3600) as i64),
            unwritten: Unwritten::default(),
            queued: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// Polls every due source (or every source of one prospect), reporting
    /// each finished source to `progress`.
    ///
    /// Call it in a task of the runtime (`tokio::spawn`), as the daemon's
    /// job and `rapport poll` do, not in `block_on`: the lanes are then
    /// polled on the worker threads where their HTTP connections run, and
    /// a response wakes its lane without a switch to another thread.
    /// `cargo bench --bench poll`, the first poll of 10,000 realistic feeds,
    /// eight runs each in turns: 7,000 feeds/s (52–61 % of fetch-only, mean
    /// 56.5) against 6,490 (51–56 %, mean 53) from `block_on`.
    pub async fn poll_due(&self, prospect: Option<i64>, progress: &(dyn Fn(u64) + Sync)) -> StoreResult<PollReport> {
        let left = self.unwritten().iter().copied().collect::<Vec<_>>();
        if !left.is_empty() {
            self.store.release_sources(&left, self.clock.now()).await?;
            self.unwritten().retain(|id| !left.contains(id));
        }
        // Fetching and writing run side by side: results go to a writer task
        // of its own (on a thread of its own, see `writer::spawn`) that stores whatever
        // has arrived in one transaction, so a slow host never holds back
        // what is already fetched, and a stopped run loses little.
        let (sender, receiver) = PollWriter::channel();
        let (written_sender, mut written) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let writer = super::writer::spawn(
            PollWriter {
                store: self.store.clone(),
                clock: self.clock.clone(),
                unwritten: self.unwritten.clone(),
            }
            .write_all(receiver, written_sender),
        );
        // Host by host (`lanes.rs`): a busy host's feeds beyond its budget are
        // given back for its later turns, and the pass waits for those (up to
        // five minutes) before it ends.
        let waiting = std::sync::atomic::AtomicU64::new(0);
        // The sender moves in: when fetching ends, the writer sees the channel close.
        let fetching = self.fetch_due(prospect, sender, &waiting);
        let reporting = async {
            while let Some(n) = written.recv().await {
                progress(n);
            }
        };
        let work = async { tokio::join!(fetching, reporting).0 };
        let fetched: StoreResult<()> = tokio::select! {
            done = work => done,
            never = self.heartbeat() => match never {},
        };
        let written = match writer.await {
            Ok(written) => written,
            Err(stopped) if stopped.is_panic() => std::panic::resume_unwind(stopped.into_panic()),
            Err(_) => Err(StoreError::Conflict(
                "the poll's writer was stopped (rapport is shutting down); the polls not written are polled again"
                    .into(),
            )),
        };
        if let Err(e) = &written {
            // Nothing of theirs is stored; the next pass gives them back (a
            // fenced give-back: a worker that took them over keeps them).
            let not_written = self.unwritten().len();
            tracing::warn!(error = %e, not_written, "the pass could not store its polls; their sources are polled again");
        }
        fetched?;
        let mut report = written?;
        // A feed given back twice in one pass (its host far behind) counts twice.
        report.waiting_for_host = waiting.load(std::sync::atomic::Ordering::Relaxed);
        Ok(report)
    }

    /// Renews the claims still being polled every third of the lease, so a
    /// long poll (a slow host's budget) keeps its feeds; runs until dropped.
    async fn heartbeat(&self) -> std::convert::Infallible {
        let every = (self.lease / 3).to_std().unwrap_or(std::time::Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            let held: Vec<Claim> = self.unwritten().iter().copied().collect();
            if held.is_empty() {
                continue;
            }
            let until = self.clock.now() + self.lease;
            if let Err(e) = self.store.renew_source_claims(&held, until).await {
                tracing::warn!(error = %e, "could not renew the claims of the feeds being polled");
            }
        }
    }

    /// Claims up to `limit` due sources (or one prospect's). The claim runs
    /// as a task of its own: reading back hundreds of claimed rows is work
    /// the lanes' task stopped for, every lane with it (`fetch_due` claims
    /// beside the lanes). `cargo bench --bench poll`'s all-304 re-poll of
    /// 10,000 feeds read 89–93 % of fetch-only with the claim on the lanes'
    /// task and 99–101 % on its own, six runs each in turns. Dropped, the
    /// claim is stopped too, as it was.
    pub(super) async fn claim(&self, prospect: Option<i64>, limit: u32) -> StoreResult<Vec<Source>> {
        let now = self.clock.now();
        let (store, until) = (self.store.clone(), now + self.lease);
        let claiming = async move {
            store
                .claim_due_sources(crate::store::worker_name(), now, until, prospect, limit)
                .await
        };
        let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(claiming));
        let claimed = task.await.map_err(|stopped| {
            // A panic in the store's code: its message is only here.
            tracing::error!(error = %stopped, "the claim of due feeds stopped");
            StoreError::Database {
                action: "claim due feeds",
                source: sqlx::Error::WorkerCrashed,
            }
        })??;
        self.unwritten().extend(claimed.iter().map(Source::claim));
        Ok(claimed)
    }

    /// Lanes polled at once.
    pub(super) fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Sources claimed at a time.
    pub(super) fn batch(&self) -> u32 {
        self.batch
    }

    /// When the work handed to each host's lanes ends at its budget's pace.
    pub(super) fn queued_hosts(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, DateTime<Utc>>> {
        self.queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Gives sources back unpolled, each due at its time; they are no longer this poller's to write.
    pub(super) async fn give_back_for_later(&self, deferrals: &[(Claim, DateTime<Utc>)]) -> StoreResult<()> {
        self.store.defer_sources(deferrals).await?;
        let mut unwritten = self.unwritten();
        for (claim, _) in deferrals {
            unwritten.remove(claim);
        }
        Ok(())
    }

    fn unwritten(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<Claim>> {
        self.unwritten.lock()
    }

    /// The second half of a source's poll, after `fetch`: the feed's body
    /// parsed (on a parse thread) and what to store worked out; nothing is
    /// written yet.
    pub(super) async fn finish(&self, source: Source, fetch: Fetch) -> (Claim, PollRecord) {
        let polled = match fetch {
            Fetch::Body {
                feed_url,
                fetched,
                posts,
            } => self.read_feed(feed_url, fetched, &posts).await,
            Fetch::Polled(polled) => polled,
        };
        let now = self.clock.now();
        let health = FeedHealth {
            interval: if source.interval_secs > 0 {
                Duration::seconds(source.interval_secs)
            } else {
                self.policy.interval
            },
            consecutive_failures: source.consecutive_failures,
            broken: source.broken,
        };
        let schedule = |result| {
            let (health, next) = self.policy.after(health, result, now, jitter(source.id, now));
            PollSchedule {
                interval_secs: health.interval.num_seconds(),
                consecutive_failures: health.consecutive_failures,
                broken: health.broken,
                next_poll_at: next,
            }
        };
        let mut record = PollRecord {
            feed_url: source.feed_url.clone(),
            validators: source.validators.clone(),
            status: String::new(),
            error: None,
            first_poll_done: source.first_poll_done,
            events: Vec::new(),
            if_new: schedule(PollResult::Changed),
            if_not_new: schedule(PollResult::Unchanged),
        };
        let outcome = match &polled {
            Ok(Polled::NotModified) => "not_modified",
            Ok(Polled::Feed { .. }) => "changed",
            Err(failure) if matches!(failure.result, PollResult::Held { .. }) => "held",
            Err(failure) => {
                ::metrics::counter!(crate::metrics::names::FETCH_ERRORS, "class" => failure.class).increment(1);
                "failed"
            }
        };
        ::metrics::counter!(crate::metrics::names::FEEDS_POLLED, "outcome" => outcome).increment(1);
        match polled {
            Ok(Polled::NotModified) => record.status = "not modified (304)".into(),
            Ok(Polled::Feed {
                feed_url,
                items,
                events,
                validators,
            }) => {
                record.status = format!("ok: {items} items");
                record.events = events;
                record.feed_url = Some(feed_url.to_string());
                record.validators = validators;
                record.first_poll_done = true;
            }
            Err(failure) if matches!(failure.result, PollResult::Held { .. }) => {
                tracing::info!(source = source.id, reason = %failure.message, "feed not fetched: its host asked for a pause");
                let held_schedule = schedule(failure.result);
                record.status = format!("waiting: {}", failure.message);
                record.if_new = held_schedule;
                record.if_not_new = held_schedule;
            }
            Err(failure) => {
                tracing::warn!(source = source.id, prospect = source.prospect_id, url = %source.page_url, error = %failure.message, "feed poll failed");
                let failed_schedule = schedule(failure.result);
                record.status = "failed".into();
                record.error = Some(failure.message);
                record.if_new = failed_schedule;
                record.if_not_new = failed_schedule;
            }
        }
        (source.claim(), record)
    }

    /// The first half of a source's poll: its feed fetched, or (a page
    /// searched for its feed, a failure) the whole poll.
    pub(super) async fn fetch(&self, source: &Source) -> Fetch {
        self.fetch_body(source)
            .await
            .unwrap_or_else(|failure| Fetch::Polled(Err(failure)))
    }

    async fn fetch_body(&self, source: &Source) -> Result<Fetch, PollFailure> {
        let now = self.clock.now();
        let posts = PostContext {
            prospect_id: source.prospect_id,
            source_id: source.id,
            platform: source.platform.clone(),
            since: (!source.first_poll_done).then(|| now - self.first_poll_window),
            now,
        };
        let Some(feed_url) = &source.feed_url else {
            let page = parse_url(&source.page_url)?;
            return Ok(Fetch::Polled(self.discover(&page, &posts).await));
        };
        let feed_url = parse_url(feed_url)?;
        let fetched = self.client.get(&feed_url, &source.validators).await?;
        Ok(Fetch::Body {
            feed_url,
            fetched,
            posts,
        })
    }

    /// Parses what a fetch brought back and makes its events (`reading.rs`).
    async fn read_feed(&self, feed_url: Url, fetched: Fetched, posts: &PostContext) -> Result<Polled, PollFailure> {
        read_feed(feed_url, fetched, posts).await
    }

    /// Finds and reads the feed of a page: the page itself if it is one, else
    /// the feeds it announces, else the common feed paths of its site. What
    /// was fetched to find the feed is the poll's result; nothing is fetched twice.
    async fn discover(&self, page: &Url, posts: &PostContext) -> Result<Polled, PollFailure> {
        match self.robots.allows(&self.client, page).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(PollFailure::of(
                    "robots",
                    format!(
                        "robots.txt of {} does not let rapport read {page}; add the feed URL as a profile instead",
                        page.origin().ascii_serialization()
                    ),
                ))
            }
            Err(why) => {
                return Err(PollFailure::of(
                    "robots",
                    format!("cannot look for a feed at {page}: reading its site's robots.txt failed: {why}"),
                ))
            }
        }
        let fetched = self.client.get(page, &Validators::default()).await?;
        let Fetched::Body {
            bytes,
            base_url,
            content_type,
            ..
        } = &fetched
        else {
            return Err(PollFailure::new(format!("{page} answered 304 to a plain GET")));
        };
        // A profile URL that is itself a feed is read as one at once; only a
        // page is searched for the feeds it announces (parsing it as HTML
        // costs as much as the feed).
        let announced = if looks_like_a_feed(content_type.as_deref(), bytes) {
            if let Ok(feed @ Polled::Feed { .. }) = self.read_feed(page.clone(), fetched, posts).await {
                return Ok(feed);
            }
            Vec::new()
        } else {
            let (html, base) = (String::from_utf8_lossy(bytes).into_owned(), base_url.clone());
            tokio::task::spawn_blocking(move || autodiscover(&html, &base))
                .await
                .unwrap_or_default()
        };
        let mut tried = Vec::new();
        // Common paths are tried on the page's own site, whatever Content-Location said.
        for candidate in announced.into_iter().chain(common_paths(page)) {
            match self.robots.allows(&self.client, &candidate).await {
                Ok(true) => {}
                Ok(false) => {
                    tried.push(format!("{candidate} (disallowed by robots.txt)"));
                    continue;
                }
                Err(why) => {
                    tried.push(format!("{candidate} ({why})"));
                    continue;
                }
            }
            if let Ok(fetched) = self.client.get(&candidate, &Validators::default()).await {
                if let Ok(feed @ Polled::Feed { .. }) = self.read_feed(candidate.clone(), fetched, posts).await {
                    return Ok(feed);
                }
            }
            tried.push(candidate.to_string());
        }
        Err(PollFailure::new(format!(
            "no feed found for {page} (tried {}); add the feed URL as a profile instead",
            tried.join(", ")
        )))
    }
}

/// A source's fetch, the first half of its poll (`Poller::fetch`).
pub(super) enum Fetch {
    /// The feed's body, to be parsed.
    Body {
        feed_url: Url,
        fetched: Fetched,
        posts: PostContext,
    },
    /// The whole poll: a page searched for its feed (what it found was
    /// parsed on the way), or a failure.
    Polled(Result<Polled, PollFailure>),
}

fn parse_url(text: &str) -> Result<Url, PollFailure> {
    Url::parse(text).map_err(|e| PollFailure::new(format!("'{text}' is not a URL: {e}")))
}
