//! The store contract: Enrolments, the outbox, sending pauses, tasks, one-click unsubscribe and local keys.

use super::*;

pub fn enrolment(prospect: ProspectId, due: DateTime<Utc>) -> NewEnrolment {
    NewEnrolment {
        prospect_id: prospect,
        sequence: "cold-intro".into(),
        variant: 0,
        next_due_at: due,
    }
}

pub async fn enrolments(store: &dyn Store) {
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
    let claimed = store.claim_due_enrolments("test", t0(), lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 2, "Lee is due tomorrow");
    assert!(store
        .claim_due_enrolments("test", t0(), lease, 10)
        .await
        .unwrap()
        .is_empty());
    let claims: Vec<_> = claimed.iter().map(|e| (e.id, lease)).collect();
    store.release_enrolments(&claims, t0()).await.unwrap();
    let one = store.claim_due_enrolments("test", t0(), lease, 1).await.unwrap();
    assert_eq!(one.len(), 1, "limit");
    // The sending pass's heartbeat: a claim still carrying its lease is
    // extended; one given back (or dealt with) since is not.
    let given_back = claims.iter().find(|c| c.0 != one[0].id).unwrap().0;
    let longer = lease + Duration::minutes(2);
    assert_eq!(
        store
            .renew_enrolment_claims(&[(one[0].id, lease), (given_back, lease)], longer)
            .await
            .unwrap(),
        vec![one[0].id]
    );
    assert!(
        store
            .renew_enrolment_claims(&[(one[0].id, lease)], longer)
            .await
            .unwrap()
            .is_empty(),
        "the lease it was renewed from no longer holds"
    );
    assert_eq!(
        store
            .list_enrolments(RepScope::Team, None)
            .await
            .unwrap()
            .iter()
            .find(|e| e.id == one[0].id)
            .unwrap()
            .next_due_at,
        Some(longer)
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

pub fn send(enrolment: i64, prospect: ProspectId, rep: &Rep, message_id: &str, now: DateTime<Utc>) -> NewSend {
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
        fence: None,
        lease_until: now + Duration::minutes(1),
        pacing: PacingGuard {
            day: (now - Duration::hours(9), now + Duration::hours(15)),
            daily_cap: 2,
            min_gap: Duration::minutes(5),
        },
    }
}

pub fn sent_effect(prospect: ProspectId, message_id: &str, at: DateTime<Utc>) -> MailEffect {
    let mut effect = only_event(event(
        prospect,
        EMAIL_SENT,
        &format!("mail:{prospect}:{message_id}"),
        at,
    ));
    effect.sent_id = Some((message_id.into(), prospect));
    effect
}

pub async fn outbox(store: &dyn Store) {
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

pub async fn sending_pauses(store: &dyn Store) {
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

pub async fn tasks(store: &dyn Store) {
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
    let work = store.prospect_work(RepScope::Rep(ann.id), jane).await.unwrap();
    assert_eq!(
        work.tasks.iter().map(|t| t.instruction.as_str()).collect::<Vec<_>>(),
        ["Comment on Jane's post"]
    );
    assert!(store
        .prospect_work(RepScope::Rep(bob.id), jane)
        .await
        .unwrap()
        .tasks
        .is_empty());
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
        .reschedule_task(RepScope::Rep(ann.id), id, t0() + Duration::days(1), t0())
        .await
        .unwrap();
    assert_eq!(moved.due_at, t0() + Duration::days(1));
    assert_eq!((due[0].revision, due[0].modified_at), (0, None), "as made");
    let found = store.find_task(RepScope::Rep(ann.id), id).await.unwrap();
    assert_eq!(
        (found.revision, found.modified_at),
        (1, Some(t0())),
        "snoozing is a change"
    );
    not_found(
        store.reschedule_task(RepScope::Rep(bob.id), id, t0(), t0()).await,
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
        .list_events(RepScope::Team, jane)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "linkedin.comment"));
}

pub async fn unsubscribe_and_keys(store: &dyn Store) {
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
        .list_events(RepScope::Team, jane)
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
