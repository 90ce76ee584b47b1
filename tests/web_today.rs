//! The Today page and the board's live updates over HTTP: tasks done and
//! put off, suggestions approved and rejected (another rep's: 404), and the
//! event stream that tells the board something new was recorded.

mod common;

use common::app::{spawn_app, TestApp};
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::tasks::{self, When};
use rapport::app::Actor;
use rapport::domain::prospect::{ProspectId, ProspectRef};
use rapport::store::NewSuggestion;

const PASSWORD: &str = "correct horse battery";

async fn add(app: &TestApp, actor: &Actor, name: &str, stage: &str) -> ProspectId {
    prospect_edit::add(
        &app.core,
        actor,
        AddProspect {
            name: name.into(),
            stage: Some(stage.into()),
            value: Some("10000".into()),
            ..AddProspect::default()
        },
    )
    .await
    .expect("a prospect")
    .prospect
    .id
}

async fn suggest(app: &TestApp, prospect: ProspectId, key: &str) {
    app.store
        .add_suggestion(
            &NewSuggestion {
                prospect_id: prospect,
                rule: "reply-qualifies".into(),
                from_stage: "prospecting".into(),
                to_stage: "qualification".into(),
                reason: "a human reply".into(),
                key: key.into(),
                person: None,
            },
            app.now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn today_lists_what_is_due_and_each_item_has_its_action() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let (_, bob) = app.account("Bob", "bob@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "prospecting").await;
    let ola = add(&app, &ann, "Ola Berg", "prospecting").await;
    let bobs = add(&app, &bob, "Raj Patel", "prospecting").await;
    tasks::remind(
        &app.core,
        &ann,
        &ProspectRef::Id(pia),
        When::In("30m".into()),
        "send the deck",
    )
    .await
    .unwrap();
    tasks::remind(
        &app.core,
        &ann,
        &ProspectRef::Id(ola),
        When::In("30m".into()),
        "ask for a call",
    )
    .await
    .unwrap();
    tasks::remind(
        &app.core,
        &bob,
        &ProspectRef::Id(bobs),
        When::In("30m".into()),
        "bob's own",
    )
    .await
    .unwrap();
    suggest(&app, pia, "s-pia").await;
    suggest(&app, ola, "s-ola").await;
    suggest(&app, bobs, "s-bob").await;
    app.clock.advance(chrono::Duration::hours(1));

    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get("/today").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("send the deck") && page.body.contains("ask for a call"));
    assert!(
        !page.body.contains("bob's own") && !page.body.contains("Raj Patel"),
        "only Ann's"
    );
    assert!(page.body.contains("prospecting → qualification"));
    let csrf = page.csrf();
    let task = |text: &str| {
        let at = page.body.find(text).unwrap();
        let start = page.body[..at].rfind("id=\"task-").unwrap() + "id=\"task-".len();
        page.body[start..start + page.body[start..].find('"').unwrap()].to_string()
    };
    let (deck, call) = (task("send the deck"), task("ask for a call"));
    let done = browser.post(&format!("/tasks/{deck}/done"), &[("csrf", &csrf)]).await;
    assert_eq!((done.status, done.header("location").as_str()), (303, "/today"));
    let snoozed = browser
        .post(&format!("/tasks/{call}/snooze"), &[("span", "1d"), ("csrf", &csrf)])
        .await;
    assert_eq!(snoozed.status, 303);
    let after = browser.get("/today").await;
    assert!(
        !after.body.contains("send the deck") && !after.body.contains("ask for a call"),
        "done and put off"
    );

    let ids: Vec<String> = page
        .body
        .match_indices("id=\"suggestion-")
        .map(|(i, m)| {
            let s = i + m.len();
            page.body[s..s + page.body[s..].find('"').unwrap()].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    let approved = browser
        .post(
            &format!("/suggestions/{}", ids[0]),
            &[("decision", "approve"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(approved.status, 303);
    let rejected = browser
        .post(
            &format!("/suggestions/{}", ids[1]),
            &[("decision", "reject"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(rejected.status, 303);
    let stages: Vec<String> = {
        let team = Actor::Team { name: "t".into() };
        let mut s = Vec::new();
        for id in [pia, ola] {
            let view = rapport::app::prospects::show(&app.core, &team, &ProspectRef::Id(id))
                .await
                .unwrap();
            s.push(view.prospect.data.stage);
        }
        s
    };
    assert_eq!(stages.iter().filter(|s| *s == "qualification").count(), 1, "{stages:?}");
    assert!(!browser.get("/today").await.body.contains("prospecting → qualification"));

    // Bob's task and suggestion are not Ann's to decide.
    let bobs_suggestion = app
        .store
        .open_suggestions(rapport::store::RepScope::Team)
        .await
        .unwrap()[0]
        .id;
    let refused = browser
        .post(
            &format!("/suggestions/{bobs_suggestion}"),
            &[("decision", "approve"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 404);
    let bobs_task = tasks::list(&app.core, &bob, true).await.unwrap()[0].task.id;
    for path in [format!("/tasks/{bobs_task}/done"), format!("/tasks/{bobs_task}/snooze")] {
        let refused = browser.post(&path, &[("span", "1d"), ("csrf", &csrf)]).await;
        assert_eq!(refused.status, 404, "{path}");
    }
    assert!(
        tasks::list(&app.core, &bob, false).await.unwrap().len() == 1,
        "Bob's task untouched"
    );
}

#[tokio::test]
async fn the_event_stream_says_changed_when_something_the_rep_may_see_is_recorded() {
    let app = spawn_app().await;
    let (_, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let (_, bob) = app.account("Bob", "bob@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "meeting").await;
    let raj = add(&app, &bob, "Raj Patel", "meeting").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let cookie = browser.cookie.clone().unwrap();
    let mut stream = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/events", app.port))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let mut read_until = async |want: &str, stream: &mut reqwest::Response| {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        while !seen.contains(want) {
            let chunk = tokio::time::timeout_at(deadline, stream.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {want:?} in {seen:?}"))
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    read_until("event: ready", &mut stream).await;

    // Bob's news is not Ann's; a reply to Ann's prospect is.
    let log = |who: ProspectId, kind: &str| rapport::app::prospects::LogEngagement {
        prospect: ProspectRef::Id(who),
        kind: kind.into(),
        note: Some("hello".into()),
        url: None,
        at: None,
        external_id: None,
    };
    rapport::app::prospects::log_engagement(&app.core, &bob, log(raj, "call"))
        .await
        .unwrap();
    let system = Actor::System {
        job: "sync-mail".into(),
    };
    rapport::app::prospects::log_engagement(&app.core, &system, log(pia, "email.replied"))
        .await
        .unwrap();
    read_until("event: changed", &mut stream).await;
    assert_eq!(seen.matches("event: changed").count(), 1, "{seen}");

    let anonymous = app.browser().get("/events").await;
    assert_eq!(anonymous.status, 303, "no stream without a session");
}

#[tokio::test]
async fn the_sequences_page_resolves_unknown_sends_and_resumes_a_paused_mailbox() {
    let app = spawn_app().await;
    let (rep, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "prospecting").await;
    let row = app.cut_off_send(pia, "pia@example.org", "Hello Pia").await;
    app.store
        .pause_sending(rep.id, "5.7.1 refused by policy", app.now())
        .await
        .unwrap();
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get("/sequences").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in ["Hello Pia", "5.7.1 refused by policy", "Pia Lund", "example"] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    let csrf = page.csrf();
    let resolved = browser
        .post(&format!("/outbox/{row}"), &[("decision", "sent"), ("csrf", &csrf)])
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    let sent = app
        .store
        .list_outbox(rapport::store::RepScope::Team, Some("sent"))
        .await
        .unwrap();
    assert_eq!(sent.iter().map(|o| o.id).collect::<Vec<_>>(), [row]);
    let again = browser
        .post(&format!("/outbox/{row}"), &[("decision", "sent"), ("csrf", &csrf)])
        .await;
    assert_eq!(again.status, 404, "decided already");
    let resumed = browser
        .post("/sequences/resume", &[("rep", "ann@example.com"), ("csrf", &csrf)])
        .await;
    assert_eq!(resumed.status, 303);
    assert!(app.store.sending_pauses().await.unwrap().is_empty());
    let after = browser.get("/sequences").await;
    assert!(
        !after.body.contains("5.7.1") && after.body.contains("<td>1</td>"),
        "one sent on step 1: {}",
        after.body
    );
}

/// A webhook delivery that named nobody, organised by `rep`.
async fn unmatched(app: &TestApp, rep: i64, email: &str, key: &str) {
    app.store
        .keep_unmatched(&rapport::store::UnmatchedDelivery {
            id: 0,
            provider: "calendly".into(),
            kind: "meeting.booked".into(),
            email: email.into(),
            source_key: key.into(),
            summary: "Intro call at 2026-12-03T13:00:00Z (Calendly)".into(),
            occurred_at: app.now(),
            starts_at: None,
            rep_id: Some(rep),
            received_at: app.now(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn today_offers_each_unmatched_booking_to_be_made_a_prospect_attached_or_dismissed() {
    let app = spawn_app().await;
    let (ann_rep, ann) = app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let (bob_rep, _) = app.account("Bob", "bob@example.com", PASSWORD, "rep").await;
    let pia = add(&app, &ann, "Pia Lund", "prospecting").await;
    unmatched(&app, ann_rep.id, "nora@lead.example", "calendly:IN1").await;
    unmatched(&app, ann_rep.id, "pia.private@mail.example", "calendly:IN2").await;
    unmatched(&app, ann_rep.id, "test@ann.example", "calendly:IN3").await;
    unmatched(&app, bob_rep.id, "raj@globex.example", "calendly:IN4").await;

    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get("/today").await;
    assert!(
        page.body.contains("nora@lead.example") && page.body.contains("Intro call"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("raj@globex.example"), "Bob's booking is his");
    let csrf = page.csrf();
    let id_of = |email: &str| {
        let at = page.body.find(email).unwrap();
        let start = page.body[..at].rfind("id=\"delivery-").unwrap() + "id=\"delivery-".len();
        page.body[start..start + page.body[start..].find('"').unwrap()].to_string()
    };
    let (nora, private, test) = (
        id_of("nora@lead.example"),
        id_of("pia.private@mail.example"),
        id_of("test@ann.example"),
    );
    let made = browser
        .post(
            &format!("/hooks/unmatched/{nora}"),
            &[("action", "create"), ("name", "Nora Lead"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!((made.status, made.header("location").as_str()), (303, "/today"));
    let nora = app
        .store
        .find_prospect(
            rapport::store::RepScope::Rep(ann_rep.id),
            &ProspectRef::Email("nora@lead.example".into()),
        )
        .await
        .expect("Nora is Ann's prospect now");
    assert_eq!(nora.data.name, "Nora Lead");
    let attached = browser
        .post(
            &format!("/hooks/unmatched/{private}"),
            &[("action", "attach"), ("prospect", &pia.to_string()), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(attached.status, 303);
    let events = app
        .store
        .list_events(rapport::store::RepScope::Team, pia)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "meeting.booked"));
    let unknown = browser
        .post(
            &format!("/hooks/unmatched/{test}"),
            &[
                ("action", "attach"),
                ("prospect", "nobody@nowhere.example"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(unknown.status, 404, "no such prospect: the delivery stays");
    let dismissed = browser
        .post(
            &format!("/hooks/unmatched/{test}"),
            &[("action", "dismiss"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(dismissed.status, 303);
    let after = browser.get("/today").await;
    assert!(!after.body.contains("delivery-"), "all three reviewed: {}", after.body);
}
