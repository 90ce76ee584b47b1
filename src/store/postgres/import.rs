//! Importing many prospects into PostgreSQL a batch at a time. A row-by-row
//! import pays a network round trip per statement (a lookup, the prospect,
//! each profile, source, tag and event: ~0.4 ms a row on loopback, twenty
//! times a bare batched insert); here each batch is a fixed handful of
//! set-based statements (`= ANY`, `unnest`), with the same outcome as one
//! row after another: a person already present (by address, else by a
//! profile URL, earlier rows of the file included) is reported, not added.

use super::*;
use crate::domain::event::{prospect_created, Actor};
use crate::domain::feed_plan::{plan_for, FeedPlan};
use crate::domain::import::ImportRow;
use crate::store::*;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// Writes one batch of import rows on `conn` (inside the caller's
/// transaction), adding each row to `outcome` as imported or already present.
pub(super) async fn import_batch(
    conn: &mut PgConnection,
    rows: &[ImportRow],
    actor: &Actor,
    now: DateTime<Utc>,
    outcome: &mut ImportOutcome,
) -> StoreResult<()> {
    let (mut by_email, mut by_url) = people_present(conn, rows).await?;
    // Decide row by row, as a row-by-row import would: the new rows get ids
    // now, so a later row naming the same person finds the earlier one.
    // Ids for the rows not present before the batch: a person named twice in
    // it leaves one unused (a gap in the sequence, as a rolled-back insert would).
    let fresh = rows.iter().filter(|r| present(r, &by_email, &by_url).is_none()).count();
    let mut ids = allocate_ids(conn, fresh).await?.into_iter();
    let mut new_rows: Vec<(ProspectId, &ImportRow)> = Vec::with_capacity(fresh);
    for row in rows {
        if let Some(existing) = present(row, &by_email, &by_url) {
            outcome.already_present.push((row.line, existing));
            continue;
        }
        let Some(id) = ids.next() else {
            // Every row judged new now was counted above; kept for safety.
            return Err(StoreError::Conflict(format!(
                "line {}: the import's batch changed while it was written; run the import again",
                row.line
            )));
        };
        if let Some(email) = &row.prospect.email {
            by_email.insert(email.clone(), id);
        }
        for profile in &row.prospect.profiles {
            by_url.entry(profile.url.clone()).or_insert(id);
        }
        new_rows.push((id, row));
        outcome.imported.push((row.line, id));
    }
    if new_rows.is_empty() {
        return Ok(());
    }
    insert_prospects(conn, &new_rows, now).await?;
    insert_tags(conn, &new_rows).await?;
    insert_profiles_and_sources(conn, &new_rows, now).await?;
    let events: Vec<NewEvent> = new_rows
        .iter()
        .map(|(id, row)| prospect_created(*id, &row.prospect.pipeline, &row.prospect.stage, now, actor.clone()))
        .collect();
    insert_events_returning_new(conn, events.iter(), now).await?;
    Ok(())
}

/// The prospects already holding the batch's addresses and profile URLs.
async fn people_present(
    conn: &mut PgConnection,
    rows: &[ImportRow],
) -> StoreResult<(HashMap<String, ProspectId>, HashMap<String, ProspectId>)> {
    let emails: Vec<String> = rows.iter().filter_map(|r| r.prospect.email.clone()).collect();
    let urls: Vec<String> = rows
        .iter()
        .flat_map(|r| r.prospect.profiles.iter().map(|p| p.url.clone()))
        .collect();
    let by_email: Vec<(String, i64)> = sqlx::query_as("SELECT email, id FROM prospects WHERE email = ANY($1)")
        .bind(&emails)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("look up the imported addresses"))?;
    let by_url: Vec<(String, i64)> = sqlx::query_as("SELECT url, prospect_id FROM profiles WHERE url = ANY($1)")
        .bind(&urls)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("look up the imported profiles"))?;
    Ok((by_email.into_iter().collect(), by_url.into_iter().collect()))
}

/// The prospect holding this row's person: by address first, then by any profile URL.
fn present(
    row: &ImportRow,
    by_email: &HashMap<String, ProspectId>,
    by_url: &HashMap<String, ProspectId>,
) -> Option<ProspectId> {
    let p = &row.prospect;
    p.email
        .as_ref()
        .and_then(|email| by_email.get(email))
        .or_else(|| p.profiles.iter().find_map(|profile| by_url.get(&profile.url)))
        .copied()
}

/// `n` new prospect ids from the table's own sequence.
async fn allocate_ids(conn: &mut PgConnection, n: usize) -> StoreResult<Vec<ProspectId>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('prospects', 'id')) FROM generate_series(1, $1::bigint)")
        .bind(n as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("number the imported prospects"))
}

async fn insert_prospects(
    conn: &mut PgConnection,
    rows: &[(ProspectId, &ImportRow)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let column = |f: &dyn Fn(&ProspectData) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(|(_, r)| f(&r.prospect)).collect()
    };
    let custom: Vec<String> = rows
        .iter()
        .map(|(_, r)| serde_json::to_string(&r.prospect.custom_fields).unwrap_or_else(|_| "{}".into()))
        .collect();
    sqlx::query(
        "INSERT INTO prospects (id, rep_id, name, email, company, title, time_zone, pipeline, stage, value_cents, currency, \
         probability_override, expected_close, notes, custom_fields, created_at, updated_at) \
         SELECT id, rep_id, name, email, company, title, time_zone, pipeline, stage, value_cents, currency, \
                probability_override, expected_close, notes, custom_fields::jsonb, $16, $16 \
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
                     $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::date[], $14::text[], $15::text[]) \
              AS r(id, rep_id, name, email, company, title, time_zone, pipeline, stage, value_cents, currency, \
                   probability_override, expected_close, notes, custom_fields)",
    )
    .bind(rows.iter().map(|(id, _)| *id).collect::<Vec<i64>>())
    .bind(rows.iter().map(|(_, r)| r.prospect.rep_id).collect::<Vec<i64>>())
    .bind(column(&|p| Some(p.name.clone())))
    .bind(column(&|p| p.email.clone()))
    .bind(column(&|p| p.company.clone()))
    .bind(column(&|p| p.title.clone()))
    .bind(column(&|p| p.time_zone.clone()))
    .bind(column(&|p| Some(p.pipeline.clone())))
    .bind(column(&|p| Some(p.stage.clone())))
    .bind(rows.iter().map(|(_, r)| r.prospect.value.0).collect::<Vec<i64>>())
    .bind(column(&|p| Some(p.currency.clone())))
    .bind(rows.iter().map(|(_, r)| r.prospect.probability_override.map(i64::from)).collect::<Vec<Option<i64>>>())
    .bind(rows.iter().map(|(_, r)| r.prospect.expected_close.map(day)).collect::<Vec<Option<NaiveDate>>>())
    .bind(column(&|p| p.notes.clone()))
    .bind(custom)
    .bind(ts(now))
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(
            "an address in this import was given to another prospect while it ran; run the import again: \
             the rows already written are reported as present"
                .into(),
        ),
        _ => StoreError::Database {
            action: "save the imported prospects",
            source: e,
        },
    })?;
    Ok(())
}

async fn insert_tags(conn: &mut PgConnection, rows: &[(ProspectId, &ImportRow)]) -> StoreResult<()> {
    let (mut owners, mut tags) = (Vec::new(), Vec::new());
    for (id, row) in rows {
        for tag in &row.prospect.tags {
            owners.push(*id);
            tags.push(tag.clone());
        }
    }
    if owners.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO prospect_tags (prospect_id, tag) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(owners)
    .bind(tags)
    .execute(&mut *conn)
    .await
    .map_err(db("save the imported tags"))?;
    Ok(())
}

/// Each new row's profiles (a URL once), and a source for each profile with
/// a permitted feed, due at once.
async fn insert_profiles_and_sources(
    conn: &mut PgConnection,
    rows: &[(ProspectId, &ImportRow)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut seen = HashSet::new();
    let (mut owners, mut urls, mut platforms, mut given) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut plans = HashMap::new();
    for (id, row) in rows {
        for profile in &row.prospect.profiles {
            if !seen.insert(profile.url.clone()) {
                continue;
            }
            owners.push(*id);
            urls.push(profile.url.clone());
            platforms.push(profile.platform.as_str().to_string());
            given.push(profile.given.clone());
            plans.insert(profile.url.clone(), plan_for(profile));
        }
    }
    if owners.is_empty() {
        return Ok(());
    }
    let inserted: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "INSERT INTO profiles (prospect_id, url, platform, created_at, given_url) \
         SELECT prospect_id, url, platform, $5, given_url FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) \
              AS p(prospect_id, url, platform, given_url) \
         ON CONFLICT(url) DO NOTHING RETURNING id, prospect_id, url, platform, given_url",
    )
    .bind(&owners)
    .bind(&urls)
    .bind(&platforms)
    .bind(&given)
    .bind(ts(now))
    .fetch_all(&mut *conn)
    .await
    .map_err(db("save the imported profiles"))?;
    if inserted.len() != owners.len() {
        // The lookup before found none of these URLs; another writer took one since.
        return Err(StoreError::Conflict(
            "a profile URL in this import was given to another prospect while it ran; run the import again".into(),
        ));
    }
    let (mut prospects, mut profiles, mut kinds, mut pages, mut feeds) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (profile_id, prospect, url, platform, page) in inserted {
        let feed = match plans.get(&url) {
            None | Some(FeedPlan::NotFetched) => continue,
            Some(FeedPlan::Known(feed)) => Some(feed.to_string()),
            Some(FeedPlan::Discover(_)) => None,
        };
        prospects.push(prospect);
        profiles.push(profile_id);
        kinds.push(platform);
        pages.push(page);
        feeds.push(feed);
    }
    if prospects.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO sources (prospect_id, profile_id, platform, page_url, feed_url, interval_secs, next_poll_at, created_at) \
         SELECT prospect_id, profile_id, platform, page_url, feed_url, 0, $6, $6 \
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS s(prospect_id, profile_id, platform, page_url, feed_url)",
    )
    .bind(prospects)
    .bind(profiles)
    .bind(kinds)
    .bind(pages)
    .bind(feeds)
    .bind(ts(now))
    .execute(&mut *conn)
    .await
    .map_err(db("save the imported feed sources"))?;
    Ok(())
}
