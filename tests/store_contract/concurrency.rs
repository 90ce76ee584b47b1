//! Several writers and claimers at once on one store, as several daemons on
//! one PostgreSQL database are: the event log read by id after a cursor
//! misses nothing and repeats nothing, and due work is claimed once.

use super::*;
use futures::future::join_all;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

const WRITERS: usize = 6;
const APPENDS: usize = 30;

/// Appends from six writers while a reader follows the log by id, as the
/// rules and the outgoing webhooks do: every event is read exactly once.
pub async fn concurrent_appends_are_read_once_in_order(store: &dyn Store) {
    let ann = rep(store, "Ann", "ann@example.com").await;
    let mut prospects = Vec::new();
    for n in 0..4 {
        prospects.push(prospect(store, &ann, &format!("P{n}"), &format!("p{n}@acme.io")).await);
    }
    let start = store.latest_event_id(RepScope::Team).await.unwrap();
    let done = AtomicUsize::new(0);
    let writers = (0..WRITERS).map(|w| {
        let (prospects, done) = (&prospects, &done);
        async move {
            for i in 0..APPENDS {
                let e = event(prospects[(w + i) % 4], POST, &format!("w{w}-{i}"), t0());
                assert!(store.append_event(RepScope::Team, &e, t0()).await.unwrap());
                tokio::task::yield_now().await;
            }
            done.fetch_add(1, Ordering::SeqCst);
        }
    });
    let reader = async {
        let mut cursor = start;
        let mut seen = HashSet::new();
        loop {
            let finished = done.load(Ordering::SeqCst) == WRITERS;
            let batch = store.events_after(cursor, 25).await.unwrap();
            for e in &batch {
                assert!(e.id > cursor, "read in id order");
                assert!(seen.insert(e.id), "event #{} read twice", e.id);
                cursor = e.id;
            }
            if batch.is_empty() {
                if finished {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        seen
    };
    let (_, seen) = tokio::join!(join_all(writers), reader);
    assert_eq!(seen.len(), WRITERS * APPENDS, "every appended event read once");
}

/// Three claimers taking due enrolments in small batches at once: each is
/// claimed by exactly one of them.
pub async fn concurrent_claims_take_each_due_enrolment_once(store: &dyn Store) {
    let ann = rep(store, "Ann", "ann@example.com").await;
    let mut enrolments = Vec::new();
    for n in 0..45 {
        let id = prospect(store, &ann, &format!("P{n}"), &format!("p{n}@acme.io")).await;
        enrolments.push(sequences::enrolment(id, t0()));
    }
    let enrolled = store
        .enroll_many(&enrolments, &Actor::User("ann".into()), t0())
        .await
        .unwrap();
    assert!(enrolled.iter().all(Result::is_ok));
    let lease = t0() + Duration::minutes(10);
    let claimers = (0..3).map(|_| async move {
        let mut mine = Vec::new();
        loop {
            let claimed = store.claim_due_enrolments("test", t0(), lease, 4).await.unwrap();
            if claimed.is_empty() {
                return mine;
            }
            mine.extend(claimed.into_iter().map(|e| e.id));
            tokio::task::yield_now().await;
        }
    });
    let all: Vec<i64> = join_all(claimers).await.into_iter().flatten().collect();
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), 45, "every due enrolment claimed");
    assert_eq!(all.len(), 45, "none claimed twice");
}

/// Sends for one rep started at the same moment by many workers (another
/// daemon's among them) are counted one after another: her daily cap and
/// the gap between her sends hold however they interleave.
pub async fn concurrent_sends_keep_a_reps_cap_and_gap(store: &dyn Store) {
    let actor = Actor::User("test".into());
    // Four reps of each kind: an interleaving that breaks the count shows in one of them.
    let reps = (0..8).map(|n| match n % 2 {
        0 => (format!("capped{n}"), 5, Duration::zero(), 5),
        _ => (format!("gapped{n}"), 100, Duration::seconds(60), 1),
    });
    for (name, cap, gap, expected) in reps {
        let name = name.as_str();
        let rep = rep(store, name, &format!("{name}@example.com")).await;
        let mut enrolments = Vec::new();
        for n in 0..20 {
            let id = prospect(store, &rep, &format!("{name} P{n}"), &format!("{name}{n}@acme.io")).await;
            enrolments.push(sequences::enrolment(id, t0()));
        }
        let enrolled = store.enroll_many(&enrolments, &actor, t0()).await.unwrap();
        assert!(enrolled.iter().all(Result::is_ok));
        let claimed = store
            .claim_due_enrolments(name, t0(), t0() + Duration::minutes(10), 20)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 20);
        let sends = claimed.iter().map(|e| {
            let send = NewSend {
                fence: Some(e.fence),
                pacing: PacingGuard {
                    day: (t0() - Duration::hours(9), t0() + Duration::hours(15)),
                    daily_cap: cap,
                    min_gap: gap,
                },
                ..sequences::send(e.id, e.prospect_id, &rep, &format!("{name}-{}@rapport", e.id), t0())
            };
            async move { store.begin_send(&send, t0()).await.unwrap() }
        });
        let outcomes = join_all(sends).await;
        let started = outcomes.iter().filter(|o| matches!(o, SendStart::Started(_))).count();
        let paced = outcomes.iter().filter(|o| matches!(o, SendStart::Paced(_))).count();
        assert_eq!(
            (started, paced),
            (expected, 20 - expected),
            "{name}: cap {cap}, gap {gap}: {outcomes:?}"
        );
    }
}

/// A worker paused past its lease (SIGSTOP, a long GC) writes its poll late:
/// another worker has claimed the source since, so the late write is
/// refused whole (no event, no schedule) and the new holder's counts.
pub async fn a_late_poll_is_refused_by_the_fence(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let mut jane = data(&ann, "Jane Doe", "jane@acme.io");
    jane.profiles = vec![normalize_profile_url("https://jane.example/blog").unwrap()];
    let jane = store
        .create_prospect(&jane, &Actor::User("ann".into()), t0())
        .await
        .unwrap();
    let now = store.list_sources(RepScope::Team, false).await.unwrap()[0]
        .next_poll_at
        .max(t0());
    let paused = store
        .claim_due_sources("paused", now, now + Duration::minutes(5), None, 10)
        .await
        .unwrap();
    let later = now + Duration::minutes(6);
    let successor = store
        .claim_due_sources("successor", later, later + Duration::minutes(5), None, 10)
        .await
        .unwrap();
    assert_eq!(successor.len(), 1, "the lease ran out: the source is taken over");
    let record = |key: &str, next: DateTime<Utc>| PollRecord {
        feed_url: Some("https://jane.example/feed.xml".into()),
        validators: Validators::default(),
        status: "200".into(),
        error: None,
        first_poll_done: true,
        events: vec![event(jane, POST, key, now)],
        if_new: schedule(next),
        if_not_new: schedule(next),
    };
    let theirs = store
        .record_polls(
            &[(successor[0].claim(), record("post:theirs", later + Duration::hours(1)))],
            later,
        )
        .await
        .unwrap();
    assert_eq!(theirs, [Some(1)]);
    let late = store
        .record_polls(
            &[(paused[0].claim(), record("post:late", later + Duration::days(9)))],
            later,
        )
        .await
        .unwrap();
    assert_eq!(late, [None], "the late write is refused");
    store.release_sources(&[paused[0].claim()], later).await.unwrap();
    let source = &store.list_sources(RepScope::Team, false).await.unwrap()[0];
    assert_eq!(
        source.next_poll_at,
        later + Duration::hours(1),
        "the successor's schedule stands"
    );
    let posts: Vec<String> = store
        .list_events(RepScope::Team, jane)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == POST)
        .map(|e| e.data.to_string())
        .collect();
    assert_eq!(posts.len(), 1, "only the successor's post: {posts:?}");
}

/// The sending pass's side: a worker paused past its lease neither starts
/// the email nor moves the enrolment once another worker has claimed it.
pub async fn a_late_send_is_refused_by_the_fence(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let actor = Actor::User("ann".into());
    store
        .enroll(&sequences::enrolment(jane, t0()), &actor, t0())
        .await
        .unwrap()
        .unwrap();
    let paused = store
        .claim_due_enrolments("paused", t0(), t0() + Duration::minutes(5), 10)
        .await
        .unwrap();
    let later = t0() + Duration::minutes(6);
    let successor = store
        .claim_due_enrolments("successor", later, later + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(successor.len(), 1, "the lease ran out: the enrolment is taken over");
    assert!(successor[0].fence > paused[0].fence);

    let late_send = NewSend {
        fence: Some(paused[0].fence),
        ..sequences::send(paused[0].id, jane, &ann, "late@rapport", later)
    };
    assert!(matches!(
        store.begin_send(&late_send, later).await.unwrap(),
        SendStart::Fenced
    ));
    let late_update = EnrolmentUpdate::due(1, later + Duration::days(9)).claimed(&paused[0]);
    assert!(
        !store
            .update_enrolment(paused[0].id, &late_update, None, later)
            .await
            .unwrap(),
        "the late update is refused"
    );
    let theirs = NewSend {
        fence: Some(successor[0].fence),
        ..sequences::send(successor[0].id, jane, &ann, "theirs@rapport", later)
    };
    assert!(matches!(
        store.begin_send(&theirs, later).await.unwrap(),
        SendStart::Started(_)
    ));
    let update = EnrolmentUpdate::due(1, later + Duration::days(2)).claimed(&successor[0]);
    assert!(store
        .update_enrolment(successor[0].id, &update, None, later)
        .await
        .unwrap());
    let enrolment = &store.list_enrolments(RepScope::Team, None).await.unwrap()[0];
    assert_eq!(
        (enrolment.step, enrolment.next_due_at),
        (1, Some(later + Duration::days(2)))
    );
}

/// Starts at a host reserved through the store are its interval apart
/// whoever reserves them; a hold (Retry-After) pushes them past it; a
/// robots.txt answer is kept with its age.
pub async fn host_pacing_and_robots_answers(store: &dyn Store) {
    assert_eq!(
        store.reserve_host_start("github.com", 1000).await.unwrap(),
        0,
        "the first goes at once"
    );
    let second = store.reserve_host_start("github.com", 1000).await.unwrap();
    let third = store.reserve_host_start("github.com", 1000).await.unwrap();
    assert!(
        (500..=1000).contains(&second),
        "the next waits an interval: {second} ms"
    );
    assert!((1500..=2000).contains(&third), "and the one after two: {third} ms");
    assert_eq!(
        store.reserve_host_start("bsky.app", 1000).await.unwrap(),
        0,
        "each host is its own"
    );
    assert_eq!(store.reserve_host_start("gitlab.com", 0).await.unwrap(), 0);
    assert_eq!(
        store.reserve_host_start("gitlab.com", 0).await.unwrap(),
        0,
        "no interval, no wait"
    );
    store.hold_host("bsky.app", 60_000).await.unwrap();
    let held = store.reserve_host_start("bsky.app", 1000).await.unwrap();
    assert!((55_000..=60_000).contains(&held), "held by Retry-After: {held} ms");

    let origin = "https://jane.example";
    assert_eq!(store.robots_answer(origin).await.unwrap(), None);
    store
        .keep_robots_answer(origin, "listed", "User-agent: *\nDisallow: /private\n")
        .await
        .unwrap();
    let kept = store.robots_answer(origin).await.unwrap().expect("kept");
    assert_eq!(
        (kept.kind.as_str(), kept.body.as_str()),
        ("listed", "User-agent: *\nDisallow: /private\n")
    );
    assert!((0..60_000).contains(&kept.age_ms), "read just now: {} ms", kept.age_ms);
    store.keep_robots_answer(origin, "allow_all", "").await.unwrap();
    assert_eq!(
        store.robots_answer(origin).await.unwrap().expect("kept").kind,
        "allow_all"
    );
}
