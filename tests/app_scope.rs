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
        final_value: None,
        ask_for_outcome: false,
    };
    let log = |who: &str| LogEngagement {
        prospect: ProspectRef::Email(who.into()),
        kind: "call".into(),
        note: None,
        url: None,
        at: None,
        external_id: None,
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
        .list_events(RepScope::Team, raj.id)
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
    let events = store.list_events(RepScope::Team, moved.id).await.unwrap();
    let call = events.iter().find(|e| e.kind == "call").unwrap();
    assert_eq!(call.actor, rapport::domain::event::Actor::User("ann".into()));
}

/// Every other use case, through a rep's eyes: Bob's prospect Raj, his
/// enrolment, outbox row, paused mailbox, task, suggestion and unverified
/// report are neither seen nor changed by Ann; the team sees them.
#[tokio::test]
async fn every_use_case_keeps_to_the_reps_own_prospects() {
    use chrono::Duration as Span;
    use rapport::app::prospect_lists::{self, ImportRequest, Query};
    use rapport::app::sequences::{self as seq, Whom};
    use rapport::app::{mail, pipeline, reps, rules, sources, status, suggestions, tasks};
    use rapport::domain::event::{Actor as Recorded, NewEvent};
    use rapport::store::{EnrolmentUpdate, NewEnrolment, NewSend, NewSuggestion, NewTask, PacingGuard, SendStart};

    let (ws, url) = common::ann_and_bob();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url, Duration::from_secs(5), 2).await.expect("store"));
    let now: chrono::DateTime<chrono::Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
    let core = Core {
        store: store.clone(),
        settings: Arc::new(rapport::config::load(Some(&ws.path("config/rapport.toml"))).expect("settings")),
        clock: Arc::new(FixedClock(now)),
    };
    let all = store.list_reps().await.unwrap();
    let ann = all.iter().find(|r| r.email == "ann@example.com").unwrap().clone();
    let bob = all.iter().find(|r| r.email == "bob@example.com").unwrap().clone();
    let as_ann = Actor::Rep {
        id: ann.id,
        name: "ann".into(),
    };
    let team = Actor::Team { name: "manager".into() };
    let raj_ref = ProspectRef::Email("raj@globex.com".into());
    let raj = store.find_prospect(RepScope::Team, &raj_ref).await.unwrap();

    // Bob's world: an enrolment with a send cut off (unknown), a paused
    // mailbox, a task, a suggestion and an unverified report about Raj.
    let system = Recorded::System("test".into());
    let enrolment = NewEnrolment {
        prospect_id: raj.id,
        sequence: "example".into(),
        variant: 0,
        next_due_at: now,
    };
    let enrolment = store.enroll(&enrolment, &system, now).await.unwrap().unwrap();
    let send = NewSend {
        enrolment_id: enrolment,
        prospect_id: raj.id,
        rep_id: bob.id,
        sequence: "example".into(),
        step: 0,
        retry: false,
        message_id: "cut@example.com".into(),
        to_email: "raj@globex.com".into(),
        subject: "Hello".into(),
        transport: "smtp",
        fence: None,
        lease_until: now,
        pacing: PacingGuard {
            day: (now - Span::hours(9), now + Span::hours(15)),
            daily_cap: 10,
            min_gap: Span::zero(),
        },
    };
    let SendStart::Started(row) = store.begin_send(&send, now).await.unwrap() else {
        panic!("the send starts")
    };
    let hold = EnrolmentUpdate::ended(0, "paused", "cut off");
    store
        .settle_send(row, "unknown", "cut off", &[], Some((enrolment, &hold)), now)
        .await
        .unwrap();
    store.pause_sending(bob.id, "5.7.1 blocked", now).await.unwrap();
    let task = NewTask {
        prospect_id: raj.id,
        rep_id: bob.id,
        enrolment_id: None,
        step: None,
        instruction: "Call Raj".into(),
        link: None,
        logs: "call".into(),
        due_at: now,
        key: Some("t1".into()),
        reason: None,
    };
    store.add_task(&task).await.unwrap();
    let suggestion = NewSuggestion {
        prospect_id: raj.id,
        rule: "r".into(),
        from_stage: "prospecting".into(),
        to_stage: "qualification".into(),
        reason: "replied".into(),
        key: "s1".into(),
        person: None,
    };
    store.add_suggestion(&suggestion, now).await.unwrap();
    let unverified = NewEvent {
        prospect_id: raj.id,
        kind: "email.unverified".into(),
        occurred_at: now - Span::hours(1),
        source_key: "u1".into(),
        actor: system.clone(),
        data: serde_json::json!({ "report": "hard_bounce", "from": "x@y", "subject": "s", "unverified": "no send" })
            .into(),
    };
    store
        .append_event(RepScope::Team, &unverified, now - Span::hours(1))
        .await
        .unwrap();

    let not_found = |result: Result<(), AppError>, what: &str| {
        assert!(
            matches!(result, Err(AppError::Store(StoreError::NotFound(_)))),
            "{what}: {result:?}"
        );
    };
    let refused = |result: Result<(), AppError>, what: &str| {
        assert!(matches!(result, Err(AppError::Invalid(_))), "{what}: {result:?}");
    };

    // Sequences.
    let whom = Whom::Listed(vec![raj_ref.clone()]);
    not_found(
        seq::enroll(&core, &as_ann, "example", &whom, true, &()).await.map(drop),
        "enrol",
    );
    not_found(
        seq::preview_subject(&core, &as_ann, "example", &raj_ref)
            .await
            .map(drop),
        "preview",
    );
    let standing = seq::standing(&core, &as_ann, None).await.unwrap();
    assert!(standing.enrolments.is_empty() && standing.pauses.is_empty(), "standing");
    assert!(seq::outbox(&core, &as_ann, None).await.unwrap().is_empty(), "outbox");
    not_found(seq::resolve(&core, &as_ann, row, true).await.map(drop), "resolve");
    not_found(seq::resume(&core, &as_ann, &bob).await.map(drop), "resume");
    let team_standing = seq::standing(&core, &team, None).await.unwrap();
    assert_eq!((team_standing.enrolments.len(), team_standing.pauses.len()), (1, 1));
    assert_eq!(seq::outbox(&core, &team, Some("unknown")).await.unwrap().len(), 1);

    // Lists, import, forecast, rules, feeds, mail, status, reps.
    let names =
        |listed: Vec<prospect_lists::Listed>| listed.into_iter().map(|l| l.prospect.data.name).collect::<Vec<_>>();
    assert_eq!(
        names(prospect_lists::list(&core, &as_ann, &Query::default()).await.unwrap()),
        ["Jane Doe"]
    );
    assert_eq!(
        prospect_lists::find(&core, &team, &Query::default())
            .await
            .unwrap()
            .len(),
        2
    );
    let csv = b"name,email\nNia Obi,nia@initech.io\n";
    let request = ImportRequest {
        bytes: csv,
        file_name: "leads.csv".into(),
        rep: &bob,
        pipeline: None,
        stage: None,
        strict: false,
    };
    refused(
        prospect_lists::import(&core, &as_ann, request, &()).await.map(drop),
        "import for Bob",
    );
    let forecast = pipeline::forecast(&core, &as_ann, None, true).await.unwrap();
    assert_eq!(
        forecast.main.stages.iter().map(|s| s.count).sum::<usize>(),
        1,
        "Ann's deals only"
    );
    let (_, fired) = rules::dry_run(&core, &as_ann, None).await.unwrap();
    assert!(fired.iter().all(|f| f.prospect != raj.id), "rules dry run");
    assert!(sources::list(&core, &as_ann, false)
        .await
        .unwrap()
        .iter()
        .all(|s| s.prospect_id != raj.id));
    not_found(
        sources::prospect_to_poll(&core, &as_ann, &raj_ref).await.map(drop),
        "poll now",
    );
    let (_, reports) = mail::status(&core, &as_ann).await.unwrap();
    assert!(reports.is_empty(), "unverified reports");
    assert_eq!(mail::status(&core, &team).await.unwrap().1.len(), 1);
    let overview = status::overview(&core, &as_ann).await.unwrap();
    assert_eq!((overview.paused.len(), overview.outbox_unknown), (0, 0), "status");
    let overview = status::overview(&core, &team).await.unwrap();
    assert_eq!((overview.paused.len(), overview.outbox_unknown), (1, 1));
    refused(
        reps::add(&core, &as_ann, "Eve", "eve@example.com", "UTC", 7, "en")
            .await
            .map(drop),
        "adding a rep",
    );

    // Tasks and suggestions.
    assert!(tasks::list(&core, &as_ann, true).await.unwrap().is_empty(), "tasks");
    assert_eq!(tasks::list(&core, &team, true).await.unwrap().len(), 1);
    assert!(
        suggestions::open(&core, &as_ann).await.unwrap().is_empty(),
        "suggestions"
    );
    assert_eq!(suggestions::open(&core, &team).await.unwrap().len(), 1);

    // Nothing of Bob's changed.
    assert_eq!(store.sending_pauses().await.unwrap().len(), 1);
    assert_eq!(
        store.list_outbox(RepScope::Team, Some("unknown")).await.unwrap().len(),
        1
    );
    assert_eq!(store.running_sequences_of(&[raj.id]).await.unwrap().len(), 1);
}
