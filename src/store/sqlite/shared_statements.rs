//! Statements several of the SQLite store's operations share: appending
//! events (a poll's posts, mail, sends, imports, rules' and tasks' events),
//! each append made idempotent by the event's key; the fence check of
//! claimed rows; reading an event back; a prospect's move with its event.

use super::{db, parse_ts, ts};
use crate::domain::event::Actor;
use crate::store::*;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

/// Rows per multi-row statement when recording polls: well under SQLite's
/// limit of bound parameters, and few statements per batch.
const EVENT_INSERT_CHUNK: usize = 500;

/// The multi-row INSERT of some events, ending with its ON CONFLICT: a
/// key already stored is skipped, and events of prospects that no longer
/// exist (erased meanwhile) are dropped by the join, not failed on.
fn event_insert<'a>(events: impl IntoIterator<Item = &'a NewEvent>, now: DateTime<Utc>) -> QueryBuilder<'a, Sqlite> {
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
         SELECT v.column1, p.rep_id, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8 FROM (",
    );
    let recorded = ts(now);
    insert.push_values(events, |mut row, event| {
        row.push_bind(event.prospect_id)
            .push_bind(&event.kind)
            .push_bind(ts(event.occurred_at))
            .push_bind(recorded.clone())
            .push_bind(&event.source_key)
            .push_bind(event.actor.kind())
            .push_bind(event.actor.name())
            .push_bind(event.data.as_str());
    });
    // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT.
    insert.push(") AS v JOIN prospects p ON p.id = v.column1 WHERE true ON CONFLICT(source_key) DO NOTHING");
    insert
}

/// Appends events with multi-row INSERTs; returns the source keys that were new.
pub(super) async fn insert_events_returning_new<'a>(
    conn: &mut SqliteConnection,
    events: impl Iterator<Item = &'a NewEvent>,
    now: DateTime<Utc>,
) -> StoreResult<std::collections::HashSet<String>> {
    let events: Vec<&NewEvent> = events.collect();
    let mut new_keys = std::collections::HashSet::new();
    for chunk in events.chunks(EVENT_INSERT_CHUNK) {
        let mut insert = event_insert(chunk.iter().copied(), now);
        insert.push(" RETURNING source_key");
        let keys: Vec<String> = insert
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(db("record events"))?;
        new_keys.extend(keys);
    }
    Ok(new_keys)
}

/// Whether two events differ only in time, key and data (a poll's posts).
fn shares_all_but_time_key_and_data(a: &NewEvent, b: &NewEvent) -> bool {
    a.prospect_id == b.prospect_id && a.kind == b.kind && a.actor == b.actor
}

/// `event_insert` for events of one prospect, kind and actor (a poll's
/// posts): what they share is bound once and the prospect read once, so a
/// row binds three values, not eight (a first poll writes thousands a second).
fn shared_event_insert<'a>(
    first: &'a NewEvent,
    events: &'a [NewEvent],
    now: DateTime<Utc>,
) -> QueryBuilder<'a, Sqlite> {
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
         SELECT p.id, p.rep_id, ",
    );
    insert
        .push_bind(&first.kind)
        .push(", v.column1, ")
        .push_bind(ts(now))
        .push(", v.column2, ")
        .push_bind(first.actor.kind())
        .push(", ")
        .push_bind(first.actor.name())
        .push(", v.column3 FROM prospects p, (");
    insert.push_values(events, |mut row, event| {
        row.push_bind(ts(event.occurred_at))
            .push_bind(&event.source_key)
            .push_bind(event.data.as_str());
    });
    insert
        .push(") AS v WHERE p.id = ")
        .push_bind(first.prospect_id)
        .push(" ON CONFLICT(source_key) DO NOTHING");
    insert
}

/// Appends one group of events (a poll's posts) and returns how many were
/// new: the statement's own count of rows written, so nothing comes back
/// row by row and each poll's count is its own.
pub(super) async fn insert_events_counting_new(
    conn: &mut SqliteConnection,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut added = 0;
    for chunk in events.chunks(EVENT_INSERT_CHUNK) {
        let mut insert = match chunk {
            [first, rest @ ..] if rest.iter().all(|e| shares_all_but_time_key_and_data(first, e)) => {
                shared_event_insert(first, chunk, now)
            }
            _ => event_insert(chunk, now),
        };
        added += insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db("record events"))?
            .rows_affected();
    }
    Ok(added)
}

/// The ids among `claims` whose fencing number on `table` is still the
/// claim's: the rows a completing write may touch.
/// (The write transaction holds the database, so no claim runs meanwhile.)
pub(super) async fn holding(
    conn: &mut SqliteConnection,
    table: &'static str,
    claims: &[Claim],
) -> StoreResult<std::collections::HashSet<i64>> {
    let mut held = std::collections::HashSet::new();
    for chunk in claims.chunks(EVENT_INSERT_CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(format!("SELECT id FROM {table} WHERE (id, fence) IN ("));
        query.push_values(chunk, |mut row, claim| {
            row.push_bind(claim.id).push_bind(claim.fence);
        });
        query.push(")");
        let ids: Vec<i64> = query
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(db("check claims' fences"))?;
        held.extend(ids);
    }
    Ok(held)
}

pub(super) const EVENT_COLUMNS: &str = "id, prospect_id, kind, occurred_at, recorded_at, actor_kind, actor, data";
/// The same columns of `events e`, for queries that join the prospect to check the scope.
pub(super) const EVENT_COLUMNS_E: &str =
    "e.id, e.prospect_id, e.kind, e.occurred_at, e.recorded_at, e.actor_kind, e.actor, e.data";

pub(super) fn event_from_row(row: &SqliteRow) -> StoreResult<Event> {
    let data: String = row.get("data");
    Ok(Event {
        id: row.get("id"),
        prospect_id: row.get("prospect_id"),
        kind: row.get("kind"),
        occurred_at: parse_ts(row.get("occurred_at"))?,
        recorded_at: parse_ts(row.get("recorded_at"))?,
        actor: Actor::from_parts(row.get("actor_kind"), row.get("actor")),
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?,
    })
}

/// Moves a prospect still in `from_stage`, with its stage-change event.
pub(super) async fn move_on(
    conn: &mut SqliteConnection,
    id: ProspectId,
    from_stage: &str,
    pipeline: &str,
    stage: &str,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let moved = sqlx::query("UPDATE prospects SET pipeline = ?, stage = ?, updated_at = ? WHERE id = ? AND stage = ?")
        .bind(pipeline)
        .bind(stage)
        .bind(ts(now))
        .bind(id)
        .bind(from_stage)
        .execute(&mut *conn)
        .await
        .map_err(db("move a prospect"))?;
    if moved.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "prospect #{id} is no longer in stage '{from_stage}' (changed meanwhile); look again with `rapport prospect show {id}`"
        )));
    }
    append_event_on(conn, event, now).await?;
    Ok(())
}

pub(super) async fn append_event_on(
    conn: &mut SqliteConnection,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(!insert_events_returning_new(conn, std::iter::once(event), now)
        .await?
        .is_empty())
}
