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
            let claimed = store.claim_due_enrolments(t0(), lease, 4).await.unwrap();
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
