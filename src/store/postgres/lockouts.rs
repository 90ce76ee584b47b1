//! The PostgreSQL side of sign-in lockouts.

use super::{db, parse_ts, ts};
use crate::domain::lockout::{after_failure, Policy, Record};
use crate::store::lockouts::{key_hash, LockoutKind, LockoutStore};
use crate::store::{PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

fn time(at: Option<DateTime<Utc>>) -> StoreResult<Option<DateTime<Utc>>> {
    at.map(parse_ts).transpose()
}

#[async_trait]
impl LockoutStore for PgStore {
    async fn login_locked_until(
        &self,
        kind: LockoutKind,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE kind = $1 AND key_sha256 = $2")
                .bind(kind.as_str())
                .bind(key_hash(key))
                .fetch_optional(self.pool())
                .await
                .map_err(db("read a sign-in lockout"))?;
        Ok(time(until.flatten())?.filter(|until| *until > now))
    }

    async fn record_login_failure(
        &self,
        kind: LockoutKind,
        key: &str,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let hash = key_hash(key);
        let mut tx = self.claim_tx().await?;
        let row = sqlx::query(
            "SELECT failures, window_start, locked_until, locks FROM login_failures WHERE kind = $1 AND key_sha256 = $2",
        )
        .bind(kind.as_str())
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("read a sign-in lockout"))?;
        let record = match row {
            Some(row) => Record {
                failures: u32::try_from(row.get::<i64, _>(0)).unwrap_or_default(),
                window_start: time(row.get(1))?,
                locked_until: time(row.get(2))?,
                locks: u32::try_from(row.get::<i64, _>(3)).unwrap_or_default(),
            },
            None => Record::default(),
        };
        let (record, locked) = after_failure(policy, record, now);
        sqlx::query(
            "INSERT INTO login_failures (kind, key_sha256, failures, window_start, locked_until, locks, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, key_sha256) DO UPDATE SET failures = excluded.failures, \
             window_start = excluded.window_start, locked_until = excluded.locked_until, locks = excluded.locks, \
             updated_at = excluded.updated_at",
        )
        .bind(kind.as_str())
        .bind(&hash)
        .bind(i64::from(record.failures))
        .bind(record.window_start.map(ts))
        .bind(record.locked_until.map(ts))
        .bind(i64::from(record.locks))
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db("count a failed sign-in"))?;
        tx.commit().await.map_err(db("count a failed sign-in"))?;
        Ok(locked)
    }

    async fn clear_login_failures(&self, kind: LockoutKind, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE kind = $1 AND key_sha256 = $2")
            .bind(kind.as_str())
            .bind(key_hash(key))
            .execute(self.pool())
            .await
            .map_err(db("clear failed sign-ins"))?;
        Ok(())
    }

    async fn forget_login_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM login_failures WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(ts(before))
        .bind(ts(before))
        .execute(self.pool())
        .await
        .map_err(db("forget old failed sign-ins"))?;
        Ok(done.rows_affected())
    }
}
