//! `rapport db copy`: a team moves from the embedded SQLite store to
//! PostgreSQL. Every table is read from one SQLite snapshot and written to
//! the target in one PostgreSQL transaction, which commits only when each
//! table's row count and checksum (SHA-256 over every row, in key order,
//! each value written one canonical way) read back from the target equal
//! the source's. A target that holds anything is refused unless told to
//! replace it. Stop the daemon first: what it writes after the snapshot
//! would not be copied.

use super::migrations::redacted;
use super::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Every table, parents before the tables that refer to them.
pub const TABLES: [&str; 28] = [
    "reps",
    "prospects",
    "prospect_tags",
    "profiles",
    "events",
    "suppressions",
    "job_schedule",
    "job_runs",
    "sources",
    "mail_folders",
    "sent_messages",
    "enrolments",
    "outbox",
    "sending_pauses",
    "tasks",
    "local_keys",
    "rule_cursor",
    "rule_firings",
    "suggestions",
    "digest_runs",
    "api_tokens",
    "sessions",
    "idempotency_keys",
    "unmatched_deliveries",
    "calendar_tokens",
    "webhook_endpoints",
    "webhook_deliveries",
    "login_failures",
];

/// Rows per INSERT statement (well under PostgreSQL's 65,535 parameters).
const ROWS_PER_INSERT: usize = 1000;

/// One table as copied and verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopiedTable {
    pub table: String,
    pub rows: u64,
    /// SHA-256 of the rows in key order, the same read from either side.
    pub sha256: String,
}

/// A column and how its values travel.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Integer,
    Boolean,
    Timestamp,
    Date,
    Json,
}

/// A value in transit, in the one form both sides are compared in.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Text(String),
    Integer(i64),
    Boolean(bool),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
    Json(serde_json::Value),
}

impl Value {
    fn canonical(&self) -> String {
        match self {
            Value::Null => "\u{0}null".into(),
            Value::Text(t) => format!("t:{t}"),
            Value::Integer(i) => format!("i:{i}"),
            Value::Boolean(b) => format!("b:{b}"),
            Value::Timestamp(t) => format!("ts:{}", t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            Value::Date(d) => format!("d:{d}"),
            Value::Json(j) => format!("j:{}", canonical_json(j)),
        }
    }
}

/// JSON with every object's keys sorted (jsonb keeps its own order).
fn canonical_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", serde_json::Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

/// Copies the SQLite database at `from` into the PostgreSQL database at `to`
/// (its password in the URL or given apart).
pub async fn copy(from: &str, to: &str, replace: bool, password: Option<&str>) -> StoreResult<Vec<CopiedTable>> {
    if !from.starts_with("sqlite:") {
        return Err(open_error(
            from,
            "the source must be the SQLite store: sqlite://PATH".into(),
        ));
    }
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err(open_error(
            to,
            "the target must be PostgreSQL: postgres://USER@HOST/DATABASE".into(),
        ));
    }
    // Opening the SQLite store brings it up to date first.
    let source = super::SqliteStore::open(from, std::time::Duration::from_secs(5), 1).await?;
    let mut reader = source
        .pool()
        .acquire()
        .await
        .map_err(db_error(from, "read the source"))?;
    let mut snapshot = reader.begin().await.map_err(db_error(from, "read the source"))?;
    let mut target = super::migrations::connect_postgres(to, password)
        .await
        .map_err(|e| open_error(to, e))?;
    POSTGRES
        .run(&mut target)
        .await
        .map_err(|e| open_error(to, format!("applying migrations failed: {e}")))?;
    let mut tx = target.begin().await.map_err(db_error(to, "begin the copy"))?;
    let mut held = Vec::new();
    for table in TABLES {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error(to, "count the target's rows"))?;
        // The schema seeds the rules' cursor; anything else is data.
        if count > 0 && table != "rule_cursor" {
            held.push(format!("{table} ({count})"));
        }
    }
    if !held.is_empty() {
        if !replace {
            return Err(StoreError::Conflict(format!(
                "{} is not empty: {}; copy into an empty database, or add --replace to delete what it holds",
                redacted(to),
                held.join(", ")
            )));
        }
        sqlx::query(&format!("TRUNCATE {} RESTART IDENTITY CASCADE", TABLES.join(", ")))
            .execute(&mut *tx)
            .await
            .map_err(db_error(to, "empty the target"))?;
    } else {
        sqlx::query("DELETE FROM rule_cursor")
            .execute(&mut *tx)
            .await
            .map_err(db_error(to, "empty the target"))?;
    }
    let mut copied = Vec::new();
    for table in TABLES {
        let columns = columns_of(&mut tx, table, to).await?;
        let order = key_order(&columns);
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let select = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
        let rows = sqlx::query(&select)
            .fetch_all(&mut *snapshot)
            .await
            .map_err(db_error(from, "read a table"))?;
        let values = rows
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| from_sqlite(row, i, c.kind))
                    .collect()
            })
            .collect::<Result<Vec<Vec<Value>>, String>>()
            .map_err(|e| StoreError::Corrupt(format!("{table}: {e}")))?;
        for chunk in values.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
                "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE ",
                names.join(", ")
            ));
            insert.push_values(chunk, |mut row, values| {
                for (value, column) in values.iter().zip(&columns) {
                    match value {
                        // A NULL goes with its column's type, as PostgreSQL checks it.
                        Value::Null => match column.kind {
                            Kind::Text => row.push_bind(None::<String>),
                            Kind::Integer => row.push_bind(None::<i64>),
                            Kind::Boolean => row.push_bind(None::<bool>),
                            Kind::Timestamp => row.push_bind(None::<DateTime<Utc>>),
                            Kind::Date => row.push_bind(None::<NaiveDate>),
                            Kind::Json => row.push_bind(None::<serde_json::Value>),
                        },
                        Value::Text(t) => row.push_bind(t.clone()),
                        Value::Integer(i) => row.push_bind(*i),
                        Value::Boolean(b) => row.push_bind(*b),
                        Value::Timestamp(t) => row.push_bind(*t),
                        Value::Date(d) => row.push_bind(*d),
                        Value::Json(j) => row.push_bind(j.clone()),
                    };
                }
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Conflict(format!("{table}: a row could not be written to PostgreSQL: {e}")))?;
        }
        if columns.iter().any(|c| c.name == "id") {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
            ))
            .execute(&mut *tx)
            .await
            .map_err(db_error(to, "move an id sequence"))?;
        }
        let source_sum = checksum(&values);
        let written = sqlx::query(&select)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error(to, "read a copied table back"))?;
        let written = written
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| from_postgres(row, i, c.kind))
                    .collect()
            })
            .collect::<Result<Vec<Vec<Value>>, String>>()
            .map_err(|e| StoreError::Corrupt(format!("{table} in PostgreSQL: {e}")))?;
        let target_sum = checksum(&written);
        if written.len() != values.len() || target_sum != source_sum {
            return Err(StoreError::Conflict(format!(
                "{table}: {} rows read back with checksum {target_sum}, but the source has {} with {source_sum}; \
                 nothing was committed",
                written.len(),
                values.len()
            )));
        }
        copied.push(CopiedTable {
            table: table.into(),
            rows: values.len() as u64,
            sha256: source_sum,
        });
    }
    tx.commit().await.map_err(db_error(to, "commit the copy"))?;
    let _ = target.close().await;
    drop(snapshot);
    drop(reader);
    super::Store::close(&source).await;
    Ok(copied)
}

/// The target's columns of a table, in order, with how each travels.
async fn columns_of(tx: &mut sqlx::PgConnection, table: &str, to: &str) -> StoreResult<Vec<Column>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(tx)
    .await
    .map_err(db_error(to, "read the target's columns"))?;
    Ok(rows
        .into_iter()
        .map(|(name, data_type)| Column {
            name,
            kind: match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Integer,
                "boolean" => Kind::Boolean,
                "timestamp with time zone" => Kind::Timestamp,
                "date" => Kind::Date,
                "jsonb" | "json" => Kind::Json,
                _ => Kind::Text,
            },
        })
        .collect())
}

/// Every column in order: a total order of the rows on both sides.
fn key_order(columns: &[Column]) -> String {
    columns
        .iter()
        .filter(|c| c.kind != Kind::Json)
        .map(|c| c.name.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn from_sqlite(row: &SqliteRow, i: usize, kind: Kind) -> Result<Value, String> {
    let text = |i| row.try_get::<Option<String>, _>(i).map_err(|e| e.to_string());
    Ok(match kind {
        Kind::Integer | Kind::Boolean => match row.try_get::<Option<i64>, _>(i).map_err(|e| e.to_string())? {
            None => Value::Null,
            Some(v) if kind == Kind::Boolean => Value::Boolean(v != 0),
            Some(v) => Value::Integer(v),
        },
        Kind::Text => text(i)?.map_or(Value::Null, Value::Text),
        Kind::Timestamp => match text(i)? {
            None => Value::Null,
            Some(t) => Value::Timestamp(parse_time(&t)?),
        },
        Kind::Date => match text(i)? {
            None => Value::Null,
            Some(d) => Value::Date(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| format!("date '{d}': {e}"))?),
        },
        Kind::Json => match text(i)? {
            None => Value::Null,
            Some(j) => Value::Json(serde_json::from_str(&j).map_err(|e| format!("JSON {e}"))?),
        },
    })
}

/// A stored time: RFC 3339, or SQLite's own `YYYY-MM-DD HH:MM:SS` (UTC).
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .map_err(|e| format!("time '{text}': {e}"))
}

fn from_postgres(row: &PgRow, i: usize, kind: Kind) -> Result<Value, String> {
    let e = |e: sqlx::Error| e.to_string();
    Ok(match kind {
        Kind::Integer => match row.try_get::<Option<i64>, _>(i) {
            Ok(v) => v.map_or(Value::Null, Value::Integer),
            // INTEGER columns read as i32.
            Err(_) => row
                .try_get::<Option<i32>, _>(i)
                .map_err(e)?
                .map_or(Value::Null, |v| Value::Integer(v.into())),
        },
        Kind::Boolean => row
            .try_get::<Option<bool>, _>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Boolean),
        Kind::Text => row
            .try_get::<Option<String>, _>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Text),
        Kind::Timestamp => row
            .try_get::<Option<DateTime<Utc>>, _>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Timestamp),
        Kind::Date => row
            .try_get::<Option<NaiveDate>, _>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Date),
        Kind::Json => row
            .try_get::<Option<serde_json::Value>, _>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Json),
    })
}

fn checksum(rows: &[Vec<Value>]) -> String {
    let mut rendered: Vec<String> = rows
        .iter()
        .map(|row| row.iter().map(Value::canonical).collect::<Vec<_>>().join("\u{1}"))
        .collect();
    // Both sides sort alike: text collations differ between the databases.
    rendered.sort();
    let mut hash = Sha256::new();
    for row in &rendered {
        hash.update(row.as_bytes());
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

fn open_error(url: &str, reason: String) -> StoreError {
    StoreError::Open {
        url: redacted(url),
        reason,
    }
}

fn db_error<'a>(url: &'a str, action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError + 'a {
    move |source| open_error(url, format!("could not {action}: {source}"))
}
