//! The SQLite store: WAL so readers never block the writer, `BEGIN IMMEDIATE`
//! for every write transaction so a CLI and a daemon writing at once wait for
//! each other (within `busy_timeout`) instead of failing with "database is
//! locked", and `synchronous=FULL` so a committed event survives power loss.

use super::*;
use crate::domain::event::{prospect_created, Actor};
use crate::domain::feed_plan::{plan_for, FeedPlan};
use crate::domain::learned::Path;
use crate::domain::money::Amount;
use crate::domain::profile::{Platform, ProfileUrl};
use crate::domain::prospect::Language;
use chrono::{NaiveDate, SecondsFormat};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per write transaction during an import: large enough to amortise the
/// fsync, small enough that a daemon waiting for the write lock waits briefly.
const IMPORT_BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

pub(super) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { action, source }
}

/// Times are stored as fixed-width RFC 3339 UTC text, so they sort and compare as strings.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn parse_ts(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time '{text}': {e}")))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str, busy_timeout: Duration, max_connections: u32) -> StoreResult<SqliteStore> {
        let open_error = |reason: String| StoreError::Open {
            url: url.to_string(),
            reason,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| open_error(format!("{e}; write it like sqlite://data/rapport.db")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy_timeout);
        let file = options.get_filename().to_path_buf();
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| open_error(format!("cannot create folder {}: {e}", parent.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            // A connection whose COMMIT failed (a full disk) is left inside a
            // transaction SQLite may already have rolled back; returned to the
            // pool, every later BEGIN on it would fail. The ping runs the
            // rollback a dropped transaction queued; a connection still in a
            // transaction after it is closed, and a fresh one opened when needed.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection;
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
            .max_connections(max_connections.max(1))
            .acquire_timeout(busy_timeout + Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| open_error(e.to_string()))?;
        MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| open_error(format!("applying migrations failed: {e}")))?;
        restrict_database_files(&file);
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) async fn write_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("start a write transaction"))
    }
}

/// The database, its WAL and shared-memory files are the owner's alone, also
/// when an older build made them readable by others; a folder others can
/// read is pointed out (it may be shared, so it is not changed).
fn restrict_database_files(file: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            let path = std::path::PathBuf::from(name);
            if let Ok(meta) = std::fs::metadata(&path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
                        tracing::warn!(file = %path.display(), error = %e, "cannot make the database file private");
                    }
                }
            }
        }
        let folder = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if std::fs::metadata(folder).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            tracing::warn!(folder = %folder.display(), "the database's folder is readable by others; run `chmod 700` on it");
        }
    }
}

// ---- row mapping -------------------------------------------------------------

fn rep_from_row(row: &SqliteRow) -> StoreResult<Rep> {
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

const PROSPECT_COLUMNS: &str = "p.id, p.rep_id, r.email AS rep_email, p.name, p.email, p.company, p.title, p.time_zone, \
     p.pipeline, p.stage, p.value_cents, p.currency, p.probability_override, p.expected_close, p.notes, p.custom_fields, p.away_until";

/// A stored `YYYY-MM-DD`, or the corruption it shows.
fn parse_date_column(text: Option<String>) -> StoreResult<Option<NaiveDate>> {
    text.map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(format!("date '{d}': {e}"))))
        .transpose()
}

fn prospect_from_row(row: &SqliteRow) -> StoreResult<Prospect> {
    let expected_close = parse_date_column(row.get("expected_close"))?;
    let custom: String = row.get("custom_fields");
    let data = ProspectData {
        rep_id: row.get("rep_id"),
        name: row.get("name"),
        email: row.get("email"),
        company: row.get("company"),
        title: row.get("title"),
        time_zone: row.get("time_zone"),
        pipeline: row.get("pipeline"),
        stage: row.get("stage"),
        value: Amount(row.get("value_cents")),
        currency: row.get("currency"),
        probability_override: row.get::<Option<i64>, _>("probability_override").map(|p| p as u8),
        expected_close,
        tags: Vec::new(),
        notes: row.get("notes"),
        custom_fields: serde_json::from_str(&custom).map_err(|e| StoreError::Corrupt(format!("custom fields: {e}")))?,
        profiles: Vec::new(),
    };
    Ok(Prospect {
        id: row.get("id"),
        rep_email: row.get("rep_email"),
        data,
        away_until: parse_date_column(row.get("away_until"))?,
    })
}

fn custom_fields_json(fields: &BTreeMap<String, String>) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".into())
}

/// Not found unless prospect `id` exists in `scope`: every change to a
/// prospect's data starts with this, inside its transaction.
pub(super) async fn check_scope(conn: &mut SqliteConnection, scope: RepScope, id: ProspectId) -> StoreResult<()> {
    let found: Option<i64> = match scope {
        RepScope::Team => sqlx::query_scalar("SELECT 1 FROM prospects WHERE id = ?").bind(id),
        RepScope::Rep(rep) => sqlx::query_scalar("SELECT 1 FROM prospects WHERE id = ? AND rep_id = ?")
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

pub(super) fn scope_clause(builder: &mut QueryBuilder<'_, Sqlite>, scope: RepScope) {
    match scope {
        RepScope::Rep(rep) => {
            builder.push(" AND p.rep_id = ").push_bind(rep);
        }
        RepScope::Team => {}
    }
}

// ---- statements shared by several operations ----------------------------------

async fn insert_prospect_rows(
    conn: &mut SqliteConnection,
    p: &ProspectData,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<ProspectId> {
    let now_text = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO prospects (rep_id, name, email, company, title, time_zone, pipeline, stage, value_cents, currency, \
         probability_override, expected_close, notes, custom_fields, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(p.rep_id)
    .bind(&p.name)
    .bind(&p.email)
    .bind(&p.company)
    .bind(&p.title)
    .bind(&p.time_zone)
    .bind(&p.pipeline)
    .bind(&p.stage)
    .bind(p.value.0)
    .bind(&p.currency)
    .bind(p.probability_override.map(i64::from))
    .bind(p.expected_close.map(|d| d.to_string()))
    .bind(&p.notes)
    .bind(custom_fields_json(&p.custom_fields))
    .bind(&now_text)
    .bind(&now_text)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| unique_violation(e, p.email.as_deref().unwrap_or("")))?
    .get(0);
    insert_tags(conn, id, &p.tags).await?;
    insert_profiles(conn, id, &p.profiles, now).await?;
    append_event_on(
        conn,
        &prospect_created(id, &p.pipeline, &p.stage, now, actor.clone()),
        now,
    )
    .await?;
    Ok(id)
}

fn unique_violation(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::Conflict(format!(
            "{what} already belongs to another prospect; see `rapport prospect show {what}`"
        )),
        _ => StoreError::Database {
            action: "save a prospect",
            source: error,
        },
    }
}

async fn insert_tags(conn: &mut SqliteConnection, id: ProspectId, tags: &[String]) -> StoreResult<()> {
    for tag in tags {
        sqlx::query("INSERT INTO prospect_tags (prospect_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(tag)
            .execute(&mut *conn)
            .await
            .map_err(db("save a tag"))?;
    }
    Ok(())
}

async fn insert_profiles(
    conn: &mut SqliteConnection,
    id: ProspectId,
    profiles: &[ProfileUrl],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for profile in profiles {
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO profiles (prospect_id, url, platform, created_at, given_url) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(url) DO NOTHING RETURNING id",
        )
        .bind(id)
        .bind(&profile.url)
        .bind(profile.platform.as_str())
        .bind(ts(now))
        .bind(&profile.given)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("save a profile"))?;
        match inserted {
            Some(profile_id) => insert_source(conn, id, profile_id, profile, now).await?,
            None => {
                let owner: i64 = sqlx::query_scalar("SELECT prospect_id FROM profiles WHERE url = ?")
                    .bind(&profile.url)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db("look up a profile"))?;
                if owner != id {
                    return Err(StoreError::Conflict(format!(
                        "profile {} already belongs to prospect #{owner}; one profile URL belongs to one prospect",
                        profile.url
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A profile with a permitted feed gets a source, due at once; its feed URL
/// is known now or found by discovery at the first poll.
async fn insert_source(
    conn: &mut SqliteConnection,
    prospect: ProspectId,
    profile_id: i64,
    profile: &ProfileUrl,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let feed_url = match plan_for(profile) {
        FeedPlan::NotFetched => return Ok(()),
        FeedPlan::Known(feed) => Some(feed.to_string()),
        FeedPlan::Discover(_) => None,
    };
    sqlx::query(
        "INSERT INTO sources (prospect_id, profile_id, platform, page_url, feed_url, interval_secs, next_poll_at, created_at) \
         VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
    )
    .bind(prospect)
    .bind(profile_id)
    .bind(profile.platform.as_str())
    .bind(&profile.given)
    .bind(feed_url)
    .bind(ts(now))
    .bind(ts(now))
    .execute(&mut *conn)
    .await
    .map_err(db("save a feed source"))?;
    Ok(())
}

/// Rows per multi-row statement when recording polls: well under SQLite's
/// limit of bound parameters, and few statements per batch.
const EVENT_INSERT_CHUNK: usize = 500;

/// Appends events with multi-row INSERTs; returns the source keys that were
/// new. Events of prospects that no longer exist (erased meanwhile) are
/// dropped by the join, not failed on.
pub(super) async fn insert_events_returning_new<'a>(
    conn: &mut SqliteConnection,
    events: impl Iterator<Item = &'a NewEvent>,
    now: DateTime<Utc>,
) -> StoreResult<std::collections::HashSet<String>> {
    let events: Vec<&NewEvent> = events.collect();
    let mut new_keys = std::collections::HashSet::new();
    for chunk in events.chunks(EVENT_INSERT_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
             SELECT v.column1, p.rep_id, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8 FROM (",
        );
        insert.push_values(chunk, |mut row, event| {
            row.push_bind(event.prospect_id)
                .push_bind(&event.kind)
                .push_bind(ts(event.occurred_at))
                .push_bind(ts(now))
                .push_bind(&event.source_key)
                .push_bind(event.actor.kind())
                .push_bind(event.actor.name())
                .push_bind(event.data.to_string());
        });
        // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT.
        insert.push(") AS v JOIN prospects p ON p.id = v.column1 WHERE true ON CONFLICT(source_key) DO NOTHING RETURNING source_key");
        let keys: Vec<String> = insert
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(db("record events"))?;
        new_keys.extend(keys);
    }
    Ok(new_keys)
}

pub(super) const EVENT_COLUMNS: &str = "id, prospect_id, kind, occurred_at, recorded_at, actor_kind, actor, data";

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

/// The prospect already holding this person, by email, else by profile URL:
/// one statement, since an import runs it for every row.
async fn existing_person(conn: &mut SqliteConnection, p: &ProspectData) -> StoreResult<Option<ProspectId>> {
    if p.email.is_none() && p.profiles.is_empty() {
        return Ok(None);
    }
    let mut query = QueryBuilder::<Sqlite>::new("SELECT id FROM (SELECT id, 0 AS rank FROM prospects WHERE email = ");
    query.push_bind(p.email.clone());
    if !p.profiles.is_empty() {
        query.push(" UNION ALL SELECT prospect_id, 1 FROM profiles WHERE url IN (");
        let mut urls = query.separated(", ");
        for profile in &p.profiles {
            urls.push_bind(profile.url.clone());
        }
        query.push(")");
    }
    query.push(") ORDER BY rank LIMIT 1");
    let found = query
        .build()
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("look up a prospect"))?;
    Ok(found.map(|row| row.get(0)))
}

impl SqliteStore {
    /// Fills in tags and profiles for loaded prospects with one query each.
    async fn attach_lists(&self, prospects: &mut [Prospect]) -> StoreResult<()> {
        if prospects.is_empty() {
            return Ok(());
        }
        let index: HashMap<i64, usize> = prospects.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let ids = prospects.iter().map(|p| p.id.to_string()).collect::<Vec<_>>().join(",");
        // The ids are integers we just read, so building the list is safe.
        let tag_rows = sqlx::query(&format!(
            "SELECT prospect_id, tag FROM prospect_tags WHERE prospect_id IN ({ids}) ORDER BY tag"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db("load tags"))?;
        for row in tag_rows {
            if let Some(&i) = index.get(&row.get::<i64, _>(0)) {
                prospects[i].data.tags.push(row.get(1));
            }
        }
        let profile_rows = sqlx::query(&format!(
            "SELECT prospect_id, url, platform, given_url FROM profiles WHERE prospect_id IN ({ids}) ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db("load profiles"))?;
        for row in profile_rows {
            if let Some(&i) = index.get(&row.get::<i64, _>(0)) {
                let platform: String = row.get(2);
                let platform =
                    Platform::parse(&platform).ok_or_else(|| StoreError::Corrupt(format!("platform '{platform}'")))?;
                prospects[i]
                    .data
                    .profiles
                    .push(ProfileUrl::stored(row.get(1), platform, row.get(3)));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_rep(&self, rep: &NewRep, now: DateTime<Utc>) -> StoreResult<Rep> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO reps (name, email, time_zone, digest_hour, language, created_at) VALUES (?, ?, ?, ?, ?, ?) \
             RETURNING id, name, email, time_zone, digest_hour, language",
        )
        .bind(&rep.name)
        .bind(&rep.email)
        .bind(&rep.time_zone)
        .bind(rep.digest_hour as i64)
        .bind(rep.language.as_str())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                "a rep with email {} already exists; see `rapport rep list`",
                rep.email
            )),
            _ => StoreError::Database {
                action: "create a rep",
                source: e,
            },
        })?;
        let rep = rep_from_row(&row)?;
        tx.commit().await.map_err(db("create a rep"))?;
        Ok(rep)
    }

    async fn list_reps(&self) -> StoreResult<Vec<Rep>> {
        let rows = sqlx::query("SELECT id, name, email, time_zone, digest_hour, language FROM reps ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db("list reps"))?;
        rows.iter().map(rep_from_row).collect()
    }

    async fn create_prospect(
        &self,
        prospect: &ProspectData,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<ProspectId> {
        let mut tx = self.write_tx().await?;
        if let Some(existing) = existing_person(&mut tx, prospect).await? {
            return Err(StoreError::Conflict(format!(
                "this person is already prospect #{existing}; see `rapport prospect show {existing}`"
            )));
        }
        let id = insert_prospect_rows(&mut tx, prospect, actor, now).await?;
        tx.commit().await.map_err(db("create a prospect"))?;
        Ok(id)
    }

    async fn import_prospects(
        &self,
        rows: &[ImportRow],
        actor: &Actor,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> StoreResult<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        for batch in rows.chunks(IMPORT_BATCH) {
            let mut tx = self.write_tx().await?;
            for row in batch {
                if let Some(existing) = existing_person(&mut tx, &row.prospect).await? {
                    outcome.already_present.push((row.line, existing));
                    continue;
                }
                let id = insert_prospect_rows(&mut tx, &row.prospect, actor, now).await?;
                outcome.imported.push((row.line, id));
            }
            tx.commit().await.map_err(db("commit an import batch"))?;
            progress(batch.len() as u64);
        }
        Ok(outcome)
    }

    async fn find_prospect(&self, scope: RepScope, prospect: &ProspectRef) -> StoreResult<Prospect> {
        let mut query = QueryBuilder::new(format!(
            "SELECT {PROSPECT_COLUMNS} FROM prospects p JOIN reps r ON r.id = p.rep_id WHERE "
        ));
        match prospect {
            ProspectRef::Id(id) => query.push("p.id = ").push_bind(*id),
            ProspectRef::Email(email) => query.push("p.email = ").push_bind(email.clone()),
        };
        scope_clause(&mut query, scope);
        let row = query
            .build()
            .fetch_optional(&self.pool)
            .await
            .map_err(db("find a prospect"))?;
        let row = row.ok_or_else(|| {
            StoreError::NotFound(format!(
                "no prospect {prospect}; see `rapport prospect list` for ids and emails"
            ))
        })?;
        let mut found = vec![prospect_from_row(&row)?];
        self.attach_lists(&mut found).await?;
        Ok(found.remove(0))
    }

    async fn list_prospects(&self, scope: RepScope, filter: &ProspectFilter) -> StoreResult<Vec<Prospect>> {
        let mut query = QueryBuilder::new(format!(
            "SELECT {PROSPECT_COLUMNS} FROM prospects p JOIN reps r ON r.id = p.rep_id WHERE 1 = 1"
        ));
        scope_clause(&mut query, scope);
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
        if let Some(ids) = &filter.ids {
            query.push(" AND p.id IN (SELECT value FROM json_each(");
            query.push_bind(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
            query.push("))");
        }
        if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            // LIKE's wildcards in the text are the user's characters, not patterns.
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            query.push(" AND (");
            for (i, column) in ["p.name", "p.email", "p.company", "p.title"].iter().enumerate() {
                if i > 0 {
                    query.push(" OR ");
                }
                query
                    .push(format!("{column} LIKE "))
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\'");
            }
            query.push(")");
        }
        query.push(" ORDER BY p.id");
        if let Some(limit) = filter.limit {
            query.push(" LIMIT ").push_bind(i64::from(limit));
        }
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db("list prospects"))?;
        let mut prospects = rows.iter().map(prospect_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_lists(&mut prospects).await?;
        Ok(prospects)
    }

    async fn edit_prospect(
        &self,
        scope: RepScope,
        id: ProspectId,
        edit: &ProspectEdit,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        check_scope(&mut tx, scope, id).await?;
        let current: Option<String> = sqlx::query_scalar("SELECT custom_fields FROM prospects WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("load a prospect"))?;
        let current = current.ok_or_else(|| StoreError::NotFound(format!("no prospect #{id}")))?;
        let mut fields: BTreeMap<String, String> =
            serde_json::from_str(&current).map_err(|e| StoreError::Corrupt(format!("custom fields: {e}")))?;
        fields.extend(edit.set_fields.clone());
        for name in &edit.unset_fields {
            fields.remove(name);
        }
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE prospects SET updated_at = ");
        query.push_bind(ts(now));
        query.push(", custom_fields = ").push_bind(custom_fields_json(&fields));
        macro_rules! set {
            ($column:literal, $value:expr) => {
                if let Some(value) = $value {
                    query.push(concat!(", ", $column, " = ")).push_bind(value);
                }
            };
        }
        set!("name", edit.name.clone());
        set!("email", edit.email.clone());
        set!("company", edit.company.clone());
        set!("title", edit.title.clone());
        set!("time_zone", edit.time_zone.clone());
        set!("value_cents", edit.value.map(|v| v.0));
        set!("currency", edit.currency.clone());
        set!(
            "probability_override",
            edit.probability_override.map(|p| p.map(i64::from))
        );
        set!("expected_close", edit.expected_close.map(|d| d.map(|d| d.to_string())));
        set!("notes", edit.notes.clone());
        set!("rep_id", edit.rep_id);
        query.push(" WHERE id = ").push_bind(id);
        let what = edit.email.clone().flatten().unwrap_or_default();
        query
            .build()
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_violation(e, &what))?;
        insert_tags(&mut tx, id, &edit.add_tags).await?;
        for tag in &edit.remove_tags {
            sqlx::query("DELETE FROM prospect_tags WHERE prospect_id = ? AND tag = ?")
                .bind(id)
                .bind(tag)
                .execute(&mut *tx)
                .await
                .map_err(db("remove a tag"))?;
        }
        insert_profiles(&mut tx, id, &edit.add_profiles, now).await?;
        for url in &edit.remove_profiles {
            let removed = sqlx::query("DELETE FROM profiles WHERE prospect_id = ? AND url = ?")
                .bind(id)
                .bind(url)
                .execute(&mut *tx)
                .await
                .map_err(db("remove a profile"))?;
            if removed.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("prospect #{id} has no profile {url}")));
            }
        }
        tx.commit().await.map_err(db("save a prospect"))?;
        Ok(())
    }

    async fn move_prospect(
        &self,
        scope: RepScope,
        id: ProspectId,
        from_stage: &str,
        pipeline: &str,
        stage: &str,
        event: NewEvent,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        check_scope(&mut tx, scope, id).await?;
        move_on(&mut tx, id, from_stage, pipeline, stage, &event, now).await?;
        tx.commit().await.map_err(db("move a prospect"))?;
        Ok(())
    }

    async fn erase_prospect(&self, scope: RepScope, id: ProspectId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        check_scope(&mut tx, scope, id).await?;
        let email: Option<Option<String>> = sqlx::query_scalar("SELECT email FROM prospects WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("load a prospect"))?;
        let email = email.ok_or_else(|| StoreError::NotFound(format!("no prospect #{id}")))?;
        if let Some(email) = email {
            sqlx::query("INSERT INTO suppressions (email_sha256, reason, created_at) VALUES (?, 'erased', ?) ON CONFLICT DO NOTHING")
                .bind(email_hash(&email))
                .bind(ts(now))
                .execute(&mut *tx)
                .await
                .map_err(db("suppress an erased address"))?;
        }
        sqlx::query("DELETE FROM prospects WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("erase a prospect"))?;
        tx.commit().await.map_err(db("erase a prospect"))?;
        Ok(())
    }

    async fn is_suppressed(&self, email: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM suppressions WHERE email_sha256 = ?")
            .bind(email_hash(email))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("check the suppression list"))?;
        Ok(found.is_some())
    }

    async fn suppressed_among(&self, emails: &[String]) -> StoreResult<HashSet<String>> {
        self.suppressed_of(emails).await
    }

    async fn stage_paths(&self, scope: RepScope, pipeline: &str) -> StoreResult<Vec<Path>> {
        // JSON field extraction keeps this one pass over the stage events.
        let mut query = QueryBuilder::new(
            "SELECT e.prospect_id, CASE e.kind WHEN 'prospect.created' THEN json_extract(e.data, '$.stage') \
             ELSE json_extract(e.data, '$.to') END FROM events e JOIN prospects p ON p.id = e.prospect_id \
             WHERE e.kind IN ('prospect.created', 'stage.changed') AND p.pipeline = ",
        );
        query.push_bind(pipeline);
        scope_clause(&mut query, scope);
        query.push(" ORDER BY e.prospect_id, e.occurred_at, e.id");
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db("load stage histories"))?;
        let mut paths: Vec<(ProspectId, Path)> = Vec::new();
        for row in &rows {
            let prospect: ProspectId = row.get(0);
            let Some(stage) = row.get::<Option<String>, _>(1) else {
                continue;
            };
            match paths.last_mut() {
                Some((id, path)) if *id == prospect => path.stages.push(stage),
                _ => paths.push((prospect, Path { stages: vec![stage] })),
            }
        }
        Ok(paths.into_iter().map(|(_, path)| path).collect())
    }

    async fn deals(&self, scope: RepScope) -> StoreResult<Vec<PipelineDeal>> {
        let mut query = QueryBuilder::new(
            "SELECT p.pipeline, p.currency, r.email, p.stage, p.value_cents, p.probability_override, p.expected_close \
             FROM prospects p JOIN reps r ON r.id = p.rep_id WHERE 1 = 1",
        );
        scope_clause(&mut query, scope);
        let rows = query.build().fetch_all(&self.pool).await.map_err(db("load deals"))?;
        rows.iter()
            .map(|row| {
                let close: Option<String> = row.get(6);
                Ok(PipelineDeal {
                    pipeline: row.get(0),
                    currency: row.get(1),
                    deal: Deal {
                        rep: row.get(2),
                        stage: row.get(3),
                        value: Amount(row.get(4)),
                        probability_override: row.get::<Option<i64>, _>(5).map(|p| p as u8),
                        expected_close: parse_date_column(close)?,
                    },
                })
            })
            .collect()
    }

    async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await {
            tracing::warn!(error = %e, "could not write the write-ahead log back into the database");
        }
        self.pool.close().await;
    }
}
