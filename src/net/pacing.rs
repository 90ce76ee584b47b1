//! Politeness per host for the one HTTP client: each budget's slot (at
//! most its concurrency in flight, starts at least its interval apart), a
//! host's Retry-After held for every request to it, and, with several
//! daemons, each start reserved through the shared hosts first.

use super::client::{FetchError, HostBudget, HttpClient};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// A request's turn at its host and under the global limit.
pub(super) struct Turn<'a> {
    _host: tokio::sync::OwnedSemaphorePermit,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

/// One budget's state: requests in flight, and when the last one started.
pub(super) struct HostSlot {
    in_flight: Arc<Semaphore>,
    last_start: tokio::sync::Mutex<Option<Instant>>,
    /// A Retry-After the host gave: nothing starts before then.
    held_until: Mutex<Option<Instant>>,
}

/// The longest Retry-After honoured as a hold on the whole host.
const MAX_HOLD: Duration = Duration::from_secs(3600);
/// A shared reservation further off than this is a hold, not pacing: the
/// request is not made (the caller asks again later) rather than waited for.
const HELD_NOT_PACED: Duration = Duration::from_secs(60);
/// Shared turns a request may miss in a row before it takes one late.
const MISSED_TURNS: u32 = 5;

impl HttpClient {
    /// The budget a URL falls under, and its key: a budgeted host (or
    /// platform), else the host and port.
    pub fn budget_key(&self, url: &Url) -> (String, HostBudget) {
        let (name, budget) = self.settings.budget_of(url.host_str().unwrap_or_default());
        // Without a budget of its own, each host and port is its own.
        let key = match self.settings.host_budgets.contains_key(&name) {
            true => name,
            false => format!("{name}:{}", url.port_or_known_default().unwrap_or(0)),
        };
        (key, budget)
    }

    /// A host asked for a pause (Retry-After): no request to it starts
    /// before it is over, here or, with shared hosts, in any process.
    pub(super) async fn hold(&self, url: &Url, wait: Duration) {
        let wait = wait.min(MAX_HOLD);
        let (key, _) = self.budget_key(url);
        let slot = self.slot(&key, 1);
        *slot.held_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now() + wait);
        if let Some(shared) = &self.shared {
            if let Err(error) = shared.hold(&key, wait).await {
                tracing::warn!(
                    host = key,
                    error,
                    "could not share a host's Retry-After with the other daemons"
                );
            }
        }
    }

    fn slot(&self, key: &str, concurrency: usize) -> Arc<HostSlot> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        hosts
            .entry(key.to_string())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
                    last_start: tokio::sync::Mutex::new(None),
                    held_until: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Waits until the host is free and its pacing interval has passed, and
    /// for a place under the global limit.
    pub(super) async fn take_turn(&self, url: &Url) -> Result<Turn<'_>, FetchError> {
        let closed = || FetchError::Network {
            url: url.to_string(),
            reason: "client closed".into(),
        };
        let (key, budget) = self.budget_key(url);
        let slot = self.slot(&key, budget.concurrency);
        let host = slot.in_flight.clone().acquire_owned().await.map_err(|_| closed())?;
        // The start is stamped once the request may really go (under the global limit too).
        let mut last = slot.last_start.lock().await;
        let interval = Duration::from_millis(budget.interval_ms);
        if let Some(started) = *last {
            tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
        }
        let held = *slot.held_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let held = held.map(|until| until.saturating_duration_since(Instant::now()));
        if let Some(wait) = held.filter(|wait| !wait.is_zero()) {
            return Err(FetchError::Held { host: key, wait });
        }
        let mut missed = 0;
        let permit = match self.shared.as_ref().filter(|_| !interval.is_zero()) {
            Some(shared) => loop {
                match self
                    .shared_turn(shared.as_ref(), &key, interval, missed >= MISSED_TURNS)
                    .await
                {
                    SharedTurn::Taken(permit) => break permit,
                    SharedTurn::Held(wait) => return Err(FetchError::Held { host: key, wait }),
                    SharedTurn::Missed => missed += 1,
                    // The database is away: this process's own pacing still holds.
                    SharedTurn::Unshared(error) => {
                        tracing::warn!(host = key, error, "could not reserve a start with the other daemons");
                        break self.global.acquire().await.map_err(|_| closed())?;
                    }
                }
            },
            None => self.global.acquire().await.map_err(|_| closed())?,
        };
        *last = Some(Instant::now());
        drop(last);
        Ok(Turn {
            _host: host,
            _permit: permit,
        })
    }

    /// One try at a turn reserved with the other daemons. Turns are
    /// reserved `interval + slack` apart and a request starts only within
    /// `slack` of its turn's beginning, so two requests to a host start at
    /// least `interval` apart in real time, whichever daemons make them and
    /// however their clocks are set: a request that could not start in time
    /// (a busy machine, the global limit) gives its turn up and asks again.
    /// After `MISSED_TURNS` misses in a row (`take_late`) the turn is taken
    /// however late, with a warning: a database that answers slower than the
    /// slack every time must not stop a host's requests altogether.
    async fn shared_turn(
        &self,
        shared: &dyn super::shared::SharedHosts,
        key: &str,
        interval: Duration,
        take_late: bool,
    ) -> SharedTurn<'_> {
        let slack = turn_slack(interval);
        let asked = Instant::now();
        let wait = match shared.reserve_start(key, interval + slack).await {
            Ok(wait) if wait > HELD_NOT_PACED => return SharedTurn::Held(wait),
            Ok(wait) => wait,
            Err(error) => return SharedTurn::Unshared(error),
        };
        // The database's "now" fell between asking and the answer; it counts
        // in whole milliseconds (one more of slack taken off).
        let earliest = Instant::now() + wait;
        let latest = asked + wait + slack.saturating_sub(Duration::from_millis(1));
        tokio::time::sleep_until(earliest.into()).await;
        let Ok(permit) = self.global.acquire().await else {
            return SharedTurn::Unshared("client closed".into());
        };
        let started = Instant::now();
        let started_at = chrono::Utc::now();
        if started > latest && take_late {
            tracing::warn!(
                host = key,
                late_ms = (started - latest).as_millis() as u64,
                "started a request late after {MISSED_TURNS} missed turns (the database answers slowly): \
                 it may follow the previous one closer than the host's interval"
            );
        } else if started > latest {
            tracing::debug!(
                host = key,
                late_ms = (started - latest).as_millis() as u64,
                "missed a turn; asking for another"
            );
            return SharedTurn::Missed;
        }
        // The request log: each start at a host, to check the pace by.
        tracing::debug!(
            target: "rapport::net::turns",
            host = key,
            at = %started_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "request start"
        );
        SharedTurn::Taken(permit)
    }
}

/// What one try at a shared turn came to.
enum SharedTurn<'a> {
    Taken(tokio::sync::SemaphorePermit<'a>),
    /// The host asked for a pause this long.
    Held(Duration),
    /// Not started within the turn's slack: ask for another.
    Missed,
    /// The shared hosts could not be asked.
    Unshared(String),
}

/// How late after its turn a request may still start: a tenth of the
/// interval, at least 5 ms (a busy database's answer takes a few; the
/// window is counted from the question), at most 20 ms (a second's budget
/// loses 2 % to it).
fn turn_slack(interval: Duration) -> Duration {
    (interval / 10).clamp(Duration::from_millis(5), Duration::from_millis(20))
}
