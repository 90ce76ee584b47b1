//! The PostgreSQL side of the daemon's schedule: job rows claimed with a
//! compare-and-set on the next run, and the runs' record.

use super::{db, parse_ts, ts};
use crate::store::{JobRun, JobStore, PgStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

#[async_trait]
impl JobStore for PgStore {
    async fn ensure_job(
        &self,
        name: &str,
        schedule: &str,
        time_zone: &str,
        next_run: DateTime<Utc>,
    ) -> StoreResult<DateTime<Utc>> {
        let mut tx = self.claim_tx().await?;
        sqlx::query(
            "INSERT INTO job_schedule (name, schedule, time_zone, next_run_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT(name) DO UPDATE SET schedule = excluded.schedule, time_zone = excluded.time_zone, \
             next_run_at = excluded.next_run_at \
             WHERE job_schedule.schedule != excluded.schedule OR job_schedule.time_zone != excluded.time_zone",
        )
        .bind(name)
        .bind(schedule)
        .bind(time_zone)
        .bind(ts(next_run))
        .execute(&mut *tx)
        .await
        .map_err(db("register a job"))?;
        let stored: DateTime<Utc> = sqlx::query_scalar("SELECT next_run_at FROM job_schedule WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("register a job"))?;
        tx.commit().await.map_err(db("register a job"))?;
        parse_ts(stored)
    }

    async fn claim_job_run(
        &self,
        name: &str,
        due: DateTime<Utc>,
        next: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.claim_tx().await?;
        let claimed = sqlx::query("UPDATE job_schedule SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3")
            .bind(ts(next))
            .bind(name)
            .bind(ts(due))
            .execute(&mut *tx)
            .await
            .map_err(db("claim a job run"))?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO job_runs (name, scheduled_for, started_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(ts(due))
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db("claim a job run"))?;
        tx.commit().await.map_err(db("claim a job run"))?;
        Ok(Some(id))
    }

    async fn finish_job_run(&self, run_id: i64, error: Option<&str>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.claim_tx().await?;
        sqlx::query("UPDATE job_runs SET finished_at = $1, outcome = $2, error = $3 WHERE id = $4")
            .bind(ts(now))
            .bind(if error.is_some() { "failed" } else { "ok" })
            .bind(error)
            .bind(run_id)
            .execute(&mut *tx)
            .await
            .map_err(db("record a job run"))?;
        tx.commit().await.map_err(db("record a job run"))?;
        Ok(())
    }

    async fn job_runs(&self, name: &str) -> StoreResult<Vec<JobRun>> {
        let rows = sqlx::query("SELECT id, name, scheduled_for, started_at, finished_at, outcome, error FROM job_runs WHERE name = $1 ORDER BY id")
            .bind(name)
            .fetch_all(self.pool())
            .await
            .map_err(db("list job runs"))?;
        rows.iter().map(job_run).collect()
    }

    async fn latest_job_runs(&self) -> StoreResult<Vec<JobRun>> {
        let rows = sqlx::query(
            "SELECT id, name, scheduled_for, started_at, finished_at, outcome, error FROM job_runs \
             WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY name) ORDER BY name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db("list job runs"))?;
        rows.iter().map(job_run).collect()
    }

    async fn housekeeping(&self, keep_until: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.claim_tx().await?;
        let pruned = sqlx::query("DELETE FROM job_runs WHERE finished_at IS NOT NULL AND started_at < $1")
            .bind(ts(keep_until))
            .execute(&mut *tx)
            .await
            .map_err(db("prune job runs"))?
            .rows_affected();
        tx.commit().await.map_err(db("prune job runs"))?;
        Ok(pruned)
    }
}

fn job_run(row: &sqlx::postgres::PgRow) -> StoreResult<JobRun> {
    Ok(JobRun {
        id: row.get("id"),
        name: row.get("name"),
        scheduled_for: parse_ts(row.get("scheduled_for"))?,
        started_at: parse_ts(row.get("started_at"))?,
        finished_at: row
            .get::<Option<DateTime<Utc>>, _>("finished_at")
            .map(parse_ts)
            .transpose()?,
        outcome: row.get("outcome"),
        error: row.get("error"),
    })
}
