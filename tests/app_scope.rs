//! The use cases run with the actor's scope: a rep acting through any door
//! can neither move nor log engagement for another rep's prospect, and their
//! doing is recorded as theirs.

mod common;

use rapport::app::prospect_edit::{add, edit, AddProspect, EditProspect};
use rapport::app::prospects::{erase, log_engagement, move_stage, show, LogEngagement, MoveStage};
use rapport::app::{Actor, AppError, Core};
use rapport::domain::clock::FixedClock;
use rapport::domain::prospect::ProspectRef;
use rapport::store::{RepScope, SqliteStore, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_rep_acts_only_on_their_own_prospects() {
    let (_ws, url) = common::ann_and_bob();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url, Duration::from_secs(5), 2).await.expect("store"));
    let core = Core {
        store: store.clone(),
        settings: Arc::new(rapport::config::load_text(None, None).expect("settings")),
        clock: Arc::new(FixedClock("2026-12-01T09:00:00Z".parse().unwrap())),
    };
    let ann = store
        .list_reps()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.email == "ann@example.com")
        .unwrap();
    let actor = Actor::Rep {
        id: ann.id,
        name: "ann".into(),
    };
    let move_to = |who: &str| MoveStage {
        prospect: ProspectRef::Email(who.into()),
        stage: "qualification".into(),
        pipeline: None,
        note: None,
    };
    let log = |who: &str| LogEngagement {
        prospect: ProspectRef::Email(who.into()),
        kind: "call".into(),
        note: None,
        url: None,
        at: None,
    };
    let not_found = |result: Result<(), AppError>, what: &str| {
        assert!(
            matches!(result, Err(AppError::Store(StoreError::NotFound(_)))),
            "{what}: {result:?}"
        );
    };
    not_found(
        move_stage(&core, &actor, move_to("raj@globex.com")).await.map(drop),
        "move",
    );
    not_found(
        log_engagement(&core, &actor, log("raj@globex.com")).await.map(drop),
        "log",
    );
    let raj_ref = ProspectRef::Email("raj@globex.com".into());
    not_found(show(&core, &actor, &raj_ref).await.map(drop), "show");
    let rename = EditProspect {
        name: Some("Someone Else".into()),
        ..EditProspect::default()
    };
    not_found(edit(&core, &actor, &raj_ref, rename).await.map(drop), "edit");
    not_found(erase(&core, &actor, &raj_ref, true).await.map(drop), "erase");
    // A rep adds prospects of their own only, and cannot hand one to someone else.
    let for_bob = AddProspect {
        rep: Some("bob@example.com".into()),
        name: "Nia Obi".into(),
        ..AddProspect::default()
    };
    assert!(matches!(add(&core, &actor, for_bob).await, Err(AppError::Invalid(_))));
    let jane_ref = ProspectRef::Email("jane@acme.io".into());
    let hand_over = EditProspect {
        owner: Some("bob@example.com".into()),
        ..EditProspect::default()
    };
    assert!(matches!(
        edit(&core, &actor, &jane_ref, hand_over).await,
        Err(AppError::Invalid(_))
    ));
    let own = AddProspect {
        name: "Nia Obi".into(),
        ..AddProspect::default()
    };
    assert_eq!(
        add(&core, &actor, own).await.expect("her own").prospect.data.rep_id,
        ann.id
    );
    let raj = store
        .find_prospect(RepScope::Team, &ProspectRef::Email("raj@globex.com".into()))
        .await
        .unwrap();
    assert_eq!(raj.data.stage, "prospecting");
    assert_eq!(raj.data.name, "Raj Patel");
    assert!(!store
        .list_events(raj.id)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "call"));

    let moved = move_stage(&core, &actor, move_to("jane@acme.io"))
        .await
        .expect("her own");
    assert_eq!(
        (moved.from.as_str(), moved.to.as_str()),
        ("prospecting", "qualification")
    );
    let logged = log_engagement(&core, &actor, log("jane@acme.io"))
        .await
        .expect("her own");
    assert!(logged.added);
    let events = store.list_events(moved.id).await.unwrap();
    let call = events.iter().find(|e| e.kind == "call").unwrap();
    assert_eq!(call.actor, rapport::domain::event::Actor::User("ann".into()));
}
