//! Scope is structural: a call scoped to one rep can neither see nor change
//! another rep's prospect, whatever the call. (The doors pass the actor's
//! scope; this checks the store holds the line in SQL.)

mod common;

use chrono::{DateTime, Utc};
use rapport::domain::event::{stage_change, Actor, NewEvent};
use rapport::domain::prospect::{ProspectEdit, ProspectRef};
use rapport::store::{
    EventStore, ProspectFilter, ProspectStore, RepScope, RepStore, RulesStore, SqliteStore, StoreError,
};
use std::time::Duration;

fn now() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn a_reps_scope_neither_sees_nor_changes_another_reps_prospect() {
    let (_ws, url) = common::ann_and_bob();
    let store = SqliteStore::open(&url, Duration::from_secs(5), 2).await.expect("store");
    let reps = store.list_reps().await.unwrap();
    let ann = reps.iter().find(|r| r.email == "ann@example.com").unwrap().id;
    let bob = reps.iter().find(|r| r.email == "bob@example.com").unwrap().id;
    let raj = store
        .find_prospect(RepScope::Rep(bob), &ProspectRef::Email("raj@globex.com".into()))
        .await
        .unwrap();
    let before = store.list_events(RepScope::Team, raj.id).await.unwrap().len();
    let as_ann = RepScope::Rep(ann);
    let not_found = |result: Result<(), StoreError>, what: &str| {
        assert!(matches!(result, Err(StoreError::NotFound(_))), "{what}: {result:?}");
    };

    // Reads.
    not_found(
        store.find_prospect(as_ann, &ProspectRef::Id(raj.id)).await.map(drop),
        "find by id",
    );
    not_found(
        store
            .find_prospect(as_ann, &ProspectRef::Email("raj@globex.com".into()))
            .await
            .map(drop),
        "find by email",
    );
    let listed = store.list_prospects(as_ann, &ProspectFilter::default()).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.data.name.as_str()).collect::<Vec<_>>(),
        ["Jane Doe"]
    );
    let ids = ProspectFilter {
        ids: Some(vec![raj.id]),
        ..ProspectFilter::default()
    };
    assert!(store.list_prospects(as_ann, &ids).await.unwrap().is_empty());

    // Changes.
    let edit = ProspectEdit {
        name: Some("Someone Else".into()),
        ..ProspectEdit::default()
    };
    not_found(store.edit_prospect(as_ann, raj.id, &edit, now()).await, "edit");
    let moved = stage_change(
        raj.id,
        Some("prospecting"),
        "won",
        now(),
        Actor::User("ann".into()),
        None,
    );
    not_found(
        store
            .move_prospect(as_ann, raj.id, "prospecting", "default", "won", moved, now())
            .await,
        "move",
    );
    let event = NewEvent {
        prospect_id: raj.id,
        kind: "call".into(),
        occurred_at: now(),
        source_key: "scope-test".into(),
        actor: Actor::User("ann".into()),
        data: serde_json::json!({}).into(),
    };
    not_found(
        store.append_event(as_ann, &event, now()).await.map(drop),
        "append an event",
    );
    not_found(
        store.stop_sequences_of(as_ann, raj.id, "x", now()).await.map(drop),
        "stop sequences",
    );
    not_found(store.erase_prospect(as_ann, raj.id, now()).await, "erase");

    // Nothing of Raj's changed.
    let after = store
        .find_prospect(RepScope::Rep(bob), &ProspectRef::Id(raj.id))
        .await
        .unwrap();
    assert_eq!(after.data.name, "Raj Patel");
    assert_eq!(after.data.stage, "prospecting");
    assert_eq!(store.list_events(RepScope::Team, raj.id).await.unwrap().len(), before);
    assert!(!store.is_suppressed("raj@globex.com").await.unwrap());

    // The rep's own prospect, and the team's scope, work.
    let jane = store
        .find_prospect(as_ann, &ProspectRef::Email("jane@acme.io".into()))
        .await
        .unwrap();
    store.edit_prospect(as_ann, jane.id, &edit, now()).await.unwrap();
    store
        .edit_prospect(RepScope::Team, raj.id, &ProspectEdit::default(), now())
        .await
        .unwrap();
}
