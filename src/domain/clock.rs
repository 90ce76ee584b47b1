//! Time as an input. Domain code never reads the system clock: it is handed a
//! [`Clock`], so tests and `--now` demos run with simulated time. The clocks
//! that read the system's time live outside the domain (the top-level `clock` module).

use chrono::{DateTime, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock frozen at one instant: what a CLI command gets from `--now`.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
