//! Politeness that several processes share: the client asks here, when it
//! is given one, for each request's start at a host (so three daemons poll a
//! host no faster than one) and tells it a host's Retry-After; robots.txt
//! answers are kept here too. The database behind it is the store's
//! business (`sources::shared_hosts`); the client only sees this trait.

use async_trait::async_trait;
use std::time::Duration;

/// A robots.txt answer as kept: `allow_all`, `unreadable` (body: why) or
/// `listed` (body: the file), and its age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRobots {
    pub kind: String,
    pub body: String,
    pub age: Duration,
}

#[async_trait]
pub trait SharedHosts: Send + Sync {
    /// Reserves this request's start at `host`, at least `interval` after
    /// the start reserved before it by any process and not during a hold;
    /// returns how long to wait before starting.
    async fn reserve_start(&self, host: &str, interval: Duration) -> Result<Duration, String>;
    /// The host asked every client to wait this long (429/503 Retry-After).
    async fn hold(&self, host: &str, wait: Duration) -> Result<(), String>;
    async fn robots(&self, origin: &str) -> Result<Option<KeptRobots>, String>;
    async fn keep_robots(&self, origin: &str, kind: &str, body: &str) -> Result<(), String>;
}
