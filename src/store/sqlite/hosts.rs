//! Shared host pacing and robots.txt answers (see store/hosts.rs), on the
//! database's clock in milliseconds. Each write takes the database, so
//! reservations are one at a time and each sees the one before it.

use super::db;
use crate::store::hosts::{HostStore, StoredRobots};
use crate::store::{SqliteStore, StoreResult};
use async_trait::async_trait;
use sqlx::Row;

/// The database's time now, in milliseconds since 1970 (the same within a statement).
const NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

#[async_trait]
impl HostStore for SqliteStore {
    async fn reserve_host_start(&self, host: &str, interval_ms: i64) -> StoreResult<i64> {
        let wait: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO host_pace (host, next_start_ms) VALUES ($1, {NOW_MS} + $2) \
             ON CONFLICT (host) DO UPDATE SET next_start_ms = \
             MAX(host_pace.next_start_ms, {NOW_MS}, host_pace.held_until_ms) + $2 \
             RETURNING next_start_ms - $2 - {NOW_MS}"
        ))
        .bind(host)
        .bind(interval_ms.max(0))
        .fetch_one(self.pool())
        .await
        .map_err(db("reserve a start at a host"))?;
        Ok(wait.max(0))
    }

    async fn hold_host(&self, host: &str, wait_ms: i64) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO host_pace (host, held_until_ms) VALUES ($1, {NOW_MS} + $2) \
             ON CONFLICT (host) DO UPDATE SET held_until_ms = MAX(host_pace.held_until_ms, {NOW_MS} + $2)"
        ))
        .bind(host)
        .bind(wait_ms.max(0))
        .execute(self.pool())
        .await
        .map_err(db("hold a host"))?;
        Ok(())
    }

    async fn robots_answer(&self, origin: &str) -> StoreResult<Option<StoredRobots>> {
        let row = sqlx::query(&format!(
            "SELECT kind, body, {NOW_MS} - read_at_ms AS age_ms FROM robots_answers WHERE origin = $1"
        ))
        .bind(origin)
        .fetch_optional(self.pool())
        .await
        .map_err(db("read a robots.txt answer"))?;
        Ok(row.map(|row| StoredRobots {
            kind: row.get("kind"),
            body: row.get("body"),
            age_ms: row.get("age_ms"),
        }))
    }

    async fn keep_robots_answer(&self, origin: &str, kind: &str, body: &str) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO robots_answers (origin, read_at_ms, kind, body) VALUES ($1, {NOW_MS}, $2, $3) \
             ON CONFLICT (origin) DO UPDATE SET read_at_ms = excluded.read_at_ms, kind = excluded.kind, \
             body = excluded.body"
        ))
        .bind(origin)
        .bind(kind)
        .bind(body)
        .execute(self.pool())
        .await
        .map_err(db("keep a robots.txt answer"))?;
        Ok(())
    }
}
