//! The PostgreSQL side of the stage rules: the event-log cursor, suggestions,
//! and stopping a prospect's sequence.

use super::{db, event_from_row, move_on, parse_ts, scope_clause, ts, EVENT_COLUMNS};
use crate::domain::event::Event;
use crate::domain::prospect::ProspectId;
use crate::store::{NewSuggestion, RulesStore, Suggestion, SuggestionDecision};
use crate::store::{PgStore, RepScope, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

const CURSOR: &str = "rules";

pub(super) const SUGGESTION_SELECT: &str =
    "SELECT s.id, s.prospect_id, p.name, s.rule, s.from_stage, s.to_stage, s.reason, \
     s.created_at, s.decision, s.person, s.created_prospect_id \
     FROM suggestions s JOIN prospects p ON p.id = s.prospect_id";

#[async_trait]
impl RulesStore for PgStore {
    async fn events_after(&self, after_id: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db("read new events"))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn rule_cursor(&self) -> StoreResult<i64> {
        let last: Option<i64> = sqlx::query_scalar("SELECT last_event_id FROM rule_cursor WHERE name = $1")
            .bind(CURSOR)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read the rules' place in the event log"))?;
        Ok(last.unwrap_or(0))
    }

    async fn set_rule_cursor(&self, last_event_id: i64) -> StoreResult<()> {
        // Only forward: two workers can finish out of order.
        sqlx::query(
            "INSERT INTO rule_cursor (name, last_event_id) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET last_event_id = GREATEST(rule_cursor.last_event_id, $2)",
        )
        .bind(CURSOR)
        .bind(last_event_id)
        .execute(self.pool())
        .await
        .map_err(db("store the rules' place in the event log"))?;
        Ok(())
    }

    async fn add_suggestion(&self, suggestion: &NewSuggestion, now: DateTime<Utc>) -> StoreResult<bool> {
        let added = sqlx::query(
            "INSERT INTO suggestions (prospect_id, rule, from_stage, to_stage, reason, key, created_at, person) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(suggestion.prospect_id)
        .bind(&suggestion.rule)
        .bind(&suggestion.from_stage)
        .bind(&suggestion.to_stage)
        .bind(&suggestion.reason)
        .bind(&suggestion.key)
        .bind(ts(now))
        .bind(suggestion.person.as_ref().map(crate::store::rules::person_json))
        .execute(self.pool())
        .await
        .map_err(db("add a suggestion"))?
        .rows_affected();
        Ok(added > 0)
    }

    async fn open_suggestions(&self, scope: RepScope) -> StoreResult<Vec<Suggestion>> {
        let mut query = QueryBuilder::<Postgres>::new(format!("{SUGGESTION_SELECT} WHERE s.decision IS NULL"));
        scope_clause(&mut query, scope);
        query.push(" ORDER BY s.created_at, s.id");
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list suggestions"))?;
        rows.iter().map(suggestion_from_row).collect()
    }

    async fn decide_suggestion(
        &self,
        scope: RepScope,
        id: i64,
        decision: SuggestionDecision,
        now: DateTime<Utc>,
    ) -> StoreResult<Suggestion> {
        let mut tx = self.write_tx().await?;
        let mut query = QueryBuilder::<Postgres>::new(format!("{SUGGESTION_SELECT} WHERE s.id = "));
        query.push_bind(id);
        scope_clause(&mut query, scope);
        let row = query
            .build()
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("find a suggestion"))?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "no suggestion #{id}; `rapport suggestions` lists the open ones"
                ))
            })?;
        let suggestion = suggestion_from_row(&row)?;
        if let Some(done) = &suggestion.decision {
            return Err(StoreError::Conflict(format!("suggestion #{id} was {done} already")));
        }
        let mut added = None;
        let wrong_kind = |what: &str| StoreError::Conflict(format!("suggestion #{id} is {what}; approve it as such"));
        let (word, by) = match &decision {
            SuggestionDecision::Added { .. } if suggestion.person.is_none() => {
                return Err(wrong_kind("a stage change"))
            }
            SuggestionDecision::Approve { .. } if suggestion.person.is_some() => {
                return Err(wrong_kind("a person to add"))
            }
            SuggestionDecision::Added { by, prospect } => {
                added = Some(*prospect);
                ("approved", by)
            }
            SuggestionDecision::Approve { by, move_event } => {
                let pipeline: String = sqlx::query_scalar("SELECT pipeline FROM prospects WHERE id = $1")
                    .bind(suggestion.prospect_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("find a prospect"))?;
                move_on(
                    &mut tx,
                    suggestion.prospect_id,
                    &suggestion.from_stage,
                    &pipeline,
                    &suggestion.to_stage,
                    move_event,
                    now,
                )
                .await?;
                ("approved", by)
            }
            SuggestionDecision::Reject { by } => ("rejected", by),
        };
        sqlx::query(
            "UPDATE suggestions SET decision = $1, decided_by = $2, decided_at = $3, created_prospect_id = $4 \
             WHERE id = $5",
        )
        .bind(word)
        .bind(by)
        .bind(ts(now))
        .bind(added)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db("decide a suggestion"))?;
        tx.commit().await.map_err(db("decide a suggestion"))?;
        Ok(Suggestion {
            decision: Some(word.to_string()),
            created_prospect_id: added,
            ..suggestion
        })
    }

    async fn record_firing(
        &self,
        key: &str,
        rule: &str,
        prospect: ProspectId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u32>> {
        sqlx::query(
            "INSERT INTO rule_firings (key, rule, prospect_id, reason, fired_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(rule)
        .bind(prospect)
        .bind(reason)
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(db("record a rule firing"))?;
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE rule_firings SET attempts = attempts + 1 WHERE key = $1 AND done_at IS NULL RETURNING attempts",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .map_err(db("record a rule firing"))?;
        Ok(attempts.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn finish_firing(&self, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE rule_firings SET done_at = $1 WHERE key = $2 AND done_at IS NULL")
            .bind(ts(now))
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(db("mark a rule firing done"))?;
        Ok(())
    }

    async fn stop_sequences_of(
        &self,
        scope: RepScope,
        prospect: ProspectId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        super::check_scope(&mut tx, scope, prospect).await?;
        let stopped = sqlx::query(
            "UPDATE enrolments SET state = 'stopped', stop_reason = $1, next_due_at = NULL, updated_at = $2 \
             WHERE prospect_id = $3 AND state IN ('active', 'snoozed', 'paused')",
        )
        .bind(reason)
        .bind(ts(now))
        .bind(prospect)
        .execute(&mut *tx)
        .await
        .map_err(db("stop a prospect's sequence"))?
        .rows_affected();
        tx.commit().await.map_err(db("stop a prospect's sequence"))?;
        Ok(stopped > 0)
    }
}

pub(super) fn suggestion_from_row(row: &PgRow) -> StoreResult<Suggestion> {
    Ok(Suggestion {
        id: row.get(0),
        prospect_id: row.get(1),
        prospect_name: row.get(2),
        rule: row.get(3),
        from_stage: row.get(4),
        to_stage: row.get(5),
        reason: row.get(6),
        created_at: parse_ts(row.get(7))?,
        decision: row.get(8),
        person: crate::store::rules::person_from_json(row.get(9))?,
        created_prospect_id: row.get(10),
    })
}
