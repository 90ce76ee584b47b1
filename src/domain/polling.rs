//! When a feed is polled next: an interval per feed that shortens while the
//! feed keeps changing and lengthens while it does not, exponential backoff
//! with jitter on failures, Retry-After honoured, and a feed that keeps
//! failing marked broken and retried rarely.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    /// The starting interval.
    pub interval: Duration,
    /// The longest interval, for changes and backoff alike.
    pub max_interval: Duration,
    pub broken_after_failures: u32,
    pub broken_retry: Duration,
}

/// What the poller remembers of a feed between polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedHealth {
    pub interval: Duration,
    pub consecutive_failures: u32,
    pub broken: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollResult {
    /// New items arrived.
    Changed,
    /// 304, or nothing new.
    Unchanged,
    /// Any failure; `retry_after` when the server said how long to wait.
    Failed { retry_after: Option<Duration> },
    /// The feed is gone for good (410): broken at once.
    Gone,
    /// Not fetched: its host asked every client to pause (another feed's
    /// 429 Retry-After). Not the feed's failure: asked again after the pause.
    Held { wait: Duration },
}

impl PollPolicy {
    pub fn fresh(&self) -> FeedHealth {
        FeedHealth {
            interval: self.interval,
            consecutive_failures: 0,
            broken: false,
        }
    }

    fn min_interval(&self) -> Duration {
        (self.interval / 4).max(Duration::minutes(5)).min(self.interval)
    }

    /// The feed's health after a poll and when to poll it next. `jitter` in
    /// [0, 1) spreads retries so failing feeds do not return in step.
    pub fn after(
        &self,
        health: FeedHealth,
        result: PollResult,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> (FeedHealth, DateTime<Utc>) {
        match result {
            PollResult::Changed | PollResult::Unchanged => {
                let interval = if result == PollResult::Changed {
                    (health.interval * 3 / 4).max(self.min_interval())
                } else {
                    (health.interval * 5 / 4).min(self.max_interval)
                };
                (
                    FeedHealth {
                        interval,
                        consecutive_failures: 0,
                        broken: false,
                    },
                    now + interval,
                )
            }
            PollResult::Held { wait } => {
                let spread = Duration::milliseconds((60_000.0 * jitter.clamp(0.0, 1.0)) as i64);
                (
                    health,
                    now + wait.clamp(Duration::seconds(1), Duration::hours(24)) + spread,
                )
            }
            PollResult::Gone => {
                let failures = health.consecutive_failures.saturating_add(1);
                (
                    FeedHealth {
                        interval: health.interval,
                        consecutive_failures: failures,
                        broken: true,
                    },
                    now + self.broken_retry,
                )
            }
            PollResult::Failed { retry_after } => {
                let failures = health.consecutive_failures.saturating_add(1);
                let broken = failures >= self.broken_after_failures;
                let backoff = if broken {
                    self.broken_retry
                } else {
                    let doubled = self.min_interval() * 2i32.saturating_pow(failures.min(16) - 1);
                    let spread = doubled.num_milliseconds() as f64 * 0.25 * jitter.clamp(0.0, 1.0);
                    (doubled + Duration::milliseconds(spread as i64)).min(self.max_interval)
                };
                // A server's Retry-After is a floor; nothing waits over a day.
                let wait = retry_after
                    .map_or(backoff, |asked| asked.max(backoff))
                    .min(Duration::hours(24));
                (
                    FeedHealth {
                        interval: health.interval,
                        consecutive_failures: failures,
                        broken,
                    },
                    now + wait.max(Duration::seconds(1)),
                )
            }
        }
    }
}

/// Cache validators from the last successful fetch of a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> PollPolicy {
        PollPolicy {
            interval: Duration::minutes(60),
            max_interval: Duration::hours(24),
            broken_after_failures: 5,
            broken_retry: Duration::hours(24),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-27T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn changing_feeds_are_polled_more_often_and_quiet_ones_less() {
        let p = policy();
        let (busy, next) = p.after(p.fresh(), PollResult::Changed, now(), 0.0);
        assert_eq!(busy.interval, Duration::minutes(45));
        assert_eq!(next, now() + Duration::minutes(45));
        let mut quiet = p.fresh();
        for _ in 0..40 {
            quiet = p.after(quiet, PollResult::Unchanged, now(), 0.0).0;
        }
        assert_eq!(quiet.interval, Duration::hours(24));
    }

    #[test]
    fn failures_back_off_then_mark_the_feed_broken() {
        let p = policy();
        let mut health = p.fresh();
        let mut waits = Vec::new();
        for _ in 0..5 {
            let (h, next) = p.after(health, PollResult::Failed { retry_after: None }, now(), 0.0);
            waits.push((next - now()).num_minutes());
            health = h;
        }
        assert_eq!(waits, [15, 30, 60, 120, 24 * 60]);
        assert!(health.broken);
        let (recovered, _) = p.after(health, PollResult::Unchanged, now(), 0.0);
        assert!(!recovered.broken && recovered.consecutive_failures == 0);
    }

    #[test]
    fn a_held_host_defers_its_feeds_without_counting_a_failure() {
        let p = policy();
        let health = FeedHealth {
            consecutive_failures: 2,
            ..p.fresh()
        };
        let (after, next) = p.after(
            health,
            PollResult::Held {
                wait: Duration::minutes(30),
            },
            now(),
            0.5,
        );
        assert_eq!(after, health, "a pause the host asked for is nobody's failure");
        assert_eq!(next, now() + Duration::minutes(30) + Duration::seconds(30));
    }

    #[test]
    fn a_gone_feed_is_broken_at_once() {
        let p = policy();
        let (health, next) = p.after(p.fresh(), PollResult::Gone, now(), 0.0);
        assert!(health.broken);
        assert_eq!(next, now() + Duration::hours(24));
    }

    #[test]
    fn retry_after_is_honoured() {
        let p = policy();
        let (_, next) = p.after(
            p.fresh(),
            PollResult::Failed {
                retry_after: Some(Duration::hours(3)),
            },
            now(),
            0.0,
        );
        assert_eq!(next, now() + Duration::hours(3));
    }

    proptest! {
        #[test]
        fn the_next_poll_is_always_within_a_day(results in proptest::collection::vec(0u8..3, 1..60), jitter in 0.0f64..1.0) {
            let p = policy();
            let mut health = p.fresh();
            for r in results {
                let result = match r { 0 => PollResult::Changed, 1 => PollResult::Unchanged, _ => PollResult::Failed { retry_after: None } };
                let (h, next) = p.after(health, result, now(), jitter);
                prop_assert!(next > now());
                prop_assert!(next - now() <= Duration::hours(24));
                health = h;
            }
        }
    }
}
