//! The PostgreSQL side of the daily digests.

use super::{day, db, parse_day, ts};
use crate::domain::money::Amount;
use crate::domain::prospect::RepId;
use crate::store::DigestStore;
use crate::store::{PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

#[async_trait]
impl DigestStore for PgStore {
    async fn claim_digest(
        &self,
        rep: RepId,
        date: NaiveDate,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let taken = sqlx::query(
            "INSERT INTO digest_runs (rep_id, local_date, state, message_id, started_at) VALUES ($1, $2, 'sending', $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(rep)
        .bind(day(date))
        .bind(message_id)
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(db("claim a digest"))?
        .rows_affected();
        Ok(taken > 0)
    }

    async fn finish_digest(
        &self,
        rep: RepId,
        date: NaiveDate,
        state: &str,
        weighted: Option<(Amount, &str)>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE digest_runs SET state = $1, weighted_cents = $2, currency = $3, error = $4, finished_at = $5 \
             WHERE rep_id = $6 AND local_date = $7",
        )
        .bind(state)
        .bind(weighted.map(|(amount, _)| amount.0))
        .bind(weighted.map(|(_, currency)| currency))
        .bind(error)
        .bind(ts(now))
        .bind(rep)
        .bind(day(date))
        .execute(self.pool())
        .await
        .map_err(db("record a digest"))?;
        Ok(())
    }

    async fn last_digest_date(&self, rep: RepId, date: NaiveDate) -> StoreResult<Option<NaiveDate>> {
        let last: Option<NaiveDate> = sqlx::query_scalar(
            "SELECT local_date FROM digest_runs WHERE rep_id = $1 AND local_date < $2 AND state = 'sent' \
             ORDER BY local_date DESC LIMIT 1",
        )
        .bind(rep)
        .bind(day(date))
        .fetch_optional(self.pool())
        .await
        .map_err(db("read the last digest"))?;
        parse_day(last)
    }

    async fn last_digest_weighted(&self, rep: RepId, date: NaiveDate, currency: &str) -> StoreResult<Option<Amount>> {
        let cents: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT weighted_cents FROM digest_runs WHERE rep_id = $1 AND local_date < $2 AND state = 'sent' \
             AND currency = $3 ORDER BY local_date DESC LIMIT 1",
        )
        .bind(rep)
        .bind(day(date))
        .bind(currency)
        .fetch_optional(self.pool())
        .await
        .map_err(db("read the last digest"))?;
        Ok(cents.flatten().map(Amount))
    }
}
