//! Politeness shared through the database, for several daemons polling the
//! same hosts: each request's start is reserved at its host (no sooner than
//! the host's interval after the start reserved before it, by any process),
//! a host's Retry-After holds every process, and a robots.txt read by one is
//! used by all. Times are the database's clock, the one clock all share.

use super::StoreResult;
use async_trait::async_trait;

/// A robots.txt answer as stored: `allow_all`, `unreadable` (body: why) or
/// `listed` (body: the file), and how old it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRobots {
    pub kind: String,
    pub body: String,
    pub age_ms: i64,
}

#[async_trait]
pub trait HostStore: Send + Sync {
    /// Reserves the next start at `host`: no sooner than `interval_ms` after
    /// the last one reserved, nor before a hold. Returns the wait, in
    /// milliseconds from now (0: go).
    async fn reserve_host_start(&self, host: &str, interval_ms: i64) -> StoreResult<i64>;
    /// No start at `host` is reserved before `wait_ms` from now.
    async fn hold_host(&self, host: &str, wait_ms: i64) -> StoreResult<()>;
    async fn robots_answer(&self, origin: &str) -> StoreResult<Option<StoredRobots>>;
    async fn keep_robots_answer(&self, origin: &str, kind: &str, body: &str) -> StoreResult<()>;
}
