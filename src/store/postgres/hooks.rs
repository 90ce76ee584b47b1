//! The PostgreSQL side of unmatched webhook deliveries.

use super::{db, parse_ts, ts};
use crate::store::hooks::{HookStore, UnmatchedDelivery};
use crate::store::{PgStore, RepScope, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

const COLUMNS: &str = "id, provider, kind, email, source_key, summary, occurred_at, starts_at, rep_id, received_at";

fn scoped(builder: &mut QueryBuilder<'_, Postgres>, scope: RepScope) {
    if let RepScope::Rep(rep) = scope {
        builder.push(" AND rep_id = ").push_bind(rep);
    }
}

fn from_row(row: &PgRow) -> StoreResult<UnmatchedDelivery> {
    Ok(UnmatchedDelivery {
        id: row.get("id"),
        provider: row.get("provider"),
        kind: row.get("kind"),
        email: row.get("email"),
        source_key: row.get("source_key"),
        summary: row.get("summary"),
        occurred_at: parse_ts(row.get("occurred_at"))?,
        starts_at: row
            .get::<Option<DateTime<Utc>>, _>("starts_at")
            .map(parse_ts)
            .transpose()?,
        rep_id: row.get("rep_id"),
        received_at: parse_ts(row.get("received_at"))?,
    })
}

#[async_trait]
impl HookStore for PgStore {
    async fn keep_unmatched(&self, d: &UnmatchedDelivery) -> StoreResult<bool> {
        let added = sqlx::query(
            "INSERT INTO unmatched_deliveries \
             (provider, kind, email, source_key, summary, occurred_at, starts_at, rep_id, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT id FROM reps WHERE id = $8), $9) ON CONFLICT DO NOTHING",
        )
        .bind(&d.provider)
        .bind(&d.kind)
        .bind(&d.email)
        .bind(&d.source_key)
        .bind(&d.summary)
        .bind(ts(d.occurred_at))
        .bind(d.starts_at.map(ts))
        .bind(d.rep_id)
        .bind(ts(d.received_at))
        .execute(self.pool())
        .await
        .map_err(db("keep an unmatched delivery"))?;
        Ok(added.rows_affected() > 0)
    }

    async fn list_unmatched(&self, scope: RepScope) -> StoreResult<Vec<UnmatchedDelivery>> {
        let mut query = QueryBuilder::new(format!("SELECT {COLUMNS} FROM unmatched_deliveries WHERE 1 = 1"));
        scoped(&mut query, scope);
        query.push(" ORDER BY received_at, id");
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list unmatched deliveries"))?;
        rows.iter().map(from_row).collect()
    }

    async fn find_unmatched(&self, scope: RepScope, id: i64) -> StoreResult<UnmatchedDelivery> {
        let mut query = QueryBuilder::new(format!("SELECT {COLUMNS} FROM unmatched_deliveries WHERE id = "));
        query.push_bind(id);
        scoped(&mut query, scope);
        let row = query
            .build()
            .fetch_optional(self.pool())
            .await
            .map_err(db("find an unmatched delivery"))?;
        match row {
            Some(row) => from_row(&row),
            None => Err(StoreError::NotFound(format!(
                "no unmatched delivery {id}; see `rapport hooks unmatched`"
            ))),
        }
    }

    async fn drop_unmatched(&self, scope: RepScope, id: i64) -> StoreResult<bool> {
        let mut query = QueryBuilder::new("DELETE FROM unmatched_deliveries WHERE id = ");
        query.push_bind(id);
        scoped(&mut query, scope);
        let done = query
            .build()
            .execute(self.pool())
            .await
            .map_err(db("drop an unmatched delivery"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn drop_unmatched_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM unmatched_deliveries WHERE received_at < $1")
            .bind(ts(before))
            .execute(self.pool())
            .await
            .map_err(db("drop old unmatched deliveries"))?;
        Ok(done.rows_affected())
    }
}
