//! `rapport rules check` and `rapport rules test`: the shipped rules are
//! valid, mistakes are named by rule and key, and a dry run over the stored
//! history says what would have happened without changing anything.

mod common;

use common::{stderr, Workspace};

#[test]
fn the_shipped_rules_check_and_mistakes_are_named() {
    let ws = Workspace::with_rep();
    assert!(ws.path("config/rules.toml").is_file(), "init writes the rules file");
    let out = ws.ok(&["rules", "check"]);
    assert!(
        out.contains("reply-qualifies") && out.contains("proposal-rotting"),
        "{out}"
    );

    ws.write(
        "bad-rules.toml",
        "[[rules]]\nname = \"early\"\non = [\"post\"]\nthen = \"advance\"\nto = \"closed-won\"\n",
    );
    let out = ws.run(&["rules", "check", "bad-rules.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rules[1] (early).to: there is no stage 'closed-won'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_dry_run_replays_history_and_changes_nothing() {
    let ws = Workspace::with_rep();
    ws.ok(&["prospect", "add", "--name", "Jane Doe", "--email", "jane@acme.io"]);
    ws.ok(&["log", "jane@acme.io", "meeting.booked", "--at", "2026-11-30T10:00:00Z"]);
    ws.ok(&["log", "jane@acme.io", "proposal.signed", "--at", "2026-12-01T10:00:00Z"]);
    let before = ws.snapshot();
    let report = ws.json(&["rules", "test"]);
    let fired = report["dry_run"].as_array().expect("list");
    assert_eq!(fired.len(), 1, "{report}");
    assert_eq!(fired[0]["fired"]["outcome"]["action"], "advance");
    assert_eq!(fired[0]["fired"]["outcome"]["to"], "meeting");
    assert!(
        fired[0]["fired"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("rule 'meeting-booked'") && r.contains("while in prospecting")),
        "{report}"
    );
    let text = ws.ok(&["rules", "test"]);
    assert!(text.contains("advance prospecting → meeting"), "{text}");
    assert_eq!(ws.snapshot(), before, "a dry run changes nothing");
}

#[test]
fn rules_act_on_new_events_and_idle_time_with_their_reasons() {
    let ws = Workspace::with_rep();
    let shipped = std::fs::read_to_string(ws.path("config/rules.toml")).expect("rules");
    ws.write(
        "config/rules.toml",
        format!(
            "{shipped}\n[[rules]]\nname = \"declined-suggests-lost\"\non = [\"linkedin.declined\"]\nthen = \"suggest\"\nto = \"lost\"\n"
        ),
    );
    let start = "2026-11-30T09:00:00Z";
    for (name, email, stage) in [
        ("Jane Doe", "jane@acme.io", "prospecting"),
        ("Raj Patel", "raj@globex.com", "prospecting"),
        ("Nia Obi", "nia@initech.example", "proposal"),
        ("Lee Chen", "lee@bluepeak.example", "qualification"),
        ("Ola Nord", "ola@fjord.example", "qualification"),
    ] {
        ws.at(
            start,
            &["prospect", "add", "--name", name, "--email", email, "--stage", stage],
        );
    }
    let t1 = "2026-12-01T10:00:00Z";
    ws.ok(&["log", "jane@acme.io", "meeting.booked", "--at", t1]);
    for day in ["2026-11-27", "2026-11-29", "2026-12-01"] {
        ws.ok(&[
            "log",
            "raj@globex.com",
            "post",
            "--at",
            &format!("{day}T08:00:00Z"),
            "--note",
            "a post",
        ]);
    }
    ws.ok(&["log", "lee@bluepeak.example", "linkedin.declined", "--at", t1]);
    ws.ok(&["log", "ola@fjord.example", "linkedin.declined", "--at", t1]);
    let report = ws.json_at(t1, &["rules", "run", "--once"]);
    assert_eq!(
        (&report["advanced"], &report["suggested"], &report["reminded"]),
        (&serde_json::json!(1), &serde_json::json!(2), &serde_json::json!(1)),
        "{report}"
    );

    // The advance is an event carrying the rule and its reason.
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    assert_eq!(jane["prospect"]["stage"], "meeting", "{jane}");
    let moved = jane["events"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["kind"] == "stage.changed"))
        .expect("a stage change");
    assert_eq!(moved["actor"]["kind"], "rule");
    assert_eq!(moved["actor"]["name"], "meeting-booked");
    assert!(
        moved["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("meeting.booked at 2026-12-01 10:00 UTC")),
        "{moved}"
    );

    // The warm reminder is a task with its reason; a second pass adds nothing.
    let tasks = ws.json_at(t1, &["tasks"]);
    let warm = tasks
        .as_array()
        .and_then(|all| all.iter().find(|t| t["prospect_name"] == "Raj Patel"))
        .expect("warm reminder");
    assert_eq!(warm["instruction"], "warm — engage now");
    assert!(
        warm["reason"]
            .as_str()
            .is_some_and(|r| r.contains("3 posts within 7 days")),
        "{warm}"
    );
    let again = ws.json_at(t1, &["rules", "run", "--once"]);
    assert_eq!(
        (&again["advanced"], &again["suggested"], &again["reminded"]),
        (&0.into(), &0.into(), &0.into())
    );

    // Suggestions wait for the rep: one approved, one rejected.
    let suggestions = ws.json_at(t1, &["suggestions"]);
    let id_of = |name: &str| {
        suggestions
            .as_array()
            .and_then(|all| all.iter().find(|s| s["prospect_name"] == name))
            .map(|s| s["id"].to_string())
            .expect("a suggestion")
    };
    let (lee, ola) = (id_of("Lee Chen"), id_of("Ola Nord"));
    ws.at(t1, &["suggestions", "approve", &lee]);
    ws.at(t1, &["suggestions", "reject", &ola]);
    assert_eq!(
        ws.json(&["prospect", "show", "lee@bluepeak.example"])["prospect"]["stage"],
        "lost"
    );
    assert_eq!(
        ws.json(&["prospect", "show", "ola@fjord.example"])["prospect"]["stage"],
        "qualification"
    );
    assert_eq!(ws.json_at(t1, &["suggestions"]), serde_json::json!([]));
    let twice = ws.run(&["suggestions", "approve", &lee]);
    assert_eq!(twice.status.code(), Some(2), "{}", stderr(&twice));

    // Nia's proposal has been idle since 30 November: rotting after 5 days.
    let day4 = "2026-12-04T10:00:00Z";
    let quiet = ws.json_at(day4, &["rules", "run", "--once"]);
    assert_eq!(quiet["reminded"], 0, "{quiet}");
    let day6 = "2026-12-06T10:00:00Z";
    let rotting = ws.json_at(day6, &["rules", "run", "--once"]);
    assert_eq!(rotting["reminded"], 1, "{rotting}");
    let shown = ws.at(day6, &["tasks"]);
    assert!(shown.contains("Nia Obi — proposal idle 5 days"), "{shown}");
}

#[test]
fn explicit_follow_ups_can_be_snoozed_and_done() {
    let ws = Workspace::with_rep();
    ws.ok(&["prospect", "add", "--name", "Jane Doe", "--email", "jane@acme.io"]);
    let now = "2026-12-01T10:00:00Z";
    ws.at(
        now,
        &["remind", "jane@acme.io", "--in", "3d", "--note", "send the deck"],
    );
    assert_eq!(ws.json_at(now, &["tasks"]), serde_json::json!([]), "not due yet");
    let due = ws.json_at("2026-12-04T10:00:00Z", &["tasks"]);
    assert_eq!(due[0]["instruction"], "send the deck", "{due}");
    let id = due[0]["id"].to_string();
    ws.at("2026-12-04T10:00:00Z", &["tasks", "snooze", &id, "--for", "2d"]);
    assert_eq!(ws.json_at("2026-12-05T10:00:00Z", &["tasks"]), serde_json::json!([]));
    ws.at("2026-12-06T10:00:00Z", &["tasks", "done", &id]);
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    assert!(
        jane["events"]
            .as_array()
            .is_some_and(|all| all.iter().any(|e| e["kind"] == "follow_up")),
        "{jane}"
    );
}

#[test]
fn rules_can_tag_enrol_and_stop_sequences() {
    let ws = Workspace::with_rep();
    ws.write(
        "config/rules.toml",
        "[[rules]]\nname = \"tag-active\"\non = [\"post\"]\nthen = \"tag\"\ntag = \"active\"\n\
         [[rules]]\nname = \"enrol-on-download\"\non = [\"whitepaper.downloaded\"]\nstages = [\"prospecting\"]\n\
         then = \"enroll\"\nsequence = \"example\"\n\
         [[rules]]\nname = \"stop-on-call\"\non = [\"call\"]\nthen = \"stop\"\n",
    );
    ws.add_jane(None, &[]);
    let now = "2026-12-01T10:00:00Z";
    ws.at(now, &["log", "jane@acme.io", "whitepaper.downloaded"]);
    let report = ws.json_at(now, &["rules", "run", "--once"]);
    assert_eq!(report["enrolled"], 1, "{report}");
    let status = ws.json(&["sequence", "status"]);
    assert_eq!(status[0]["state"], "active", "{status}");

    ws.at(now, &["log", "jane@acme.io", "call", "--note", "talked for 20 minutes"]);
    ws.at(now, &["log", "jane@acme.io", "post", "--note", "a post"]);
    let report = ws.json_at(now, &["rules", "run", "--once"]);
    assert_eq!(
        (&report["stopped"], &report["tagged"]),
        (&1.into(), &1.into()),
        "{report}"
    );
    let status = ws.json(&["sequence", "status"]);
    assert_eq!(status[0]["state"], "stopped");
    assert!(
        status[0]["stop_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("rule 'stop-on-call'")),
        "{status}"
    );
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    assert_eq!(jane["prospect"]["tags"], serde_json::json!(["active"]), "{jane}");
}

/// Runs one SQL statement on the workspace's database, as another program would.
fn sql(ws: &Workspace, statement: &str) {
    let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query(statement).execute(&mut db).await.expect(statement);
        db.close().await.expect("close");
    });
}

/// Raj posted three times in a week (the shipped warm-posting rule fires on
/// the third), and the database refuses new tasks as a full disk would.
fn warm_raj_and_no_room_for_tasks() -> Workspace {
    let ws = Workspace::with_rep();
    let start = "2026-11-30T09:00:00Z";
    ws.at(
        start,
        &["prospect", "add", "--name", "Raj Patel", "--email", "raj@globex.com"],
    );
    for day in ["2026-11-27", "2026-11-29", "2026-12-01"] {
        ws.ok(&[
            "log",
            "raj@globex.com",
            "post",
            "--at",
            &format!("{day}T08:00:00Z"),
            "--note",
            "a post",
        ]);
    }
    sql(
        &ws,
        "CREATE TRIGGER refuse_tasks BEFORE INSERT ON tasks BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
    ws
}

#[test]
fn an_action_lost_to_the_database_is_carried_out_on_the_next_pass_once() {
    let ws = warm_raj_and_no_room_for_tasks();
    let t1 = "2026-12-01T10:00:00Z";
    let failed = ws.run(&["--now", t1, "rules", "run", "--once"]);
    assert_eq!(failed.status.code(), Some(1), "{}", common::stdout(&failed));
    assert!(ws.json_at(t1, &["tasks"]).as_array().is_some_and(Vec::is_empty));

    sql(&ws, "DROP TRIGGER refuse_tasks");
    let report = ws.json_at(t1, &["rules", "run", "--once"]);
    assert_eq!(report["reminded"], 1, "the warm reminder, on the next pass: {report}");
    let again = ws.json_at(t1, &["rules", "run", "--once"]);
    assert_eq!(again["reminded"], 0, "once: {again}");
    let tasks = ws.json_at(t1, &["tasks"]);
    assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
}

#[test]
fn an_action_that_keeps_failing_is_given_up_and_reported() {
    let ws = warm_raj_and_no_room_for_tasks();
    let t1 = "2026-12-01T10:00:00Z";
    for _ in 0..3 {
        assert_eq!(ws.run(&["--now", t1, "rules", "run", "--once"]).status.code(), Some(1));
    }
    let report = ws.json_at(t1, &["rules", "run", "--once"]);
    let skipped = report["skipped"].to_string();
    assert!(
        skipped.contains("warm-posting") && skipped.contains("given up"),
        "{report}"
    );
    sql(&ws, "DROP TRIGGER refuse_tasks");
    assert_eq!(ws.json_at(t1, &["rules", "run", "--once"])["reminded"], 0);
}

/// Replies logged by hand are read for intent like synced ones, and the
/// shipped rules act on what they meant: interest advances, a refusal
/// suggests lost, "not now, in Q3" is a reminder due 9:00 on the day it
/// names in the rep's zone (Ann: Europe/Oslo), a remark does nothing.
#[test]
fn the_shipped_rules_act_on_what_replies_meant() {
    let ws = Workspace::with_rep();
    let start = "2026-11-30T09:00:00Z";
    for (name, email) in [
        ("Jane Doe", "jane@acme.io"),
        ("Raj Patel", "raj@globex.com"),
        ("Nia Obi", "nia@initech.example"),
        ("Lee Chen", "lee@bluepeak.example"),
        ("Ola Nordmann", "ola@fjord.example"),
    ] {
        ws.at(
            start,
            &[
                "prospect",
                "add",
                "--name",
                name,
                "--email",
                email,
                "--company",
                "Fjord AS",
            ],
        );
    }
    let t1 = "2026-12-01T10:00:00Z";
    for (email, text) in [
        ("jane@acme.io", "Sounds great, Tuesday works."),
        ("raj@globex.com", "Not right now - please reach out in Q3."),
        ("nia@initech.example", "No thanks, we're all set."),
        ("lee@bluepeak.example", "Thanks for the note."),
        (
            "ola@fjord.example",
            "Please talk to Maria Berg (maria.berg@fjord.example), she runs purchasing now.",
        ),
    ] {
        ws.ok(&["log", email, "email.replied", "--at", t1, "--note", text]);
    }
    let report = ws.json_at(t1, &["rules", "run", "--once"]);
    assert_eq!(
        (&report["advanced"], &report["suggested"], &report["reminded"]),
        (&serde_json::json!(1), &serde_json::json!(2), &serde_json::json!(1)),
        "{report}"
    );
    let stage = |email: &str| ws.json(&["prospect", "show", email])["prospect"]["stage"].clone();
    assert_eq!(stage("jane@acme.io"), "qualification");
    assert_eq!(stage("lee@bluepeak.example"), "prospecting", "a remark moves nothing");
    let raj = ws.json(&["prospect", "show", "raj@globex.com"]);
    let reply = raj["events"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["kind"] == "email.replied"))
        .expect("the reply");
    assert_eq!(reply["data"]["intent"]["intent"], "not_now", "{reply}");
    assert_eq!(reply["data"]["intent"]["follow_up"]["on"], "2027-07-01", "{reply}");

    // Not due before the day it names; due at 9:00 Oslo time (7:00 UTC in July).
    let due = |at: &str| ws.json_at(at, &["tasks"]);
    assert_eq!(due("2027-07-01T06:59:00Z"), serde_json::json!([]));
    let tasks = due("2027-07-01T07:00:00Z");
    let later = tasks
        .as_array()
        .and_then(|all| all.iter().find(|t| t["prospect_name"] == "Raj Patel"))
        .unwrap_or_else(|| panic!("Raj's follow-up: {tasks}"));
    assert!(
        later["reason"]
            .as_str()
            .is_some_and(|r| r.contains("read as not_now") && r.contains("Q3")),
        "{later}"
    );
    let suggestions = ws.json(&["suggestions"]);
    assert!(
        suggestions.to_string().contains("No thanks"),
        "the suggestion quotes the refusal: {suggestions}"
    );

    // A referral: the person named, prefilled, added on approval and linked.
    let referral = suggestions
        .as_array()
        .and_then(|all| all.iter().find(|s| s["person"].is_object()))
        .unwrap_or_else(|| panic!("a person suggested: {suggestions}"));
    assert_eq!(referral["prospect_name"], "Ola Nordmann");
    assert_eq!(
        referral["person"],
        serde_json::json!({"name": "Maria Berg", "email": "maria.berg@fjord.example", "company": "Fjord AS"})
    );
    let listed = ws.ok(&["suggestions"]);
    assert!(
        listed.contains("add Maria Berg <maria.berg@fjord.example> as a new prospect"),
        "{listed}"
    );
    let id = referral["id"].to_string();
    let approved = ws.json(&["suggestions", "approve", &id]);
    let maria = ws.json(&["prospect", "show", "maria.berg@fjord.example"])["prospect"].clone();
    assert_eq!(approved["created_prospect_id"], maria["id"], "{approved}");
    assert_eq!(maria["name"], "Maria Berg");
    assert_eq!(maria["company"], "Fjord AS");
    assert_eq!(maria["stage"], "prospecting");
    assert!(maria["tags"].to_string().contains("referral"), "{maria}");
    let ola = ws.json(&["prospect", "show", "ola@fjord.example"])["prospect"]["id"].clone();
    assert!(
        maria["notes"]
            .as_str()
            .is_some_and(|n| n.starts_with(&format!("Referred by Ola Nordmann (#{ola})")) && n.contains("talk to")),
        "{maria}"
    );
    let again = ws.run(&["suggestions", "approve", &id]);
    assert_ne!(again.status.code(), Some(0), "approved once");
    assert_eq!(
        ws.json(&["prospect", "list"]).as_array().map(Vec::len),
        Some(6),
        "Maria added once"
    );

    // A typed-in reply's named day counts from its day for the rep: 23:30
    // UTC on the 1st is the 2nd in Oslo.
    ws.ok(&[
        "log",
        "lee@bluepeak.example",
        "email.replied",
        "--at",
        "2026-12-01T23:30:00Z",
        "--note",
        "Not right now, let's talk again in 2 weeks.",
    ]);
    let lee = ws.json(&["prospect", "show", "lee@bluepeak.example"]);
    let later = lee["events"]
        .as_array()
        .and_then(|all| all.iter().rev().find(|e| e["kind"] == "email.replied"))
        .expect("Lee's second reply");
    assert_eq!(later["data"]["intent"]["follow_up"]["on"], "2026-12-16", "{later}");
}
