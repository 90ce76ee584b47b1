//! The PostgreSQL side of the board's reads, and the prospect filter every list
//! of prospects shares (scope first, then pipeline, stage, tag, rep, cursor,
//! ids and text).

use super::prospects::{prospect_from_row, PROSPECT_COLUMNS};
use super::rules::{suggestion_from_row, SUGGESTION_SELECT};
use super::sequences::{enrolment_from_row, ENROLMENT_SELECT};
use super::tasks::{task_from_row, TASK_SELECT};
use super::{db, parse_ts, scope_clause, ts};
use crate::domain::money::Amount;
use crate::domain::prospect::{Prospect, ProspectId};
use crate::store::{BoardStore, PgStore, ProspectFilter, ProspectWork, RepScope, StageSum, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};

/// The filter's conditions, after a `WHERE` that the caller wrote.
pub(super) fn push_filter(query: &mut QueryBuilder<'_, Postgres>, scope: RepScope, filter: &ProspectFilter) {
    scope_clause(query, scope);
    if let Some(pipeline) = &filter.pipeline {
        query.push(" AND p.pipeline = ").push_bind(pipeline.clone());
    }
    if let Some(stage) = &filter.stage {
        query.push(" AND p.stage = ").push_bind(stage.clone());
    }
    if let Some(tag) = &filter.tag {
        query
            .push(" AND EXISTS (SELECT 1 FROM prospect_tags t WHERE t.prospect_id = p.id AND t.tag = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(rep) = filter.rep {
        query.push(" AND p.rep_id = ").push_bind(rep);
    }
    if let Some(after) = filter.after {
        query.push(" AND p.id > ").push_bind(after);
    }
    if let Some(ids) = &filter.ids {
        query.push(" AND p.id = ANY(").push_bind(ids.clone()).push(")");
    }
    if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // ILIKE's wildcards in the text are the user's characters, not patterns.
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        query.push(" AND (");
        for (i, column) in ["p.name", "p.email", "p.company", "p.title"].iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query
                .push(format!("{column} ILIKE "))
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\'");
        }
        query.push(")");
    }
}

#[async_trait]
impl BoardStore for PgStore {
    async fn stage_sums(&self, scope: RepScope, filter: &ProspectFilter) -> StoreResult<Vec<StageSum>> {
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT p.stage, p.currency, p.probability_override, COUNT(*), SUM(p.value_cents)::BIGINT FROM prospects p WHERE 1 = 1",
        );
        push_filter(&mut query, scope, filter);
        query.push(" GROUP BY p.stage, p.currency, p.probability_override");
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("sum the board's columns"))?;
        Ok(rows
            .iter()
            .map(|row| StageSum {
                stage: row.get(0),
                currency: row.get(1),
                probability_override: row.get::<Option<i64>, _>(2).and_then(|p| u8::try_from(p).ok()),
                count: row.get::<i64, _>(3).max(0) as u64,
                value: Amount(row.get::<Option<i64>, _>(4).unwrap_or(0)),
            })
            .collect())
    }

    async fn stage_cards(
        &self,
        scope: RepScope,
        filter: &ProspectFilter,
        stages: &[(String, u32)],
    ) -> StoreResult<Vec<Prospect>> {
        let mut cards = Vec::new();
        // One indexed query per column: each reads only the cards it shows.
        for (stage, limit) in stages {
            let mut query = QueryBuilder::<Postgres>::new(format!(
                "SELECT {PROSPECT_COLUMNS} FROM prospects p JOIN reps r ON r.id = p.rep_id WHERE p.stage = "
            ));
            query.push_bind(stage.clone());
            push_filter(&mut query, scope, filter);
            query
                .push(" ORDER BY p.value_cents DESC, p.id LIMIT ")
                .push_bind(i64::from(*limit));
            let rows = query
                .build()
                .fetch_all(self.pool())
                .await
                .map_err(db("load the board's cards"))?;
            for row in &rows {
                cards.push(prospect_from_row(row)?);
            }
        }
        self.attach_lists(&mut cards).await?;
        Ok(cards)
    }

    async fn activity_of(
        &self,
        scope: RepScope,
        prospects: &[ProspectId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ProspectId, String, DateTime<Utc>)>> {
        if prospects.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT e.prospect_id, e.kind, e.occurred_at FROM events e JOIN prospects p ON p.id = e.prospect_id \
             WHERE e.prospect_id = ANY(",
        );
        query
            .push_bind(prospects.to_vec())
            .push(") AND e.occurred_at >= ")
            .push_bind(ts(since));
        scope_clause(&mut query, scope);
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("load the cards' activity"))?;
        rows.iter()
            .map(|row| Ok((row.get(0), row.get(1), parse_ts(row.get(2))?)))
            .collect()
    }

    async fn prospect_work(&self, scope: RepScope, prospect: ProspectId) -> StoreResult<ProspectWork> {
        let mut tasks =
            QueryBuilder::<Postgres>::new(format!("{TASK_SELECT} WHERE t.done_at IS NULL AND t.prospect_id = "));
        tasks.push_bind(prospect);
        scope_clause(&mut tasks, scope);
        tasks.push(" ORDER BY t.due_at, t.id");
        let tasks = tasks
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list a prospect's tasks"))?;
        let mut enrolments = QueryBuilder::<Postgres>::new(format!("{ENROLMENT_SELECT} WHERE e.prospect_id = "));
        enrolments.push_bind(prospect);
        scope_clause(&mut enrolments, scope);
        enrolments.push(" ORDER BY e.enrolled_at, e.id");
        let enrolments = enrolments
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list a prospect's enrolments"))?;
        let mut suggestions = QueryBuilder::<Postgres>::new(format!(
            "{SUGGESTION_SELECT} WHERE s.decision IS NULL AND s.prospect_id = "
        ));
        suggestions.push_bind(prospect);
        scope_clause(&mut suggestions, scope);
        suggestions.push(" ORDER BY s.created_at, s.id");
        let suggestions = suggestions
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list a prospect's suggestions"))?;
        Ok(ProspectWork {
            tasks: tasks.iter().map(task_from_row).collect::<StoreResult<_>>()?,
            enrolments: enrolments.iter().map(enrolment_from_row).collect::<StoreResult<_>>()?,
            suggestions: suggestions
                .iter()
                .map(suggestion_from_row)
                .collect::<StoreResult<_>>()?,
        })
    }
}
