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
