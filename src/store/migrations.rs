//! `rapport db migrate`: each backend's migrations (`migrations/sqlite/`,
//! `migrations/postgres/`) applied to a database named by its URL, and the
//! list of them with when each was applied.

use super::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use serde::Serialize;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// One migration of the backend, and whether (and when) the database has it.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    pub version: i64,
    pub description: String,
    pub applied_at: Option<DateTime<Utc>>,
}

/// One connection to the PostgreSQL database at `url`, with `password`
/// when it is not in the URL (`database.password_file`, `--password-file`).
pub(crate) async fn connect_postgres(url: &str, password: Option<&str>) -> Result<sqlx::PgConnection, String> {
    use sqlx::ConnectOptions;
    let mut options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)
        .map_err(|e| format!("{e}; write it like postgres://USER@HOST/DATABASE"))?;
    if let Some(password) = password {
        options = options.password(password);
    }
    options.connect().await.map_err(|e| with_password_hint(e.to_string()))
}

/// A refused password's error, with where rapport takes the password from.
pub(crate) fn with_password_hint(reason: String) -> String {
    if reason.contains("password authentication failed") || reason.contains("no password") {
        format!(
            "{reason}; keep the password in a file (mode 600) named by database.password_file, \
             or --password-file for a database given to `rapport db`"
        )
    } else {
        reason
    }
}

/// Applies the backend's pending migrations to the database at `url`
/// (`sqlite://PATH` or `postgres://...`, its password given apart or not)
/// and lists them all.
pub async fn migrate(url: &str, password: Option<&str>) -> StoreResult<Vec<Migration>> {
    let failed = |reason: String| StoreError::Open {
        url: redacted(url),
        reason,
    };
    let (migrator, applied): (&sqlx::migrate::Migrator, Vec<(i64, DateTime<Utc>)>) =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            use sqlx::Connection;
            // One connection, not a pool: a refused connection is an answer at once, not retried.
            let mut connection = connect_postgres(url, password).await.map_err(failed)?;
            POSTGRES
                .run(&mut connection)
                .await
                .map_err(|e| failed(format!("applying migrations failed: {e}")))?;
            let rows = sqlx::query_as("SELECT version, installed_on FROM _sqlx_migrations WHERE success")
                .fetch_all(&mut connection)
                .await
                .map_err(|e| failed(e.to_string()))?;
            let _ = connection.close().await;
            (&POSTGRES, rows)
        } else if url.starts_with("sqlite:") {
            let store = super::SqliteStore::open(url, std::time::Duration::from_secs(5), 1).await?;
            let rows: Vec<(i64, String)> =
                sqlx::query_as("SELECT version, installed_on FROM _sqlx_migrations WHERE success")
                    .fetch_all(store.pool())
                    .await
                    .map_err(|e| failed(e.to_string()))?;
            super::Store::close(&store).await;
            let rows = rows
                .into_iter()
                .map(|(v, t)| {
                    let at = chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
                        .map(|t| t.and_utc())
                        .unwrap_or_default();
                    (v, at)
                })
                .collect();
            (&SQLITE, rows)
        } else {
            return Err(failed(
                "not a database URL; write sqlite://PATH or postgres://USER@HOST/DATABASE".into(),
            ));
        };
    Ok(migrator
        .iter()
        .map(|m| Migration {
            version: m.version,
            description: m.description.to_string(),
            applied_at: applied.iter().find(|(v, _)| *v == m.version).map(|(_, at)| *at),
        })
        .collect())
}

/// A database URL as it may be shown: without its password.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(not a URL)".to_string(),
    }
}
