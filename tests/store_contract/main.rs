//! The store's contract: what every backend must do, method by method,
//! written once against `dyn Store` and run for each backend by `contract!`
//! (SQLite, and PostgreSQL on a private cluster). Each check gets an empty
//! store of its own. `every_store_method_has_a_check`
//! reads the store's traits and fails when a method is called nowhere in it,
//! so a method added to the store without a check here fails the build's tests.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rapport::domain::event::kinds::{EMAIL_REPLIED, EMAIL_SENT, POST, PROSPECT_CREATED, STAGE_CHANGED};
use rapport::domain::event::{stage_change, Actor, NewEvent};
use rapport::domain::import::ImportRow;
use rapport::domain::intent::Intent;
use rapport::domain::mail::{MailEffect, MailTask, EMAIL_CHALLENGED, EMAIL_VERIFIED};
use rapport::domain::money::Amount;
use rapport::domain::polling::Validators;
use rapport::domain::profile::normalize_profile_url;
use rapport::domain::prospect::{Language, NewRep, ProspectData, ProspectEdit, ProspectId, ProspectRef, Rep};
use rapport::domain::records::ReplyReading;
use rapport::store::{
    EnrolmentUpdate, FolderCursor, MailBatch, NewEnrolment, NewSend, NewSuggestion, NewTask, PacingGuard, PgStore,
    PollRecord, PollSchedule, ProspectFilter, RepScope, SendStart, SqliteStore, Store, StoreError, SuggestedPerson,
    SuggestionDecision,
};
use serde_json::json;
use std::sync::Arc;

mod activity;
#[path = "../common/postgres.rs"]
mod cluster;
mod concurrency;
mod decisions;
mod people;
mod sequences;

use activity::*;
use concurrency::*;
use decisions::*;
use people::*;
use sequences::*;

/// An empty SQLite store in a folder of its own (kept until the check ends).
async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
    let store = SqliteStore::open(&url, std::time::Duration::from_secs(5), 2)
        .await
        .expect("open the store");
    assert!(!store.shared_by_daemons(), "one machine's store");
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
        _cluster: None,
    }
}

/// An empty PostgreSQL store on a cluster of its own (stopped when the check ends).
async fn postgres() -> Fixture {
    let cluster = cluster::Postgres::start();
    let url = cluster.database("rapport");
    let store = PgStore::open(&url, std::time::Duration::from_secs(5), 4, None)
        .await
        .expect("open the store");
    assert!(store.shared_by_daemons(), "several daemons' store");
    Fixture {
        store: Arc::new(store),
        _dir: None,
        _cluster: Some(cluster),
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _cluster: Option<cluster::Postgres>,
}

/// One `#[tokio::test]` per check, for a backend's opener.
macro_rules! contract {
    ($backend:ident, $open:path) => {
        mod $backend {
            use super::*;
            contract!(@checks $open; reps_and_forecast_reads, rep_preferences, accounts, prospects, import, scope_holds, board_reads, events,
                jobs, mail_folders, sources, enrolments, outbox, sending_pauses, tasks, unsubscribe_and_keys,
                rules, digests, idempotency_keys, unmatched_deliveries, calendar_tokens, ops_counts, webhook_deliveries, login_lockouts, close,
                concurrent_appends_are_read_once_in_order, concurrent_claims_take_each_due_enrolment_once,
                concurrent_sends_keep_a_reps_cap_and_gap,
                a_late_poll_is_refused_by_the_fence, a_late_send_is_refused_by_the_fence,
                host_pacing_and_robots_answers);
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
contract!(postgres_backend, postgres);

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
        data: json!({ "note": key }).into(),
    }
}

/// Ann moves a prospect from prospecting to qualification, at t0.
fn qualified(prospect: ProspectId) -> NewEvent {
    stage_change(
        prospect,
        Some("prospecting"),
        "qualification",
        t0(),
        Actor::User("ann".into()),
        None,
    )
}

fn only_event(event: NewEvent) -> MailEffect {
    MailEffect {
        event,
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
        task: None,
    }
}

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{what}: {result:?}");
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{what}: {result:?}");
}

/// Every method of the store's traits (`src/store/*.rs`) is called somewhere in the contract.
#[test]
fn every_store_method_has_a_check() {
    let here: String = [
        "main.rs",
        "people.rs",
        "activity.rs",
        "sequences.rs",
        "decisions.rs",
        "concurrency.rs",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/store_contract")
                .join(f),
        )
        .expect("read the contract")
    })
    .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut methods = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/store") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            continue;
        }
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
