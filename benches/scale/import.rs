//! Importing a large CSV into PostgreSQL against a bare batched INSERT of
//! the same rows. The import parses, validates, looks for the person
//! already present, and writes each prospect with its profile and creation
//! event; the baseline writes the already parsed rows, 500 per statement
//! (`INSERT … SELECT FROM unnest(…)`), prospects then profiles, and nothing
//! else. Each round uses a fresh database; the median ratio is reported.

use super::{median, postgres::Postgres, verdict};
use chrono::Utc;
use rapport::domain::event::Actor;
use rapport::domain::import::{parse_csv, ImportDefaults, ParsedImport};
use rapport::domain::pipeline::Pipelines;
use rapport::domain::prospect::{Language, NewRep};
use rapport::store::{PgStore, ProspectStore, RepStore};
use std::time::{Duration, Instant};

const BATCH: usize = 500;
const ROUNDS: usize = 3;

async fn fresh(cluster: &Postgres, name: &str) -> (PgStore, i64, sqlx::PgPool) {
    let url = cluster.database(name);
    let store = PgStore::open(&url, Duration::from_secs(30), 4, None)
        .await
        .expect("open the store");
    let raw = sqlx::PgPool::connect(&url).await.expect("a connection of its own");
    let rep = NewRep {
        name: "Bench".into(),
        email: "bench@example.com".into(),
        time_zone: "UTC".into(),
        digest_hour: 7,
        language: Language::En,
    };
    let rep = store.create_rep(&rep, Utc::now()).await.expect("rep");
    (store, rep.id, raw)
}

async fn timed_import(cluster: &Postgres, bytes: &[u8], round: usize) -> f64 {
    let (store, rep_id, _) = fresh(cluster, &format!("scale_import_{round}")).await;
    let pipelines = Pipelines::shipped();
    let defaults = ImportDefaults::plain(&pipelines);
    let started = Instant::now();
    let mut parsed = parse_csv(bytes, &defaults).expect("parse");
    for row in &mut parsed.rows {
        row.prospect.rep_id = rep_id;
    }
    let outcome = store
        .import_prospects(&parsed.rows, &Actor::Import("bench".into()), Utc::now(), &|_| {})
        .await
        .expect("import");
    let took = started.elapsed().as_secs_f64();
    assert_eq!(outcome.imported.len(), parsed.rows.len(), "every row imported");
    took
}

/// The parsed rows, written 500 to a statement with no checks.
async fn timed_bare_insert(cluster: &Postgres, parsed: &ParsedImport, round: usize) -> f64 {
    let (_store, rep_id, raw) = fresh(cluster, &format!("scale_bare_{round}")).await;
    let started = Instant::now();
    for batch in parsed.rows.chunks(BATCH) {
        let mut tx = raw.begin().await.expect("begin");
        let column = |f: &dyn Fn(&rapport::domain::import::ImportRow) -> Option<String>| -> Vec<Option<String>> {
            batch.iter().map(f).collect()
        };
        let ids: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO prospects (rep_id, name, email, company, title, pipeline, stage, currency, created_at, updated_at) \
             SELECT $1, name, email, company, title, pipeline, stage, currency, now(), now() \
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) \
                  AS r(name, email, company, title, pipeline, stage, currency) RETURNING id",
        )
        .bind(rep_id)
        .bind(column(&|r| Some(r.prospect.name.clone())))
        .bind(column(&|r| r.prospect.email.clone()))
        .bind(column(&|r| r.prospect.company.clone()))
        .bind(column(&|r| r.prospect.title.clone()))
        .bind(column(&|r| Some(r.prospect.pipeline.clone())))
        .bind(column(&|r| Some(r.prospect.stage.clone())))
        .bind(column(&|r| Some(r.prospect.currency.clone())))
        .fetch_all(&mut *tx)
        .await
        .expect("insert prospects");
        // RETURNING gives the rows in the order unnest read them.
        let (mut owners, mut urls, mut platforms) = (Vec::new(), Vec::new(), Vec::new());
        for (id, row) in ids.iter().zip(batch) {
            for profile in &row.prospect.profiles {
                owners.push(*id);
                urls.push(profile.url.clone());
                platforms.push(profile.platform.as_str().to_string());
            }
        }
        sqlx::query(
            "INSERT INTO profiles (prospect_id, url, platform, created_at) \
             SELECT prospect_id, url, platform, now() FROM unnest($1::bigint[], $2::text[], $3::text[]) AS p(prospect_id, url, platform)",
        )
        .bind(owners)
        .bind(urls)
        .bind(platforms)
        .execute(&mut *tx)
        .await
        .expect("insert profiles");
        tx.commit().await.expect("commit");
    }
    started.elapsed().as_secs_f64()
}

pub async fn run(cluster: &Postgres, rows: usize) {
    println!("== import: {rows} rows into PostgreSQL against a bare batched INSERT, {ROUNDS} rounds");
    let bytes = super::common::prospects_csv(rows);
    let pipelines = Pipelines::shipped();
    let parsed = parse_csv(&bytes, &ImportDefaults::plain(&pipelines)).expect("parse");
    let (mut imports, mut bares, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let import = timed_import(cluster, &bytes, round).await;
        let bare = timed_bare_insert(cluster, &parsed, round).await;
        println!(
            "round {}: import {import:.2} s, bare insert {bare:.2} s, ratio {:.2}",
            round + 1,
            import / bare
        );
        imports.push(import);
        bares.push(bare);
        ratios.push(import / bare);
    }
    let ratio = median(ratios);
    println!(
        "import of {rows} rows into PostgreSQL: median {:.2} s ({:.0} rows/s); bare batched INSERT median {:.2} s; ratio {ratio:.2} (target <= 3: {})",
        median(imports.clone()),
        rows as f64 / median(imports),
        median(bares),
        verdict(ratio <= 3.0)
    );
}
