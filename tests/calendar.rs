//! The rep's calendar feed, read by an independent parser (Python's
//! `icalendar`, from Debian): tasks and reminders at their due time and
//! booked meetings, with stable UIDs, SEQUENCE and LAST-MODIFIED raised by a
//! change, a done task gone, a canceled meeting gone; the token rotates and
//! revokes.

mod common;

use common::app::{spawn_app_with, TestApp};
use rapport::app::calendar;
use rapport::app::prospect_edit::{self, AddProspect};
use rapport::app::tasks::{self, When};
use rapport::app::Actor;
use rapport::domain::event::{payload::Hooked, Actor as Recorded, NewEvent};
use rapport::domain::prospect::ProspectRef;
use rapport::store::RepScope;
use serde_json::Value;

/// The feed parsed by Python's icalendar: each VEVENT's properties as JSON.
fn parse(text: &str) -> Value {
    let script = r#"
import json, sys
from icalendar import Calendar
raw = sys.stdin.buffer.read()
for line in raw.split(b"\r\n"):
    assert len(line) <= 75, ("longer than 75 octets", line)
assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
cal = Calendar.from_ical(raw)
from icalendar import vDuration
out = {"calendar": {k: str(cal.get(k)) for k in ("VERSION", "PRODID")}, "events": []}
for k in ("REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
    out["calendar"][k] = str(vDuration.from_ical(str(cal.get(k))))
for ev in cal.walk("VEVENT"):
    out["events"].append({
        "uid": str(ev.get("UID")), "summary": str(ev.get("SUMMARY")),
        "description": str(ev.get("DESCRIPTION") or ""),
        "sequence": int(ev.get("SEQUENCE", 0)),
        "start": ev.decoded("DTSTART").isoformat(), "end": ev.decoded("DTEND").isoformat(),
        "stamp": ev.decoded("DTSTAMP").isoformat(),
        "modified": ev.decoded("LAST-MODIFIED").isoformat() if ev.get("LAST-MODIFIED") else None,
        "url": str(ev.get("URL") or ""),
    })
print(json.dumps(out))
"#;
    use std::io::Write;
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Debian's python3 (scripts/install-test-servers installs python3-icalendar)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the feed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn fetch(app: &TestApp, url: &str) -> (u16, String) {
    let path = &url[url.find("/ical/").unwrap()..];
    let response = reqwest::get(format!("http://127.0.0.1:{}{path}", app.port))
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/calendar; charset=utf-8"
        );
    }
    (status, response.text().await.unwrap())
}

fn event<'a>(feed: &'a Value, uid_prefix: &str) -> Vec<&'a Value> {
    feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["uid"].as_str().unwrap().starts_with(uid_prefix))
        .collect()
}

async fn booked(app: &TestApp, prospect: i64, kind: &str, key: &str, starts: &str) {
    app.store
        .append_event(
            RepScope::Team,
            &NewEvent {
                prospect_id: prospect,
                kind: kind.into(),
                occurred_at: app.now(),
                source_key: key.into(),
                actor: Recorded::Webhook("calendly".into()),
                data: rapport::domain::event::EventData::of(&Hooked {
                    note: format!("Intro call at {starts} (Calendly)"),
                    provider: "calendly".into(),
                    starts_at: Some(starts.parse().unwrap()),
                    organizer: None,
                }),
            },
            app.now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reps_calendar_shows_tasks_and_meetings_and_follows_their_changes() {
    let app = spawn_app_with("[http]\npublic_url = \"https://rapport.example.com\"\n").await;
    let (_, ann) = app.rep("Ann", "ann@team.example").await;
    let (_, bob) = app.rep("Bob", "bob@team.example").await;
    let add = |actor: Actor, name: &'static str| {
        let core = app.core.clone();
        async move {
            prospect_edit::add(
                &core,
                &actor,
                AddProspect {
                    name: name.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .prospect
            .id
        }
    };
    let pia = add(ann.clone(), "Pia Lund").await;
    let raj = add(bob.clone(), "Raj Patel").await;
    tasks::remind(
        &app.core,
        &ann,
        &ProspectRef::Id(pia),
        When::In("2h".into()),
        "send the deck, the pricing; and more",
    )
    .await
    .unwrap();
    tasks::remind(
        &app.core,
        &ann,
        &ProspectRef::Id(pia),
        When::In("1d".into()),
        "call Pia",
    )
    .await
    .unwrap();
    tasks::remind(
        &app.core,
        &bob,
        &ProspectRef::Id(raj),
        When::In("1h".into()),
        "Bob's own",
    )
    .await
    .unwrap();
    booked(&app, pia, "meeting.booked", "hook:a", "2026-12-03T13:00:00Z").await;

    let link = calendar::link(&app.core, &ann, None, false).await.unwrap();
    assert!(
        link.url.starts_with("https://rapport.example.com/ical/") && link.url.ends_with(".ics"),
        "{}",
        link.url
    );
    assert_eq!(
        calendar::link(&app.core, &ann, None, false).await.unwrap().url,
        link.url,
        "printed again, the same"
    );
    let (status, text) = fetch(&app, &link.url).await;
    assert_eq!(status, 200, "{text}");
    let feed = parse(&text);
    assert_eq!(feed["calendar"]["X-PUBLISHED-TTL"], "1:00:00", "{}", feed["calendar"]);
    assert_eq!(feed["calendar"]["REFRESH-INTERVAL"], "1:00:00");
    let tasks_in = event(&feed, "task-");
    assert_eq!(tasks_in.len(), 2, "Ann's two, not Bob's: {feed}");
    let deck = tasks_in
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("deck"))
        .unwrap();
    assert_eq!(
        deck["summary"], "Pia Lund: send the deck, the pricing; and more",
        "escaped and read back"
    );
    assert_eq!((deck["sequence"].as_i64(), &deck["modified"]), (Some(0), &Value::Null));
    assert_eq!(deck["start"], "2026-12-01T11:00:00+00:00");
    assert_eq!(deck["stamp"], "2026-12-01T09:00:00+00:00");
    assert!(deck["url"].as_str().unwrap().ends_with(&format!("/prospects/{pia}")));
    let meeting = event(&feed, "meeting-");
    assert_eq!(meeting.len(), 1);
    assert_eq!(
        (&meeting[0]["summary"], &meeting[0]["start"]),
        (
            &Value::from("Meeting: Pia Lund"),
            &Value::from("2026-12-03T13:00:00+00:00")
        )
    );

    // Snoozed: the same UID, SEQUENCE and LAST-MODIFIED raised. Done: gone.
    let deck_uid = deck["uid"].as_str().unwrap().to_string();
    let deck_id: i64 = deck_uid
        .trim_start_matches("task-")
        .trim_end_matches("@rapport")
        .parse()
        .unwrap();
    app.clock.advance(chrono::Duration::minutes(10));
    tasks::snooze(&app.core, &ann, deck_id, "1d").await.unwrap();
    let call = tasks_in
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("call Pia"))
        .unwrap();
    let call_id: i64 = call["uid"]
        .as_str()
        .unwrap()
        .trim_start_matches("task-")
        .trim_end_matches("@rapport")
        .parse()
        .unwrap();
    tasks::complete(&app.core, &ann, call_id, None).await.unwrap();
    // The meeting is rescheduled (a new booking) and then canceled.
    booked(&app, pia, "meeting.booked", "hook:b", "2026-12-04T09:00:00Z").await;
    let after = parse(&fetch(&app, &link.url).await.1);
    let snoozed = event(&after, "task-");
    assert_eq!(snoozed.len(), 1, "the done task is gone: {after}");
    assert_eq!(snoozed[0]["uid"], deck_uid.as_str());
    assert_eq!(snoozed[0]["sequence"], 1);
    assert_eq!(snoozed[0]["modified"], "2026-12-01T09:10:00+00:00");
    let moved = event(&after, "meeting-");
    assert_eq!(
        (moved.len(), &moved[0]["start"]),
        (1, &Value::from("2026-12-04T09:00:00+00:00")),
        "the new time only"
    );
    booked(&app, pia, "meeting.canceled", "hook:c", "2026-12-04T09:00:00Z").await;
    assert!(
        event(&parse(&fetch(&app, &link.url).await.1), "meeting-").is_empty(),
        "canceled"
    );

    // Rotated: the old address opens nothing; revoked: neither does the new.
    let rotated = calendar::link(&app.core, &ann, None, true).await.unwrap();
    assert_ne!(rotated.url, link.url);
    assert_eq!(fetch(&app, &link.url).await.0, 404);
    assert_eq!(fetch(&app, &rotated.url).await.0, 200);
    assert!(calendar::revoke(&app.core, &ann, None).await.unwrap());
    assert_eq!(fetch(&app, &rotated.url).await.0, 404);
    // A rep's own feed only: Bob cannot make Ann's.
    assert!(calendar::link(&app.core, &bob, Some("ann@team.example"), false)
        .await
        .is_err());
}

#[test]
fn rep_ical_prints_the_address_again_rotates_and_revokes() {
    use common::{stderr, stdout, Workspace};
    let ws = Workspace::with_rep();
    let first = ws.ok(&["rep", "ical", "ann@example.com"]);
    assert!(
        first.trim().starts_with("http://127.0.0.1:0/ical/") && first.trim().ends_with(".ics"),
        "{first}"
    );
    assert_eq!(
        ws.ok(&["rep", "ical", "Ann Rep"]),
        first,
        "the same address, printed again"
    );
    let rotated = ws.ok(&["rep", "ical", "ann@example.com", "--rotate"]);
    assert_ne!(rotated, first);
    let revoked = ws.run(&["rep", "ical", "ann@example.com", "--revoke"]);
    assert!(stdout(&revoked).contains("revoked"), "{}", stdout(&revoked));
    let nobody = ws.run(&["rep", "ical", "nobody@example.com"]);
    assert_eq!(nobody.status.code(), Some(2), "{}", stderr(&nobody));
    assert!(
        stderr(&nobody).contains("no rep 'nobody@example.com'"),
        "{}",
        stderr(&nobody)
    );
}
