//! The PostgreSQL side of prospects: rows with their tags, profiles and the
//! feeds those profiles plan, imports in batched multi-row transactions, and
//! every change checked against the actor's scope in its transaction.

use super::*;
use crate::domain::event::{prospect_created, Actor};
use crate::domain::feed_plan::{plan_for, FeedPlan};
use crate::domain::money::Amount;
use crate::domain::profile::{Platform, ProfileUrl};
use crate::store::*;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

pub(super) const PROSPECT_COLUMNS: &str = "p.id, p.rep_id, r.email AS rep_email, p.name, p.email, p.company, p.title, p.time_zone, \
     p.pipeline, p.stage, p.value_cents, p.currency, p.probability_override, p.expected_close, p.notes, p.custom_fields, p.away_until";

/// Rows per write transaction during an import: large enough to amortise the
/// fsync and each statement's planning (a batch is ~90 ms of set-based
/// statements on a laptop-class machine), small enough that a daemon waiting
/// for the event-append lock waits briefly.
const IMPORT_BATCH: usize = 2_000;

async fn insert_prospect_rows(
    conn: &mut PgConnection,
    p: &ProspectData,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<ProspectId> {
    let now_at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO prospects (rep_id, name, email, company, title, time_zone, pipeline, stage, value_cents, currency, \
         probability_override, expected_close, notes, custom_fields, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
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
    .bind(p.expected_close.map(day))
    .bind(&p.notes)
    .bind(custom_fields_json(&p.custom_fields))
    .bind(now_at)
    .bind(now_at)
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

async fn insert_tags(conn: &mut PgConnection, id: ProspectId, tags: &[String]) -> StoreResult<()> {
    for tag in tags {
        sqlx::query("INSERT INTO prospect_tags (prospect_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(tag)
            .execute(&mut *conn)
            .await
            .map_err(db("save a tag"))?;
    }
    Ok(())
}

async fn insert_profiles(
    conn: &mut PgConnection,
    id: ProspectId,
    profiles: &[ProfileUrl],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for profile in profiles {
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO profiles (prospect_id, url, platform, created_at, given_url) VALUES ($1, $2, $3, $4, $5) \
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
                let owner: i64 = sqlx::query_scalar("SELECT prospect_id FROM profiles WHERE url = $1")
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
    conn: &mut PgConnection,
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
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
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

/// The prospect already holding this person, by email, else by profile URL:
/// one statement, since an import runs it for every row.
async fn existing_person(conn: &mut PgConnection, p: &ProspectData) -> StoreResult<Option<ProspectId>> {
    if p.email.is_none() && p.profiles.is_empty() {
        return Ok(None);
    }
    let mut query = QueryBuilder::<Postgres>::new("SELECT id FROM (SELECT id, 0 AS rank FROM prospects WHERE email = ");
    query.push_bind(p.email.clone());
    if !p.profiles.is_empty() {
        query.push(" UNION ALL SELECT prospect_id, 1 FROM profiles WHERE url IN (");
        let mut urls = query.separated(", ");
        for profile in &p.profiles {
            urls.push_bind(profile.url.clone());
        }
        query.push(")");
    }
    query.push(") AS found ORDER BY rank LIMIT 1");
    let found = query
        .build()
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("look up a prospect"))?;
    Ok(found.map(|row| row.get(0)))
}

pub(super) fn prospect_from_row(row: &PgRow) -> StoreResult<Prospect> {
    let expected_close = parse_day(row.get("expected_close"))?;
    let custom: Json<BTreeMap<String, String>> = row.get("custom_fields");
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
        custom_fields: custom.0,
        profiles: Vec::new(),
    };
    Ok(Prospect {
        id: row.get("id"),
        rep_email: row.get("rep_email"),
        data,
        away_until: parse_day(row.get("away_until"))?,
    })
}

fn custom_fields_json(fields: &BTreeMap<String, String>) -> Json<&BTreeMap<String, String>> {
    Json(fields)
}

impl PgStore {
    /// Fills in tags and profiles for loaded prospects with one query each.
    pub(super) async fn attach_lists(&self, prospects: &mut [Prospect]) -> StoreResult<()> {
        if prospects.is_empty() {
            return Ok(());
        }
        let index: HashMap<i64, usize> = prospects.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let ids = prospects.iter().map(|p| p.id.to_string()).collect::<Vec<_>>().join(",");
        // The ids are integers we just read, so building the list is safe.
        let tag_rows = sqlx::query(&format!(
            "SELECT prospect_id, tag FROM prospect_tags WHERE prospect_id IN ({ids}) ORDER BY tag"
        ))
        .fetch_all(self.pool())
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
        .fetch_all(self.pool())
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
impl ProspectStore for PgStore {
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
            super::import::import_batch(&mut tx, batch, actor, now, &mut outcome).await?;
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
            ProspectRef::Profile(url) => query
                .push("p.id = (SELECT prospect_id FROM profiles WHERE url = ")
                .push_bind(url.clone())
                .push(")"),
        };
        scope_clause(&mut query, scope);
        let row = query
            .build()
            .fetch_optional(self.pool())
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
        super::board::push_filter(&mut query, scope, filter);
        query.push(" ORDER BY p.id");
        if let Some(limit) = filter.limit {
            query.push(" LIMIT ").push_bind(i64::from(limit));
        }
        let rows = query
            .build()
            .fetch_all(self.pool())
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
        let current: Option<Json<BTreeMap<String, String>>> =
            sqlx::query_scalar("SELECT custom_fields FROM prospects WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("load a prospect"))?;
        let current = current.ok_or_else(|| StoreError::NotFound(format!("no prospect #{id}")))?;
        let mut fields = current.0;
        fields.extend(edit.set_fields.clone());
        for name in &edit.unset_fields {
            fields.remove(name);
        }
        let mut query = QueryBuilder::<Postgres>::new("UPDATE prospects SET updated_at = ");
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
        set!("expected_close", edit.expected_close.map(|d| d.map(day)));
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
            sqlx::query("DELETE FROM prospect_tags WHERE prospect_id = $1 AND tag = $2")
                .bind(id)
                .bind(tag)
                .execute(&mut *tx)
                .await
                .map_err(db("remove a tag"))?;
        }
        insert_profiles(&mut tx, id, &edit.add_profiles, now).await?;
        for url in &edit.remove_profiles {
            let removed = sqlx::query("DELETE FROM profiles WHERE prospect_id = $1 AND url = $2")
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
        let email: Option<Option<String>> = sqlx::query_scalar("SELECT email FROM prospects WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("load a prospect"))?;
        let email = email.ok_or_else(|| StoreError::NotFound(format!("no prospect #{id}")))?;
        if let Some(email) = email {
            sqlx::query("INSERT INTO suppressions (email_sha256, reason, created_at) VALUES ($1, 'erased', $2) ON CONFLICT DO NOTHING")
                .bind(email_hash(&email))
                .bind(ts(now))
                .execute(&mut *tx)
                .await
                .map_err(db("suppress an erased address"))?;
        }
        // A suggestion that named them (prefilled from someone else's reply) goes too.
        sqlx::query("DELETE FROM suggestions WHERE created_prospect_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("erase a prospect"))?;
        sqlx::query("DELETE FROM prospects WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("erase a prospect"))?;
        tx.commit().await.map_err(db("erase a prospect"))?;
        Ok(())
    }
    async fn is_suppressed(&self, email: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM suppressions WHERE email_sha256 = $1")
            .bind(email_hash(email))
            .fetch_optional(self.pool())
            .await
            .map_err(db("check the suppression list"))?;
        Ok(found.is_some())
    }
    async fn suppressed_among(&self, emails: &[String]) -> StoreResult<HashSet<String>> {
        self.suppressed_of(emails).await
    }
}
