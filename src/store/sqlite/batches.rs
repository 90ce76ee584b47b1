//! Reads and writes for many prospects at once, so enrolling thousands or
//! replaying thousands of events costs a few statements per batch rather
//! than a few per prospect: events, newest posts, running sequences and
//! suppression for a list of prospects, and enrolling many in one transaction.

use super::{append_event_on, db, ts};
use crate::domain::event::payload::Enrolled;
use crate::domain::event::{keys, Actor, NewEvent};
use crate::store::{email_hash, NewEnrolment, SqliteStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};

/// Keys per statement: under SQLite's limit on bound values.
const CHUNK: usize = 500;

impl SqliteStore {
    /// Rows of `select` (ending where `IN (` goes) for each chunk of `ids`, then `tail`.
    pub(super) async fn rows_for<K>(
        &self,
        select: &str,
        tail: &str,
        keys: &[K],
        what: &'static str,
    ) -> StoreResult<Vec<sqlx::sqlite::SqliteRow>>
    where
        K: Clone + Send + Sync + 'static,
        for<'q> K: sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>,
    {
        let mut found = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new(select);
            query.push(" IN (");
            let mut list = query.separated(", ");
            for key in chunk {
                list.push_bind(key.clone());
            }
            query.push(")").push(tail);
            found.extend(query.build().fetch_all(self.pool()).await.map_err(db(what))?);
        }
        Ok(found)
    }

    pub(super) async fn suppressed_of(&self, emails: &[String]) -> StoreResult<HashSet<String>> {
        let by_hash: HashMap<String, &String> = emails.iter().map(|e| (email_hash(e), e)).collect();
        let hashes: Vec<String> = by_hash.keys().cloned().collect();
        let rows = self
            .rows_for(
                "SELECT email_sha256 FROM suppressions WHERE email_sha256",
                "",
                &hashes,
                "check the suppression list",
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| by_hash.get(&row.get::<String, _>(0)).map(|e| (*e).clone()))
            .collect())
    }
}

/// One enrolment and its `sequence.enrolled` event, inside `tx`.
pub(super) async fn insert_enrolment_on(
    tx: &mut SqliteConnection,
    enrolment: &NewEnrolment,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<Result<i64, String>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO enrolments (prospect_id, sequence, variant, step, state, next_due_at, enrolled_at, updated_at) \
         SELECT id, ?, ?, 0, 'active', ?, ?, ? FROM prospects WHERE id = ? \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&enrolment.sequence)
    .bind(i64::from(enrolment.variant))
    .bind(ts(enrolment.next_due_at))
    .bind(ts(now))
    .bind(ts(now))
    .bind(enrolment.prospect_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("enrol a prospect"))?;
    let Some(id) = id else {
        let running: Option<String> = sqlx::query_scalar(
            "SELECT sequence FROM enrolments WHERE prospect_id = ? AND state IN ('active', 'snoozed', 'paused')",
        )
        .bind(enrolment.prospect_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("enrol a prospect"))?;
        return match running {
            Some(sequence) => Ok(Err(sequence)),
            None => Err(StoreError::NotFound(format!("no prospect #{}", enrolment.prospect_id))),
        };
    };
    let enrolled = Enrolled {
        sequence: enrolment.sequence.clone(),
        variant: enrolment.variant,
        enrolment: id,
    };
    let event = NewEvent::with(enrolment.prospect_id, now, keys::enrolled(id), actor.clone(), &enrolled);
    append_event_on(tx, &event, now).await?;
    Ok(Ok(id))
}
