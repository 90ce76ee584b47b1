//! The store contract: The rules' cursor, suggestions and firings, digests, and closing.

use super::*;

pub async fn rules(store: &dyn Store) {
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
        person: None,
    };
    assert!(store.add_suggestion(&suggestion, t0()).await.unwrap());
    assert!(
        !store.add_suggestion(&suggestion, t0()).await.unwrap(),
        "suggested once"
    );
    let open = store.open_suggestions(RepScope::Rep(ann.id)).await.unwrap();
    assert_eq!(open.len(), 1);
    let work = store.prospect_work(RepScope::Rep(ann.id), jane).await.unwrap();
    assert_eq!(work.suggestions.len(), 1);
    assert!(store
        .prospect_work(RepScope::Rep(bob.id), jane)
        .await
        .unwrap()
        .suggestions
        .is_empty());
    assert!(store.open_suggestions(RepScope::Rep(bob.id)).await.unwrap().is_empty());
    let id = open[0].id;
    let move_event = qualified(jane);
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

    // A person a reply names, suggested as a prospect; approving links the two.
    let maria = SuggestedPerson {
        name: Some("Maria Berg".into()),
        email: Some("maria@acme.io".into()),
        company: Some("Acme".into()),
    };
    let referral = NewSuggestion {
        key: "referral:3".into(),
        to_stage: String::new(),
        person: Some(maria.clone()),
        ..second
    };
    assert!(store.add_suggestion(&referral, t0()).await.unwrap());
    let open = store.open_suggestions(RepScope::Rep(ann.id)).await.unwrap();
    assert_eq!(
        open[0].person.as_ref(),
        Some(&maria),
        "the prefill comes back as stored"
    );
    assert_eq!(open[0].created_prospect_id, None);
    let stage_approval = SuggestionDecision::Approve {
        by: "ann".into(),
        move_event: qualified(jane),
    };
    conflict(
        store
            .decide_suggestion(RepScope::Rep(ann.id), open[0].id, stage_approval, t0())
            .await,
        "approving a person as a stage change",
    );
    let added = prospect(store, &ann, "Maria Berg", "maria@acme.io").await;
    let decided = store
        .decide_suggestion(
            RepScope::Rep(ann.id),
            open[0].id,
            SuggestionDecision::Added {
                by: "ann".into(),
                prospect: added,
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(decided.created_prospect_id, Some(added));
    assert_eq!(decided.prospect_id, jane, "referred by Jane");
    assert!(store.open_suggestions(RepScope::Team).await.unwrap().is_empty());
    // The person added may be erased (the suggestion naming them goes with them).
    store.erase_prospect(RepScope::Team, added, t0()).await.unwrap();

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

pub async fn digests(store: &dyn Store) {
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

pub async fn close(store: &dyn Store) {
    rep(store, "Ann Rep", "ann@example.com").await;
    store.close().await;
}

pub async fn idempotency_keys(store: &dyn Store) {
    use rapport::store::IdempotentClaim;
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let long_ago = t0() - Duration::days(2);
    let claim = |rep: i64, key: &'static str, digest: &'static str, now| async move {
        store
            .claim_idempotency_key(rep, key, digest, now, now - Duration::days(1))
            .await
            .unwrap()
    };
    assert_eq!(claim(ann.id, "k1", "d1", t0()).await, IdempotentClaim::Claimed);
    assert_eq!(
        claim(ann.id, "k1", "d1", t0()).await,
        IdempotentClaim::InProgress,
        "not answered yet"
    );
    assert_eq!(claim(ann.id, "k1", "d2", t0()).await, IdempotentClaim::OtherRequest);
    assert_eq!(
        claim(bob.id, "k1", "d2", t0()).await,
        IdempotentClaim::Claimed,
        "keys are per rep"
    );
    store
        .answer_idempotency_key(ann.id, "k1", 201, "{\"id\":7}")
        .await
        .unwrap();
    assert_eq!(
        claim(ann.id, "k1", "d1", t0()).await,
        IdempotentClaim::Answered {
            status: 201,
            body: "{\"id\":7}".into()
        }
    );
    // Released (a failure on rapport's side): the retry claims it afresh.
    store.release_idempotency_key(bob.id, "k1").await.unwrap();
    assert_eq!(claim(bob.id, "k1", "d3", t0()).await, IdempotentClaim::Claimed);
    // An answered key is not released, and a day later it is forgotten.
    store.release_idempotency_key(ann.id, "k1").await.unwrap();
    assert!(matches!(
        claim(ann.id, "k1", "d1", t0()).await,
        IdempotentClaim::Answered { .. }
    ));
    assert_eq!(claim(ann.id, "old", "d1", long_ago).await, IdempotentClaim::Claimed);
    assert_eq!(
        claim(ann.id, "k1", "d9", t0() + Duration::days(2)).await,
        IdempotentClaim::Claimed,
        "forgotten after a day"
    );
}

pub async fn unmatched_deliveries(store: &dyn Store) {
    use rapport::store::UnmatchedDelivery;
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    let delivery = |email: &str, rep_id: Option<i64>, received_at| UnmatchedDelivery {
        id: 0,
        provider: "calendly".into(),
        kind: "meeting.booked".into(),
        email: email.into(),
        source_key: "calendly:https://api.calendly.com/invitees/IN1:invitee.created".into(),
        summary: "Intro call (Calendly)".into(),
        occurred_at: t0(),
        starts_at: Some(t0() + Duration::days(2)),
        rep_id,
        received_at,
    };
    assert!(store
        .keep_unmatched(&delivery("new@lead.example", Some(ann.id), t0()))
        .await
        .unwrap());
    assert!(
        !store
            .keep_unmatched(&delivery("new@lead.example", Some(ann.id), t0()))
            .await
            .unwrap(),
        "the same fact for the same address is kept once"
    );
    assert!(store
        .keep_unmatched(&delivery("other@lead.example", None, t0()))
        .await
        .unwrap());
    assert!(
        store
            .keep_unmatched(&delivery("gone@lead.example", Some(999), t0() - Duration::days(40)))
            .await
            .unwrap(),
        "an organiser who is no rep (any more) leaves it to the team"
    );
    let anns = store.list_unmatched(RepScope::Rep(ann.id)).await.unwrap();
    assert_eq!(anns.len(), 1);
    let kept = &anns[0];
    assert_eq!(
        (kept.email.as_str(), kept.rep_id, kept.starts_at),
        ("new@lead.example", Some(ann.id), Some(t0() + Duration::days(2)))
    );
    assert_eq!(store.list_unmatched(RepScope::Team).await.unwrap().len(), 3);
    assert!(store.list_unmatched(RepScope::Rep(bob.id)).await.unwrap().is_empty());
    assert_eq!(
        store.find_unmatched(RepScope::Rep(ann.id), kept.id).await.unwrap(),
        *kept
    );
    assert!(matches!(
        store.find_unmatched(RepScope::Rep(bob.id), kept.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        !store.drop_unmatched(RepScope::Rep(bob.id), kept.id).await.unwrap(),
        "not Bob's"
    );
    assert!(store.drop_unmatched(RepScope::Rep(ann.id), kept.id).await.unwrap());
    assert_eq!(store.drop_unmatched_before(t0() - Duration::days(30)).await.unwrap(), 1);
    assert_eq!(store.list_unmatched(RepScope::Team).await.unwrap().len(), 1);
}

pub async fn calendar_tokens(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let bob = rep(store, "Bob Rep", "bob@example.com").await;
    assert_eq!(store.calendar_generation(ann.id).await.unwrap(), None);
    store.set_calendar_token(ann.id, 1, "hash-1", t0()).await.unwrap();
    store.set_calendar_token(bob.id, 1, "hash-b", t0()).await.unwrap();
    assert_eq!(store.calendar_generation(ann.id).await.unwrap(), Some(1));
    assert_eq!(store.calendar_owner("hash-1").await.unwrap(), Some(ann.id));
    store.set_calendar_token(ann.id, 2, "hash-2", t0()).await.unwrap();
    assert_eq!(
        store.calendar_owner("hash-1").await.unwrap(),
        None,
        "rotated: the old token opens nothing"
    );
    assert_eq!(store.calendar_owner("hash-2").await.unwrap(), Some(ann.id));
    assert_eq!(store.calendar_generation(ann.id).await.unwrap(), Some(2));
    assert!(store.revoke_calendar_token(ann.id).await.unwrap());
    assert!(!store.revoke_calendar_token(ann.id).await.unwrap());
    assert_eq!(store.calendar_owner("hash-2").await.unwrap(), None);
    assert_eq!(
        store.calendar_owner("hash-b").await.unwrap(),
        Some(bob.id),
        "Bob's stays"
    );
}

pub async fn ops_counts(store: &dyn Store) {
    let ann = rep(store, "Ann Rep", "ann@example.com").await;
    let empty = store.ops_snapshot().await.unwrap();
    assert!(empty.events_by_kind.is_empty() && empty.outbox_by_state.is_empty());
    assert!(empty.database_bytes > 0);
    prospect(store, &ann, "Jane Doe", "jane@acme.io").await;
    prospect(store, &ann, "Raj Patel", "raj@globex.com").await;
    let snapshot = store.ops_snapshot().await.unwrap();
    assert_eq!(snapshot.events_by_kind, vec![(PROSPECT_CREATED.to_string(), 2)]);
    assert_eq!(snapshot.unmatched_deliveries, 0);
}

pub async fn webhook_deliveries(store: &dyn Store) {
    use rapport::store::{Attempt, NewDelivery};
    assert_eq!(store.webhook_cursor("e1").await.unwrap(), None);
    let new = |event_id: i64| NewDelivery {
        event_id,
        message_id: format!("msg_e1_{event_id}"),
        payload: "{}".into(),
    };
    assert_eq!(store.queue_webhooks("e1", &[], 7, t0()).await.unwrap(), 0);
    assert_eq!(store.webhook_cursor("e1").await.unwrap(), Some(7));
    assert_eq!(store.queue_webhooks("e1", &[new(8), new(9)], 9, t0()).await.unwrap(), 2);
    assert_eq!(
        store.queue_webhooks("e1", &[new(9)], 5, t0()).await.unwrap(),
        0,
        "once per event"
    );
    assert_eq!(
        store.webhook_cursor("e1").await.unwrap(),
        Some(9),
        "the cursor never goes back"
    );
    let claimed = store
        .claim_webhooks("test", t0(), t0() + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|d| d.event_id).collect::<Vec<_>>(), [8, 9]);
    assert!(
        store
            .claim_webhooks("test", t0(), t0() + Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    store
        .settle_webhook(claimed[0].claim(), &Attempt::Delivered, t0())
        .await
        .unwrap();
    let retry = Attempt::Retry {
        at: t0() + Duration::seconds(5),
        error: "HTTP 500".into(),
    };
    store.settle_webhook(claimed[1].claim(), &retry, t0()).await.unwrap();
    assert!(store
        .claim_webhooks("test", t0() + Duration::seconds(4), t0() + Duration::minutes(5), 10)
        .await
        .unwrap()
        .is_empty());
    let again = store
        .claim_webhooks("test", t0() + Duration::seconds(5), t0() + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(
        (again.len(), again[0].attempts, again[0].last_error.as_deref()),
        (1, 1, Some("HTTP 500"))
    );
    assert!(
        !store
            .settle_webhook(claimed[1].claim(), &Attempt::Delivered, t0())
            .await
            .unwrap(),
        "the earlier claim's late result is refused: the delivery was claimed again"
    );
    store
        .settle_webhook(
            again[0].claim(),
            &Attempt::GaveUp {
                error: "HTTP 500".into(),
            },
            t0(),
        )
        .await
        .unwrap();
    assert!(!store.settle_webhook(claimed[0].claim(), &retry, t0()).await.unwrap());
    let delivered = store.list_webhooks(Some("delivered"), 10).await.unwrap();
    assert_eq!(
        (delivered.len(), delivered[0].state.as_str()),
        (1, "delivered"),
        "a settled delivery stays settled"
    );
    assert_eq!(store.list_webhooks(Some("gave_up"), 10).await.unwrap().len(), 1);
    assert_eq!(store.list_webhooks(None, 10).await.unwrap().len(), 2);
}

pub async fn login_lockouts(store: &dyn Store) {
    use rapport::domain::lockout::Policy;
    use rapport::store::LockoutKind::{Account, Client};
    let policy = Policy {
        failures: 3,
        window: Duration::minutes(15),
    };
    assert_eq!(
        store
            .login_locked_until(Account, "ann@example.com", t0())
            .await
            .unwrap(),
        None
    );
    for n in 0..2 {
        let at = t0() + Duration::minutes(n);
        assert_eq!(
            store
                .record_login_failure(Account, "ann@example.com", policy, at)
                .await
                .unwrap(),
            None
        );
    }
    let until = store
        .record_login_failure(Account, "ann@example.com", policy, t0() + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(until, Some(t0() + Duration::minutes(17)));
    assert_eq!(
        store
            .login_locked_until(Account, "ann@example.com", t0() + Duration::minutes(5))
            .await
            .unwrap(),
        until
    );
    assert_eq!(
        store.login_locked_until(Client, "ann@example.com", t0()).await.unwrap(),
        None,
        "kinds apart"
    );
    assert_eq!(
        store
            .login_locked_until(Account, "ann@example.com", t0() + Duration::minutes(17))
            .await
            .unwrap(),
        None,
        "open at the time told"
    );
    store
        .record_login_failure(Client, "203.0.113.7", policy, t0())
        .await
        .unwrap();
    store.clear_login_failures(Account, "ann@example.com").await.unwrap();
    assert_eq!(
        store.forget_login_failures(t0() + Duration::days(2)).await.unwrap(),
        1,
        "the client's, gone"
    );
}
