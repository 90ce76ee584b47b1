//! Import benchmark: `cargo bench --bench import [-- --rows N --rounds R]`.
//!
//! Times a CSV import of N rows (parse, validate, de-duplicate, insert with
//! tags, profiles and a creation event, in batched transactions) against a raw
//! batched insert of the same rows into the same tables on a fresh database,
//! alternating the two in one process, and prints each median and their ratio.
//! The target is an import within 3x of the raw insert.

mod common;

use chrono::Utc;
use rapport::domain::event::Actor;
use rapport::domain::import::{parse_csv, ImportDefaults, ParsedImport};
use rapport::domain::pipeline::Pipelines;
use rapport::domain::prospect::{Language, NewRep};
use rapport::store::{ProspectStore, RepStore, SqliteStore};
use std::time::{Duration, Instant};

const BATCH: usize = 500;

struct Options {
    rows: usize,
    rounds: usize,
}

fn options() -> Options {
    let value = common::number_arg;
    Options {
        rows: value("--rows", 10_000),
        rounds: value("--rounds", 5),
    }
}

/// A fresh store with one rep, and a connection of its own to the same
/// database for the raw baseline (the store has no public pool).
async fn fresh_store(dir: &tempfile::TempDir, name: &str) -> (SqliteStore, i64, sqlx::SqlitePool) {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = SqliteStore::open(&url, Duration::from_secs(10), 4)
        .await
        .expect("open store");
    let raw = sqlx::SqlitePool::connect(&url).await.expect("seed connection");
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

async fn timed_import(bytes: &[u8], pipelines: &Pipelines, dir: &tempfile::TempDir, round: usize) -> Duration {
    let (store, rep_id, _) = fresh_store(dir, &format!("import-{round}.db")).await;
    let defaults = ImportDefaults {
        pipelines,
        pipeline: "default".into(),
        stage: None,
        currency: "USD".into(),
    };
    let start = Instant::now();
    let mut parsed = parse_csv(bytes, &defaults).expect("parse");
    for row in &mut parsed.rows {
        row.prospect.rep_id = rep_id;
    }
    let outcome = store
        .import_prospects(&parsed.rows, &Actor::Import("bench".into()), Utc::now(), &|_| {})
        .await
        .expect("import");
    let took = start.elapsed();
    assert_eq!(outcome.imported.len(), parsed.rows.len());
    took
}

/// The same rows, already parsed, inserted with plain batched INSERTs and no checks.
async fn timed_raw_insert(parsed: &ParsedImport, dir: &tempfile::TempDir, round: usize) -> Duration {
    let (_store, rep_id, raw) = fresh_store(dir, &format!("raw-{round}.db")).await;
    let now = Utc::now().to_rfc3339();
    let start = Instant::now();
    for batch in parsed.rows.chunks(BATCH) {
        let mut tx = raw.begin_with("BEGIN IMMEDIATE").await.expect("begin");
        for row in batch {
            let p = &row.prospect;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO prospects (rep_id, name, email, company, title, pipeline, stage, currency, custom_fields, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(rep_id)
            .bind(&p.name)
            .bind(&p.email)
            .bind(&p.company)
            .bind(&p.title)
            .bind(&p.pipeline)
            .bind(&p.stage)
            .bind(&p.currency)
            .bind("{}")
            .bind(&now)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await
            .expect("insert prospect");
            for profile in &p.profiles {
                sqlx::query("INSERT INTO profiles (prospect_id, url, platform, created_at) VALUES (?, ?, ?, ?)")
                    .bind(id)
                    .bind(&profile.url)
                    .bind(profile.platform.as_str())
                    .bind(&now)
                    .execute(&mut *tx)
                    .await
                    .expect("insert profile");
            }
        }
        tx.commit().await.expect("commit");
    }
    start.elapsed()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let opts = options();
    let bytes = common::prospects_csv(opts.rows);
    let pipelines = Pipelines::shipped();
    let defaults = ImportDefaults::plain(&pipelines);
    let parsed = parse_csv(&bytes, &defaults).expect("parse");
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut imports, mut raws, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..opts.rounds {
        let import = timed_import(&bytes, &pipelines, &dir, round).await.as_secs_f64();
        let raw = timed_raw_insert(&parsed, &dir, round).await.as_secs_f64();
        println!(
            "round {}: import {:.3} s, raw insert {:.3} s, ratio {:.2}",
            round + 1,
            import,
            raw,
            import / raw
        );
        imports.push(import);
        raws.push(raw);
        ratios.push(import / raw);
    }
    let ratio = median(ratios);
    println!(
        "import of {} rows: median {:.3} s ({:.0} rows/s); raw batched insert: median {:.3} s; ratio (median of rounds) {:.2}x; target <= 3x: {}",
        opts.rows,
        median(imports.clone()),
        opts.rows as f64 / median(imports),
        median(raws),
        ratio,
        if ratio <= 3.0 { "met" } else { "NOT met" }
    );
}
