//! Through the in-process harness (`common::app::spawn_app`): the web
//! listener on port 0 calls the same use cases as the command line, and
//! time moves only when the test moves the clock.

mod common;

use chrono::Duration;
use common::app::spawn_app;
use rapport::app::prospect_edit::{add, AddProspect};
use rapport::app::tasks::{self, When};
use rapport::domain::clock::Clock;
use rapport::domain::event::Actor as Recorded;
use rapport::domain::prospect::ProspectRef;
use rapport::domain::sequence::unsubscribe;
use rapport::store::{NewEnrolment, RepScope};

/// Jane Doe, jane@acme.io.
fn jane() -> AddProspect {
    AddProspect {
        name: "Jane Doe".into(),
        email: Some("jane@acme.io".into()),
        ..AddProspect::default()
    }
}

#[tokio::test]
async fn a_one_click_unsubscribe_reaches_the_use_case_and_a_forged_link_does_not() {
    let app = spawn_app().await;
    let (_, ann) = app.rep("Ann", "ann@example.com").await;
    let jane = add(&app.core, &ann, jane()).await.expect("Jane").prospect.id;
    let enrolment = NewEnrolment {
        prospect_id: jane,
        sequence: "intro".into(),
        variant: 0,
        next_due_at: app.clock.now(),
    };
    let enrolment = app
        .store
        .enroll(&enrolment, &Recorded::System("test".into()), app.clock.now())
        .await
        .expect("enrol")
        .expect("not in a sequence yet");
    let token = unsubscribe::token(&app.secret, enrolment);

    let forged = format!("{}.{}", enrolment + 1, &token[token.find('.').unwrap() + 1..]);
    let (status, _, _) = app.exchange("POST", &format!("/u/{forged}"), "").await;
    assert_eq!(status, 404, "a link for another enrolment with this one's MAC");
    assert!(!app.store.is_suppressed("jane@acme.io").await.unwrap());

    let (status, _, page) = app.exchange("GET", &format!("/u/{token}"), "").await;
    assert_eq!(status, 200);
    assert!(page.contains("Stop receiving these emails?"), "{page}");
    assert!(
        !app.store.is_suppressed("jane@acme.io").await.unwrap(),
        "asking changes nothing"
    );
    let (status, _, page) = app.exchange("POST", &format!("/u/{token}"), "").await;
    assert_eq!(status, 200, "{page}");
    assert!(app.store.is_suppressed("jane@acme.io").await.unwrap());
    assert!(app.store.running_sequences_of(&[jane]).await.unwrap().is_empty());
    let history = app.store.list_events(RepScope::Team, jane).await.unwrap();
    assert!(history.iter().any(|e| e.kind == "email.unsubscribed"));
}

#[tokio::test]
async fn a_reminder_comes_due_when_the_clock_is_moved_and_not_before() {
    let app = spawn_app().await;
    let (_, ann) = app.rep("Ann", "ann@example.com").await;
    add(&app.core, &ann, jane()).await.expect("Jane");
    let who = ProspectRef::Email("jane@acme.io".into());
    let reminder = tasks::remind(&app.core, &ann, &who, When::In("4h".into()), "send the case study")
        .await
        .expect("a reminder");
    assert!(
        tasks::list(&app.core, &ann, false).await.unwrap().is_empty(),
        "not due yet"
    );
    app.clock.set(reminder.due_at - Duration::seconds(1));
    assert!(
        tasks::list(&app.core, &ann, false).await.unwrap().is_empty(),
        "a second early"
    );
    app.clock.advance(Duration::seconds(1));
    let due = tasks::list(&app.core, &ann, false).await.unwrap();
    assert_eq!(due.len(), 1);
    assert!(
        due[0].task.instruction.contains("send the case study"),
        "{:?}",
        due[0].task
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let big = "x".repeat(64 * 1024);
    for (method, path, body, status) in [
        ("GET", "/health", "", 200),
        ("GET", "/u/1.00", "", 404),
        ("GET", "/no-such-page", "", 404),
        ("POST", "/u/1.00", big.as_str(), 413),
    ] {
        let (got, head, _) = app.exchange(method, path, body).await;
        assert_eq!(got, status, "{method} {path}");
        for header in [
            "content-security-policy: default-src 'self'; script-src 'self';",
            "frame-ancestors 'none'",
            "x-content-type-options: nosniff",
            "referrer-policy: same-origin",
            "x-frame-options: deny",
        ] {
            assert!(head.contains(header), "{method} {path} lacks {header}:\n{head}");
        }
        assert!(!head.contains("unsafe-inline"), "{head}");
    }
}
