//! The store contract: Events, job runs, mail folders and feed sources.

use super::*;

pub async fn events(store: &dyn Store) {
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

    let janes = store.list_events(RepScope::Team, jane).await.unwrap();
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

pub async fn jobs(store: &dyn Store) {
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

pub async fn mail_folders(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let jane = prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    let lease = t0() + Duration::minutes(10);

    // The mailbox's watch (one IDLE connection across daemons).
    let watch = |owner: &'static str, now: DateTime<Utc>| {
        store.hold_mailbox_watch("ann", owner, now, now + Duration::minutes(1))
    };
    assert!(watch("daemon-a", t0()).await.unwrap(), "a free watch is taken");
    assert!(
        !watch("daemon-b", t0()).await.unwrap(),
        "held by another until its lease ends"
    );
    assert!(
        watch("daemon-a", t0() + Duration::seconds(20)).await.unwrap(),
        "its holder renews it"
    );
    assert!(
        !watch("daemon-b", t0() + Duration::seconds(70)).await.unwrap(),
        "renewed: still held"
    );
    assert!(
        watch("daemon-b", t0() + Duration::seconds(81)).await.unwrap(),
        "taken over once it ran out"
    );
    store.release_mailbox_watch("ann", "daemon-a").await.unwrap();
    assert!(
        !watch("daemon-a", t0() + Duration::seconds(82)).await.unwrap(),
        "only its holder gives it up"
    );
    store.release_mailbox_watch("ann", "daemon-b").await.unwrap();
    assert!(
        watch("daemon-a", t0() + Duration::seconds(83)).await.unwrap(),
        "given up: taken at once"
    );
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
        effects: vec![only_event(reply), sent, challenged(jane)],
    };
    assert_eq!(store.record_mail("ann", "INBOX", &batch, t0()).await.unwrap(), 3);
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
    // The challenge's task, made once although the batch was recorded twice.
    let tasks = store.due_tasks(RepScope::Rep(ann.id), t0()).await.unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].link.as_deref(), Some("https://filter.example/verify?id=1"));
    assert_eq!(tasks[0].logs, EMAIL_VERIFIED);

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

pub fn schedule(at: DateTime<Utc>) -> PollSchedule {
    PollSchedule {
        interval_secs: 3600,
        consecutive_failures: 0,
        broken: false,
        next_poll_at: at,
    }
}

pub async fn sources(store: &dyn Store) {
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
    let claimed = store.claim_due_sources("a", now, lease, None, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due_sources("b", now, lease, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "claimed once"
    );
    store.release_sources(&[claimed[0].claim()], now).await.unwrap();
    let again = store.claim_due_sources("a", now, lease, Some(jane), 10).await.unwrap();
    assert_eq!(again.len(), 1, "given back, it is due again");
    assert!(again[0].fence > claimed[0].fence, "each claim a new fencing number");
    assert_eq!(
        store
            .renew_source_claims(&[again[0].claim(), claimed[0].claim()], lease + Duration::minutes(5))
            .await
            .unwrap(),
        1,
        "the live claim is renewed, the stale one is not"
    );
    assert_eq!(
        store.list_sources(RepScope::Team, false).await.unwrap()[0].next_poll_at,
        lease + Duration::minutes(5)
    );
    store.release_sources(&[claimed[0].claim()], now).await.unwrap();
    assert!(
        store
            .claim_due_sources("b", now, lease, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "a stale claim gives back nothing: the source stays with its holder"
    );
    // Given back for later (a busy host's turn): due at that time, not before; a stale claim defers nothing.
    let later = now + Duration::minutes(30);
    assert_eq!(store.defer_sources(&[(claimed[0].claim(), later)]).await.unwrap(), 0);
    assert_eq!(store.defer_sources(&[(again[0].claim(), later)]).await.unwrap(), 1);
    assert_eq!(
        store.list_sources(RepScope::Team, false).await.unwrap()[0].next_poll_at,
        later
    );
    assert!(store
        .claim_due_sources("b", now, lease, None, 10)
        .await
        .unwrap()
        .is_empty());
    let again = store
        .claim_due_sources("a", later, later + Duration::minutes(5), None, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "due at its new time");

    let post = NewEvent {
        data: json!({ "title": "Why we moved to Rust", "url": "https://jane.example/rust", "published": now }).into(),
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
        store
            .record_polls(&[(again[0].claim(), record.clone())], now)
            .await
            .unwrap(),
        [Some(1)]
    );
    let polled = store.list_sources(RepScope::Team, false).await.unwrap();
    assert_eq!(polled[0].feed_url.as_deref(), Some("https://jane.example/feed.xml"));
    assert_eq!(
        store.renew_source_claims(&[again[0].claim()], lease).await.unwrap(),
        0,
        "a written poll's claim is over"
    );
    assert_eq!(polled[0].validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        polled[0].next_poll_at,
        now + Duration::hours(1),
        "new posts: the if-new schedule"
    );
    assert!(polled[0].first_poll_done);
    assert_eq!(
        store
            .record_polls(&[(again[0].claim(), record.clone())], now)
            .await
            .unwrap(),
        [Some(0)]
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
    store.record_polls(&[(again[0].claim(), broken)], now).await.unwrap();
    let broken = store.list_sources(RepScope::Team, true).await.unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].last_error.as_deref(), Some("404"));

    let latest = store
        .latest_post(RepScope::Team, jane)
        .await
        .unwrap()
        .expect("her post");
    assert_eq!(latest.title, "Why we moved to Rust");
    assert_eq!(latest.url, "https://jane.example/rust");
    let posts = store.latest_posts(&[jane]).await.unwrap();
    assert_eq!(posts[&jane].url, "https://jane.example/rust");
}

/// A challenge/response filter's hold on mail to `prospect`, with its task.
fn challenged(prospect: ProspectId) -> MailEffect {
    MailEffect {
        task: Some(MailTask {
            prospect,
            instruction: "verify yourself with their spam filter".into(),
            link: Some("https://filter.example/verify?id=1".into()),
            logs: EMAIL_VERIFIED.into(),
            key: "challenge:mail:jane:challenge-1@filter.example".into(),
        }),
        ..only_event(event(
            prospect,
            EMAIL_CHALLENGED,
            "mail:jane:challenge-1@filter.example",
            t0(),
        ))
    }
}
