//! Sign-in lockout: after too many failed sign-ins within a window, a key
//! (an account's email, a client's address) is refused until a time it is
//! told, without its password even being checked, so guessing stays slow
//! however fast the guesser. A success clears the key's failures. Pure: the
//! clock is passed in. The store keeps each key's [`Record`] (so every
//! daemon on one database counts the same failures) and applies
//! [`after_failure`] in its write transaction; [`Lockout`] is the same over
//! a map in memory.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// Keys remembered before expired ones are forgotten.
const REMEMBERED: usize = 10_000;

/// How many failures a key may have within `window` before it is locked
/// for `window` (each further lock doubling, up to a day).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub failures: u32,
    pub window: Duration,
}

/// One key's failures and lock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// Failures since the window started.
    pub failures: u32,
    pub window_start: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Locks so far without a success: each lasts twice the last.
    pub locks: u32,
}

impl Record {
    /// `Err(until)` while locked.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.locked_until {
            Some(until) if until > now => Err(until),
            _ => Ok(()),
        }
    }
}

impl Policy {
    /// At least one failure, and a window of at least a minute.
    pub fn sane(self) -> Policy {
        Policy {
            failures: self.failures.max(1),
            window: self.window.max(Duration::minutes(1)),
        }
    }
}

/// Counts a failure on a key's record; the new record, and `Some(until)` when it locks the key.
pub fn after_failure(policy: Policy, record: Record, now: DateTime<Utc>) -> (Record, Option<DateTime<Utc>>) {
    let policy = policy.sane();
    let mut record = record;
    let fresh = record.window_start.is_none_or(|start| now - start >= policy.window);
    if fresh {
        record.failures = 0;
        record.window_start = Some(now);
    }
    record.failures += 1;
    if record.failures < policy.failures {
        return (record, None);
    }
    let length = policy.window * 2i32.saturating_pow(record.locks.min(10));
    let until = now + length.min(Duration::days(1));
    record.locks += 1;
    record.failures = 0;
    record.window_start = None;
    record.locked_until = Some(until);
    (record, Some(until))
}

/// Failed sign-ins per key.
#[derive(Debug)]
pub struct Lockout {
    policy: Policy,
    records: HashMap<String, Record>,
}

impl Lockout {
    pub fn new(policy: Policy) -> Lockout {
        Lockout {
            policy: policy.sane(),
            records: HashMap::new(),
        }
    }

    /// `Err(until)` while the key is locked.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        self.records.get(key).map_or(Ok(()), |r| r.check(now))
    }

    /// Counts a failure; `Some(until)` when it locks the key.
    pub fn fail(&mut self, key: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.records.len() >= REMEMBERED {
            self.forget_expired(now);
        }
        let record = self.records.remove(key).unwrap_or_default();
        let (record, locked) = after_failure(self.policy, record, now);
        self.records.insert(key.to_string(), record);
        locked
    }

    /// A success: the key starts afresh.
    pub fn succeed(&mut self, key: &str) {
        self.records.remove(key);
    }

    fn forget_expired(&mut self, now: DateTime<Utc>) {
        let window = self.policy.window;
        self.records.retain(|_, r| {
            r.locked_until.is_some_and(|until| until > now - Duration::days(1))
                || r.window_start.is_some_and(|start| now - start < window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn five_in_fifteen() -> Lockout {
        Lockout::new(Policy {
            failures: 5,
            window: Duration::minutes(15),
        })
    }

    #[test]
    fn the_fifth_failure_in_the_window_locks_until_a_time_told() {
        let mut lockout = five_in_fifteen();
        for minute in 0..4 {
            assert_eq!(lockout.fail("bob@example.com", at(minute)), None);
            assert!(lockout.check("bob@example.com", at(minute)).is_ok());
        }
        assert_eq!(lockout.fail("bob@example.com", at(4)), Some(at(19)));
        assert_eq!(lockout.check("bob@example.com", at(10)), Err(at(19)));
        assert!(
            lockout.check("ann@example.com", at(10)).is_ok(),
            "other keys are not locked"
        );
        assert!(
            lockout.check("bob@example.com", at(19)).is_ok(),
            "open again at the time told"
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let mut lockout = five_in_fifteen();
        for n in 0..20 {
            assert_eq!(lockout.fail("k", at(n * 4)), None, "failure {n}");
        }
    }

    #[test]
    fn each_further_lock_lasts_twice_as_long_up_to_a_day_and_success_clears() {
        let mut lockout = five_in_fifteen();
        let mut now = at(0);
        let mut lengths = Vec::new();
        for _ in 0..9 {
            let until = (0..5).find_map(|_| lockout.fail("k", now)).unwrap();
            lengths.push((until - now).num_minutes());
            now = until;
        }
        assert_eq!(lengths, [15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
        lockout.succeed("k");
        let until = (0..5).find_map(|_| lockout.fail("k", now)).unwrap();
        assert_eq!((until - now).num_minutes(), 15);
    }

    #[test]
    fn many_keys_are_forgotten_once_expired() {
        let mut lockout = five_in_fifteen();
        for n in 0..REMEMBERED + 10 {
            lockout.fail(&n.to_string(), at(0));
        }
        lockout.fail("late", at(60));
        assert!(lockout.records.len() < 20, "{}", lockout.records.len());
    }
}
