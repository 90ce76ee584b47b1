//! The store's contract: what every backend must do, method by method,
//! written once against `dyn Store` and run for each backend by `contract!`
//! (SQLite now; a PostgreSQL store adds one line with its own opener). Each
//! check gets an empty store of its own. `every_store_method_has_a_check`
//! reads the store's traits and fails when a method is called nowhere here,
//! so a method added to the store without a check here fails the build's tests.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rapport::domain::event::kinds::{EMAIL_REPLIED, EMAIL_SENT, POST, PROSPECT_CREATED, STAGE_CHANGED};
use rapport::domain::event::{stage_change, Actor, NewEvent};
use rapport::domain::import::ImportRow;
use rapport::domain::mail::MailEffect;
use rapport::domain::money::Amount;
use rapport::domain::polling::Validators;
use rapport::domain::profile::normalize_profile_url;
use rapport::domain::prospect::{Language, NewRep, ProspectData, ProspectEdit, ProspectId, ProspectRef, Rep};
use rapport::store::{
    EnrolmentUpdate, FolderCursor, MailBatch, NewEnrolment, NewSend, NewSuggestion, NewTask, PacingGuard, PollRecord,
    PollSchedule, ProspectFilter, RepScope, SendStart, SqliteStore, Store, StoreError, SuggestionDecision,
};
use serde_json::json;
use std::sync::Arc;

/// An empty SQLite store in a folder of its own (kept until the check ends).
async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
    let store = SqliteStore::open(&url, std::time::Duration::from_secs(5), 2)
        .await
        .expect("open the store");
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

/// One `#[tokio::test]` per check, for a backend's opener.
macro_rules! contract {
    ($backend:ident, $open:path) => {
        mod $backend {
            use super::*;
            contract!(@checks $open; reps_and_forecast_reads, prospects, import, scope_holds, events,
                jobs, mail_folders, sources, enrolments, outbox, sending_pauses, tasks, unsubscribe_and_keys,
                rules, digests, close);
        }
    };
    (@checks $open:path; $($check:ident),*) => {
        $(
            #[tokio::test]
            async fn $check() {
                let fixture = $open().await;
                super::$check(fixture.store.as_ref()).await;
            }
        )*
    };
}

contract!(sqlite_backend, sqlite);

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a time")
}

fn t0() -> DateTime<Utc> {
    at("2026-12-01T09:00:00Z")
}

async fn rep(store: &dyn Store, name: &str, email: &str) -> Rep {
    let new = NewRep {
        name: name.into(),
        email: email.into(),
        time_zone: "Europe/Oslo".into(),
        digest_hour: 7,
        language: Language::En,
    };
    store.create_rep(&new, t0()).await.expect("create a rep")
}

fn data(rep: &Rep, name: &str, email: &str) -> ProspectData {
    ProspectData {
        rep_id: rep.id,
        name: name.into(),
        email: Some(email.into()),
        company: Some("Acme".into()),
        pipeline: "default".into(),
        stage: "prospecting".into(),
        value: Amount::from_units(100_000),
        currency: "USD".into(),
        ..ProspectData::default()
    }
}

async fn prospect(store: &dyn Store, rep: &Rep, name: &str, email: &str) -> ProspectId {
    store
        .create_prospect(&data(rep, name, email), &Actor::User("test".into()), t0())
        .await
        .expect("create a prospect")
}

fn event(prospect: ProspectId, kind: &str, key: &str, when: DateTime<Utc>) -> NewEvent {
    NewEvent {
        prospect_id: prospect,
        kind: kind.into(),
        occurred_at: when,
        source_key: key.into(),
        actor: Actor::User("test".into()),
        data: json!({ "note": key }),
    }
}

fn only_event(event: NewEvent) -> MailEffect {
    MailEffect {
        event,
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
    }
}

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{what}: {result:?}");
}

async fn reps_and_forecast_reads(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    assert_eq!(ann.email, "ann@example.com");
    assert_eq!(ann.digest_hour, 7);
    let again = NewRep {
        name: "Ann Again".into(),
        email: "ann@example.com".into(),
        time_zone: "UTC".into(),
        digest_hour: 8,
        language: Language::En,
    };
    assert!(store.create_rep(&again, t0()).await.is_err(), "one rep per address");
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let reps = store.list_reps().await.unwrap();
    assert_eq!(
        reps.iter().map(|r| r.email.as_str()).collect::<Vec<_>>(),
        ["ann@example.com", "bob@example.com"]
    );

    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    prospect(store, &bob, "Raj Patel", "raj@globex.com").await;
    let moved = stage_change(
        jane,
        Some("prospecting"),
        "qualification",
        t0(),
        Actor::User("ann".into()),
        None,
    );
    store
        .move_prospect(
            RepScope::Rep(ann.id),
            jane,
            "prospecting",
            "default",
            "qualification",
            moved,
            t0(),
        )
        .await
        .unwrap();
    let deals = store.deals(RepScope::Team).await.unwrap();
    assert_eq!(deals.len(), 2);
    assert!(deals.iter().all(|d| d.pipeline == "default" && d.currency == "USD"));
    let anns = store.deals(RepScope::Rep(ann.id)).await.unwrap();
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].deal.stage, "qualification");
    assert_eq!(anns[0].deal.value, Amount::from_units(100_000));
    let paths = store.stage_paths(RepScope::Rep(ann.id), "default").await.unwrap();
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0].stages, ["prospecting", "qualification"]);
    assert!(store.stage_paths(RepScope::Team, "startup").await.unwrap().is_empty());
}

async fn prospects(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let mut jane = data(&ann, "Jane Doe", "jane@acme.io");
    jane.tags = vec!["vip".into()];
    jane.profiles = vec![normalize_profile_url("https://jane.example/blog").unwrap()];
    let id = store
        .create_prospect(&jane, &Actor::User("ann".into()), t0())
        .await
        .unwrap();
    let twin = store.create_prospect(&jane, &Actor::User("ann".into()), t0()).await;
    assert!(twin.is_err(), "the same address twice: {twin:?}");
    prospect(store, &ann, "Raj Patel", "raj@globex.com").await;

    let by_email = store
        .find_prospect(RepScope::Team, &ProspectRef::Email("jane@acme.io".into()))
        .await
        .unwrap();
    assert_eq!(by_email.id, id);
    assert_eq!(by_email.rep_email, "ann@example.com");
    assert_eq!(by_email.data.tags, ["vip"]);
    assert_eq!(by_email.data.profiles.len(), 1);
    not_found(
        store.find_prospect(RepScope::Team, &ProspectRef::Id(9999)).await,
        "no such id",
    );

    let list = |filter: ProspectFilter| async move {
        let found = store.list_prospects(RepScope::Team, &filter).await.unwrap();
        found.into_iter().map(|p| p.data.name).collect::<Vec<_>>()
    };
    assert_eq!(list(ProspectFilter::default()).await, ["Jane Doe", "Raj Patel"]);
    let tagged = ProspectFilter {
        tag: Some("vip".into()),
        ..ProspectFilter::default()
    };
    assert_eq!(list(tagged).await, ["Jane Doe"]);
    let search = ProspectFilter {
        search: Some("GLOBEX".into()),
        ..ProspectFilter::default()
    };
    assert_eq!(list(search).await, ["Raj Patel"]);
    let limited = ProspectFilter {
        limit: Some(1),
        ..ProspectFilter::default()
    };
    assert_eq!(list(limited).await, ["Jane Doe"]);
    let ids = ProspectFilter {
        ids: Some(vec![id]),
        ..ProspectFilter::default()
    };
    assert_eq!(list(ids).await, ["Jane Doe"]);

    let edit = ProspectEdit {
        name: Some("Jane Q. Doe".into()),
        add_tags: vec!["board".into()],
        remove_tags: vec!["vip".into()],
        ..ProspectEdit::default()
    };
    store
        .edit_prospect(RepScope::Rep(ann.id), id, &edit, t0())
        .await
        .unwrap();
    let edited = store.find_prospect(RepScope::Team, &ProspectRef::Id(id)).await.unwrap();
    assert_eq!(edited.data.name, "Jane Q. Doe");
    assert_eq!(edited.data.tags, ["board"]);

    let moved = stage_change(
        id,
        Some("prospecting"),
        "meeting",
        t0(),
        Actor::User("ann".into()),
        None,
    );
    store
        .move_prospect(
            RepScope::Team,
            id,
            "prospecting",
            "default",
            "meeting",
            moved.clone(),
            t0(),
        )
        .await
        .unwrap();
    let stale = store
        .move_prospect(RepScope::Team, id, "prospecting", "default", "meeting", moved, t0())
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(_))),
        "moved from a stage it left: {stale:?}"
    );
    let events = store.list_events(id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == STAGE_CHANGED).count(), 1);

    assert!(!store.is_suppressed("jane@acme.io").await.unwrap());
    store.erase_prospect(RepScope::Team, id, t0()).await.unwrap();
    not_found(
        store.find_prospect(RepScope::Team, &ProspectRef::Id(id)).await,
        "erased",
    );
    assert!(
        store.list_events(id).await.unwrap().is_empty(),
        "nothing about them is kept"
    );
    assert!(store.is_suppressed(" Jane@Acme.io ").await.unwrap());
    let among = store
        .suppressed_among(&["jane@acme.io".into(), "raj@globex.com".into()])
        .await
        .unwrap();
    assert_eq!(among.into_iter().collect::<Vec<_>>(), ["jane@acme.io"]);
}

async fn import(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let held = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let rows = vec![
        ImportRow {
            line: 2,
            prospect: data(&ann, "Jane Doe", "jane@acme.io"),
        },
        ImportRow {
            line: 3,
            prospect: data(&ann, "Raj Patel", "raj@globex.com"),
        },
    ];
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |n: u64| seen.lock().unwrap().push(n);
    let outcome = store
        .import_prospects(&rows, &Actor::Import("leads.csv".into()), t0(), &progress)
        .await
        .unwrap();
    assert_eq!(outcome.already_present, [(2, held)]);
    assert_eq!(outcome.imported.len(), 1);
    assert_eq!(outcome.imported[0].0, 3);
    assert_eq!(seen.lock().unwrap().last(), Some(&2), "progress counts every row");
    let raj = outcome.imported[0].1;
    let events = store.list_events(raj).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        [PROSPECT_CREATED]
    );
    let again = store
        .import_prospects(&rows, &Actor::Import("leads.csv".into()), t0(), &|_| {})
        .await
        .unwrap();
    assert!(again.imported.is_empty(), "an import run twice adds no one");
}

async fn scope_holds(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let raj = prospect(store, &bob, "Raj Patel", "raj@globex.com").await;
    let as_ann = RepScope::Rep(ann.id);
    not_found(store.find_prospect(as_ann, &ProspectRef::Id(raj)).await, "find");
    let none = store.list_prospects(as_ann, &ProspectFilter::default()).await.unwrap();
    assert!(none.is_empty());
    not_found(
        store.edit_prospect(as_ann, raj, &ProspectEdit::default(), t0()).await,
        "edit",
    );
    let moved = stage_change(raj, Some("prospecting"), "won", t0(), Actor::User("ann".into()), None);
    not_found(
        store
            .move_prospect(as_ann, raj, "prospecting", "default", "won", moved, t0())
            .await,
        "move",
    );
    not_found(
        store.append_event(as_ann, &event(raj, "call", "c1", t0()), t0()).await,
        "log",
    );
    not_found(store.erase_prospect(as_ann, raj, t0()).await, "erase");
    assert!(store.deals(as_ann).await.unwrap().is_empty());
    assert!(store.list_sources(as_ann, false).await.unwrap().is_empty());
    assert!(store
        .activity_since(as_ann, t0() - Duration::days(1))
        .await
        .unwrap()
        .is_empty());
    let still = store
        .find_prospect(RepScope::Rep(bob.id), &ProspectRef::Id(raj))
        .await
        .unwrap();
    assert_eq!(still.data.stage, "prospecting");
}

async fn events(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let raj = prospect(store, &ann, "Raj Patel", "raj@globex.com").await;
    let call = event(jane, "call", "call:1", t0() - Duration::hours(30));
    assert!(store.append_event(RepScope::Team, &call, t0()).await.unwrap());
    assert!(
        !store.append_event(RepScope::Team, &call, t0()).await.unwrap(),
        "the same key twice"
    );
    let reply = event(raj, EMAIL_REPLIED, "mail:2:x@y", t0());
    assert!(store
        .append_event(RepScope::Rep(ann.id), &reply, t0() + Duration::hours(1))
        .await
        .unwrap());

    let janes = store.list_events(jane).await.unwrap();
    // In the order they happened: the call was 30 hours before she was added.
    assert_eq!(
        janes.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["call", PROSPECT_CREATED]
    );
    assert_eq!(janes[0].occurred_at, call.occurred_at);
    assert_eq!(janes[0].recorded_at, t0());
    assert_eq!(janes[0].data["note"], "call:1");
    let both = store.events_of(&[jane, raj]).await.unwrap();
    assert_eq!(both[&jane].len(), 2);
    assert_eq!(both[&raj].len(), 2);
    // By when recorded: the call happened 30 hours before but was recorded at t0.
    let news = store
        .events_between(
            RepScope::Team,
            &["call", EMAIL_REPLIED],
            t0(),
            t0() + Duration::hours(2),
        )
        .await
        .unwrap();
    assert_eq!(
        news.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["call", EMAIL_REPLIED]
    );
    let later = store
        .events_between(
            RepScope::Team,
            &["call"],
            t0() + Duration::minutes(1),
            t0() + Duration::hours(2),
        )
        .await
        .unwrap();
    assert!(later.is_empty());
    let activity = store
        .activity_since(RepScope::Team, t0() - Duration::days(2))
        .await
        .unwrap();
    assert!(activity.contains(&(jane, "call".to_string(), call.occurred_at)));
    assert!(activity.iter().any(|(p, kind, _)| *p == raj && kind == EMAIL_REPLIED));

    // The rules' cursor reads the log in the order it was stored.
    let all = store.events_after(0, 100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    let after = store.events_after(all[1].id, 1).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, all[2].id);
}

async fn jobs(store: &dyn Store) {
    let due = t0();
    let next = store
        .ensure_job("poll-feeds", "0 */5 * * * *", "UTC", due)
        .await
        .unwrap();
    assert_eq!(next, due);
    let kept = store
        .ensure_job("poll-feeds", "0 */5 * * * *", "UTC", due + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(kept, due, "the same schedule keeps its stored next run");
    let changed = store
        .ensure_job("poll-feeds", "0 */10 * * * *", "UTC", due + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        changed,
        due + Duration::minutes(10),
        "a new schedule takes its own next run"
    );
    let due = changed;
    let run = store
        .claim_job_run("poll-feeds", due, due + Duration::minutes(10), due)
        .await
        .unwrap();
    let run = run.expect("the due run is claimed");
    let twice = store
        .claim_job_run("poll-feeds", due, due + Duration::minutes(10), due)
        .await
        .unwrap();
    assert_eq!(twice, None, "a run is claimed once");
    store
        .finish_job_run(run, Some("feed down"), due + Duration::seconds(3))
        .await
        .unwrap();
    let runs = store.job_runs("poll-feeds").await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].scheduled_for, due);
    assert_eq!(runs[0].error.as_deref(), Some("feed down"));
    assert_eq!(runs[0].finished_at, Some(due + Duration::seconds(3)));
    store.ensure_job("digest", "0 0 7 * * *", "UTC", due).await.unwrap();
    let digest = store
        .claim_job_run("digest", due, due + Duration::days(1), due)
        .await
        .unwrap()
        .unwrap();
    store.finish_job_run(digest, None, due).await.unwrap();
    let latest = store.latest_job_runs().await.unwrap();
    let mut names: Vec<_> = latest.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["digest", "poll-feeds"]);
    let pruned = store.housekeeping(due + Duration::days(30)).await.unwrap();
    assert_eq!(pruned, 2);
    assert!(store.job_runs("poll-feeds").await.unwrap().is_empty());
}

async fn mail_folders(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let lease = t0() + Duration::minutes(10);
    let cursor = store
        .claim_mail_folder("ann", "INBOX", "worker-1", t0(), lease)
        .await
        .unwrap();
    assert_eq!(cursor, Some(FolderCursor::default()));
    let other = store
        .claim_mail_folder("ann", "INBOX", "worker-2", t0(), lease)
        .await
        .unwrap();
    assert_eq!(other, None, "held by worker-1");

    let reply = event(jane, EMAIL_REPLIED, "mail:jane:reply-1@acme.io", t0());
    let mut sent = only_event(event(
        jane,
        EMAIL_SENT,
        "mail:jane:first@example.com",
        t0() - Duration::days(1),
    ));
    sent.sent_id = Some(("first@example.com".into(), jane));
    let batch = MailBatch {
        rep_id: ann.id,
        owner: "worker-1".into(),
        cursor: FolderCursor {
            uid_validity: Some(7),
            last_uid: 42,
        },
        lease_until: lease,
        effects: vec![only_event(reply), sent],
    };
    assert_eq!(store.record_mail("ann", "INBOX", &batch, t0()).await.unwrap(), 2);
    assert_eq!(
        store.record_mail("ann", "INBOX", &batch, t0()).await.unwrap(),
        0,
        "read again: nothing new"
    );
    let stolen = MailBatch {
        owner: "worker-2".into(),
        ..batch.clone()
    };
    let refused = store.record_mail("ann", "INBOX", &stolen, t0()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");

    let contacts = store
        .mail_contacts(
            ann.id,
            &["jane@acme.io".into(), "nobody@x.io".into()],
            &["first@example.com".into()],
        )
        .await
        .unwrap();
    assert_eq!(contacts.by_email.get("jane@acme.io"), Some(&jane));
    assert!(!contacts.by_email.contains_key("nobody@x.io"));
    assert_eq!(contacts.by_sent_id.get("first@example.com"), Some(&jane));

    store
        .release_mail_folder("ann", "INBOX", "worker-1", Some("connection reset"), t0())
        .await
        .unwrap();
    let folders = store.list_mail_folders().await.unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!((folders[0].uid_validity, folders[0].last_uid), (Some(7), 42));
    assert_eq!(folders[0].last_error.as_deref(), Some("connection reset"));
    assert_eq!(folders[0].lease_until, None);
    let next = store
        .claim_mail_folder("ann", "INBOX", "worker-2", t0(), lease)
        .await
        .unwrap();
    assert_eq!(
        next,
        Some(FolderCursor {
            uid_validity: Some(7),
            last_uid: 42
        })
    );
}

fn schedule(at: DateTime<Utc>) -> PollSchedule {
    PollSchedule {
        interval_secs: 3600,
        consecutive_failures: 0,
        broken: false,
        next_poll_at: at,
    }
}

async fn sources(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let mut jane = data(&ann, "Jane Doe", "jane@acme.io");
    jane.profiles = vec![normalize_profile_url("https://jane.example/blog").unwrap()];
    let jane = store
        .create_prospect(&jane, &Actor::User("ann".into()), t0())
        .await
        .unwrap();
    let listed = store.list_sources(RepScope::Team, false).await.unwrap();
    assert_eq!(listed.len(), 1, "a profile with a feed becomes a source");
    assert_eq!(listed[0].prospect_id, jane);
    assert!(!listed[0].first_poll_done);

    let now = listed[0].next_poll_at.max(t0());
    let lease = now + Duration::minutes(5);
    let claimed = store.claim_due_sources(now, lease, None, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store.claim_due_sources(now, lease, None, 10).await.unwrap().is_empty(),
        "claimed once"
    );
    store.release_sources(&[claimed[0].id], now).await.unwrap();
    let again = store.claim_due_sources(now, lease, Some(jane), 10).await.unwrap();
    assert_eq!(again.len(), 1, "given back, it is due again");

    let post = NewEvent {
        data: json!({ "title": "Why we moved to Rust", "url": "https://jane.example/rust", "published": now }),
        actor: Actor::System("poll".into()),
        ..event(jane, POST, "post:https://jane.example/rust", now)
    };
    let record = PollRecord {
        feed_url: Some("https://jane.example/feed.xml".into()),
        validators: Validators {
            etag: Some("\"v1\"".into()),
            last_modified: None,
        },
        status: "200".into(),
        error: None,
        first_poll_done: true,
        events: vec![post],
        if_new: schedule(now + Duration::hours(1)),
        if_not_new: schedule(now + Duration::hours(2)),
    };
    assert_eq!(
        store.record_polls(&[(again[0].id, record.clone())], now).await.unwrap(),
        [1]
    );
    let polled = store.list_sources(RepScope::Team, false).await.unwrap();
    assert_eq!(polled[0].feed_url.as_deref(), Some("https://jane.example/feed.xml"));
    assert_eq!(polled[0].validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        polled[0].next_poll_at,
        now + Duration::hours(1),
        "new posts: the if-new schedule"
    );
    assert!(polled[0].first_poll_done);
    assert_eq!(
        store.record_polls(&[(again[0].id, record.clone())], now).await.unwrap(),
        [0]
    );
    let polled = store.list_sources(RepScope::Team, false).await.unwrap();
    assert_eq!(
        polled[0].next_poll_at,
        now + Duration::hours(2),
        "nothing new: the other schedule"
    );
    assert!(store.list_sources(RepScope::Team, true).await.unwrap().is_empty());
    let broken = PollRecord {
        status: "error".into(),
        error: Some("404".into()),
        events: Vec::new(),
        if_not_new: PollSchedule {
            broken: true,
            consecutive_failures: 5,
            ..schedule(now + Duration::days(1))
        },
        ..record
    };
    store.record_polls(&[(again[0].id, broken)], now).await.unwrap();
    let broken = store.list_sources(RepScope::Team, true).await.unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].last_error.as_deref(), Some("404"));

    let latest = store.latest_post(jane).await.unwrap().expect("her post");
    assert_eq!(latest.title, "Why we moved to Rust");
    assert_eq!(latest.url, "https://jane.example/rust");
    let posts = store.latest_posts(&[jane]).await.unwrap();
    assert_eq!(posts[&jane].url, "https://jane.example/rust");
}

fn enrolment(prospect: ProspectId, due: DateTime<Utc>) -> NewEnrolment {
    NewEnrolment {
        prospect_id: prospect,
        sequence: "cold-intro".into(),
        variant: 0,
        next_due_at: due,
    }
}

async fn enrolments(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let raj = prospect(store, &bob, "Raj Patel", "raj@globex.com").await;
    let lee = prospect(store, &ann, "Lee Wong", "lee@initech.io").await;
    let actor = Actor::User("ann".into());
    let id = store
        .enroll(&enrolment(jane, t0()), &actor, t0())
        .await
        .unwrap()
        .expect("enrolled");
    let twice = store.enroll(&enrolment(jane, t0()), &actor, t0()).await.unwrap();
    assert_eq!(
        twice,
        Err("cold-intro".to_string()),
        "one running sequence per prospect"
    );
    let many = store
        .enroll_many(
            &[
                enrolment(raj, t0()),
                enrolment(jane, t0()),
                enrolment(lee, t0() + Duration::days(1)),
            ],
            &actor,
            t0(),
        )
        .await
        .unwrap();
    assert!(many[0].is_ok() && many[2].is_ok());
    assert_eq!(many[1], Err("cold-intro".to_string()));

    let anns = store
        .list_enrolments(RepScope::Rep(ann.id), Some("cold-intro"))
        .await
        .unwrap();
    assert_eq!(anns.len(), 2);
    assert!(store
        .list_enrolments(RepScope::Team, Some("other"))
        .await
        .unwrap()
        .is_empty());
    let running = store.running_sequences_of(&[jane, raj]).await.unwrap();
    assert_eq!(running.len(), 2);
    assert_eq!(running[&jane], "cold-intro");

    let lease = t0() + Duration::minutes(2);
    let claimed = store.claim_due_enrolments(t0(), lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 2, "Lee is due tomorrow");
    assert!(store.claim_due_enrolments(t0(), lease, 10).await.unwrap().is_empty());
    let claims: Vec<_> = claimed.iter().map(|e| (e.id, lease)).collect();
    store.release_enrolments(&claims, t0()).await.unwrap();
    assert_eq!(
        store.claim_due_enrolments(t0(), lease, 1).await.unwrap().len(),
        1,
        "limit"
    );

    let update = EnrolmentUpdate::due(1, t0() + Duration::days(3));
    store.update_enrolment(id, &update, None, t0()).await.unwrap();
    let janes = store.running_enrolments_of(jane).await.unwrap();
    assert_eq!(janes.len(), 1);
    assert_eq!(
        (janes[0].step, janes[0].next_due_at),
        (1, Some(t0() + Duration::days(3)))
    );
    let expecting_old = EnrolmentUpdate::due(5, t0()).expecting(0);
    store.update_enrolment(id, &expecting_old, None, t0()).await.unwrap();
    assert_eq!(
        store.running_enrolments_of(jane).await.unwrap()[0].step,
        1,
        "a stale update changes nothing"
    );

    assert!(store
        .stop_sequences_of(RepScope::Rep(ann.id), jane, "replied", t0())
        .await
        .unwrap());
    assert!(!store
        .stop_sequences_of(RepScope::Rep(ann.id), jane, "replied", t0())
        .await
        .unwrap());
    not_found(
        store.stop_sequences_of(RepScope::Rep(ann.id), raj, "x", t0()).await,
        "another rep's",
    );
    assert!(store.running_enrolments_of(jane).await.unwrap().is_empty());
    let stopped = store.list_enrolments(RepScope::Team, None).await.unwrap();
    let stopped = stopped.iter().find(|e| e.id == id).unwrap();
    assert_eq!(stopped.stop_reason.as_deref(), Some("replied"));
}

fn send(enrolment: i64, prospect: ProspectId, rep: &Rep, message_id: &str, now: DateTime<Utc>) -> NewSend {
    NewSend {
        enrolment_id: enrolment,
        prospect_id: prospect,
        rep_id: rep.id,
        sequence: "cold-intro".into(),
        step: 0,
        retry: false,
        message_id: message_id.into(),
        to_email: "jane@acme.io".into(),
        subject: "Hello".into(),
        transport: "smtp",
        lease_until: now + Duration::minutes(1),
        pacing: PacingGuard {
            day: (now - Duration::hours(9), now + Duration::hours(15)),
            daily_cap: 2,
            min_gap: Duration::minutes(5),
        },
    }
}

fn sent_effect(prospect: ProspectId, message_id: &str, at: DateTime<Utc>) -> MailEffect {
    let mut effect = only_event(event(
        prospect,
        EMAIL_SENT,
        &format!("mail:{prospect}:{message_id}"),
        at,
    ));
    effect.sent_id = Some((message_id.into(), prospect));
    effect
}

async fn outbox(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let actor = Actor::User("ann".into());
    let id = store
        .enroll(&enrolment(jane, t0()), &actor, t0())
        .await
        .unwrap()
        .unwrap();

    let first = send(id, jane, &ann, "first@example.com", t0());
    let SendStart::Started(row) = store.begin_send(&first, t0()).await.unwrap() else {
        panic!("the first send starts")
    };
    let paced = store
        .begin_send(&send(id, jane, &ann, "other@example.com", t0()), t0())
        .await
        .unwrap();
    assert!(
        matches!(paced, SendStart::AlreadyRecorded(_) | SendStart::Paced(_)),
        "{paced:?}"
    );
    assert_eq!(
        store
            .list_outbox(RepScope::Rep(ann.id), Some("sending"))
            .await
            .unwrap()
            .len(),
        1
    );
    let load = store
        .sending_load(ann.id, t0() - Duration::hours(1), t0() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((load.sent_in_range, load.last_started), (1, Some(t0())));
    assert_eq!(store.last_attempt(id).await.unwrap(), Some((0, "sending".to_string())));
    assert!(store.stale_sends(t0()).await.unwrap().is_empty());
    let stale = store.stale_sends(t0() + Duration::minutes(2)).await.unwrap();
    assert_eq!(
        stale.iter().map(|e| e.id).collect::<Vec<_>>(),
        [row],
        "its lease ran out"
    );

    let next = EnrolmentUpdate::due(1, t0() + Duration::days(2));
    let effect = sent_effect(jane, "first@example.com", t0());
    assert!(store.finish_send(row, t0(), &effect, &next).await.unwrap());
    assert!(
        !store.finish_send(row, t0(), &effect, &next).await.unwrap(),
        "finished once"
    );
    assert_eq!(
        store.first_message_id(id).await.unwrap().as_deref(),
        Some("first@example.com")
    );
    let sent = store.list_outbox(RepScope::Team, Some("sent")).await.unwrap();
    assert_eq!(
        (sent[0].message_id.as_str(), sent[0].sent_at),
        ("first@example.com", Some(t0()))
    );
    assert_eq!(store.running_enrolments_of(jane).await.unwrap()[0].step, 1);
    let contacts = store
        .mail_contacts(ann.id, &[], &["first@example.com".into()])
        .await
        .unwrap();
    assert_eq!(contacts.by_sent_id.get("first@example.com"), Some(&jane));

    let later = t0() + Duration::days(2);
    let second = NewSend {
        step: 1,
        ..send(id, jane, &ann, "second@example.com", later)
    };
    let SendStart::Started(row2) = store.begin_send(&second, later).await.unwrap() else {
        panic!("the second step starts")
    };
    let bounce = MailEffect {
        suppress: vec![("jane@acme.io".into(), "hard bounce".into())],
        ..only_event(event(jane, "email.bounced", &format!("refusal:{row2}"), later))
    };
    let ended = EnrolmentUpdate::ended(1, "stopped", "hard bounce");
    store
        .settle_send(
            row2,
            "refused",
            "550 5.1.1 no such user",
            &[bounce],
            Some((id, &ended)),
            later,
        )
        .await
        .unwrap();
    let refused = store.list_outbox(RepScope::Team, Some("refused")).await.unwrap();
    assert_eq!(refused[0].error.as_deref(), Some("550 5.1.1 no such user"));
    assert!(store.is_suppressed("jane@acme.io").await.unwrap());
    assert!(store.running_enrolments_of(jane).await.unwrap().is_empty());
    let third = NewSend {
        step: 2,
        ..send(id, jane, &ann, "third@example.com", later)
    };
    assert_eq!(store.begin_send(&third, later).await.unwrap(), SendStart::Suppressed);

    // A colleague at the same domain replied.
    let lee = prospect(store, &ann, "Lee Doe", "lee@acme.io").await;
    let reply = event(lee, EMAIL_REPLIED, "mail:lee:r@acme.io", later);
    store.append_event(RepScope::Team, &reply, later).await.unwrap();
    assert!(store.colleague_replied(jane, "acme.io", t0()).await.unwrap());
    assert!(!store
        .colleague_replied(jane, "acme.io", later + Duration::hours(1))
        .await
        .unwrap());
    assert!(
        !store.colleague_replied(lee, "acme.io", t0()).await.unwrap(),
        "not their own reply"
    );
}

async fn sending_pauses(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    assert!(store.pause_sending(ann.id, "5.7.1 blocked", t0()).await.unwrap());
    assert!(
        !store.pause_sending(ann.id, "again", t0()).await.unwrap(),
        "already paused"
    );
    let pauses = store.sending_pauses().await.unwrap();
    assert_eq!(pauses.len(), 1);
    assert_eq!((pauses[0].rep_id, pauses[0].reason.as_str()), (ann.id, "5.7.1 blocked"));
    assert_eq!(store.sending_resumed_at(ann.id).await.unwrap(), None);
    let later = t0() + Duration::hours(3);
    assert!(store.resume_sending(ann.id, later).await.unwrap());
    assert!(
        !store.resume_sending(ann.id, later).await.unwrap(),
        "not paused any more"
    );
    assert!(store.sending_pauses().await.unwrap().is_empty());
    assert_eq!(store.sending_resumed_at(ann.id).await.unwrap(), Some(later));
}

async fn tasks(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let task = NewTask {
        prospect_id: jane,
        rep_id: ann.id,
        enrolment_id: None,
        step: None,
        instruction: "Comment on Jane's post".into(),
        link: Some("https://www.linkedin.com/in/jane".into()),
        logs: "linkedin.comment".into(),
        due_at: t0(),
        key: Some("remind:1".into()),
        reason: None,
    };
    assert!(store.add_task(&task).await.unwrap());
    assert!(!store.add_task(&task).await.unwrap(), "the same key twice");
    let due = store.due_tasks(RepScope::Rep(ann.id), t0()).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].prospect_name, "Jane Doe");
    assert!(store
        .due_tasks(RepScope::Rep(ann.id), t0() - Duration::minutes(1))
        .await
        .unwrap()
        .is_empty());
    assert!(store.due_tasks(RepScope::Rep(bob.id), t0()).await.unwrap().is_empty());
    let id = due[0].id;
    not_found(store.find_task(RepScope::Rep(bob.id), id).await, "another rep's task");
    let moved = store
        .reschedule_task(RepScope::Rep(ann.id), id, t0() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(moved.due_at, t0() + Duration::days(1));
    not_found(
        store.reschedule_task(RepScope::Rep(bob.id), id, t0()).await,
        "snoozing another rep's task",
    );
    let logged = event(jane, "linkedin.comment", &format!("task:{id}"), t0());
    not_found(
        store.complete_task(RepScope::Rep(bob.id), id, &logged, t0()).await,
        "completing another rep's",
    );
    let done = store
        .complete_task(RepScope::Rep(ann.id), id, &logged, t0())
        .await
        .unwrap();
    assert_eq!(done.done_at, Some(t0()));
    let found = store.find_task(RepScope::Team, id).await.unwrap();
    assert_eq!(found.done_at, Some(t0()));
    assert!(store
        .due_tasks(RepScope::Team, t0() + Duration::days(5))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_events(jane)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "linkedin.comment"));
}

async fn unsubscribe_and_keys(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let id = store
        .enroll(&enrolment(jane, t0()), &Actor::User("ann".into()), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.unsubscribe_enrolment(id, t0()).await.unwrap().as_deref(),
        Some("Jane Doe")
    );
    assert!(store.is_suppressed("jane@acme.io").await.unwrap());
    assert!(store.running_enrolments_of(jane).await.unwrap().is_empty());
    assert!(store
        .list_events(jane)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "email.unsubscribed"));
    assert_eq!(store.unsubscribe_enrolment(9999, t0()).await.unwrap(), None);

    let key = store.local_key("unsubscribe", "aaaa").await.unwrap();
    assert_eq!(key, "aaaa", "made at first use");
    assert_eq!(
        store.local_key("unsubscribe", "bbbb").await.unwrap(),
        "aaaa",
        "kept after"
    );
    assert_eq!(store.local_key("other", "cccc").await.unwrap(), "cccc");
}

async fn rules(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    assert_eq!(store.rule_cursor().await.unwrap(), 0);
    store.set_rule_cursor(17).await.unwrap();
    assert_eq!(store.rule_cursor().await.unwrap(), 17);

    let suggestion = NewSuggestion {
        prospect_id: jane,
        rule: "reply-qualifies".into(),
        from_stage: "prospecting".into(),
        to_stage: "qualification".into(),
        reason: "Jane replied".into(),
        key: "reply-qualifies:1".into(),
    };
    assert!(store.add_suggestion(&suggestion, t0()).await.unwrap());
    assert!(
        !store.add_suggestion(&suggestion, t0()).await.unwrap(),
        "suggested once"
    );
    let open = store.open_suggestions(RepScope::Rep(ann.id)).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(store.open_suggestions(RepScope::Rep(bob.id)).await.unwrap().is_empty());
    let id = open[0].id;
    let move_event = stage_change(
        jane,
        Some("prospecting"),
        "qualification",
        t0(),
        Actor::User("ann".into()),
        None,
    );
    let approve = SuggestionDecision::Approve {
        by: "ann".into(),
        move_event,
    };
    not_found(
        store
            .decide_suggestion(RepScope::Rep(bob.id), id, approve.clone(), t0())
            .await,
        "deciding another rep's",
    );
    let decided = store
        .decide_suggestion(RepScope::Rep(ann.id), id, approve, t0())
        .await
        .unwrap();
    assert!(decided.decision.is_some());
    let jane_now = store
        .find_prospect(RepScope::Team, &ProspectRef::Id(jane))
        .await
        .unwrap();
    assert_eq!(jane_now.data.stage, "qualification");
    assert!(store.open_suggestions(RepScope::Team).await.unwrap().is_empty());

    let second = NewSuggestion {
        key: "reply-qualifies:2".into(),
        ..suggestion
    };
    store.add_suggestion(&second, t0()).await.unwrap();
    let id = store.open_suggestions(RepScope::Team).await.unwrap()[0].id;
    let reject = SuggestionDecision::Reject { by: "ann".into() };
    store.decide_suggestion(RepScope::Team, id, reject, t0()).await.unwrap();
    assert!(store.open_suggestions(RepScope::Team).await.unwrap().is_empty());

    assert_eq!(
        store
            .record_firing("k1", "idle", jane, "idle 14 days", t0())
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .record_firing("k1", "idle", jane, "idle 14 days", t0())
            .await
            .unwrap(),
        Some(2),
        "a pending firing whose action was lost is tried again"
    );
    store.finish_firing("k1", t0()).await.unwrap();
    assert_eq!(
        store
            .record_firing("k1", "idle", jane, "idle 14 days", t0())
            .await
            .unwrap(),
        None
    );
}

async fn digests(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    assert!(store
        .claim_digest(ann.id, day(1), "d1@example.com", t0())
        .await
        .unwrap());
    assert!(
        !store
            .claim_digest(ann.id, day(1), "d1@example.com", t0())
            .await
            .unwrap(),
        "taken once"
    );
    store
        .finish_digest(
            ann.id,
            day(1),
            "sent",
            Some((Amount::from_units(60_000), "USD")),
            None,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(store.last_digest_date(ann.id, day(2)).await.unwrap(), Some(day(1)));
    assert_eq!(
        store.last_digest_date(ann.id, day(1)).await.unwrap(),
        None,
        "before the date only"
    );
    assert_eq!(
        store.last_digest_weighted(ann.id, day(2), "USD").await.unwrap(),
        Some(Amount::from_units(60_000))
    );
    assert_eq!(store.last_digest_weighted(ann.id, day(2), "EUR").await.unwrap(), None);
    assert!(store
        .claim_digest(ann.id, day(2), "d2@example.com", t0())
        .await
        .unwrap());
    store
        .finish_digest(ann.id, day(2), "failed", None, Some("smtp down"), t0())
        .await
        .unwrap();
    assert_eq!(
        store.last_digest_date(ann.id, day(3)).await.unwrap(),
        Some(day(1)),
        "a failed one is not sent"
    );
}

async fn close(store: &dyn Store) {
    rep(store, "Ann Rep", "ann@example.com").await;
    store.close().await;
}

/// Every method of the store's traits is called somewhere in this file.
#[test]
fn every_store_method_has_a_check() {
    let here = include_str!("store_contract.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut methods = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/store") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        for block in text.split("pub trait ").skip(1) {
            let body = block.split("\n}\n").next().unwrap_or_default();
            for line in body.lines() {
                let line = line.trim_start();
                if let Some(rest) = line.strip_prefix("async fn ").or_else(|| line.strip_prefix("fn ")) {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    methods.push(name);
                }
            }
        }
    }
    assert!(
        methods.len() > 50,
        "found only {} methods: is the parsing right?",
        methods.len()
    );
    let unchecked: Vec<_> = methods.iter().filter(|m| !here.contains(&format!(".{m}("))).collect();
    assert!(
        unchecked.is_empty(),
        "store methods with no check in the contract: {unchecked:?}"
    );
}
