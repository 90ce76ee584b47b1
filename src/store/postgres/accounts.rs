//! Reps' accounts and API tokens in PostgreSQL.

use super::{db, parse_ts, ts};
use crate::domain::account::{Account, ApiToken, Credentials, Role, Session};
use crate::domain::prospect::RepId;
use crate::store::{AccountStore, PgStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

const TOKEN_COLUMNS: &str = "id, rep_id, name, created_at, last_used_at, revoked_at";

fn role_of(row: &PgRow) -> StoreResult<Role> {
    Role::parse(row.get("role")).map_err(StoreError::Corrupt)
}

fn time_of(row: &PgRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.get::<Option<DateTime<Utc>>, _>(column).map(parse_ts).transpose()
}

fn token_from_row(row: &PgRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: row.get("id"),
        rep_id: row.get("rep_id"),
        name: row.get("name"),
        created_at: parse_ts(row.get("created_at"))?,
        last_used_at: time_of(row, "last_used_at")?,
        revoked_at: time_of(row, "revoked_at")?,
    })
}

fn credentials_from_row(row: &PgRow) -> StoreResult<Credentials> {
    Ok(Credentials {
        rep_id: row.get("id"),
        name: row.get("name"),
        role: role_of(row)?,
        password_hash: row.get("password_hash"),
        disabled: row.get::<Option<DateTime<Utc>>, _>("disabled_at").is_some(),
    })
}

#[async_trait]
impl AccountStore for PgStore {
    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query(
            "SELECT id, name, email, role, password_hash IS NOT NULL AS has_password, password_changed_at, \
             disabled_at FROM reps ORDER BY id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db("list accounts"))?;
        rows.iter()
            .map(|row| {
                Ok(Account {
                    rep_id: row.get("id"),
                    name: row.get("name"),
                    email: row.get("email"),
                    role: role_of(row)?,
                    has_password: row.get("has_password"),
                    password_changed_at: time_of(row, "password_changed_at")?,
                    disabled_at: time_of(row, "disabled_at")?,
                })
            })
            .collect()
    }

    async fn set_role(&self, rep: RepId, role: Role) -> StoreResult<()> {
        let done = sqlx::query("UPDATE reps SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(rep)
            .execute(self.pool())
            .await
            .map_err(db("set a rep's role"))?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound(format!("no rep #{rep}; see `rapport rep list`"))),
            _ => Ok(()),
        }
    }

    async fn set_password(&self, rep: RepId, password_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE reps SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(ts(now))
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("set a rep's password"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no rep #{rep}; see `rapport rep list`")));
        }
        // A new password ends every session signed in with the old one.
        sqlx::query("DELETE FROM sessions WHERE rep_id = $1")
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("end a rep's sessions"))?;
        tx.commit().await.map_err(db("set a rep's password"))
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let row =
            sqlx::query("SELECT id, name, role, password_hash, disabled_at FROM reps WHERE lower(email) = lower($1)")
                .bind(email.trim())
                .fetch_optional(self.pool())
                .await
                .map_err(db("read a rep's credentials"))?;
        row.as_ref().map(credentials_from_row).transpose()
    }

    async fn disable_rep(&self, rep: RepId, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let exists: Option<Option<DateTime<Utc>>> = sqlx::query_scalar("SELECT disabled_at FROM reps WHERE id = $1")
            .bind(rep)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("disable a rep"))?;
        let Some(disabled_at) = exists else {
            return Err(StoreError::NotFound(format!("no rep #{rep}; see `rapport rep list`")));
        };
        if disabled_at.is_some() {
            return Ok(false);
        }
        sqlx::query("UPDATE reps SET disabled_at = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("disable a rep"))?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE rep_id = $2 AND revoked_at IS NULL")
            .bind(ts(now))
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("revoke a disabled rep's tokens"))?;
        sqlx::query("DELETE FROM sessions WHERE rep_id = $1")
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("end a disabled rep's sessions"))?;
        tx.commit().await.map_err(db("disable a rep"))?;
        Ok(true)
    }

    async fn add_api_token(&self, rep: RepId, name: &str, digest: &str, now: DateTime<Utc>) -> StoreResult<ApiToken> {
        let row = sqlx::query(&format!(
            "INSERT INTO api_tokens (rep_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(rep)
        .bind(name)
        .bind(digest)
        .bind(ts(now))
        .fetch_one(self.pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                "rep #{rep} has a token named '{name}' already; revoke it or choose another name"
            )),
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::NotFound(format!("no rep #{rep}; see `rapport rep list`"))
            }
            _ => StoreError::Database {
                action: "add an API token",
                source: e,
            },
        })?;
        token_from_row(&row)
    }

    async fn api_tokens(&self, rep: Option<RepId>) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE $1::BIGINT IS NULL OR rep_id = $1 ORDER BY id"
        ))
        .bind(rep)
        .fetch_all(self.pool())
        .await
        .map_err(db("list API tokens"))?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_api_token(&self, rep: RepId, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let revoked_at: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT revoked_at FROM api_tokens WHERE id = $1 AND rep_id = $2")
                .bind(id)
                .bind(rep)
                .fetch_optional(self.pool())
                .await
                .map_err(db("revoke an API token"))?;
        match revoked_at {
            None => Err(StoreError::NotFound(format!(
                "rep #{rep} has no token #{id}; see `rapport rep token list`"
            ))),
            Some(Some(_)) => Ok(false),
            Some(None) => {
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(ts(now))
                    .bind(id)
                    .execute(self.pool())
                    .await
                    .map_err(db("revoke an API token"))?;
                Ok(true)
            }
        }
    }

    async fn token_owner(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL \
             AND rep_id IN (SELECT id FROM reps WHERE disabled_at IS NULL) RETURNING rep_id",
        )
        .bind(ts(now))
        .bind(digest)
        .fetch_optional(self.pool())
        .await
        .map_err(db("check an API token"))?;
        let Some(row) = row else { return Ok(None) };
        let rep: RepId = row.get("rep_id");
        let owner = sqlx::query("SELECT id, name, role, password_hash, disabled_at FROM reps WHERE id = $1")
            .bind(rep)
            .fetch_optional(self.pool())
            .await
            .map_err(db("check an API token"))?;
        owner.as_ref().map(credentials_from_row).transpose()
    }

    async fn start_session(
        &self,
        rep: RepId,
        digest: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        idle_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, rep_id, csrf_token, created_at, last_seen_at, idle_until, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(digest)
        .bind(rep)
        .bind(csrf_token)
        .bind(ts(now))
        .bind(ts(now))
        .bind(ts(idle_until.min(expires_at)))
        .bind(ts(expires_at))
        .execute(self.pool())
        .await
        .map_err(db("start a session"))?;
        Ok(())
    }

    async fn session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
        idle_until: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let row = sqlx::query(
            "SELECT r.id, r.name, r.role, r.password_hash, r.disabled_at, s.csrf_token, s.idle_until, s.expires_at \
             FROM sessions s JOIN reps r ON r.id = s.rep_id WHERE s.id_hash = $1",
        )
        .bind(digest)
        .fetch_optional(self.pool())
        .await
        .map_err(db("read a session"))?;
        let Some(row) = row else { return Ok(None) };
        let credentials = credentials_from_row(&row)?;
        let expires_at = parse_ts(row.get("expires_at"))?;
        let live = parse_ts(row.get("idle_until"))? > now && expires_at > now && !credentials.disabled;
        if !live {
            self.end_session(digest).await?;
            return Ok(None);
        }
        sqlx::query("UPDATE sessions SET last_seen_at = $1, idle_until = $2 WHERE id_hash = $3")
            .bind(ts(now))
            .bind(ts(idle_until.min(expires_at)))
            .bind(digest)
            .execute(self.pool())
            .await
            .map_err(db("keep a session alive"))?;
        Ok(Some(Session {
            credentials,
            csrf_token: row.get("csrf_token"),
            expires_at,
        }))
    }

    async fn end_session(&self, digest: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(digest)
            .execute(self.pool())
            .await
            .map_err(db("end a session"))?;
        Ok(done.rows_affected() > 0)
    }
}
