//! Enrolling a stage and replaying the rules over the event log:
//! `cargo bench --bench automation [-- --prospects N]`.
//!
//! A store holds N prospects (3,000 by default) in prospecting, each with a
//! `prospect.created` event and a post (2N events).
//! - Enrol: `sequence enroll example --stage prospecting` as the command runs
//!   it (every prospect checked and enrolled, in one transaction), against
//!   the bare reads it needs (the stage's prospects, their suppression,
//!   newest posts and running sequences).
//! - Rules: one `rules run` pass over the 2N events with the shipped rules,
//!   against the bare reads it needs (every event in batches, the prospects
//!   and their histories).
//!
//! Reported: the median of each, its ratio to its baseline, and whether it
//! stays under a second (the target a rep waits for).

mod common;

use chrono::{DateTime, Utc};
use rapport::domain::clock::FixedClock;
use rapport::domain::event::Actor;
use rapport::domain::sequence::Sequence;
use rapport::rules::RuleRunner;
use rapport::sequences::enrolment::enrol_many;
use rapport::store::{ProspectFilter, ProspectStore, RepScope, RepStore, SequenceStore, SqliteStore, Store};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

const ROUNDS: usize = 7;

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn world(prospects: usize, now: DateTime<Utc>) -> (tempfile::TempDir, SqliteStore) {
    let (dir, store, seed) = common::seeded_store().await;
    let now = stamp(now);
    sqlx::query("INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'Ann Rep', 'ann@example.com', 'Europe/Oslo', 7, ?)")
        .bind(&now)
        .execute(&seed)
        .await
        .expect("rep");
    // Generated in SQL: the benchmark is about enrolling and rules, not inserting.
    sqlx::query(
        "INSERT INTO prospects (id, rep_id, name, email, company, pipeline, stage, currency, created_at, updated_at) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT x, 1, 'Person ' || x, 'p' || x || '@c' || (x % 300) || '.example', 'Company ' || (x % 300), \
         'default', 'prospecting', 'USD', ?2, ?2 FROM n",
    )
    .bind(prospects as i64)
    .bind(&now)
    .execute(&seed)
    .await
    .expect("prospects");
    sqlx::query(
        "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
         SELECT id, 1, 'prospect.created', ?1, ?1, 'created:' || id, 'import', 'leads.csv', \
                json_object('pipeline', 'default', 'stage', 'prospecting') FROM prospects \
         UNION ALL \
         SELECT id, 1, 'post', strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || (id % 72) || ' hours'), ?1, 'post:' || id, \
                'system', 'poll', json_object('title', 'Notes on platform work ' || id, \
                'url', 'https://blog.example/' || id, 'text', 'What we learned shipping twice a week.') FROM prospects",
    )
    .bind(&now)
    .execute(&seed)
    .await
    .expect("events");
    (dir, store)
}

fn median(mut times: Vec<StdDuration>) -> StdDuration {
    times.sort();
    times[times.len() / 2]
}

fn ms(t: StdDuration) -> f64 {
    t.as_secs_f64() * 1000.0
}

fn report(what: &str, work: StdDuration, baseline: StdDuration) {
    let ratio = work.as_secs_f64() / baseline.as_secs_f64().max(1e-9);
    let verdict = if work < StdDuration::from_secs(1) {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "{what}: median {:.1} ms, bare reads {:.1} ms, ratio {ratio:.1}x; under 1 s: {verdict}",
        ms(work),
        ms(baseline)
    );
}

#[tokio::main]
async fn main() {
    let prospects = common::number_arg("--prospects", 3_000);
    // Tuesday 1 December 2026, 10:00 in Oslo: inside the sending window.
    let now: DateTime<Utc> = "2026-12-01T09:00:00Z".parse().expect("time");
    let settings = Arc::new(rapport::config::load_text(None, None).expect("built-in settings"));
    let sequence = Sequence::from_toml(
        "example",
        include_str!("../config/sequences/example.toml"),
        &settings.pipelines,
        "default",
    )
    .expect("the example sequence");
    let window = settings.config.sending.window().expect("window");
    let stage = ProspectFilter {
        stage: Some("prospecting".into()),
        ..ProspectFilter::default()
    };

    let (mut enrol_times, mut enrol_reads) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (_dir, store) = world(prospects, now).await;
        let started = Instant::now();
        let found = store.list_prospects(RepScope::Team, &stage).await.expect("list");
        let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
        let emails: Vec<String> = found.iter().filter_map(|p| p.data.email.clone()).collect();
        store.suppressed_among(&emails).await.expect("suppressed");
        store.latest_posts(&ids).await.expect("posts");
        store.running_sequences_of(&ids).await.expect("running");
        enrol_reads.push(started.elapsed());

        let started = Instant::now();
        let found = store.list_prospects(RepScope::Team, &stage).await.expect("list");
        let reps = store.list_reps().await.expect("reps");
        let actor = Actor::User("bench".into());
        let outcomes = enrol_many(&store, &window, &sequence, &found, &reps, &actor, now, false, &|_| {})
            .await
            .expect("enrol");
        enrol_times.push(started.elapsed());
        let enrolled = outcomes.iter().filter(|(_, o)| o.is_ok()).count();
        assert_eq!(enrolled, prospects, "everyone in the stage is enrolled");
    }

    let (dir, sqlite) = world(prospects, now).await;
    let rewind = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("bench.db").display()))
        .await
        .expect("connection");
    let sqlite = Arc::new(sqlite);
    let store: Arc<dyn Store> = sqlite.clone();
    let runner = RuleRunner::new(store.clone(), Arc::new(FixedClock(now)), settings.clone());
    let (mut rule_times, mut rule_reads) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let (mut cursor, mut events) = (0, 0);
        loop {
            let batch = store.events_after(cursor, 500).await.expect("events");
            let Some(last) = batch.last() else { break };
            cursor = last.id;
            events += batch.len();
            let mut ids: Vec<i64> = batch.iter().map(|e| e.prospect_id).collect();
            ids.dedup();
            let filter = ProspectFilter {
                ids: Some(ids.clone()),
                ..ProspectFilter::default()
            };
            store.list_prospects(RepScope::Team, &filter).await.expect("prospects");
            store.events_of(&ids).await.expect("histories");
        }
        rule_reads.push(started.elapsed());
        assert_eq!(events, 2 * prospects);

        // The cursor only moves forward through the API: rewound by hand to replay.
        sqlx::query("DELETE FROM rule_cursor")
            .execute(&rewind)
            .await
            .expect("rewind");
        let started = Instant::now();
        let pass = runner.run_pass().await.expect("rules");
        rule_times.push(started.elapsed());
        assert_eq!(pass.events as usize, 2 * prospects, "every event is seen");
    }

    println!("{prospects} prospects in prospecting, {} events", 2 * prospects);
    report(
        &format!("enrol {prospects} (sequence enroll --stage)"),
        median(enrol_times),
        median(enrol_reads),
    );
    report(
        &format!("rules over {} events (rules run --once)", 2 * prospects),
        median(rule_times),
        median(rule_reads),
    );
}
