//! Sign-in lockout: after too many failed sign-ins within a window, a key
//! (an account's email, a client's address) is refused until a time it is
//! told, without its password even being checked, so guessing stays slow
//! however fast the guesser. A success clears the key's failures. Pure: the
//! clock is passed in. The store keeps each key's [`Record`] (so every
//! daemon on one database counts the same failures) and applies
//! [`after_failure`] in its write transaction.

use chrono::{DateTime, Duration, Utc};

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    /// Keys' records in a map, stepped as the store steps them.
    struct Keys {
        policy: Policy,
        records: HashMap<String, Record>,
    }

    impl Keys {
        fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
            self.records.get(key).map_or(Ok(()), |r| r.check(now))
        }

        fn fail(&mut self, key: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
            let record = self.records.remove(key).unwrap_or_default();
            let (record, locked) = after_failure(self.policy, record, now);
            self.records.insert(key.to_string(), record);
            locked
        }

        fn succeed(&mut self, key: &str) {
            self.records.remove(key);
        }
    }

    fn five_in_fifteen() -> Keys {
        Keys {
            policy: Policy {
                failures: 5,
                window: Duration::minutes(15),
            },
            records: HashMap::new(),
        }
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
}
