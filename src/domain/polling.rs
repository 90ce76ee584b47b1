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
    /// [0, 1) spreads every outcome (a tenth of the interval either way on
    /// success, more on failures) so feeds polled together do not return in step.
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
                    now + spread(interval, jitter, self.max_interval),
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
                    now + spread(self.broken_retry, jitter, self.broken_retry),
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

/// How far either side of its interval a poll may be moved: sources
/// imported together (all due at once, all polled within seconds) drift
/// apart within one interval instead of returning in step forever.
const SPREAD: f64 = 0.2;

/// `wait` moved by up to a tenth either way by `jitter` in [0, 1) (0.5: not
/// moved), and never past `most`: a time past it is reflected back below it,
/// so waits at their longest still spread (earlier only) instead of piling
/// up on the cap.
fn spread(wait: Duration, jitter: f64, most: Duration) -> Duration {
    let factor = 1.0 + SPREAD * (jitter.clamp(0.0, 1.0) - 0.5);
    let moved = Duration::milliseconds((wait.num_milliseconds() as f64 * factor) as i64);
    if moved <= most {
        moved
    } else {
        (most - (moved - most)).max(Duration::zero())
    }
}

/// A spread in [0, 1) that differs per source and poll, without a random
/// source (the same inputs give the same schedule, in tests too).
pub fn jitter(source: i64, now: DateTime<Utc>) -> f64 {
    let mixed = (source as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (now.timestamp_millis() as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    // The high bits: the multiplications mix upwards.
    (mixed >> 11) as f64 / (1u64 << 53) as f64
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
        let (busy, next) = p.after(p.fresh(), PollResult::Changed, now(), 0.5);
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
        let (health, next) = p.after(p.fresh(), PollResult::Gone, now(), 0.5);
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

    #[test]
    fn sources_polled_in_the_same_second_drift_apart_within_an_interval() {
        // An import's 10,000 sources, all polled in one second: after any
        // outcome their next polls spread so no second holds 2 % of them.
        let p = policy();
        for result in [PollResult::Changed, PollResult::Unchanged, PollResult::Gone] {
            let mut per_second = std::collections::HashMap::<i64, usize>::new();
            for source in 1..=10_000 {
                let polled_at = now() + Duration::milliseconds(source % 1000);
                let (_, next) = p.after(p.fresh(), result, polled_at, jitter(source, polled_at));
                *per_second.entry(next.timestamp()).or_default() += 1;
            }
            let busiest = per_second.values().max().copied().unwrap_or(0);
            assert!(busiest <= 200, "{result:?}: {busiest} of 10,000 in one second");
        }
    }

    #[test]
    fn the_spread_stays_within_a_tenth_of_the_interval() {
        let p = policy();
        for j in [0.0, 0.25, 0.5, 0.75, 0.999] {
            let (_, next) = p.after(p.fresh(), PollResult::Changed, now(), j);
            let minutes = (next - now()).num_seconds() as f64 / 60.0;
            assert!((40.5..=49.5).contains(&minutes), "{j}: {minutes}");
        }
        assert!((0..1000).all(|s| (0.0..1.0).contains(&jitter(s, now()))));
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
