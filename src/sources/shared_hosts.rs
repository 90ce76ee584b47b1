//! The client's shared politeness (net::shared) kept in the store, so
//! several daemons on one PostgreSQL database pace each host together, obey
//! one Retry-After and read a site's robots.txt once.

use crate::net::shared::{KeptRobots, SharedHosts};
use crate::store::Store;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

pub struct StoreHosts(pub Arc<dyn Store>);

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl SharedHosts for StoreHosts {
    async fn reserve_start(&self, host: &str, interval: Duration) -> Result<Duration, String> {
        let wait = self
            .0
            .reserve_host_start(host, millis(interval))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Duration::from_millis(u64::try_from(wait).unwrap_or_default()))
    }

    async fn hold(&self, host: &str, wait: Duration) -> Result<(), String> {
        self.0.hold_host(host, millis(wait)).await.map_err(|e| e.to_string())
    }

    async fn robots(&self, origin: &str) -> Result<Option<KeptRobots>, String> {
        let kept = self.0.robots_answer(origin).await.map_err(|e| e.to_string())?;
        Ok(kept.map(|kept| KeptRobots {
            kind: kept.kind,
            body: kept.body,
            age: Duration::from_millis(u64::try_from(kept.age_ms).unwrap_or_default()),
        }))
    }

    async fn keep_robots(&self, origin: &str, kind: &str, body: &str) -> Result<(), String> {
        self.0
            .keep_robots_answer(origin, kind, body)
            .await
            .map_err(|e| e.to_string())
    }
}
