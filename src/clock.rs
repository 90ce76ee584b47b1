//! The clocks that read the system's time: the wall clock, and one that
//! starts at a chosen moment and runs on (the daemon under `--now`). Outside
//! the domain, which is only ever handed a [`Clock`].

use crate::domain::clock::Clock;
use chrono::{DateTime, Utc};
use std::time::Instant;

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at a chosen instant and then advances in real time:
/// what the daemon gets from `--now`, so its schedule can be demonstrated
/// around a chosen moment (a DST change, say) without waiting for it.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    start: DateTime<Utc>,
    started: Instant,
}

impl ShiftedClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            start,
            started: Instant::now(),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        self.start + elapsed
    }
}
