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
