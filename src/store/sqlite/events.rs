//! The SQLite side of the event log: appends checked against the actor's
//! scope in their transaction, and the reads the rules, digest and scores use.

use super::{
    append_event_on, check_scope, db, event_from_row, parse_ts, scope_clause, ts, EVENT_COLUMNS, EVENT_COLUMNS_E,
};
use crate::domain::event::kinds::{EMAIL_REPLIED, PROSPECT_CREATED, STAGE_CHANGED};
use crate::domain::event::{Event, NewEvent};
use crate::domain::prospect::ProspectId;
use crate::domain::records::ReplyReading;
use crate::store::{EventStore, Recency, RepScope, SqliteStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_event(&self, scope: RepScope, event: &NewEvent, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        check_scope(&mut tx, scope, event.prospect_id).await?;
        let added = append_event_on(&mut tx, event, now).await?;
        tx.commit().await.map_err(db("record an event"))?;
        Ok(added)
    }
    async fn list_events(&self, scope: RepScope, prospect: ProspectId) -> StoreResult<Vec<Event>> {
        let mut query = QueryBuilder::<sqlx::Sqlite>::new(format!(
            "SELECT {EVENT_COLUMNS_E} FROM events e JOIN prospects p ON p.id = e.prospect_id WHERE e.prospect_id = "
        ));
        query.push_bind(prospect);
        scope_clause(&mut query, scope);
        query.push(" ORDER BY e.occurred_at, e.id");
        let rows = query.build().fetch_all(self.pool()).await.map_err(db("load events"))?;
        rows.iter().map(event_from_row).collect()
    }
    async fn events_of(&self, prospects: &[ProspectId]) -> StoreResult<HashMap<ProspectId, Vec<Event>>> {
        let rows = self
            .rows_for(
                &format!("SELECT {} FROM events WHERE prospect_id", EVENT_COLUMNS),
                " ORDER BY prospect_id, occurred_at, id",
                prospects,
                "load events",
            )
            .await?;
        let mut events: HashMap<ProspectId, Vec<Event>> = HashMap::new();
        for row in &rows {
            let event = event_from_row(row)?;
            events.entry(event.prospect_id).or_default().push(event);
        }
        Ok(events)
    }
    async fn events_between(
        &self,
        scope: RepScope,
        kinds: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Event>> {
        let mut query = QueryBuilder::new(format!(
            "SELECT {EVENT_COLUMNS_E} FROM events e JOIN prospects p ON p.id = e.prospect_id WHERE e.recorded_at >= "
        ));
        query
            .push_bind(ts(from))
            .push(" AND e.recorded_at < ")
            .push_bind(ts(to));
        query.push(" AND e.kind IN (");
        let mut separated = query.separated(", ");
        for kind in kinds {
            separated.push_bind(kind.to_string());
        }
        query.push(")");
        scope_clause(&mut query, scope);
        query.push(" ORDER BY e.recorded_at, e.id");
        let rows = query.build().fetch_all(self.pool()).await.map_err(db("load events"))?;
        rows.iter().map(event_from_row).collect()
    }
    async fn activity_since(
        &self,
        scope: RepScope,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ProspectId, String, DateTime<Utc>)>> {
        let mut query = QueryBuilder::new(
            "SELECT e.prospect_id, e.kind, e.occurred_at FROM events e JOIN prospects p ON p.id = e.prospect_id \
             WHERE e.occurred_at >= ",
        );
        query.push_bind(ts(since));
        scope_clause(&mut query, scope);
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("load recent activity"))?;
        rows.iter()
            .map(|row| Ok((row.get(0), row.get(1), parse_ts(row.get(2))?)))
            .collect()
    }
    async fn recency(
        &self,
        scope: RepScope,
        prospects: &[ProspectId],
        activity: &[&str],
    ) -> StoreResult<HashMap<ProspectId, Recency>> {
        let mut found: HashMap<ProspectId, Recency> = HashMap::new();
        if prospects.is_empty() {
            return Ok(found);
        }
        let ids = serde_json::to_string(prospects).unwrap_or_else(|_| "[]".into());
        let mut query = QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT e.prospect_id, MAX(e.occurred_at) FROM events e JOIN prospects p ON p.id = e.prospect_id \
             WHERE e.prospect_id IN (SELECT value FROM json_each(",
        );
        query.push_bind(ids.clone()).push(")) AND e.kind IN (");
        query
            .push_bind(STAGE_CHANGED)
            .push(", ")
            .push_bind(PROSPECT_CREATED)
            .push(")");
        scope_clause(&mut query, scope);
        query.push(" GROUP BY e.prospect_id");
        for row in query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("load stage times"))?
        {
            found.entry(row.get(0)).or_default().in_stage_since = Some(parse_ts(row.get(1))?);
        }
        if activity.is_empty() {
            return Ok(found);
        }
        // One row per prospect: SQLite takes the bare column `kind` from the row holding the MAX.
        let mut query = QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT e.prospect_id, e.kind, MAX(e.occurred_at) FROM events e JOIN prospects p ON p.id = e.prospect_id \
             WHERE e.prospect_id IN (SELECT value FROM json_each(",
        );
        query.push_bind(ids.clone()).push(")) AND e.kind IN (");
        let mut kinds = query.separated(", ");
        for kind in activity {
            kinds.push_bind(kind.to_string());
        }
        query.push(")");
        scope_clause(&mut query, scope);
        query.push(" GROUP BY e.prospect_id");
        for row in query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("load latest activity"))?
        {
            found.entry(row.get(0)).or_default().latest = Some((row.get(1), parse_ts(row.get(2))?));
        }
        // What the latest reply meant (the bare columns come from the MAX row).
        let mut query = QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT e.prospect_id, json_extract(e.data, '$.intent.intent'), \
             json_extract(e.data, '$.intent.contested_by'), MAX(e.occurred_at) \
             FROM events e JOIN prospects p ON p.id = e.prospect_id WHERE e.prospect_id IN (SELECT value FROM json_each(",
        );
        query.push_bind(ids).push(")) AND e.kind = ").push_bind(EMAIL_REPLIED);
        scope_clause(&mut query, scope);
        query.push(" GROUP BY e.prospect_id");
        for row in query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("load the latest replies' intent"))?
        {
            let reading = ReplyReading::from_stored(row.get(1), row.get(2));
            found.entry(row.get(0)).or_default().reply = reading;
        }
        Ok(found)
    }
    async fn latest_event_id(&self, scope: RepScope) -> StoreResult<i64> {
        let mut query = QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT COALESCE(MAX(e.id), 0) FROM events e JOIN prospects p ON p.id = e.prospect_id WHERE 1 = 1",
        );
        scope_clause(&mut query, scope);
        let row = query
            .build()
            .fetch_one(self.pool())
            .await
            .map_err(db("read the latest event"))?;
        Ok(row.get(0))
    }
}
