//! The PostgreSQL side of the API's idempotency keys.

use super::{db, ts};
use crate::domain::prospect::RepId;
use crate::store::{IdempotencyStore, IdempotentClaim, PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim_idempotency_key(
        &self,
        rep: RepId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<IdempotentClaim> {
        let mut tx = self.claim_tx().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(ts(forget_before))
            .execute(&mut *tx)
            .await
            .map_err(db("forget old idempotency keys"))?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (rep_id, key, request_sha256, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(rep)
        .bind(key)
        .bind(request_digest)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(db("claim an idempotency key"))?
        .rows_affected()
            > 0;
        let claim = if claimed {
            IdempotentClaim::Claimed
        } else {
            let row =
                sqlx::query("SELECT request_sha256, status, body FROM idempotency_keys WHERE rep_id = $1 AND key = $2")
                    .bind(rep)
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("read an idempotency key"))?;
            let digest: String = row.get(0);
            let status: Option<i64> = row.get(1);
            match (digest == request_digest, status) {
                (false, _) => IdempotentClaim::OtherRequest,
                (true, None) => IdempotentClaim::InProgress,
                (true, Some(status)) => IdempotentClaim::Answered {
                    status: u16::try_from(status).unwrap_or(200),
                    body: row.get::<Option<String>, _>(2).unwrap_or_default(),
                },
            }
        };
        tx.commit().await.map_err(db("claim an idempotency key"))?;
        Ok(claim)
    }

    async fn answer_idempotency_key(&self, rep: RepId, key: &str, status: u16, body: &str) -> StoreResult<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE rep_id = $3 AND key = $4")
            .bind(i64::from(status))
            .bind(body)
            .bind(rep)
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(db("keep an idempotent answer"))?;
        Ok(())
    }

    async fn release_idempotency_key(&self, rep: RepId, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE rep_id = $1 AND key = $2 AND status IS NULL")
            .bind(rep)
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(db("release an idempotency key"))?;
        Ok(())
    }
}
