//! The PostgreSQL store, for a team that outgrows one machine: the same
//! contract as the SQLite store (tests/store_contract runs both), with times
//! as `timestamptz`, dates as `date`, event data as `jsonb` and flags as
//! `boolean`. Transactions run at PostgreSQL's default READ COMMITTED; where
//! a write depends on what it read (a claim, a cap), the statement locks the
//! rows it decides on, as each file says.

mod accounts;
mod batches;
mod board;
mod calendar;
mod digests;
mod events;
mod forecast;
mod hooks;
mod hosts;
mod idempotency;
mod import;
mod jobs;
mod lockouts;
mod mail;
mod ops;
mod prospects;
mod reps;
mod rules;
mod sending;
mod sequences;
mod sources;
mod tasks;
mod webhooks;

use super::*;
use crate::domain::event::Actor;
use crate::domain::prospect::Language;
use chrono::NaiveDate;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a session may sit inside a transaction doing nothing.
const IDLE_IN_TRANSACTION: &str = "15s";

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

pub(super) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { action, source }
}

/// Times are `timestamptz`: bound as they are (the SQLite store's text form
/// has the same name, so both stores' statements read alike).
pub(super) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}

/// Dates are `date`.
pub(super) fn day(date: NaiveDate) -> NaiveDate {
    date
}

pub(super) fn parse_day(date: Option<NaiveDate>) -> StoreResult<Option<NaiveDate>> {
    Ok(date)
}

pub(super) fn parse_ts(t: DateTime<Utc>) -> StoreResult<DateTime<Utc>> {
    Ok(t)
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST/DATABASE`,
    /// `sslmode` in the URL for TLS) and applies migrations; several daemons
    /// may do so at once (the migrator holds an advisory lock while it runs).
    pub async fn open(
        url: &str,
        acquire_timeout: Duration,
        max_connections: u32,
        password: Option<&str>,
    ) -> StoreResult<PgStore> {
        let open_error = |reason: String| StoreError::Open {
            url: super::migrations::redacted(url),
            reason,
        };
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| open_error(format!("{e}; write it like postgres://USER@HOST/DATABASE")))?
            .application_name("rapport")
            // rapport's transactions do no network work and last milliseconds;
            // one left open longer is a paused or stuck daemon (SIGSTOP, a
            // frozen VM) holding locks every other daemon waits for: the
            // server ends its session, its locks go, and its late writes fail.
            .options([("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION)]);
        if let Some(password) = password {
            options = options.password(password);
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(acquire_timeout + Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| open_error(super::migrations::with_password_hint(e.to_string())))?;
        MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| open_error(format!("applying migrations failed: {e}")))?;
        Ok(PgStore { pool })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A write transaction that may append events: it first takes the
    /// event-append lock (a transaction-level advisory lock), so transactions
    /// appending events commit one after another and event ids are in commit
    /// order. A reader that has seen id N can never later find a smaller id
    /// committing, so the rules' and the outgoing webhooks' cursors (the last
    /// id read) skip nothing. The lock is each such transaction's first, so it
    /// never waits for it while holding row locks (no deadlock through it).
    pub(super) async fn write_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.claim_tx().await?;
        take_append_lock(&mut tx).await?;
        Ok(tx)
    }

    /// A write transaction that appends no events (claims, leases, settling
    /// rows): it runs beside others, taking only the row locks it needs.
    pub(super) async fn claim_tx(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db("start a write transaction"))
    }
}

// ---- row mapping -------------------------------------------------------------

fn rep_from_row(row: &PgRow) -> StoreResult<Rep> {
    let language: String = row.get("language");
    Ok(Rep {
        id: row.get("id"),
        name: row.get("name"),
        email: row.get("email"),
        time_zone: row.get("time_zone"),
        digest_hour: row.get::<i64, _>("digest_hour") as u8,
        language: Language::parse(&language).map_err(StoreError::Corrupt)?,
    })
}

/// Not found unless prospect `id` exists in `scope`: every change to a
/// prospect's data starts with this, inside its transaction.
pub(super) async fn check_scope(conn: &mut PgConnection, scope: RepScope, id: ProspectId) -> StoreResult<()> {
    let found: Option<i64> = match scope {
        RepScope::Team => sqlx::query_scalar("SELECT 1::BIGINT FROM prospects WHERE id = $1").bind(id),
        RepScope::Rep(rep) => sqlx::query_scalar("SELECT 1::BIGINT FROM prospects WHERE id = $1 AND rep_id = $2")
            .bind(id)
            .bind(rep),
    }
    .fetch_optional(conn)
    .await
    .map_err(db("find a prospect"))?;
    found
        .map(drop)
        .ok_or_else(|| StoreError::NotFound(format!("no prospect #{id}")))
}

pub(super) fn scope_clause(builder: &mut QueryBuilder<'_, Postgres>, scope: RepScope) {
    match scope {
        RepScope::Rep(rep) => {
            builder.push(" AND p.rep_id = ").push_bind(rep);
        }
        RepScope::Team => {}
    }
}

// ---- statements shared by several operations ----------------------------------

/// Rows per multi-row statement (fence checks): well under
/// PostgreSQL's limit of bound parameters, and few statements per batch.
const MULTI_ROW_CHUNK: usize = 500;

/// Events per INSERT: its columns travel as arrays (`unnest`), so the size
/// is not bound by PostgreSQL's limit of parameters, only by memory.
const EVENT_UNNEST_CHUNK: usize = 2_000;

/// Appends events, a set-based INSERT per chunk (each column one array:
/// a handful of parameters however many rows, planned once); returns the
/// source keys that were new. Events of prospects that no longer exist
/// (erased meanwhile) are dropped by the join, not failed on. Ids follow
/// the order given.
pub(super) async fn insert_events_returning_new<'a>(
    conn: &mut PgConnection,
    events: impl Iterator<Item = &'a NewEvent>,
    now: DateTime<Utc>,
) -> StoreResult<std::collections::HashSet<String>> {
    let events: Vec<&NewEvent> = events.collect();
    let mut new_keys = std::collections::HashSet::new();
    if events.is_empty() {
        return Ok(new_keys);
    }
    // Already held when the transaction came from `write_tx` (it is re-entrant);
    // taken here too so no append can ever run without it.
    take_append_lock(conn).await?;
    for chunk in events.chunks(EVENT_UNNEST_CHUNK) {
        let column = |f: &dyn Fn(&NewEvent) -> String| -> Vec<String> { chunk.iter().map(|e| f(e)).collect() };
        let keys: Vec<String> = sqlx::query_scalar(
            "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
             SELECT v.prospect_id, p.rep_id, v.kind, v.occurred_at, $8, v.source_key, v.actor_kind, v.actor, v.data::jsonb \
             FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[]) \
                  WITH ORDINALITY AS v(prospect_id, kind, occurred_at, source_key, actor_kind, actor, data, position) \
             JOIN prospects p ON p.id = v.prospect_id ORDER BY v.position \
             ON CONFLICT(source_key) DO NOTHING RETURNING source_key",
        )
        .bind(chunk.iter().map(|e| e.prospect_id).collect::<Vec<i64>>())
        .bind(column(&|e| e.kind.clone()))
        .bind(chunk.iter().map(|e| ts(e.occurred_at)).collect::<Vec<DateTime<Utc>>>())
        .bind(column(&|e| e.source_key.clone()))
        .bind(column(&|e| e.actor.kind().to_string()))
        .bind(column(&|e| e.actor.name().to_string()))
        .bind(chunk.iter().map(|e| e.data.as_str()).collect::<Vec<&str>>())
        .bind(ts(now))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("record events"))?;
        new_keys.extend(keys);
    }
    Ok(new_keys)
}

/// The advisory lock key of appending events ("rapport events" as bytes).
const APPEND_LOCK: i64 = 0x7261_7070_6576_7473;

async fn take_append_lock(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK)
        .execute(conn)
        .await
        .map_err(db("take the event-append lock"))?;
    Ok(())
}

/// The ids among `claims` whose fencing number on `table` is still the
/// claim's: the rows a completing write may touch.
/// The rows are locked until the transaction ends, so no claim can move
/// a fence between this check and the writes that follow it.
pub(super) async fn holding(
    conn: &mut PgConnection,
    table: &'static str,
    claims: &[Claim],
) -> StoreResult<std::collections::HashSet<i64>> {
    let mut held = std::collections::HashSet::new();
    for chunk in claims.chunks(MULTI_ROW_CHUNK) {
        let mut query = QueryBuilder::<Postgres>::new(format!("SELECT id FROM {table} WHERE (id, fence) IN ("));
        query.push_values(chunk, |mut row, claim| {
            row.push_bind(claim.id).push_bind(claim.fence);
        });
        query.push(") FOR UPDATE");
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

pub(super) fn event_from_row(row: &PgRow) -> StoreResult<Event> {
    let data: Json<serde_json::Value> = row.get("data");
    Ok(Event {
        id: row.get("id"),
        prospect_id: row.get("prospect_id"),
        kind: row.get("kind"),
        occurred_at: parse_ts(row.get("occurred_at"))?,
        recorded_at: parse_ts(row.get("recorded_at"))?,
        actor: Actor::from_parts(row.get("actor_kind"), row.get("actor")),
        data: data.0,
    })
}

/// Moves a prospect still in `from_stage`, with its stage-change event.
pub(super) async fn move_on(
    conn: &mut PgConnection,
    id: ProspectId,
    from_stage: &str,
    pipeline: &str,
    stage: &str,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let moved =
        sqlx::query("UPDATE prospects SET pipeline = $1, stage = $2, updated_at = $3 WHERE id = $4 AND stage = $5")
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
    conn: &mut PgConnection,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(!insert_events_returning_new(conn, std::iter::once(event), now)
        .await?
        .is_empty())
}

#[async_trait]
impl Store for PgStore {
    async fn close(&self) {
        self.pool.close().await;
    }
    fn shared_by_daemons(&self) -> bool {
        true
    }
}
