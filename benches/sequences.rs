//! Picking due sequence sends: `cargo bench --bench sequences [-- --small N --large M --due K]`.
//!
//! Two stores hold N and M running enrolments (10,000 and 1,000,000 by
//! default) with due times spread over the coming month, K of them due now.
//! Each tick claims the due ones, the sender's first step; the median tick
//! is reported for both sizes, and their ratio (target: at most 2, i.e. the
//! cost follows the rows due, not the table).

mod common;

use chrono::{Duration, Utc};
use rapport::store::{SequenceStore, SqliteStore};
use std::time::{Duration as StdDuration, Instant};

const TICKS: usize = 21;

async fn store_with(enrolments: usize, due: usize) -> (tempfile::TempDir, SqliteStore, sqlx::SqlitePool) {
    let (dir, store, seed) = common::seeded_store().await;
    let now = Utc::now();
    let stamp = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    sqlx::query("INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'Ann', 'ann@example.com', 'UTC', 8, ?)")
        .bind(stamp(now))
        .execute(&seed)
        .await
        .expect("rep");
    // Generated in SQL: a million rows through the API would measure the import, not the pick.
    sqlx::query(
        "INSERT INTO prospects (id, rep_id, name, email, pipeline, stage, currency, created_at, updated_at) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT x, 1, 'Prospect ' || x, 'p' || x || '@client.example', 'default', 'prospecting', 'USD', ?2, ?2 FROM n",
    )
    .bind(enrolments as i64)
    .bind(stamp(now))
    .execute(&seed)
    .await
    .expect("prospects");
    // Due times: the first `due` in the past, the rest spread over 30 days ahead.
    sqlx::query(
        "INSERT INTO enrolments (prospect_id, sequence, variant, step, state, next_due_at, enrolled_at, updated_at) \
         SELECT id, 'intro', 0, 0, 'active', \
         CASE WHEN id <= ?1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '-1 hour') \
              ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '+' || (1 + id % 43200) || ' minutes') END, ?2, ?2 FROM prospects",
    )
    .bind(due as i64)
    .bind(stamp(now))
    .execute(&seed)
    .await
    .expect("enrolments");
    (dir, store, seed)
}

/// The median time to claim the due enrolments; they are made due again between ticks.
async fn median_tick(store: &SqliteStore, seed: &sqlx::SqlitePool, due: usize) -> StdDuration {
    let mut ticks = Vec::with_capacity(TICKS);
    for _ in 0..TICKS {
        let now = Utc::now();
        let started = Instant::now();
        let claimed = store
            .claim_due_enrolments("bench", now, now + Duration::minutes(10), 500)
            .await
            .expect("claim");
        ticks.push(started.elapsed());
        assert_eq!(claimed.len(), due, "every due enrolment, and only those, is claimed");
        let ids = claimed.iter().map(|e| e.id.to_string()).collect::<Vec<_>>().join(",");
        sqlx::query(&format!(
            "UPDATE enrolments SET next_due_at = '2000-01-01T00:00:00.000000Z' WHERE id IN ({ids})"
        ))
        .execute(seed)
        .await
        .expect("make due again");
    }
    ticks.sort();
    ticks[TICKS / 2]
}

#[tokio::main]
async fn main() {
    let small = common::number_arg("--small", 10_000);
    let large = common::number_arg("--large", 1_000_000);
    let due = common::number_arg("--due", 100).min(small);
    let mut medians = Vec::new();
    for size in [small, large] {
        let prepared = Instant::now();
        let (_dir, store, seed) = store_with(size, due).await;
        let setup = prepared.elapsed();
        let median = median_tick(&store, &seed, due).await;
        println!(
            "{size} enrolments, {due} due: median tick {:.2} ms (setup {:.1} s)",
            median.as_secs_f64() * 1000.0,
            setup.as_secs_f64()
        );
        medians.push(median);
    }
    let ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    let verdict = if ratio <= 2.0 { "met" } else { "NOT met" };
    println!("ratio {large} / {small}: {ratio:.2}x (target <= 2): {verdict}");
}
