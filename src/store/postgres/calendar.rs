//! The PostgreSQL side of calendar feed tokens.

use super::{db, ts};
use crate::domain::prospect::RepId;
use crate::store::{CalendarStore, PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl CalendarStore for PgStore {
    async fn calendar_generation(&self, rep: RepId) -> StoreResult<Option<u32>> {
        let generation: Option<i64> = sqlx::query_scalar("SELECT generation FROM calendar_tokens WHERE rep_id = $1")
            .bind(rep)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read a calendar token"))?;
        Ok(generation.map(|g| u32::try_from(g).unwrap_or_default()))
    }

    async fn set_calendar_token(
        &self,
        rep: RepId,
        generation: u32,
        sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO calendar_tokens (rep_id, generation, token_sha256, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (rep_id) DO UPDATE SET generation = excluded.generation, \
             token_sha256 = excluded.token_sha256, created_at = excluded.created_at",
        )
        .bind(rep)
        .bind(i64::from(generation))
        .bind(sha256)
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(db("set a calendar token"))?;
        Ok(())
    }

    async fn calendar_owner(&self, sha256: &str) -> StoreResult<Option<RepId>> {
        sqlx::query_scalar("SELECT rep_id FROM calendar_tokens WHERE token_sha256 = $1")
            .bind(sha256)
            .fetch_optional(self.pool())
            .await
            .map_err(db("find a calendar token"))
    }

    async fn revoke_calendar_token(&self, rep: RepId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM calendar_tokens WHERE rep_id = $1")
            .bind(rep)
            .execute(self.pool())
            .await
            .map_err(db("revoke a calendar token"))?;
        Ok(done.rows_affected() > 0)
    }
}
