//! `rapport digest`: a rep's digest from the stored world, printed, not sent.

mod common;

use common::Workspace;

#[test]
fn the_digest_shows_what_happened_and_what_is_due() {
    let ws = Workspace::with_rep();
    let start = "2026-11-30T09:00:00Z";
    ws.add_jane(Some(start), &["--stage", "proposal", "--value", "100k"]);
    ws.at(
        start,
        &["prospect", "add", "--name", "Raj Patel", "--email", "raj@globex.com"],
    );
    // Ann's digest hour is 07:00 in Oslo: the digest of 4 December covers
    // 3 December 06:00 UTC to 4 December 06:00 UTC.
    ws.ok(&[
        "--now",
        "2026-12-03T09:00:00Z",
        "log",
        "jane@acme.io",
        "post",
        "--note",
        "Our new deploy pipeline",
        "--url",
        "https://blog.acme.io/p2",
        "--at",
        "2026-12-03T09:00:00Z",
    ]);
    ws.ok(&[
        "--now",
        "2026-12-01T09:00:00Z",
        "log",
        "raj@globex.com",
        "post",
        "--note",
        "An old post",
        "--url",
        "https://raj.example/1",
        "--at",
        "2026-12-01T09:00:00Z",
    ]);
    ws.at(
        "2026-12-02T09:00:00Z",
        &["remind", "raj@globex.com", "--in", "1d", "--note", "call Raj"],
    );
    let now = "2026-12-04T06:30:00Z";
    let text = ws.at(now, &["digest", "--date", "2026-12-04"]);
    assert!(
        text.starts_with("Subject: Whom to engage today — Friday 4 December 2026"),
        "{text}"
    );
    assert!(
        text.contains("- Jane Doe (Acme): Our new deploy pipeline\n  https://blog.acme.io/p2"),
        "{text}"
    );
    assert!(text.contains("why: in Proposal, deal 100,000 USD"), "{text}");
    assert!(!text.contains("An old post"), "only the day before the digest: {text}");
    assert!(text.contains("- Raj Patel: call Raj"), "{text}");
    assert!(text.contains("weighted value: 60,000 USD"), "{text}");
    let html = ws.at(now, &["digest", "--date", "2026-12-04", "--html"]);
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<h2>New posts to engage with (1)</h2>"),
        "{html}"
    );

    ws.ok(&[
        "rep",
        "add",
        "--name",
        "Ola Nord",
        "--email",
        "ola@example.com",
        "--tz",
        "Europe/Oslo",
        "--language",
        "nb",
    ]);
    let quiet = ws.at(now, &["digest", "--rep", "ola@example.com", "--date", "2026-12-04"]);
    assert!(quiet.contains("Ingenting trenger deg i dag."), "{quiet}");
}
