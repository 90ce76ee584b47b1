//! The SQLite side of feeds: sources claimed by moving their next poll to
//! the lease's end, given back, and each poll's new state written with one
//! UPDATE … FROM (VALUES …) per chunk.

use super::{db, holding, insert_events_counting_new, parse_ts, scope_clause, ts};
use crate::domain::polling::Validators;
use crate::domain::prospect::ProspectId;
use crate::store::{Claim, PollRecord, RepScope, Source, SourceStore, SqliteStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

const POLL_UPDATE_CHUNK: usize = 200;

const SOURCE_COLUMNS: &str = "s.id, s.prospect_id, p.name AS prospect_name, s.platform, s.page_url, s.feed_url, s.etag, \
     s.last_modified, s.interval_secs, s.consecutive_failures, s.broken, s.last_status, s.last_error, s.last_polled_at, \
     s.next_poll_at, s.first_poll_done, s.fence";

#[async_trait]
impl SourceStore for SqliteStore {
    async fn list_sources(&self, scope: RepScope, broken_only: bool) -> StoreResult<Vec<Source>> {
        let mut query = QueryBuilder::new(format!(
            "SELECT {SOURCE_COLUMNS} FROM sources s JOIN prospects p ON p.id = s.prospect_id WHERE 1 = 1"
        ));
        scope_clause(&mut query, scope);
        if broken_only {
            query.push(" AND s.broken = 1");
        }
        query.push(" ORDER BY s.prospect_id, s.id");
        let rows = query.build().fetch_all(self.pool()).await.map_err(db("list sources"))?;
        rows.iter().map(source_from_row).collect()
    }
    async fn claim_due_sources(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        prospect: Option<ProspectId>,
        limit: u32,
    ) -> StoreResult<Vec<Source>> {
        let mut tx = self.poll_tx().await?;
        let mut claim = QueryBuilder::<Sqlite>::new("UPDATE sources SET next_poll_at = ");
        claim
            .push_bind(ts(lease_until))
            .push(", lease_owner = ")
            .push_bind(owner)
            .push(", fence = fence + 1 WHERE id IN (SELECT id FROM sources WHERE ");
        match prospect {
            Some(id) => claim.push("prospect_id = ").push_bind(id),
            None => claim.push("next_poll_at <= ").push_bind(ts(now)),
        };
        claim
            .push(" ORDER BY next_poll_at LIMIT ")
            .push_bind(limit as i64)
            .push(") RETURNING id");
        let ids: Vec<i64> = claim
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await
            .map_err(db("claim due sources"))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The ids are integers the database just returned, so listing them is safe.
        let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources s JOIN prospects p ON p.id = s.prospect_id WHERE s.id IN ({listed}) ORDER BY s.id"
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(db("load claimed sources"))?;
        tx.commit().await.map_err(db("claim sources"))?;
        rows.iter().map(source_from_row).collect()
    }
    async fn renew_source_claims(&self, claims: &[Claim], lease_until: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.poll_tx().await?;
        let mut renewed = 0;
        for chunk in claims.chunks(POLL_UPDATE_CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new("UPDATE sources SET next_poll_at = ");
            query
                .push_bind(ts(lease_until))
                .push(" WHERE lease_owner IS NOT NULL AND (id, fence) IN (");
            query.push_values(chunk, |mut row, claim| {
                row.push_bind(claim.id).push_bind(claim.fence);
            });
            query.push(")");
            renewed += query
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db("renew claimed sources"))?
                .rows_affected();
        }
        tx.commit().await.map_err(db("renew claimed sources"))?;
        Ok(renewed)
    }
    async fn release_sources(&self, claims: &[Claim], now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.poll_tx().await?;
        for chunk in claims.chunks(POLL_UPDATE_CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new("UPDATE sources SET lease_owner = NULL, next_poll_at = ");
            query.push_bind(ts(now)).push(" WHERE next_poll_at > ");
            query.push_bind(ts(now)).push(" AND (id, fence) IN (");
            query.push_values(chunk, |mut row, claim| {
                row.push_bind(claim.id).push_bind(claim.fence);
            });
            query.push(")");
            query
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db("give back claimed sources"))?;
        }
        tx.commit().await.map_err(db("give back claimed sources"))
    }
    async fn defer_sources(&self, deferrals: &[(Claim, DateTime<Utc>)]) -> StoreResult<u64> {
        let mut tx = self.poll_tx().await?;
        let mut deferred = 0;
        for (claim, due) in deferrals {
            deferred +=
                sqlx::query("UPDATE sources SET lease_owner = NULL, next_poll_at = ? WHERE id = ? AND fence = ?")
                    .bind(ts(*due))
                    .bind(claim.id)
                    .bind(claim.fence)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("give back sources for later"))?
                    .rows_affected();
        }
        tx.commit().await.map_err(db("give back sources for later"))?;
        Ok(deferred)
    }
    async fn record_polls(&self, records: &[(Claim, PollRecord)], now: DateTime<Utc>) -> StoreResult<Vec<Option<u64>>> {
        let mut tx = self.poll_tx().await?;
        let claims: Vec<Claim> = records.iter().map(|(claim, _)| *claim).collect();
        let held = holding(&mut tx, "sources", &claims).await?;
        // A poll's events in one statement each: the statement's count of
        // rows written is the poll's count of new posts, and an event two
        // polls of the batch carried is credited to the first.
        let mut written = Vec::new();
        let mut added = Vec::with_capacity(records.len());
        for entry in records {
            if !held.contains(&entry.0.id) {
                added.push(None);
                continue;
            }
            let new_posts = insert_events_counting_new(&mut tx, &entry.1.events, now).await?;
            written.push((entry, new_posts));
            added.push(Some(new_posts));
        }
        for chunk in written.chunks(POLL_UPDATE_CHUNK) {
            update_sources(&mut tx, chunk, now).await?;
        }
        tx.commit().await.map_err(db("record polls"))?;
        self.checkpoints.start();
        Ok(added)
    }
}

/// Writes each polled source's new state, choosing the schedule by whether
/// the poll brought new events: one UPDATE … FROM (VALUES …) per chunk.
async fn update_sources(
    conn: &mut SqliteConnection,
    polls: &[(&(Claim, PollRecord), u64)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut update = QueryBuilder::<Sqlite>::new(
        "WITH polled(id, feed_url, etag, last_modified, last_status, last_error, interval_secs, consecutive_failures, \
         broken, next_poll_at, first_poll_done) AS (",
    );
    update.push_values(polls, |mut row, ((claim, record), added)| {
        let schedule = if *added > 0 { record.if_new } else { record.if_not_new };
        row.push_bind(claim.id)
            .push_bind(&record.feed_url)
            .push_bind(&record.validators.etag)
            .push_bind(&record.validators.last_modified)
            .push_bind(&record.status)
            .push_bind(&record.error)
            .push_bind(schedule.interval_secs)
            .push_bind(schedule.consecutive_failures as i64)
            .push_bind(schedule.broken)
            .push_bind(ts(schedule.next_poll_at))
            .push_bind(record.first_poll_done);
    });
    update.push(
        ") UPDATE sources SET feed_url = polled.feed_url, etag = polled.etag, last_modified = polled.last_modified, \
         last_status = polled.last_status, last_error = polled.last_error, interval_secs = polled.interval_secs, \
         consecutive_failures = polled.consecutive_failures, broken = polled.broken, next_poll_at = polled.next_poll_at, \
         first_poll_done = polled.first_poll_done, lease_owner = NULL, last_polled_at = ",
    );
    update
        .push_bind(ts(now))
        .push(" FROM polled WHERE sources.id = polled.id");
    update.build().execute(&mut *conn).await.map_err(db("record polls"))?;
    Ok(())
}

fn source_from_row(row: &SqliteRow) -> StoreResult<Source> {
    Ok(Source {
        id: row.get("id"),
        prospect_id: row.get("prospect_id"),
        prospect_name: row.get("prospect_name"),
        platform: row.get("platform"),
        page_url: row.get("page_url"),
        feed_url: row.get("feed_url"),
        validators: Validators {
            etag: row.get("etag"),
            last_modified: row.get("last_modified"),
        },
        interval_secs: row.get("interval_secs"),
        consecutive_failures: row.get::<i64, _>("consecutive_failures") as u32,
        broken: row.get("broken"),
        last_status: row.get("last_status"),
        last_error: row.get("last_error"),
        last_polled_at: row
            .get::<Option<String>, _>("last_polled_at")
            .map(|t| parse_ts(&t))
            .transpose()?,
        next_poll_at: parse_ts(row.get("next_poll_at"))?,
        first_poll_done: row.get("first_poll_done"),
        fence: row.get("fence"),
    })
}
