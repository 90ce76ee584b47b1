//! Claiming due enrolments among many: one claimer and three at once, on
//! PostgreSQL and on SQLite. Each round makes the same 100 enrolments due
//! and the claimers take them ten at a time (`claim_due_enrolments`, as the
//! sending pass does) until none is left; every claim call is timed, and
//! every enrolment must be claimed exactly once per round.

use super::{median, percentile, postgres::Postgres, verdict};
use chrono::{Duration, Utc};
use rapport::store::{self, Store};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

const DUE: usize = 100;
const ROUNDS: usize = 15;
/// What one claim asks for: small, so three claimers really race.
const PER_CLAIM: u32 = 10;

/// The seeding and resetting connection of one backend.
enum Seed {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Seed {
    /// One rep, `n` prospects, one active enrolment each: the first `DUE`
    /// due an hour ago, the rest spread over the coming month. Generated in
    /// SQL: a million rows through the API would measure the import.
    async fn fill(&self, n: usize) {
        match self {
            Seed::Sqlite(pool) => {
                let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                for sql in [
                    "INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'Ann', 'ann@example.com', 'UTC', 8, ?2)",
                    "INSERT INTO prospects (id, rep_id, name, email, pipeline, stage, currency, created_at, updated_at) \
                     WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
                     SELECT x, 1, 'Prospect ' || x, 'p' || x || '@client.example', 'default', 'prospecting', 'USD', ?2, ?2 FROM n",
                    "INSERT INTO enrolments (prospect_id, sequence, variant, step, state, next_due_at, enrolled_at, updated_at) \
                     SELECT id, 'intro', 0, 0, 'active', \
                     CASE WHEN id <= ?3 THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '-1 hour') \
                          ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '+' || (1 + id % 43200) || ' minutes') END, ?2, ?2 FROM prospects",
                    "ANALYZE",
                ] {
                    sqlx::query(sql)
                        .bind(n as i64)
                        .bind(&now)
                        .bind(DUE as i64)
                        .execute(pool)
                        .await
                        .expect("seed SQLite");
                }
            }
            Seed::Postgres(pool) => {
                let statements: [(&str, Option<i64>); 4] = [
                    ("INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'Ann', 'ann@example.com', 'UTC', 8, now())", None),
                    ("INSERT INTO prospects (id, rep_id, name, email, pipeline, stage, currency, created_at, updated_at) \
                     SELECT x, 1, 'Prospect ' || x, 'p' || x || '@client.example', 'default', 'prospecting', 'USD', now(), now() \
                     FROM generate_series(1, $1::bigint) x", Some(n as i64)),
                    ("INSERT INTO enrolments (prospect_id, sequence, variant, step, state, next_due_at, enrolled_at, updated_at) \
                     SELECT id, 'intro', 0, 0, 'active', \
                     CASE WHEN id <= $1::bigint THEN now() - interval '1 hour' \
                          ELSE now() + (1 + id % 43200) * interval '1 minute' END, now(), now() FROM prospects", Some(DUE as i64)),
                    ("ANALYZE", None),
                ];
                for (sql, bound) in statements {
                    let mut query = sqlx::query(sql);
                    if let Some(value) = bound {
                        query = query.bind(value);
                    }
                    query.execute(pool).await.expect("seed PostgreSQL");
                }
            }
        }
    }

    /// Makes the claimed enrolments due again for the next round.
    async fn make_due(&self, ids: &[i64]) {
        let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = match self {
            Seed::Sqlite(_) => {
                format!("UPDATE enrolments SET next_due_at = '2000-01-01T00:00:00.000000Z' WHERE id IN ({listed})")
            }
            Seed::Postgres(_) => {
                format!("UPDATE enrolments SET next_due_at = '2000-01-01T00:00:00Z' WHERE id IN ({listed})")
            }
        };
        match self {
            Seed::Sqlite(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
            Seed::Postgres(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
        }
        .expect("make due again");
    }
}

/// One backend's figures for one number of claimers.
struct Figures {
    per_claim: Vec<f64>,
    rounds: Vec<f64>,
    duplicates: usize,
}

/// `claimers` stores on one database take the due enrolments until none is left, `ROUNDS` times.
async fn race(stores: &[Arc<dyn Store>], seed: &Seed) -> Figures {
    let mut figures = Figures {
        per_claim: Vec::new(),
        rounds: Vec::new(),
        duplicates: 0,
    };
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let takers = stores.iter().enumerate().map(|(n, store)| {
            let store = store.clone();
            tokio::spawn(async move {
                let owner = format!("claimer-{n}");
                let (mut ids, mut times) = (Vec::new(), Vec::new());
                loop {
                    let now = Utc::now();
                    let asked = Instant::now();
                    let claimed = store
                        .claim_due_enrolments(&owner, now, now + Duration::minutes(10), PER_CLAIM)
                        .await
                        .expect("claim");
                    times.push(asked.elapsed().as_secs_f64());
                    if claimed.is_empty() {
                        return (ids, times);
                    }
                    ids.extend(claimed.iter().map(|e| e.id));
                }
            })
        });
        let mut all = Vec::new();
        for taker in futures::future::join_all(takers).await {
            let (ids, times) = taker.expect("claimer");
            all.extend(ids);
            figures.per_claim.extend(times);
        }
        figures.rounds.push(started.elapsed().as_secs_f64());
        let distinct: HashSet<i64> = all.iter().copied().collect();
        figures.duplicates += all.len() - distinct.len();
        assert_eq!(distinct.len(), DUE, "every due enrolment is claimed in a round");
        seed.make_due(&all).await;
    }
    figures
}

async fn stores(url: &str, n: usize) -> Vec<Arc<dyn Store>> {
    let mut opened = Vec::new();
    for _ in 0..n {
        opened.push(
            store::open(url, StdDuration::from_secs(30), 4, None)
                .await
                .expect("open the store"),
        );
    }
    opened
}

fn ms(seconds: f64) -> f64 {
    seconds * 1000.0
}

pub async fn run(cluster: &Postgres, enrolments: usize) {
    println!("== claims: {DUE} due enrolments among {enrolments}, {PER_CLAIM} per claim, {ROUNDS} rounds");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("claims.db").display());
    let postgres_url = cluster.database("scale_claims");
    let mut single = Vec::new();
    let mut summary = Vec::new();
    for (name, url) in [("SQLite", sqlite_url), ("PostgreSQL", postgres_url)] {
        let three = stores(&url, 3).await;
        let seed = if url.starts_with("sqlite:") {
            Seed::Sqlite(sqlx::SqlitePool::connect(&url).await.expect("seed connection"))
        } else {
            Seed::Postgres(sqlx::PgPool::connect(&url).await.expect("seed connection"))
        };
        let prepared = Instant::now();
        seed.fill(enrolments).await;
        println!(
            "{name}: {enrolments} enrolments written in {:.1} s",
            prepared.elapsed().as_secs_f64()
        );
        let one = race(&three[..1], &seed).await;
        let all = race(&three, &seed).await;
        for (claimers, figures) in [(1, &one), (3, &all)] {
            println!(
                "{name}, {claimers} claimer(s): per claim median {:.2} ms, p95 {:.2} ms; all {DUE} claimed in median {:.1} ms; duplicate claims {}",
                ms(median(figures.per_claim.clone())),
                ms(percentile(figures.per_claim.clone(), 0.95)),
                ms(median(figures.rounds.clone())),
                figures.duplicates
            );
            assert_eq!(figures.duplicates, 0, "an enrolment was claimed twice");
        }
        single.push(median(one.per_claim.clone()));
        summary.push((name, median(all.rounds.clone()) / median(one.rounds.clone())));
    }
    println!(
        "ratio PostgreSQL / SQLite, per claim with one claimer: {:.2}",
        single[1] / single[0]
    );
    for (name, ratio) in summary {
        println!("ratio 3 claimers / 1 claimer, time to claim all {DUE} on {name}: {ratio:.2}");
    }
    println!("duplicate claims in every run: 0 ({})", verdict(true));
}
