//! The PostgreSQL side of the metrics snapshot: a few grouped counts.

use super::{db, parse_ts};
use crate::store::ops::{OpsSnapshot, OpsStore};
use crate::store::{PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

#[async_trait]
impl OpsStore for PgStore {
    async fn ops_snapshot(&self) -> StoreResult<OpsSnapshot> {
        let pool = self.pool();
        let pairs = |sql: &'static str, what: &'static str| async move {
            let rows = sqlx::query(sql).fetch_all(pool).await.map_err(db(what))?;
            Ok::<_, crate::store::StoreError>(
                rows.iter()
                    .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
                    .collect::<Vec<_>>(),
            )
        };
        let events_by_kind = pairs(
            "SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind",
            "count events by kind",
        )
        .await?;
        let outbox_by_state = pairs(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state",
            "count the outbox by state",
        )
        .await?;
        let bounces_by_class = pairs(
            "SELECT CASE WHEN (data->>'hard')::BOOLEAN THEN 'hard' ELSE 'soft' END AS class, COUNT(*) \
             FROM events WHERE kind = 'email.bounced' GROUP BY class ORDER BY class",
            "count bounces",
        )
        .await?;
        let folders = sqlx::query("SELECT mailbox, folder, last_sync_at FROM mail_folders ORDER BY mailbox, folder")
            .fetch_all(pool)
            .await
            .map_err(db("read mail folders"))?
            .iter()
            .map(|r| {
                let synced: Option<DateTime<Utc>> = r.get(2);
                Ok((r.get(0), r.get(1), synced.map(parse_ts).transpose()?))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let job_runs =
            sqlx::query("SELECT name, outcome, COUNT(*) FROM job_runs GROUP BY name, outcome ORDER BY name, outcome")
                .fetch_all(pool)
                .await
                .map_err(db("count job runs"))?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
        let job_last_seconds = sqlx::query(
            "SELECT name, EXTRACT(EPOCH FROM finished_at - started_at)::FLOAT8 FROM job_runs \
             WHERE id IN (SELECT MAX(id) FROM job_runs WHERE finished_at IS NOT NULL GROUP BY name) ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .map_err(db("read job durations"))?
        .iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<Option<f64>, _>(1).unwrap_or_default().max(0.0),
            )
        })
        .collect();
        let unmatched_deliveries = sqlx::query_scalar("SELECT COUNT(*) FROM unmatched_deliveries")
            .fetch_one(pool)
            .await
            .map_err(db("count unmatched deliveries"))?;
        let database_bytes = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(pool)
            .await
            .map_err(db("read the database size"))?;
        Ok(OpsSnapshot {
            events_by_kind,
            outbox_by_state,
            bounces_by_class,
            folders,
            job_runs,
            job_last_seconds,
            unmatched_deliveries,
            database_bytes,
        })
    }
}
