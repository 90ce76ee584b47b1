//! One rep's daily digest: `cargo bench --bench digest [-- --prospects N --events M]`.
//!
//! A store holds a rep with N prospects (500 by default) and a day of M
//! events (posts and replies, 1,500 by default) plus tasks and a broken feed.
//! Each round gathers the digest from the store and renders its text and
//! HTML; the baseline, in the same process, reads the same day's events back
//! with one query (the least any digest must do). Reported: the median
//! digest time (target: under 100 ms) and its ratio to the baseline.

mod common;

use chrono::{DateTime, Duration, Utc};
use rapport::digest::{digest_moment, gather};
use rapport::domain::digest::render;
use rapport::store::{EventStore, RepScope, RepStore, SqliteStore};
use std::time::{Duration as StdDuration, Instant};

const ROUNDS: usize = 21;

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn world(prospects: usize, events: usize, day_start: DateTime<Utc>) -> (tempfile::TempDir, SqliteStore) {
    let (dir, store, seed) = common::seeded_store().await;
    let now = stamp(day_start);
    let exec = |sql: &'static str| sqlx::query(sql);
    exec("INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'Ann', 'ann@example.com', 'Europe/Oslo', 7, ?)")
        .bind(&now)
        .execute(&seed)
        .await
        .expect("rep");
    // Generated in SQL: the benchmark is about the digest, not about inserting.
    exec(
        "INSERT INTO prospects (id, rep_id, name, email, company, pipeline, stage, value_cents, currency, created_at, updated_at) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT x, 1, 'Prospect ' || x, 'p' || x || '@client.example', 'Company ' || (x % 97), 'default', \
         CASE x % 4 WHEN 0 THEN 'prospecting' WHEN 1 THEN 'qualification' WHEN 2 THEN 'proposal' ELSE 'negotiation' END, \
         (x % 50) * 1000000, 'USD', ?2, ?2 FROM n",
    )
    .bind(prospects as i64)
    .bind(&now)
    .execute(&seed)
    .await
    .expect("prospects");
    exec(
        "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT 1 + x % ?2, 1, CASE x % 5 WHEN 0 THEN 'email.replied' ELSE 'post' END, \
         strftime('%Y-%m-%dT%H:%M:%fZ', ?3, '+' || (x * 50) || ' seconds'), ?3, 'bench:' || x, 'system', 'bench', \
         json_object('title', 'A post about platform work number ' || x, 'url', 'https://blog.example/' || x, \
                     'text', 'Thanks for the note. Thursday works; send the deck and the pricing before then, please.') \
         FROM n",
    )
    .bind(events as i64)
    .bind(prospects as i64)
    .bind(&now)
    .execute(&seed)
    .await
    .expect("events");
    exec(
        "INSERT INTO tasks (prospect_id, rep_id, instruction, logs, due_at, reason) \
         SELECT id, 1, 'Follow up on the proposal', 'follow_up', ?1, 'rule ''proposal-rotting'': nothing for 5 days' \
         FROM prospects WHERE id % 10 = 0",
    )
    .bind(&now)
    .execute(&seed)
    .await
    .expect("tasks");
    (dir, store)
}

#[tokio::main]
async fn main() {
    let prospects = common::number_arg("--prospects", 500);
    let events = common::number_arg("--events", 1_500);
    let settings = rapport::config::load(None).expect("built-in settings");
    let date = "2026-12-04".parse().expect("date");
    // The day before Ann's 07:00 Oslo digest: from 06:00 UTC on the 3rd.
    let day_start: DateTime<Utc> = "2026-12-03T06:00:00Z".parse().expect("time");
    let (_dir, store) = world(prospects, events, day_start).await;
    let rep = store.list_reps().await.expect("reps").remove(0);
    let at = digest_moment(&rep, date);
    let (mut digests, mut baselines) = (Vec::new(), Vec::new());
    let mut size = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let read = store
            .events_between(
                RepScope::Rep(rep.id),
                &["email.replied", "post"],
                at - Duration::days(1),
                at,
            )
            .await
            .expect("events");
        baselines.push(started.elapsed());
        assert_eq!(read.len(), events.min(1728), "the day's events");

        let started = Instant::now();
        let input = gather(&store, &settings, &rep, date, at, None, None)
            .await
            .expect("gather");
        let digest = render(input).expect("render");
        digests.push(started.elapsed());
        size = digest.text.len() + digest.html.len();
    }
    digests.sort();
    baselines.sort();
    let (digest, baseline) = (digests[ROUNDS / 2], baselines[ROUNDS / 2]);
    let ms = |d: StdDuration| d.as_secs_f64() * 1000.0;
    println!(
        "{prospects} prospects, {events} events in the day: digest (gather + render text and HTML, {} KiB) median {:.1} ms",
        size / 1024,
        ms(digest)
    );
    println!("baseline (reading the day's events): median {:.1} ms", ms(baseline));
    let verdict = if ms(digest) < 100.0 { "met" } else { "NOT met" };
    println!(
        "ratio digest / baseline: {:.1}x; digest under 100 ms: {verdict}",
        digest.as_secs_f64() / baseline.as_secs_f64()
    );
}
