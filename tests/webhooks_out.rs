//! Outgoing webhooks against a loopback receiver that checks each
//! delivery's Standard Webhooks signature, refuses the first two and then
//! accepts: retried with backoff (on the injected clock), delivered once,
//! never again after success; a new dispatcher (a restart) resumes from the
//! store; after 24 hours of failures a delivery is given up.

mod common;

use base64::Engine;
use common::app::{spawn_app_with, TestApp};
use common::http::{Response, Server};
use hmac::{Hmac, Mac};
use rapport::app::prospects::{self, MoveStage};
use rapport::app::Actor;
use sha2::Sha256;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the receiver saw: (webhook-id, signature valid, body).
type Seen = Arc<Mutex<Vec<(String, bool, serde_json::Value)>>>;

/// A receiver that verifies signatures and fails the first `fail_first` deliveries.
fn receiver(fail_first: usize) -> (Server, Seen) {
    let seen: Seen = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let log = seen.clone();
    let server = Server::start(move |request| {
        let header = |name: &str| request.headers.get(name).cloned().unwrap_or_default();
        let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
        let key = base64::engine::general_purpose::STANDARD
            .decode(SECRET.trim_start_matches("whsec_"))
            .unwrap();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(&request.body);
        let expected = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        let valid = header("webhook-signature").split(' ').any(|s| s == expected);
        let body = serde_json::from_slice(&request.body).unwrap_or_default();
        log.lock().unwrap().push((id, valid, body));
        match calls.fetch_add(1, Ordering::SeqCst) < fail_first {
            true => Response::new(500, "not yet"),
            false => Response::new(204, ""),
        }
    });
    (server, seen)
}

async fn app_for(server: &Server) -> TestApp {
    spawn_app_with(&format!(
        "[fetch]\nallow_private_networks = true\nper_host_interval_ms = 0\n\
         [[webhooks.out]]\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"stage.changed\"]\n",
        server.url("/hooks/rapport")
    ))
    .await
}

async fn move_pia(app: &TestApp, ann: &Actor, pia: i64, to: &str) {
    prospects::move_stage(
        &app.core,
        ann,
        MoveStage {
            prospect: rapport::domain::prospect::ProspectRef::Id(pia),
            stage: to.into(),
            pipeline: None,
            note: Some("the demo went well".into()),
            final_value: None,
            ask_for_outcome: false,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stage_change_is_signed_retried_with_backoff_delivered_once_and_survives_a_restart() {
    let (server, seen) = receiver(2);
    let app = app_for(&server).await;
    let (_, ann) = app.rep("Ann", "ann@team.example").await;
    let pia = app.prospect(&ann, "Pia Lund", None).await;
    // The first pass sets the receiver's cursor: what happened before it is not sent.
    let dispatcher = rapport::app::webhooks::dispatcher(&app.core);
    assert_eq!(dispatcher.run_pass().await.unwrap().queued, 0);
    move_pia(&app, &ann, pia, "qualification").await;

    let first = dispatcher.run_pass().await.unwrap();
    assert_eq!((first.queued, first.retried), (1, 1), "{first:?}");
    // Not due again until 5 s later.
    assert_eq!(dispatcher.run_pass().await.unwrap().retried, 0);
    app.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(
        dispatcher.run_pass().await.unwrap().retried,
        1,
        "the second attempt fails too"
    );
    // A restart: a new dispatcher finds the delivery in the store; 5 min later it goes through.
    drop(dispatcher);
    let restarted = rapport::app::webhooks::dispatcher(&app.core);
    app.clock.advance(chrono::Duration::minutes(4));
    assert_eq!(restarted.run_pass().await.unwrap().delivered, 0, "not due yet");
    app.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(restarted.run_pass().await.unwrap().delivered, 1);
    app.clock.advance(chrono::Duration::hours(30));
    assert_eq!(
        restarted.run_pass().await.unwrap(),
        Default::default(),
        "never sent again"
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "three attempts in all: {seen:?}");
    assert!(seen.iter().all(|(_, valid, _)| *valid), "every signature verifies");
    assert!(
        seen.iter().all(|(id, _, _)| id == &seen[0].0),
        "one webhook-id for every attempt"
    );
    let body = &seen[2].2;
    assert_eq!(body["type"], "stage.changed");
    assert_eq!(body["data"]["prospect"]["name"], "Pia Lund");
    assert_eq!(body["data"]["prospect"]["stage"], "qualification");
    assert_eq!(body["data"]["details"]["to"], "qualification", "{body}");
    let listed = rapport::app::webhooks::list(&app.core, &Actor::Team { name: "ops".into() }, Some("delivered"), 10)
        .await
        .unwrap();
    assert_eq!((listed.len(), listed[0].attempts), (1, 3));
}

#[tokio::test]
async fn a_receiver_that_never_answers_well_is_given_up_after_24_hours() {
    let (server, seen) = receiver(usize::MAX);
    let app = app_for(&server).await;
    let (_, ann) = app.rep("Ann", "ann@team.example").await;
    let pia = app.prospect(&ann, "Pia Lund", None).await;
    let dispatcher = rapport::app::webhooks::dispatcher(&app.core);
    dispatcher.run_pass().await.unwrap();
    move_pia(&app, &ann, pia, "qualification").await;
    let mut gave_up = 0;
    for _ in 0..20 {
        let report = dispatcher.run_pass().await.unwrap();
        gave_up += report.gave_up;
        app.clock.advance(chrono::Duration::hours(2));
    }
    assert_eq!(gave_up, 1);
    let attempts = seen.lock().unwrap().len();
    assert!((6..=10).contains(&attempts), "{attempts} attempts in a day");
    let given_up = rapport::app::webhooks::list(&app.core, &Actor::Team { name: "ops".into() }, Some("gave_up"), 10)
        .await
        .unwrap();
    assert!(
        given_up[0].last_error.as_deref().unwrap().contains("500"),
        "{given_up:?}"
    );
    assert!(
        rapport::app::webhooks::list(&app.core, &ann, None, 10).await.is_err(),
        "a rep does not read the team's deliveries"
    );
}
