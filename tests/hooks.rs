//! Incoming webhooks through the listener: each provider's documented
//! payload shape, signed in the test with the configured secret — valid,
//! wrong secret, the body changed by one byte, a stale Calendly timestamp,
//! the same delivery twice, a rotated secret — and the end to end of a
//! Calendly booking: the prospect's sequence stops and the shipped rule
//! moves them to the meeting stage in one rules pass. Deliveries naming
//! nobody wait for review and go after `keep_unmatched_days`.

mod common;

use base64::Engine;
use common::app::{spawn_app_with, TestApp};
use hmac::{Hmac, Mac};
use rapport::app::hooks;
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::sequences::{self, Whom};
use rapport::app::Actor;
use rapport::domain::prospect::ProspectRef;
use rapport::store::RepScope;
use serde_json::Value;
use sha2::Sha256;

const CONFIG: &str = r#"
[hooks.calendly]
secret = "calendly-new"
previous_secret = "calendly-old"
[hooks.calcom]
secret = "calcom-secret"
[hooks.docusign]
secret = "docusign-key"
[hooks.pandadoc]
secret = "pandadoc-key"
"#;

fn hmac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Calendly's v2 `invitee.created` / `invitee.canceled`, as its docs show it.
fn calendly_body(event: &str, email: &str, invitee: &str) -> String {
    serde_json::json!({
        "event": event,
        "created_at": "2026-12-01T08:59:58.000000Z",
        "created_by": "https://api.calendly.com/users/AAAA",
        "payload": {
            "cancel_url": "https://calendly.com/cancellations/X",
            "created_at": "2026-12-01T08:59:58.000000Z",
            "email": email,
            "name": "Pia Lund",
            "rescheduled": false,
            "status": if event == "invitee.created" { "active" } else { "canceled" },
            "timezone": "Europe/Oslo",
            "uri": format!("https://api.calendly.com/scheduled_events/EV1/invitees/{invitee}"),
            "scheduled_event": {
                "uri": "https://api.calendly.com/scheduled_events/EV1",
                "name": "Intro call",
                "start_time": "2026-12-03T13:00:00.000000Z",
                "end_time": "2026-12-03T13:30:00.000000Z",
                "event_memberships": [{ "user": "https://api.calendly.com/users/AAAA", "user_email": "ann@team.example" }]
            }
        }
    })
    .to_string()
}

struct Sent {
    status: u16,
    json: Value,
}

async fn post(app: &TestApp, path_and_query: &str, headers: &[(&str, String)], body: &str) -> Sent {
    let mut request = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}{path_and_query}", app.port))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let json = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    Sent { status, json }
}

async fn calendly(app: &TestApp, secret: &str, t: i64, body: &str) -> Sent {
    let v1 = hex::encode(hmac(secret, &[t.to_string().as_bytes(), b".", body.as_bytes()]));
    post(
        app,
        "/hooks/calendly",
        &[("calendly-webhook-signature", format!("t={t},v1={v1}"))],
        body,
    )
    .await
}

/// The body with its last letter or digit changed: one byte.
fn one_byte_changed(body: &str) -> String {
    let mut bytes = body.as_bytes().to_vec();
    let at = bytes.iter().rposition(u8::is_ascii_alphanumeric).unwrap();
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    String::from_utf8(bytes).unwrap()
}

async fn kinds_of(app: &TestApp, prospect: i64) -> Vec<String> {
    app.store
        .list_events(RepScope::Team, prospect)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| k != "prospect.created")
        .collect()
}

async fn prospect(app: &TestApp, actor: &Actor, name: &str, email: &str) -> i64 {
    app.prospect(actor, name, Some(email)).await
}

#[tokio::test]
async fn every_provider_is_verified_over_the_raw_body_and_recorded_exactly_once() {
    rapport::metrics::install();
    let app = spawn_app_with(CONFIG).await;
    let (_, ann) = app.rep("Ann", "ann@team.example").await;
    let pia = prospect(&app, &ann, "Pia Lund", "pia@example.org").await;
    let now = app.now().timestamp();

    // Calendly: valid; the same delivery again adds nothing; wrong secret,
    // one byte changed and a stale timestamp are refused with 401.
    let booked = calendly_body("invitee.created", "Pia@Example.org", "IN1");
    let first = calendly(&app, "calendly-new", now - 5, &booked).await;
    assert_eq!(
        (first.status, &first.json["recorded"]),
        (200, &Value::from(1)),
        "{}",
        first.json
    );
    let again = calendly(&app, "calendly-new", now - 4, &booked).await;
    assert_eq!(
        (again.status, &again.json["recorded"]),
        (200, &Value::from(0)),
        "a retry adds nothing"
    );
    let wrong = calendly(&app, "not-the-secret", now, &booked).await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.json["detail"].as_str().unwrap().contains("does not match"),
        "{}",
        wrong.json
    );
    let v1 = hex::encode(hmac(
        "calendly-new",
        &[now.to_string().as_bytes(), b".", booked.as_bytes()],
    ));
    let tampered = post(
        &app,
        "/hooks/calendly",
        &[("calendly-webhook-signature", format!("t={now},v1={v1}"))],
        &one_byte_changed(&booked),
    )
    .await;
    assert_eq!(tampered.status, 401, "one byte changed");
    let stale = calendly(&app, "calendly-new", now - 181, &booked).await;
    assert_eq!(stale.status, 401);
    assert!(
        stale.json["detail"].as_str().unwrap().contains("tolerated"),
        "{}",
        stale.json
    );
    // The secret being rotated out still verifies; a cancellation is its own fact.
    let canceled = calendly_body("invitee.canceled", "pia@example.org", "IN1");
    let rotated = calendly(&app, "calendly-old", now, &canceled).await;
    assert_eq!((rotated.status, &rotated.json["recorded"]), (200, &Value::from(1)));
    assert!(
        post(&app, "/hooks/calendly", &[], &booked).await.status == 401,
        "unsigned"
    );

    // Cal.com: hex HMAC of the body; `no-secret-provided` is refused.
    let calcom = serde_json::json!({
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": "2026-12-01T09:00:00.000Z",
        "payload": {
            "type": "30min", "title": "Demo with Pia", "uid": "bk_123",
            "startTime": "2026-12-04T10:00:00.000Z", "endTime": "2026-12-04T10:30:00.000Z",
            "organizer": { "email": "ann@team.example", "name": "Ann", "timeZone": "Europe/Oslo" },
            "attendees": [{ "email": "pia@example.org", "name": "Pia Lund", "timeZone": "Europe/Oslo" }]
        }
    })
    .to_string();
    let cal = |secret: &str, body: &str| ("x-cal-signature-256", hex::encode(hmac(secret, &[body.as_bytes()])));
    let ok = post(&app, "/hooks/calcom", &[cal("calcom-secret", &calcom)], &calcom).await;
    assert_eq!((ok.status, &ok.json["recorded"]), (200, &Value::from(1)), "{}", ok.json);
    assert_eq!(
        post(&app, "/hooks/calcom", &[cal("calcom-secret", &calcom)], &calcom)
            .await
            .json["recorded"],
        0
    );
    assert_eq!(
        post(&app, "/hooks/calcom", &[cal("wrong", &calcom)], &calcom)
            .await
            .status,
        401
    );
    let changed = one_byte_changed(&calcom);
    assert_eq!(
        post(&app, "/hooks/calcom", &[cal("calcom-secret", &calcom)], &changed)
            .await
            .status,
        401
    );
    let unset = post(
        &app,
        "/hooks/calcom",
        &[("x-cal-signature-256", "no-secret-provided".into())],
        &calcom,
    )
    .await;
    assert_eq!(unset.status, 401);

    // DocuSign Connect (JSON SIM): any of the X-DocuSign-Signature-N headers.
    let docusign = serde_json::json!({
        "event": "envelope-completed", "apiVersion": "v2.1", "uri": "/restapi/v2.1/accounts/A/envelopes/env-42",
        "retryCount": 0, "configurationId": 10001, "generatedDateTime": "2026-12-01T09:00:00.0000000Z",
        "data": {
            "accountId": "A", "userId": "U", "envelopeId": "env-42",
            "envelopeSummary": {
                "status": "completed", "emailSubject": "Please sign: Acme proposal",
                "sender": { "userName": "Ann", "email": "ann@team.example" },
                "recipients": { "signers": [
                    { "email": "pia@example.org", "name": "Pia Lund", "status": "completed" }
                ] }
            }
        }
    })
    .to_string();
    let b64 =
        |secret: &str, body: &str| base64::engine::general_purpose::STANDARD.encode(hmac(secret, &[body.as_bytes()]));
    let headers = [
        ("x-docusign-signature-1", b64("an-old-key", &docusign)),
        ("x-docusign-signature-2", b64("docusign-key", &docusign)),
    ];
    let signed = post(&app, "/hooks/docusign", &headers, &docusign).await;
    assert_eq!(
        (signed.status, &signed.json["recorded"]),
        (200, &Value::from(1)),
        "{}",
        signed.json
    );
    assert_eq!(
        post(&app, "/hooks/docusign", &headers, &docusign).await.json["recorded"],
        0
    );
    assert_eq!(
        post(&app, "/hooks/docusign", &headers[..1], &docusign).await.status,
        401
    );
    assert_eq!(
        post(&app, "/hooks/docusign", &headers, &one_byte_changed(&docusign))
            .await
            .status,
        401
    );

    // PandaDoc: `?signature=` over an array of {event, data}.
    let pandadoc = serde_json::json!([{
        "event": "document_state_changed",
        "data": {
            "id": "doc-9", "name": "Acme proposal", "status": "document.sent",
            "date_modified": "2026-12-01T09:00:00.000000Z",
            "sent_by": { "email": "ann@team.example" },
            "recipients": [{ "email": "pia@example.org", "first_name": "Pia", "last_name": "Lund" }]
        }
    }])
    .to_string();
    let path = |secret: &str, body: &str| {
        format!(
            "/hooks/pandadoc?signature={}",
            hex::encode(hmac(secret, &[body.as_bytes()]))
        )
    };
    let sent = post(&app, &path("pandadoc-key", &pandadoc), &[], &pandadoc).await;
    assert_eq!(
        (sent.status, &sent.json["recorded"]),
        (200, &Value::from(1)),
        "{}",
        sent.json
    );
    assert_eq!(
        post(&app, &path("pandadoc-key", &pandadoc), &[], &pandadoc).await.json["recorded"],
        0
    );
    assert_eq!(post(&app, &path("wrong", &pandadoc), &[], &pandadoc).await.status, 401);
    assert_eq!(
        post(
            &app,
            &path("pandadoc-key", &pandadoc),
            &[],
            &one_byte_changed(&pandadoc)
        )
        .await
        .status,
        401
    );

    let mut kinds = kinds_of(&app, pia).await;
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "meeting.booked",
            "meeting.booked",
            "meeting.canceled",
            "proposal.sent",
            "proposal.signed"
        ],
        "each delivery once, whatever was redelivered"
    );
    let events = app.store.list_events(RepScope::Team, pia).await.unwrap();
    let booked = events.iter().find(|e| e.kind == "meeting.booked").unwrap();
    assert_eq!(booked.actor.kind(), "webhook");
    assert_eq!(booked.data["starts_at"], "2026-12-03T13:00:00Z");
    assert!(
        booked.data["note"].as_str().unwrap().contains("Intro call"),
        "{}",
        booked.data
    );
    // An unknown provider is not found; one without a section is refused.
    assert_eq!(post(&app, "/hooks/hubspot", &[], "{}").await.status, 404);
    // Counted by provider and result on /metrics.
    let metrics = rapport::app::status::metrics(&app.core).await.unwrap();
    for series in [
        r#"rapport_webhooks_total{provider="calendly",result="recorded"}"#,
        r#"rapport_webhooks_total{provider="calendly",result="refused"}"#,
        r#"rapport_webhooks_total{provider="unknown",result="unknown_provider"}"#,
    ] {
        assert!(metrics.contains(series), "{series} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_calendly_booking_stops_the_sequence_and_moves_the_prospect_to_meeting_in_one_rules_pass() {
    let app = spawn_app_with(CONFIG).await;
    let (_, ann) = app.rep("Ann", "ann@team.example").await;
    let pia = prospect_edit::add(
        &app.core,
        &ann,
        AddProspect {
            name: "Pia Lund".into(),
            email: Some("pia@example.org".into()),
            company: Some("Lund AS".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .prospect
    .id;
    let enrolled = sequences::enroll(
        &app.core,
        &ann,
        "example",
        &Whom::Listed(vec![ProspectRef::Id(pia)]),
        false,
        &(),
    )
    .await
    .unwrap();
    assert_eq!(enrolled.enrolled.len(), 1, "{enrolled:?}");
    // The rules have seen everything so far.
    let runner = rapport::app::rules::runner(&app.core);
    rapport::app::rules::run_pass(&runner, &()).await.unwrap();

    let booked = calendly_body("invitee.created", "pia@example.org", "IN7");
    let delivered = calendly(&app, "calendly-new", app.now().timestamp(), &booked).await;
    assert_eq!(delivered.status, 200, "{}", delivered.json);
    let report = rapport::app::rules::run_pass(&runner, &()).await.unwrap();
    let found = app
        .store
        .find_prospect(RepScope::Team, &ProspectRef::Id(pia))
        .await
        .unwrap();
    assert_eq!(
        found.data.stage, "meeting",
        "the shipped meeting-booked rule: {report:?}"
    );
    let enrolments = app
        .store
        .list_enrolments(RepScope::Team, Some("example"))
        .await
        .unwrap();
    assert_eq!(enrolments[0].state, "stopped", "{enrolments:?}");
    let stage_change = app
        .store
        .list_events(RepScope::Team, pia)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "stage.changed")
        .unwrap();
    assert!(
        stage_change.data.to_string().contains("meeting-booked"),
        "{}",
        stage_change.data
    );
}

#[tokio::test]
async fn deliveries_naming_nobody_wait_for_the_organiser_and_go_after_their_time() {
    let app = spawn_app_with(CONFIG).await;
    let (ann_rep, ann) = app.rep("Ann", "ann@team.example").await;
    let (_, bob) = app.rep("Bob", "bob@team.example").await;
    let team = Actor::Team { name: "manager".into() };
    let now = app.now().timestamp();
    for (email, invitee) in [
        ("new@lead.example", "IN2"),
        ("pia.private@mail.example", "IN3"),
        ("spam@bot.example", "IN4"),
    ] {
        let sent = calendly(
            &app,
            "calendly-new",
            now,
            &calendly_body("invitee.created", email, invitee),
        )
        .await;
        assert_eq!(
            (sent.status, &sent.json["unmatched"]),
            (200, &Value::from(1)),
            "{}",
            sent.json
        );
    }
    // A redelivery keeps no second copy.
    let again = calendly(
        &app,
        "calendly-new",
        now,
        &calendly_body("invitee.created", "new@lead.example", "IN2"),
    )
    .await;
    assert_eq!(again.json["unmatched"], 0);

    // Ann organised them: hers to review (and the team's), not Bob's.
    let waiting = hooks::unmatched(&app.core, &ann).await.unwrap();
    assert_eq!(waiting.len(), 3);
    assert!(waiting
        .iter()
        .all(|d| d.rep_id == Some(ann_rep.id) && d.kind == "meeting.booked"));
    assert!(hooks::unmatched(&app.core, &bob).await.unwrap().is_empty());
    assert_eq!(hooks::unmatched(&app.core, &team).await.unwrap().len(), 3);
    assert!(hooks::dismiss(&app.core, &bob, waiting[2].id)
        .await
        .unwrap_err()
        .is_not_found());

    // Make the prospect from one; attach one to a prospect who booked with another address; dismiss one.
    let made = hooks::create(&app.core, &ann, waiting[0].id, "Nora Lead", None)
        .await
        .unwrap();
    assert!(made.added);
    let nora = app
        .store
        .find_prospect(RepScope::Rep(ann_rep.id), &ProspectRef::Id(made.prospect))
        .await
        .unwrap();
    assert_eq!(
        (nora.data.email.as_deref(), nora.data.rep_id),
        (Some("new@lead.example"), ann_rep.id)
    );
    assert_eq!(kinds_of(&app, made.prospect).await, ["meeting.booked"]);
    let pia = prospect(&app, &ann, "Pia Lund", "pia@example.org").await;
    let attached = hooks::attach(&app.core, &ann, waiting[1].id, &ProspectRef::Id(pia))
        .await
        .unwrap();
    assert_eq!((attached.prospect, attached.added), (pia, true));
    assert_eq!(kinds_of(&app, pia).await, ["meeting.booked"]);
    hooks::dismiss(&app.core, &ann, waiting[2].id).await.unwrap();
    assert!(hooks::unmatched(&app.core, &ann).await.unwrap().is_empty());

    // Kept 30 days, then the housekeeping drops them.
    let late = calendly(
        &app,
        "calendly-new",
        now,
        &calendly_body("invitee.created", "late@lead.example", "IN5"),
    )
    .await;
    assert_eq!(late.json["unmatched"], 1);
    app.clock.advance(chrono::Duration::days(29));
    rapport::app::status::housekeeping(&app.core).await.unwrap();
    assert_eq!(
        hooks::unmatched(&app.core, &ann).await.unwrap().len(),
        1,
        "29 days: still there"
    );
    app.clock.advance(chrono::Duration::days(2));
    rapport::app::status::housekeeping(&app.core).await.unwrap();
    assert!(
        hooks::unmatched(&app.core, &ann).await.unwrap().is_empty(),
        "31 days: gone"
    );
}

#[tokio::test]
async fn the_shipped_rules_move_a_sent_proposal_and_remind_to_rebook_a_canceled_meeting() {
    let app = spawn_app_with(CONFIG).await;
    let (_, ann) = app.rep("Ann", "ann@team.example").await;
    let pia = prospect(&app, &ann, "Pia Lund", "pia@example.org").await;
    let runner = rapport::app::rules::runner(&app.core);
    rapport::app::rules::run_pass(&runner, &()).await.unwrap();
    let now = app.now().timestamp();
    let canceled = calendly(
        &app,
        "calendly-new",
        now,
        &calendly_body("invitee.canceled", "pia@example.org", "IN9"),
    )
    .await;
    assert_eq!(canceled.json["recorded"], 1, "{}", canceled.json);
    let pandadoc = serde_json::json!([{ "event": "document_state_changed", "data": {
        "id": "doc-1", "name": "Acme proposal", "status": "document.sent",
        "recipients": [{ "email": "pia@example.org" }] } }])
    .to_string();
    let signature = hex::encode(hmac("pandadoc-key", &[pandadoc.as_bytes()]));
    let sent = post(&app, &format!("/hooks/pandadoc?signature={signature}"), &[], &pandadoc).await;
    assert_eq!(sent.json["recorded"], 1, "{}", sent.json);
    rapport::app::rules::run_pass(&runner, &()).await.unwrap();
    let found = app
        .store
        .find_prospect(RepScope::Team, &ProspectRef::Id(pia))
        .await
        .unwrap();
    assert_eq!(found.data.stage, "proposal", "proposal-sent: prospecting → proposal");
    let due = rapport::app::tasks::list(&app.core, &ann, true).await.unwrap();
    assert!(
        due.iter()
            .any(|t| t.task.instruction.contains("rebook") && t.task.prospect_id == pia),
        "meeting-canceled-rebook: {:?}",
        due.iter().map(|t| &t.task.instruction).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn rapport_hooks_lists_unmatched_deliveries_and_makes_the_prospect_from_one() {
    use common::{stdout, Workspace};
    let ws = Workspace::with_rep();
    {
        let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
        let store = rapport::store::SqliteStore::open(&url, std::time::Duration::from_secs(5), 1)
            .await
            .unwrap();
        use rapport::store::HookStore;
        store
            .keep_unmatched(&rapport::store::UnmatchedDelivery {
                id: 0,
                provider: "calendly".into(),
                kind: "meeting.booked".into(),
                email: "nora@lead.example".into(),
                source_key: "calendly:IN1:invitee.created".into(),
                summary: "Intro call at 2026-12-03T13:00:00Z (Calendly)".into(),
                occurred_at: "2026-12-01T09:00:00Z".parse().unwrap(),
                starts_at: None,
                rep_id: None,
                received_at: "2026-12-01T09:00:00Z".parse().unwrap(),
            })
            .await
            .unwrap();
        rapport::store::Store::close(&store).await;
    }
    let listed = ws.ok(&["hooks", "unmatched"]);
    assert!(
        listed.contains("nora@lead.example") && listed.contains("meeting.booked"),
        "{listed}"
    );
    let id = ws.json(&["hooks", "unmatched"])[0]["id"].as_i64().unwrap().to_string();
    let made = ws.ok(&["hooks", "create", &id, "--name", "Nora Lead"]);
    assert!(
        made.contains("meeting.booked recorded for #") && made.contains("Nora Lead"),
        "{made}"
    );
    assert!(ws
        .ok(&["hooks", "unmatched"])
        .contains("no unmatched webhook deliveries"));
    let again = ws.run(&["hooks", "dismiss", &id]);
    assert_eq!(again.status.code(), Some(2), "{}", stdout(&again));
}
