//! The daemon's scheduler against a real SQLite store, with a simulated clock
//! stepping minute by minute through DST changes and restarts.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rapport::clock::SystemClock;
use rapport::config::{self, JobConfig};
use rapport::daemon::{Job, JobContext, JobError, Scheduler};
use rapport::domain::clock::FixedClock;
use rapport::store::{SqliteStore, Store};
use std::sync::Arc;

struct Nightly;

#[async_trait]
impl Job for Nightly {
    fn name(&self) -> &'static str {
        "housekeeping"
    }
    async fn run(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    settings: Arc<config::Settings>,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
        let store = SqliteStore::open(&url, std::time::Duration::from_secs(5), 2)
            .await
            .unwrap();
        World {
            _dir: dir,
            store: Arc::new(store),
            settings: Arc::new(config::load(None).unwrap()),
        }
    }

    fn ctx(&self, now: DateTime<Utc>) -> JobContext {
        JobContext {
            store: self.store.clone(),
            clock: Arc::new(FixedClock(now)),
            settings: self.settings.clone(),
        }
    }

    /// A daemon (re)starting at `now` with a 02:30 Europe/Oslo daily job.
    async fn start(&self, now: DateTime<Utc>) -> Scheduler {
        let job = JobConfig {
            schedule: "30 2 * * *".into(),
            time_zone: "Europe/Oslo".into(),
            timeout_secs: None,
            enabled: true,
        };
        Scheduler::register(&self.ctx(now), vec![(Arc::new(Nightly), job)])
            .await
            .unwrap()
    }

    /// Ticks once a minute over [from, until), returning when runs were claimed for.
    async fn tick(&self, scheduler: &mut Scheduler, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut claimed = Vec::new();
        let mut now = from;
        while now < until {
            for run in scheduler.claim_due(&self.ctx(now), now).await.unwrap() {
                claimed.push(run.scheduled_for);
                scheduler.mark_finished(&run.name);
            }
            now += Duration::minutes(1);
        }
        claimed
    }
}

#[tokio::test]
async fn runs_exactly_once_on_the_spring_forward_day() {
    let world = World::new().await;
    let start = utc("2026-03-28T12:00:00Z");
    let mut scheduler = world.start(start).await;
    let runs = world.tick(&mut scheduler, start, utc("2026-03-30T12:00:00Z")).await;
    // 29 March 02:30 does not exist in Oslo (02:00 → 03:00): it runs once, at 03:30 CEST.
    assert_eq!(runs, vec![utc("2026-03-29T01:30:00Z"), utc("2026-03-30T00:30:00Z")]);
}

#[tokio::test]
async fn runs_exactly_once_on_the_fall_back_day() {
    let world = World::new().await;
    let start = utc("2026-10-24T12:00:00Z");
    let mut scheduler = world.start(start).await;
    let runs = world.tick(&mut scheduler, start, utc("2026-10-26T12:00:00Z")).await;
    // 25 October 02:30 happens twice in Oslo: it runs at the first (CEST, 00:30 UTC) only.
    assert_eq!(runs, vec![utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")]);
}

#[tokio::test]
async fn a_restart_just_before_a_due_run_neither_skips_nor_repeats_it() {
    let world = World::new().await;
    let start = utc("2026-11-26T12:00:00Z");
    let due = utc("2026-11-27T01:30:00Z"); // 02:30 CET
    let mut first = world.start(start).await;
    assert!(world
        .tick(&mut first, start, due - Duration::minutes(1))
        .await
        .is_empty());
    drop(first);
    // The daemon comes back 30 seconds before the run is due.
    let restart = due - Duration::seconds(30);
    let mut second = world.start(restart).await;
    let runs = world.tick(&mut second, restart, utc("2026-11-28T12:00:00Z")).await;
    assert_eq!(runs, vec![due, utc("2026-11-28T01:30:00Z")]);
    assert_eq!(world.store.job_runs("housekeeping").await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_restart_right_after_a_run_started_does_not_repeat_it() {
    let world = World::new().await;
    let start = utc("2026-11-26T12:00:00Z");
    let due = utc("2026-11-27T01:30:00Z");
    let mut first = world.start(start).await;
    assert_eq!(
        world.tick(&mut first, start, due + Duration::minutes(1)).await,
        vec![due]
    );
    drop(first); // the daemon dies while the job runs
    let restart = due + Duration::minutes(1);
    let mut second = world.start(restart).await;
    assert!(world
        .tick(&mut second, restart, utc("2026-11-28T01:00:00Z"))
        .await
        .is_empty());
}

#[tokio::test]
async fn runs_missed_while_down_happen_once_on_return() {
    let world = World::new().await;
    let start = utc("2026-11-20T12:00:00Z");
    drop(world.start(start).await);
    // Down for three nights; back at noon on the 24th.
    let back = utc("2026-11-24T12:00:00Z");
    let mut scheduler = world.start(back).await;
    let runs = world.tick(&mut scheduler, back, utc("2026-11-25T12:00:00Z")).await;
    assert_eq!(runs, vec![utc("2026-11-21T01:30:00Z"), utc("2026-11-25T01:30:00Z")]);
}

#[tokio::test]
async fn two_workers_never_claim_the_same_run() {
    let world = World::new().await;
    let start = utc("2026-11-26T12:00:00Z");
    let mut a = world.start(start).await;
    let mut b = world.start(start).await;
    let due = utc("2026-11-27T01:30:00Z");
    let from_a = a.claim_due(&world.ctx(due), due).await.unwrap().len();
    let from_b = b.claim_due(&world.ctx(due), due).await.unwrap().len();
    assert_eq!(from_a + from_b, 1);
    let next = utc("2026-11-28T01:30:00Z");
    let total = a.claim_due(&world.ctx(next), next).await.unwrap().len()
        + b.claim_due(&world.ctx(next), next).await.unwrap().len();
    assert_eq!(total, 1);
}

/// Fails every time it runs, or hangs past its timeout on request.
struct Flaky {
    hang: bool,
    attempts: Arc<std::sync::atomic::AtomicUsize>,
    /// Told of every attempt, so the test waits on them rather than on time.
    attempted: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Job for Flaky {
    fn name(&self) -> &'static str {
        if self.hang {
            "hanging"
        } else {
            "failing"
        }
    }
    async fn run(&self, _ctx: &JobContext) -> Result<(), JobError> {
        self.attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.attempted.notify_one();
        if self.hang {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
        Err("the feed server said no".into())
    }
}

#[tokio::test]
async fn failing_and_hanging_jobs_are_recorded_and_retried_without_stopping_the_daemon() {
    let world = World::new().await;
    let ctx = JobContext {
        clock: Arc::new(SystemClock),
        ..world.ctx(Utc::now())
    };
    let every_second = |timeout| JobConfig {
        schedule: "* * * * * *".into(),
        time_zone: "UTC".into(),
        timeout_secs: Some(timeout),
        enabled: true,
    };
    let attempted = Arc::new(tokio::sync::Notify::new());
    let failing = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hanging = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let jobs: Vec<(Arc<dyn Job>, JobConfig)> = vec![
        (
            Arc::new(Flaky {
                hang: false,
                attempts: failing.clone(),
                attempted: attempted.clone(),
            }),
            every_second(5),
        ),
        (
            Arc::new(Flaky {
                hang: true,
                attempts: hanging.clone(),
                attempted: attempted.clone(),
            }),
            every_second(1),
        ),
    ];
    // Stops once both have been retried (the hanging one after its timeout),
    // or after a minute, when the assertions below say which did not.
    let (f, h, told) = (failing.clone(), hanging.clone(), attempted.clone());
    let retried = async move {
        let load = |n: &std::sync::atomic::AtomicUsize| n.load(std::sync::atomic::Ordering::SeqCst);
        while load(&f) < 2 || load(&h) < 2 {
            told.notified().await;
        }
    };
    let shutdown = async move {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(60), retried).await;
    };
    let result = rapport::daemon::run(ctx, jobs, Default::default(), shutdown).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        failing.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the failing job was not retried"
    );
    assert!(
        hanging.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the hanging job was not retried after its timeout"
    );
    let failed = world.store.job_runs("failing").await.unwrap();
    assert!(failed
        .iter()
        .filter(|r| r.outcome == "failed")
        .all(|r| r.error.as_deref() == Some("the feed server said no")));
    let hung = world.store.job_runs("hanging").await.unwrap();
    assert!(
        hung.iter()
            .any(|r| r.outcome == "failed" && r.error.as_deref().is_some_and(|e| e.contains("timed out after 1 s"))),
        "{hung:?}"
    );
}
