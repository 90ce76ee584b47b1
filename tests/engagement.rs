//! The engagement score in `rapport prospect list`: recency-weighted activity.

mod common;

use common::Workspace;

#[test]
fn prospect_list_shows_each_prospects_engagement_score() {
    let ws = Workspace::with_rep();
    ws.ok(&["prospect", "add", "--name", "Jane Doe", "--email", "jane@acme.io"]);
    ws.ok(&["prospect", "add", "--name", "Raj Patel", "--email", "raj@globex.com"]);
    ws.ok(&["prospect", "add", "--name", "Nia Obi", "--email", "nia@initech.example"]);
    let now = "2026-12-01T12:00:00Z";
    ws.ok(&["log", "jane@acme.io", "meeting.booked", "--at", now]);
    ws.ok(&[
        "log",
        "raj@globex.com",
        "post",
        "--at",
        "2026-11-17T12:00:00Z",
        "--note",
        "a post",
    ]);
    let listed = ws.json(&["--now", now, "prospect", "list"]);
    let score = |email: &str| {
        listed
            .as_array()
            .and_then(|all| all.iter().find(|p| p["email"] == email))
            .map(|p| p["score"].clone())
            .expect("listed")
    };
    assert_eq!(score("jane@acme.io"), 8.0, "a meeting booked today");
    assert_eq!(score("raj@globex.com"), 0.5, "a post two weeks ago counts half");
    assert_eq!(score("nia@initech.example"), 0.0, "being created is not activity");
    let text = ws.ok(&["--now", now, "prospect", "list"]);
    assert!(text.contains("SCORE") && text.contains("8.0"), "{text}");
}
