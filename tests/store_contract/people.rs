//! The store contract: Reps, the forecast's reads, prospects, imports and scope.

use super::*;

pub async fn reps_and_forecast_reads(store: &dyn Store) {
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
    let moved = qualified(jane);
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

pub async fn prospects(store: &dyn Store) {
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
    let by_profile = store
        .find_prospect(RepScope::Team, &"https://jane.example/blog/".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(by_profile.id, id, "found by a profile URL, however it is spelled");
    not_found(
        store
            .find_prospect(
                RepScope::Team,
                &ProspectRef::Profile("https://jane.example/other".into()),
            )
            .await,
        "no such profile",
    );
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
    let events = store.list_events(RepScope::Team, id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == STAGE_CHANGED).count(), 1);

    assert!(!store.is_suppressed("jane@acme.io").await.unwrap());
    store.erase_prospect(RepScope::Team, id, t0()).await.unwrap();
    not_found(
        store.find_prospect(RepScope::Team, &ProspectRef::Id(id)).await,
        "erased",
    );
    assert!(
        store.list_events(RepScope::Team, id).await.unwrap().is_empty(),
        "nothing about them is kept"
    );
    assert!(store.is_suppressed(" Jane@Acme.io ").await.unwrap());
    let among = store
        .suppressed_among(&["jane@acme.io".into(), "raj@globex.com".into()])
        .await
        .unwrap();
    assert_eq!(among.into_iter().collect::<Vec<_>>(), ["jane@acme.io"]);
}

pub async fn import(store: &dyn Store) {
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
    let events = store.list_events(RepScope::Team, raj).await.unwrap();
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

pub async fn scope_holds(store: &dyn Store) {
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
    assert!(
        store.list_events(as_ann, raj).await.unwrap().is_empty(),
        "another rep's history"
    );
    assert!(!store.list_events(RepScope::Team, raj).await.unwrap().is_empty());
    assert_eq!(store.latest_post(as_ann, raj).await.unwrap().map(|p| p.url), None);
    let still = store
        .find_prospect(RepScope::Rep(bob.id), &ProspectRef::Id(raj))
        .await
        .unwrap();
    assert_eq!(still.data.stage, "prospecting");
}

pub async fn accounts(store: &dyn Store) {
    use rapport::domain::account::Role;
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let listed = store.accounts().await.unwrap();
    assert_eq!(
        listed.iter().map(|a| (a.email.as_str(), a.role)).collect::<Vec<_>>(),
        [("ann@example.com", Role::Admin), ("bob@example.com", Role::Rep)],
        "the first rep administers the install"
    );
    assert!(listed.iter().all(|a| !a.has_password && a.disabled_at.is_none()));
    assert!(store.credentials("nobody@example.com").await.unwrap().is_none());
    store
        .set_password(bob.id, "$argon2id$v=19$stand-in", t0())
        .await
        .unwrap();
    let bobs = store
        .credentials("BOB@example.com")
        .await
        .unwrap()
        .expect("by email, any case");
    assert_eq!(bobs.password_hash.as_deref(), Some("$argon2id$v=19$stand-in"));
    assert_eq!((bobs.rep_id, bobs.role, bobs.disabled), (bob.id, Role::Rep, false));
    store.set_role(bob.id, Role::Manager).await.unwrap();
    assert_eq!(
        store.credentials("bob@example.com").await.unwrap().unwrap().role,
        Role::Manager
    );
    not_found(store.set_role(9999, Role::Rep).await, "no such rep");
    not_found(store.set_password(9999, "x", t0()).await, "no such rep");

    let token = store.add_api_token(bob.id, "crm sync", "digest-1", t0()).await.unwrap();
    assert_eq!(
        (token.rep_id, token.name.as_str(), token.last_used_at),
        (bob.id, "crm sync", None)
    );
    let twice = store.add_api_token(bob.id, "crm sync", "digest-2", t0()).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    store.add_api_token(ann.id, "export", "digest-3", t0()).await.unwrap();
    assert_eq!(store.api_tokens(Some(bob.id)).await.unwrap().len(), 1);
    assert_eq!(store.api_tokens(None).await.unwrap().len(), 2);
    let later = t0() + Duration::hours(1);
    let owner = store
        .token_owner("digest-1", later)
        .await
        .unwrap()
        .expect("a live token");
    assert_eq!(owner.rep_id, bob.id);
    assert!(store.token_owner("digest-unknown", later).await.unwrap().is_none());
    assert_eq!(
        store.api_tokens(Some(bob.id)).await.unwrap()[0].last_used_at,
        Some(later)
    );
    assert!(store.revoke_api_token(bob.id, token.id, later).await.unwrap());
    assert!(
        !store.revoke_api_token(bob.id, token.id, later).await.unwrap(),
        "revoked once"
    );
    not_found(
        store.revoke_api_token(ann.id, token.id, later).await,
        "another rep's token",
    );
    assert!(store.token_owner("digest-1", later).await.unwrap().is_none(), "revoked");

    // Sessions: kept alive by use, ended idle, at their end, at logout, by a new password.
    let end = later + Duration::days(7);
    store
        .start_session(bob.id, "s1", "csrf-1", later, later + Duration::hours(1), end)
        .await
        .unwrap();
    let live = store
        .session("s1", later + Duration::minutes(50), later + Duration::hours(2))
        .await
        .unwrap();
    let live = live.expect("a live session");
    assert_eq!(
        (live.credentials.rep_id, live.csrf_token.as_str(), live.expires_at),
        (bob.id, "csrf-1", end)
    );
    let kept = store
        .session("s1", later + Duration::minutes(110), later + Duration::hours(3))
        .await
        .unwrap();
    assert!(kept.is_some(), "each use keeps it alive");
    let idle = store
        .session("s1", later + Duration::hours(4), later + Duration::hours(5))
        .await
        .unwrap();
    assert!(idle.is_none(), "idle past its time");
    assert!(!store.end_session("s1").await.unwrap(), "an ended session is gone");
    store
        .start_session(bob.id, "s2", "csrf-2", later, end, later + Duration::hours(2))
        .await
        .unwrap();
    let past = store.session("s2", later + Duration::hours(3), end).await.unwrap();
    assert!(past.is_none(), "past its absolute end");
    store
        .start_session(bob.id, "s3", "csrf-3", later, end, end)
        .await
        .unwrap();
    assert!(store.end_session("s3").await.unwrap());
    assert!(store.session("s3", later, end).await.unwrap().is_none(), "logged out");
    store
        .start_session(bob.id, "s4", "csrf-4", later, end, end)
        .await
        .unwrap();
    store
        .set_password(bob.id, "$argon2id$v=19$another", later)
        .await
        .unwrap();
    assert!(
        store.session("s4", later, end).await.unwrap().is_none(),
        "a new password ends it"
    );
    store
        .start_session(ann.id, "s5", "csrf-5", later, end, end)
        .await
        .unwrap();

    assert!(store.disable_rep(ann.id, later).await.unwrap());
    assert!(
        store.session("s5", later, end).await.unwrap().is_none(),
        "disabling ends it"
    );
    assert!(!store.disable_rep(ann.id, later).await.unwrap(), "disabled once");
    assert!(store.credentials("ann@example.com").await.unwrap().unwrap().disabled);
    assert!(
        store.token_owner("digest-3", later).await.unwrap().is_none(),
        "a disabled rep's tokens stop"
    );
    assert!(store.api_tokens(Some(ann.id)).await.unwrap()[0].revoked_at.is_some());
    not_found(store.disable_rep(9999, later).await, "no such rep");
}

pub async fn board_reads(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let lee = prospect(store, &ann, "Lee Kim", "lee@acme.io").await;
    let raj = prospect(store, &bob, "Raj Patel", "raj@globex.com").await;

    // A paged list: one rep's, after a cursor.
    let anns = ProspectFilter {
        rep: Some(ann.id),
        ..ProspectFilter::default()
    };
    let ids = |list: Vec<rapport::domain::prospect::Prospect>| list.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_prospects(RepScope::Team, &anns).await.unwrap()),
        [jane, lee]
    );
    let page_two = ProspectFilter {
        after: Some(jane),
        limit: Some(1),
        ..ProspectFilter::default()
    };
    assert_eq!(
        ids(store.list_prospects(RepScope::Team, &page_two).await.unwrap()),
        [lee]
    );
    let bobs_for_ann = ProspectFilter {
        rep: Some(bob.id),
        ..ProspectFilter::default()
    };
    assert!(
        store
            .list_prospects(RepScope::Rep(ann.id), &bobs_for_ann)
            .await
            .unwrap()
            .is_empty(),
        "a rep filter never widens a rep's scope"
    );

    // Since when each is in their stage, and their latest activity of the kinds asked.
    let moved = stage_change(
        jane,
        Some("prospecting"),
        "qualification",
        t0() + Duration::days(2),
        Actor::User("ann".into()),
        None,
    );
    store
        .move_prospect(
            RepScope::Team,
            jane,
            "prospecting",
            "default",
            "qualification",
            moved,
            t0() + Duration::days(2),
        )
        .await
        .unwrap();
    store
        .append_event(
            RepScope::Team,
            &event(jane, "call", "c1", t0() + Duration::days(3)),
            t0(),
        )
        .await
        .unwrap();
    store
        .append_event(RepScope::Team, &event(jane, POST, "p1", t0() + Duration::days(4)), t0())
        .await
        .unwrap();
    store
        .append_event(
            RepScope::Team,
            &event(jane, "note", "n1", t0() + Duration::days(5)),
            t0(),
        )
        .await
        .unwrap();
    let found = store
        .recency(RepScope::Team, &[jane, lee, raj], &["call", POST])
        .await
        .unwrap();
    assert_eq!(found[&jane].in_stage_since, Some(t0() + Duration::days(2)));
    assert_eq!(found[&jane].latest, Some((POST.to_string(), t0() + Duration::days(4))));
    assert_eq!(
        found[&lee].in_stage_since,
        Some(t0()),
        "created: in the first stage since then"
    );
    assert_eq!(found[&lee].latest, None);
    assert_eq!(found[&jane].reply, None, "no reply, no reading");
    // The latest reply's reading (an older one, and one read before intents, aside).
    let replied = |key: &str, days: i64, intent: serde_json::Value| NewEvent {
        kind: EMAIL_REPLIED.into(),
        data: json!({ "text": key, "intent": intent }).into(),
        ..event(lee, EMAIL_REPLIED, key, t0() + Duration::days(days))
    };
    for reply in [
        replied("r1", 1, json!({ "intent": "not_interested", "evidence": [] })),
        replied(
            "r2",
            3,
            json!({ "intent": "unsubscribe", "evidence": [], "contested_by": "interested" }),
        ),
    ] {
        store.append_event(RepScope::Team, &reply, t0()).await.unwrap();
    }
    let unread = NewEvent {
        data: json!({ "text": "old" }).into(),
        ..replied("r0", 2, json!(null))
    };
    store.append_event(RepScope::Team, &unread, t0()).await.unwrap();
    let read = store.recency(RepScope::Team, &[lee], &["call"]).await.unwrap();
    assert_eq!(
        read[&lee].reply,
        Some(ReplyReading {
            intent: Intent::Unsubscribe,
            contested: true
        })
    );
    let as_ann = store
        .recency(RepScope::Rep(ann.id), &[jane, raj], &["call"])
        .await
        .unwrap();
    assert!(
        as_ann.contains_key(&jane) && !as_ann.contains_key(&raj),
        "another rep's prospect reads as nothing"
    );
    assert!(store.recency(RepScope::Team, &[], &["call"]).await.unwrap().is_empty());
    // Columns summed in the store, and only the cards shown read: largest deal first.
    let big = ProspectData {
        value: Amount::from_units(250_000),
        probability_override: Some(90),
        ..data(&ann, "Big Deal", "big@acme.io")
    };
    let big = store
        .create_prospect(&big, &Actor::User("test".into()), t0())
        .await
        .unwrap();
    let in_default = ProspectFilter {
        pipeline: Some("default".into()),
        ..ProspectFilter::default()
    };
    let mut sums = store.stage_sums(RepScope::Rep(ann.id), &in_default).await.unwrap();
    sums.sort_by(|a, b| (&a.stage, a.probability_override).cmp(&(&b.stage, b.probability_override)));
    let summed: Vec<_> = sums
        .iter()
        .map(|s| (s.stage.as_str(), s.probability_override, s.count, s.value.0))
        .collect();
    assert_eq!(
        summed,
        [
            ("prospecting", None, 1, 10_000_000),
            ("prospecting", Some(90), 1, 25_000_000),
            ("qualification", None, 1, 10_000_000)
        ]
    );
    let team_sums = store.stage_sums(RepScope::Team, &in_default).await.unwrap();
    assert_eq!(team_sums.iter().map(|s| s.count).sum::<u64>(), 4);
    let cards = store
        .stage_cards(
            RepScope::Rep(ann.id),
            &in_default,
            &[("prospecting".into(), 1), ("qualification".into(), 5)],
        )
        .await
        .unwrap();
    assert_eq!(
        cards.iter().map(|p| p.id).collect::<Vec<_>>(),
        [big, jane],
        "the largest prospecting deal, then qualification"
    );
    let bobs_cards = store
        .stage_cards(RepScope::Rep(bob.id), &in_default, &[("prospecting".into(), 50)])
        .await
        .unwrap();
    assert_eq!(bobs_cards.iter().map(|p| p.id).collect::<Vec<_>>(), [raj]);
    let activity = store.activity_of(RepScope::Team, &[jane], t0()).await.unwrap();
    assert_eq!(activity.iter().filter(|(p, _, _)| *p == jane).count(), activity.len());
    assert!(activity.iter().any(|(_, kind, _)| kind == POST));
    assert!(
        store
            .activity_of(RepScope::Rep(bob.id), &[jane], t0())
            .await
            .unwrap()
            .is_empty(),
        "another rep's"
    );
    let work = store.prospect_work(RepScope::Rep(ann.id), jane).await.unwrap();
    assert!(work.tasks.is_empty() && work.enrolments.is_empty() && work.suggestions.is_empty());
    let hidden = store.prospect_work(RepScope::Rep(bob.id), jane).await.unwrap();
    assert!(hidden.tasks.is_empty(), "another rep's prospect shows nothing");
    let latest_ann = store.latest_event_id(RepScope::Rep(ann.id)).await.unwrap();
    let latest_bob = store.latest_event_id(RepScope::Rep(bob.id)).await.unwrap();
    assert!(latest_ann > latest_bob && latest_bob > 0, "{latest_ann} {latest_bob}");
    assert_eq!(store.latest_event_id(RepScope::Team).await.unwrap(), latest_ann);
    store
        .append_event(RepScope::Team, &event(raj, "call", "c2", t0()), t0())
        .await
        .unwrap();
    assert_eq!(
        store.latest_event_id(RepScope::Rep(ann.id)).await.unwrap(),
        latest_ann,
        "Bob's news is not Ann's"
    );
    assert!(store.latest_event_id(RepScope::Rep(bob.id)).await.unwrap() > latest_ann);
}

pub async fn rep_preferences(store: &dyn Store) {
    let kim = rep(store, "Kim Rep", "kim@example.com").await;
    let changed = store
        .set_rep_preferences(kim.id, "America/New_York", 8, Language::Nb)
        .await
        .unwrap();
    assert_eq!(
        (changed.time_zone.as_str(), changed.digest_hour, changed.language),
        ("America/New_York", 8, Language::Nb)
    );
    let listed = store.list_reps().await.unwrap();
    assert_eq!(
        listed.iter().find(|r| r.id == kim.id).unwrap().time_zone,
        "America/New_York"
    );
    not_found(
        store.set_rep_preferences(9999, "UTC", 7, Language::En).await,
        "no such rep",
    );
    assert_eq!(store.rep_zone(kim.id).await.unwrap(), chrono_tz::America::New_York);
    assert_eq!(
        store.rep_zone(9999).await.unwrap(),
        chrono_tz::UTC,
        "no such rep: days still resolve"
    );
}
