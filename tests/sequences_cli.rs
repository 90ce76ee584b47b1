//! `rapport sequence check`: the shipped example is valid; mistakes are named by file and place.

mod common;

use common::{stderr, stdout, Workspace};

#[test]
fn the_example_sequence_checks_and_mistakes_are_named() {
    let ws = Workspace::with_rep();
    assert!(
        ws.path("config/sequences/example.toml").is_file(),
        "init writes the example"
    );
    let out = ws.ok(&["sequence", "check"]);
    assert!(
        out.contains(
            "ok  example: Intro for platform teams (email (2 variants), +2bd task social.comment, +3bd email)"
        ),
        "{out}"
    );

    ws.write(
        "config/sequences/broken.toml",
        "name = \"Broken\"\n[[steps]]\ntype = \"email\"\nafter = \"2 days\"\nsubject = \"Hi {{ prospect.frist_name }}\"\ntext = \"x\"\n",
    );
    let out = ws.run(&["sequence", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains("broken.toml"), "{shown}");
    assert!(
        shown.contains("steps[1].after") && shown.contains("steps[1].subject"),
        "{shown}"
    );
    assert!(shown.contains("ok  example"), "good files are still listed: {shown}");

    let json = ws.run(&["--json", "sequence", "check"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(
        report["invalid"][0]["problems"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
}

/// Rep Ann with Jane (company Acme) and Raj (no company), both in prospecting.
fn jane_and_raj() -> Workspace {
    let ws = Workspace::with_rep();
    ws.add_jane(None, &[]);
    ws.ok(&["prospect", "add", "--name", "Raj Patel", "--email", "raj@globex.com"]);
    ws
}

#[test]
fn enrolment_checks_each_prospect_and_times_the_first_step() {
    let ws = jane_and_raj();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Nia Obi",
        "--profile",
        "https://github.com/nia",
    ]);
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Lee Chen",
        "--email",
        "lee@bluepeak.example",
        "--company",
        "Bluepeak",
        "--stage",
        "proposal",
    ]);

    // Friday 16:30 in Oslo (the rep's zone): inside the window, so the first email is due at once.
    let friday = "2026-11-27T16:30:00+01:00";
    let out = ws.run(&[
        "--json",
        "--now",
        friday,
        "sequence",
        "enroll",
        "example",
        "--stage",
        "prospecting",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["enrolled"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["enrolled"][0]["name"], "Jane Doe");
    assert_eq!(report["enrolled"][0]["next_due_at"], "2026-11-27T15:30:00Z");
    let refused = report["refused"].to_string();
    assert!(
        refused.contains("Raj Patel") && refused.contains("prospect.company"),
        "{refused}"
    );
    assert!(refused.contains("Nia Obi") && refused.contains("no email"), "{refused}");
    assert!(
        !refused.contains("Lee Chen"),
        "only the stage asked for is considered: {refused}"
    );

    let again = ws.run(&["sequence", "enroll", "example", "jane@acme.io"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stdout(&again).contains("already in sequence 'example'"),
        "{}",
        stdout(&again)
    );
    let wrong_stage = ws.run(&["sequence", "enroll", "example", "lee@bluepeak.example"]);
    assert_eq!(wrong_stage.status.code(), Some(2));
    assert!(
        stdout(&wrong_stage).contains("default/proposal"),
        "{}",
        stdout(&wrong_stage)
    );

    // After the window closes on a Friday, the first email waits for Monday 08:00.
    ws.ok(&["prospect", "edit", "raj@globex.com", "--company", "Globex"]);
    let late = ws.json(&[
        "--now",
        "2026-11-27T17:30:00+01:00",
        "sequence",
        "enroll",
        "example",
        "raj@globex.com",
    ]);
    assert_eq!(late["enrolled"][0]["next_due_at"], "2026-11-30T07:00:00Z", "{late}");

    let status = ws.json(&["sequence", "status", "example"]);
    assert_eq!(status.as_array().unwrap().len(), 2, "{status}");
    assert!(status
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["state"] == "active" && e["step"] == 0));
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    assert!(
        jane["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "sequence.enrolled"),
        "{jane}"
    );
}

#[test]
fn preview_shows_what_would_be_sent_or_names_the_missing_field() {
    let ws = jane_and_raj();
    let shown = ws.ok(&["sequence", "preview", "example", "jane@acme.io"]);
    assert!(shown.contains("== step 1 (at once)"), "{shown}");
    assert!(shown.contains("Hi Jane,"), "{shown}");
    assert!(
        shown.contains("== step 2 (+2 business days)") && shown.contains("Task: Like or comment on Jane's latest post"),
        "{shown}"
    );
    assert!(
        shown.contains("Subject: Acme and faster deploys"),
        "the third step has one variant: {shown}"
    );
    assert!(!shown.contains("{{"), "{shown}");

    let missing = ws.run(&["sequence", "preview", "example", "raj@globex.com"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("prospect.company"), "{}", stderr(&missing));
    let unknown = ws.run(&["sequence", "preview", "nosuch", "jane@acme.io"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no sequence 'nosuch'"),
        "{}",
        stderr(&unknown)
    );
}

/// The sender claims due enrolments; a claimed one is not handed out again until its lease ends.
#[tokio::test]
async fn a_due_enrolment_is_claimed_by_one_worker_at_a_time() {
    use rapport::store::{SequenceStore, SqliteStore};
    let ws = jane_and_raj();
    ws.ok(&[
        "--now",
        "2026-11-27T10:00:00+01:00",
        "sequence",
        "enroll",
        "example",
        "jane@acme.io",
    ]);
    let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
    let store = SqliteStore::open(&url, std::time::Duration::from_secs(5), 2)
        .await
        .unwrap();
    let now: chrono::DateTime<chrono::Utc> = "2026-11-27T09:05:00Z".parse().unwrap();
    let lease = now + chrono::Duration::minutes(10);
    let first = store.claim_due_enrolments("test", now, lease, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].prospect_email.as_deref(), Some("jane@acme.io"));
    assert!(
        store
            .claim_due_enrolments("test", now, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "held by the first worker"
    );
    let after_lease = lease + chrono::Duration::seconds(1);
    let again = store
        .claim_due_enrolments("test", after_lease, after_lease + chrono::Duration::minutes(10), 10)
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "a worker that died leaves it to the next after the lease"
    );
}
