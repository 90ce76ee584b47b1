//! The team's reps in PostgreSQL.

use super::*;

#[async_trait]
impl RepStore for PgStore {
    async fn create_rep(&self, rep: &NewRep, now: DateTime<Utc>) -> StoreResult<Rep> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            // The first rep administers the install.
            "INSERT INTO reps (name, email, time_zone, digest_hour, language, created_at, role) VALUES ($1, $2, $3, $4, $5, $6, \
             CASE WHEN EXISTS (SELECT 1 FROM reps) THEN 'rep' ELSE 'admin' END) \
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

    async fn set_rep_preferences(
        &self,
        rep: RepId,
        time_zone: &str,
        digest_hour: u8,
        language: Language,
    ) -> StoreResult<Rep> {
        let row = sqlx::query(
            "UPDATE reps SET time_zone = $1, digest_hour = $2, language = $3 WHERE id = $4 \
             RETURNING id, name, email, time_zone, digest_hour, language",
        )
        .bind(time_zone)
        .bind(i64::from(digest_hour))
        .bind(language.as_str())
        .bind(rep)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("change a rep's settings"))?
        .ok_or_else(|| StoreError::NotFound(format!("there is no rep #{rep}")))?;
        rep_from_row(&row)
    }
}
