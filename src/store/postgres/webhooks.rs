//! The PostgreSQL side of outgoing webhook deliveries.

use super::{db, parse_ts, ts};
use crate::store::webhooks::{Attempt, NewDelivery, OutDelivery, WebhookStore};
use crate::store::{Claim, PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

const COLUMNS: &str =
    "id, endpoint, event_id, message_id, payload, state, attempts, next_attempt_at, last_error, created_at, fence";

fn from_row(row: &PgRow) -> StoreResult<OutDelivery> {
    Ok(OutDelivery {
        id: row.get("id"),
        endpoint: row.get("endpoint"),
        event_id: row.get("event_id"),
        message_id: row.get("message_id"),
        payload: row.get("payload"),
        state: row.get("state"),
        attempts: u32::try_from(row.get::<i64, _>("attempts")).unwrap_or_default(),
        next_attempt_at: parse_ts(row.get("next_attempt_at"))?,
        last_error: row.get("last_error"),
        created_at: parse_ts(row.get("created_at"))?,
        fence: row.get("fence"),
    })
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn webhook_cursor(&self, endpoint: &str) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT cursor FROM webhook_endpoints WHERE endpoint = $1")
            .bind(endpoint)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read a webhook cursor"))
    }

    async fn queue_webhooks(
        &self,
        endpoint: &str,
        deliveries: &[NewDelivery],
        cursor: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let mut tx = self.write_tx().await?;
        let mut added = 0;
        for d in deliveries {
            let done = sqlx::query(
                "INSERT INTO webhook_deliveries (endpoint, event_id, message_id, payload, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(endpoint)
            .bind(d.event_id)
            .bind(&d.message_id)
            .bind(&d.payload)
            .bind(ts(now))
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db("queue a webhook"))?;
            added += u32::try_from(done.rows_affected()).unwrap_or_default();
        }
        sqlx::query(
            "INSERT INTO webhook_endpoints (endpoint, cursor) VALUES ($1, $2) \
             ON CONFLICT (endpoint) DO UPDATE SET cursor = GREATEST(webhook_endpoints.cursor, excluded.cursor)",
        )
        .bind(endpoint)
        .bind(cursor)
        .execute(&mut *tx)
        .await
        .map_err(db("move a webhook cursor"))?;
        tx.commit().await.map_err(db("queue webhooks"))?;
        Ok(added)
    }

    async fn claim_webhooks(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutDelivery>> {
        let rows = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET lease_until = $1, lease_owner = $2, fence = fence + 1 WHERE id IN (\
               SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $3 \
               AND (lease_until IS NULL OR lease_until <= $4) ORDER BY next_attempt_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        ))
        .bind(ts(lease_until))
        .bind(owner)
        .bind(ts(now))
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("claim webhooks"))?;
        let mut claimed = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by_key(|d| (d.next_attempt_at, d.id));
        Ok(claimed)
    }

    async fn settle_webhook(&self, claim: Claim, attempt: &Attempt, now: DateTime<Utc>) -> StoreResult<bool> {
        let query = match attempt {
            Attempt::Delivered => sqlx::query(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = $1, \
                 lease_until = NULL, last_error = NULL WHERE id = $2 AND fence = $3 AND state = 'pending'",
            )
            .bind(ts(now))
            .bind(claim.id)
            .bind(claim.fence),
            Attempt::Retry { at, error } => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, \
                 lease_until = NULL WHERE id = $3 AND fence = $4 AND state = 'pending'",
            )
            .bind(ts(*at))
            .bind(error.clone())
            .bind(claim.id)
            .bind(claim.fence),
            Attempt::GaveUp { error } => sqlx::query(
                "UPDATE webhook_deliveries SET state = 'gave_up', attempts = attempts + 1, last_error = $1, \
                 lease_until = NULL WHERE id = $2 AND fence = $3 AND state = 'pending'",
            )
            .bind(error.clone())
            .bind(claim.id)
            .bind(claim.fence),
        };
        let settled = query.execute(self.pool()).await.map_err(db("settle a webhook"))?;
        Ok(settled.rows_affected() > 0)
    }

    async fn list_webhooks(&self, state: Option<&str>, limit: u32) -> StoreResult<Vec<OutDelivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhook_deliveries WHERE ($1 IS NULL OR state = $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(state)
        .bind(state)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("list webhooks"))?;
        rows.iter().map(from_row).collect()
    }
}
