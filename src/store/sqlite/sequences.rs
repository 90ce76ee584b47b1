//! The SQLite side of sequences: enrolments, and the post templates quote.

use super::batches::insert_enrolment_on;
use super::{db, parse_ts, scope_clause, ts};
use crate::domain::event::kinds::POST;
use crate::domain::event::Actor;
use crate::domain::prospect::ProspectId;
use crate::domain::sequence::enrolment::PostSummary;
use crate::store::{Enrolment, NewEnrolment, RepScope, SequenceStore, SqliteStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;

pub(super) const ENROLMENT_SELECT: &str =
    "SELECT e.id, e.prospect_id, p.name, p.email, e.sequence, e.variant, e.step, e.state, \
     e.next_due_at, e.stop_reason, e.enrolled_at, p.rep_id, e.snoozed_until, e.fence FROM enrolments e \
     JOIN prospects p ON p.id = e.prospect_id";

impl SqliteStore {
    /// A prospect's enrolments still running (active or paused).
    pub(super) async fn running_enrolments(&self, prospect: ProspectId) -> StoreResult<Vec<Enrolment>> {
        let rows = sqlx::query(&format!(
            "{ENROLMENT_SELECT} WHERE e.prospect_id = ? AND e.state IN ('active', 'paused') ORDER BY e.id"
        ))
        .bind(prospect)
        .fetch_all(self.pool())
        .await
        .map_err(db("list a prospect's enrolments"))?;
        rows.iter().map(enrolment_from_row).collect()
    }
}

#[async_trait]
impl SequenceStore for SqliteStore {
    async fn enroll(
        &self,
        enrolment: &NewEnrolment,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, String>> {
        let mut tx = self.write_tx().await?;
        let done = super::batches::insert_enrolment_on(&mut tx, enrolment, actor, now).await?;
        tx.commit().await.map_err(db("enrol a prospect"))?;
        Ok(done)
    }
    async fn claim_due_enrolments(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Enrolment>> {
        let mut tx = self.write_tx().await?;
        // `state = 'active'` as written, so SQLite uses the partial index on due times:
        // the cost follows the rows due, not the size of the table.
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE enrolments SET next_due_at = ?, lease_owner = ?, fence = fence + 1 WHERE id IN (SELECT id FROM enrolments \
             WHERE state = 'active' AND next_due_at <= ? ORDER BY next_due_at LIMIT ?) RETURNING id",
        )
        .bind(ts(lease_until))
        .bind(owner)
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db("claim due enrolments"))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The ids are integers the database just returned, so listing them is safe.
        let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!("{ENROLMENT_SELECT} WHERE e.id IN ({listed}) ORDER BY e.id"))
            .fetch_all(&mut *tx)
            .await
            .map_err(db("load claimed enrolments"))?;
        tx.commit().await.map_err(db("claim due enrolments"))?;
        rows.iter().map(enrolment_from_row).collect()
    }
    async fn list_enrolments(&self, scope: RepScope, sequence: Option<&str>) -> StoreResult<Vec<Enrolment>> {
        let mut query = QueryBuilder::<Sqlite>::new(format!("{ENROLMENT_SELECT} WHERE 1 = 1"));
        scope_clause(&mut query, scope);
        if let Some(sequence) = sequence {
            query.push(" AND e.sequence = ").push_bind(sequence);
        }
        query.push(" ORDER BY e.sequence, e.next_due_at IS NULL, e.next_due_at, e.id");
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list enrolments"))?;
        rows.iter().map(enrolment_from_row).collect()
    }
    async fn latest_post(&self, scope: RepScope, prospect: ProspectId) -> StoreResult<Option<PostSummary>> {
        // One statement: the prospect's newest post, if the prospect is in scope.
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT e.occurred_at, e.data FROM events e JOIN prospects p ON p.id = e.prospect_id WHERE e.prospect_id = ",
        );
        query.push_bind(prospect).push(" AND e.kind = ").push_bind(POST);
        scope_clause(&mut query, scope);
        query.push(" ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1");
        let row = query
            .build()
            .fetch_optional(self.pool())
            .await
            .map_err(db("find the latest post"))?;
        row.map(|row| post_of(&row)).transpose()
    }
    async fn latest_posts(&self, prospects: &[ProspectId]) -> StoreResult<HashMap<ProspectId, PostSummary>> {
        let rows = self
            .rows_for(
                &format!(
                    "SELECT prospect_id, occurred_at, data FROM (SELECT prospect_id, occurred_at, data, \
                     ROW_NUMBER() OVER (PARTITION BY prospect_id ORDER BY occurred_at DESC, id DESC) AS newest \
                     FROM events WHERE kind = '{POST}' AND prospect_id"
                ),
                ") WHERE newest = 1",
                prospects,
                "find the latest posts",
            )
            .await?;
        let mut posts = HashMap::new();
        for row in &rows {
            posts.insert(row.get::<i64, _>("prospect_id"), post_of(row)?);
        }
        Ok(posts)
    }
    async fn running_sequences_of(&self, prospects: &[ProspectId]) -> StoreResult<HashMap<ProspectId, String>> {
        let rows = self
            .rows_for(
                "SELECT prospect_id, sequence FROM enrolments WHERE state IN ('active', 'snoozed', 'paused') AND prospect_id",
                "",
                prospects,
                "list running sequences",
            )
            .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }
    /// Enrols each in one transaction: the id, or the sequence already running.
    async fn enroll_many(
        &self,
        enrolments: &[NewEnrolment],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Result<i64, String>>> {
        let mut tx = self.write_tx().await?;
        let mut done = Vec::with_capacity(enrolments.len());
        for enrolment in enrolments {
            done.push(insert_enrolment_on(&mut tx, enrolment, actor, now).await?);
        }
        tx.commit().await.map_err(db("enrol prospects"))?;
        Ok(done)
    }
    async fn release_enrolments(&self, claims: &[(i64, DateTime<Utc>)], now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for (id, lease_until) in claims {
            sqlx::query("UPDATE enrolments SET next_due_at = ? WHERE id = ? AND state = 'active' AND next_due_at = ?")
                .bind(ts(now))
                .bind(id)
                .bind(ts(*lease_until))
                .execute(&mut *tx)
                .await
                .map_err(db("give back claimed enrolments"))?;
        }
        tx.commit().await.map_err(db("give back claimed enrolments"))
    }
    async fn renew_enrolment_claims(
        &self,
        claims: &[(i64, DateTime<Utc>)],
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        let mut tx = self.write_tx().await?;
        let mut renewed = Vec::new();
        for (id, held_until) in claims {
            // Compared with the lease it carries: anything the pass wrote since changed it.
            let done = sqlx::query(
                "UPDATE enrolments SET next_due_at = ? WHERE id = ? AND state = 'active' AND next_due_at = ?",
            )
            .bind(ts(lease_until))
            .bind(id)
            .bind(ts(*held_until))
            .execute(&mut *tx)
            .await
            .map_err(db("renew claimed enrolments"))?;
            if done.rows_affected() > 0 {
                renewed.push(*id);
            }
        }
        tx.commit().await.map_err(db("renew claimed enrolments"))?;
        Ok(renewed)
    }
}

pub(super) fn enrolment_from_row(row: &SqliteRow) -> StoreResult<Enrolment> {
    let count = |name: &str| {
        u32::try_from(row.get::<i64, _>(name)).map_err(|_| StoreError::Corrupt(format!("enrolment {name}")))
    };
    Ok(Enrolment {
        id: row.get(0),
        prospect_id: row.get(1),
        prospect_name: row.get(2),
        prospect_email: row.get(3),
        sequence: row.get(4),
        variant: count("variant")?,
        step: count("step")?,
        state: row.get(7),
        next_due_at: row.get::<Option<String>, _>(8).as_deref().map(parse_ts).transpose()?,
        stop_reason: row.get(9),
        enrolled_at: parse_ts(row.get(10))?,
        rep_id: row.get(11),
        snoozed_until: row.get::<Option<String>, _>(12).as_deref().map(parse_ts).transpose()?,
        fence: row.get(13),
    })
}

/// A post event's row (`occurred_at`, `data`) as the summary templates use.
fn post_of(row: &SqliteRow) -> StoreResult<PostSummary> {
    let data: serde_json::Value =
        serde_json::from_str(row.get("data")).map_err(|e| StoreError::Corrupt(format!("post event data: {e}")))?;
    Ok(PostSummary::from_event(&data, parse_ts(row.get("occurred_at"))?))
}
