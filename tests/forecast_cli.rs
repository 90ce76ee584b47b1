//! The brief's worked example, end to end through the CLI: an offer worth
//! 100,000 a year; 10 prospects in proposal (60 %) make 600,000 weighted of
//! 1,000,000 open; 5 won make 500,000 closed. Plus per-quarter and per-rep.

mod common;

use common::Workspace;
use serde_json::Value;

fn add(ws: &Workspace, n: usize, stage: &str, rep: &str, close: Option<&str>) {
    let email = format!("{stage}{n}.{}@prospects.example", rep.split('@').next().unwrap_or("x"));
    let name = format!("Prospect {stage} {n}");
    let mut args = vec![
        "prospect", "add", "--name", &name, "--email", &email, "--stage", stage, "--value", "100,000", "--rep", rep,
    ];
    if let Some(close) = close {
        args.extend_from_slice(&["--expected-close", close]);
    }
    ws.ok(&args);
}

fn stage<'a>(report: &'a Value, slug: &str) -> &'a Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == slug)
        .unwrap()
}

fn group<'a>(report: &'a Value, list: &str, key: &str) -> &'a Value {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no {list} {key}: {report}"))
}

#[test]
fn worked_example_with_quarters_and_reps() {
    let ws = Workspace::with_rep();
    ws.ok(&["rep", "add", "--name", "Bo Rep", "--email", "bo@example.com"]);
    for n in 0..6 {
        add(&ws, n, "proposal", "ann@example.com", Some("2026-12-15"));
    }
    for n in 0..4 {
        add(&ws, n, "proposal", "bo@example.com", Some("2027-02-10"));
    }
    for n in 0..5 {
        add(&ws, n, "won", "ann@example.com", None);
    }

    let team = ws.json(&["pipeline"]);
    assert_eq!(team["open_value"], 1_000_000);
    assert_eq!(team["weighted_value"], 600_000);
    assert_eq!(team["closed_value"], 500_000);
    // As a table: won deals count as closed, not as 0 weighted.
    let table = ws.ok(&["pipeline"]);
    let won = table.lines().find(|l| l.starts_with("won ")).expect("a won row");
    assert!(won.ends_with("500,000") && won.contains(" - "), "{table}");
    assert!(table.contains("closed 500,000"), "{table}");
    let proposal = stage(&team, "proposal");
    assert_eq!(
        (proposal["count"].clone(), proposal["probability"].clone()),
        (Value::from(10), Value::from(60))
    );
    assert_eq!(
        (proposal["value"].clone(), proposal["weighted_value"].clone()),
        (Value::from(1_000_000), Value::from(600_000))
    );
    assert_eq!(stage(&team, "won")["value"], 500_000);
    assert_eq!(stage(&team, "won")["name"], "Won");

    let q4 = group(&team, "quarters", "2026-Q4");
    assert_eq!(
        (q4["open_value"].clone(), q4["weighted_value"].clone()),
        (Value::from(600_000), Value::from(360_000))
    );
    let q1 = group(&team, "quarters", "2027-Q1");
    assert_eq!(
        (q1["open_value"].clone(), q1["weighted_value"].clone()),
        (Value::from(400_000), Value::from(240_000))
    );
    assert_eq!(group(&team, "quarters", "unscheduled")["closed_value"], 500_000);

    let ann = group(&team, "reps", "ann@example.com");
    assert_eq!(
        (ann["weighted_value"].clone(), ann["closed_value"].clone()),
        (Value::from(360_000), Value::from(500_000))
    );
    assert_eq!(group(&team, "reps", "bo@example.com")["weighted_value"], 240_000);

    let bo_only = ws.json(&["pipeline", "--rep", "bo@example.com"]);
    assert_eq!(
        (bo_only["open_value"].clone(), bo_only["weighted_value"].clone()),
        (Value::from(400_000), Value::from(240_000))
    );
    assert_eq!(bo_only["closed_value"], 0);

    let text = ws.ok(&["pipeline"]);
    assert!(
        text.contains("open 1,000,000   weighted 600,000   closed 500,000"),
        "{text}"
    );
    // The won stage's line: its deals are closed, not 0 weighted.
    let won = text.lines().find(|l| l.starts_with("won ")).expect("the won stage");
    let cells: Vec<&str> = won.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["-", "500,000"], "{won}");
}

#[test]
fn a_per_deal_probability_overrides_the_stage() {
    let ws = Workspace::with_rep();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "A",
        "--email",
        "a@x.example",
        "--stage",
        "proposal",
        "--value",
        "1000",
        "--probability",
        "90",
    ]);
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "B",
        "--email",
        "b@x.example",
        "--stage",
        "proposal",
        "--value",
        "1000",
    ]);
    let report = ws.json(&["pipeline"]);
    assert_eq!(report["weighted_value"], 1_500);
}

#[test]
fn stage_changes_are_events_with_who_and_why() {
    let ws = Workspace::with_rep();
    ws.ok(&["prospect", "add", "--name", "Jane", "--email", "jane@acme.example"]);
    ws.ok(&[
        "--now",
        "2026-11-20T10:00:00Z",
        "prospect",
        "move",
        "jane@acme.example",
        "Demo / meeting",
        "--note",
        "booked a demo",
    ]);
    let shown = ws.json(&["prospect", "show", "jane@acme.example"]);
    assert_eq!(shown["prospect"]["stage"], "meeting");
    let change = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "stage.changed")
        .expect("stage event");
    assert_eq!(change["data"]["from"], "prospecting");
    assert_eq!(change["data"]["to"], "meeting");
    assert_eq!(change["data"]["reason"], "booked a demo");
    assert_eq!(change["actor"], serde_json::json!({ "kind": "user", "name": "tester" }));
    assert_eq!(change["occurred_at"], "2026-11-20T10:00:00Z");
}

#[test]
fn several_pipelines_are_in_use_at_once() {
    let ws = Workspace::with_rep();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "House buyer",
        "--email",
        "h@x.example",
        "--pipeline",
        "real-estate",
        "--stage",
        "offer-made",
        "--value",
        "500000",
    ]);
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Saas lead",
        "--email",
        "s@x.example",
        "--stage",
        "proposal",
        "--value",
        "1000",
    ]);
    let estate = ws.json(&["pipeline", "--pipeline", "real-estate"]);
    assert_eq!(estate["weighted_value"], 375_000);
    assert_eq!(estate["other_pipelines"]["default"]["weighted_value"], 600);
    let stages: Vec<&str> = estate["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "buyers-looking",
            "visit-scheduled",
            "price-discussion",
            "offer-made",
            "offer-accepted",
            "referral",
            "lost"
        ]
    );
}

/// Learned probabilities: of 20 decided proposals 6 were won, so proposal
/// learns (6 + 10 × 60 %) / (20 + 10) = 40 %, and the 5 open proposals of
/// 100,000 weigh 200,000 instead of 300,000.
#[test]
fn learned_probabilities_come_from_the_teams_history() {
    let ws = Workspace::with_rep();
    for n in 0..25 {
        add(&ws, n, "proposal", "ann@example.com", None);
        let email = format!("proposal{n}.ann@prospects.example");
        match n {
            0..=5 => ws.ok(&["prospect", "move", &email, "won"]),
            6..=19 => ws.ok(&["prospect", "move", &email, "lost"]),
            _ => String::new(),
        };
    }
    let report = ws.json(&["pipeline", "--learned"]);
    assert_eq!(report["probabilities"], "learned");
    let learned = report["learned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["slug"] == "proposal")
        .unwrap();
    assert_eq!(
        (
            &learned["configured"],
            &learned["learned"],
            &learned["won"],
            &learned["reached"]
        ),
        (&Value::from(60), &Value::from(40), &Value::from(6), &Value::from(20)),
        "{learned}"
    );
    assert_eq!(stage(&report, "proposal")["weighted_value"], Value::from(200_000));
    let configured = ws.json(&["pipeline"]);
    assert_eq!(configured["probabilities"], "configured");
    assert_eq!(stage(&configured, "proposal")["weighted_value"], Value::from(300_000));
    let text = ws.ok(&["pipeline", "--learned"]);
    assert!(text.contains("CONFIGURED") && text.contains("6/20"), "{text}");
}
