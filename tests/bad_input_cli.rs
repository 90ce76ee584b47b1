//! Bad input exits with code 2, a message naming the input and the fix, and
//! leaves the database as it was.

mod common;

use common::{stderr, Workspace};

fn assert_refused(ws: &Workspace, args: &[&str], names: &[&str]) {
    let before = ws.snapshot();
    let out = ws.run(args);
    assert_eq!(out.status.code(), Some(2), "rapport {args:?}: {}", stderr(&out));
    let message = stderr(&out);
    for name in names {
        assert!(
            message.contains(name),
            "rapport {args:?}: message lacks {name:?}: {message}"
        );
    }
    assert_eq!(ws.snapshot(), before, "rapport {args:?} changed the database");
}

fn seeded() -> Workspace {
    let ws = Workspace::with_rep();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Jane",
        "--email",
        "jane@acme.example",
        "--profile",
        "https://github.com/jane",
    ]);
    ws
}

#[test]
fn unknown_stage_and_pipeline() {
    let ws = seeded();
    let valid = "valid stages: prospecting, qualification, meeting, proposal, negotiation, won, post-purchase, lost";
    assert_refused(
        &ws,
        &[
            "prospect",
            "add",
            "--name",
            "X",
            "--email",
            "x@y.example",
            "--stage",
            "closing",
        ],
        &["'closing'", valid],
    );
    assert_refused(
        &ws,
        &["prospect", "move", "jane@acme.example", "closing"],
        &["'closing'", valid],
    );
    assert_refused(
        &ws,
        &["prospect", "add", "--name", "X", "--pipeline", "enterprise"],
        &[
            "'enterprise'",
            "valid pipelines: default, financial-services, real-estate, startup",
        ],
    );
    assert_refused(
        &ws,
        &["pipeline", "--pipeline", "enterprise"],
        &["'enterprise'", "valid pipelines"],
    );
}

#[test]
fn bad_urls_emails_and_values() {
    let ws = seeded();
    assert_refused(
        &ws,
        &["prospect", "add", "--name", "X", "--profile", "htp//nope"],
        &["'htp//nope'"],
    );
    assert_refused(
        &ws,
        &["prospect", "add", "--name", "X", "--profile", "mailto:x@y.example"],
        &["'mailto:x@y.example'", "http and https"],
    );
    assert_refused(
        &ws,
        &["prospect", "edit", "1", "--add-profile", "https://exa mple.com"],
        &["'https://exa mple.com'"],
    );
    assert_refused(
        &ws,
        &["prospect", "add", "--name", "X", "--email", "x@"],
        &["'x@' is not an email address"],
    );
    assert_refused(
        &ws,
        &["prospect", "add", "--name", "X", "--value", "lots"],
        &["'lots'", "100,000"],
    );
    assert_refused(
        &ws,
        &["prospect", "add", "--name", "X\r\nBcc: a@b.example"],
        &["control character"],
    );
    assert_refused(
        &ws,
        &["log", "jane@acme.example", "stage.changed"],
        &["recorded by rapport itself"],
    );
    assert_refused(&ws, &["prospect", "show", "999"], &["no prospect #999"]);
    assert_refused(
        &ws,
        &["prospect", "show", "nobody"],
        &["neither a prospect id, an email address nor a profile URL"],
    );
    assert_refused(&ws, &["prospect", "remove", "1"], &["--yes"]);
}

#[test]
fn one_profile_url_belongs_to_one_prospect() {
    let ws = seeded();
    assert_refused(
        &ws,
        &[
            "prospect",
            "add",
            "--name",
            "Other",
            "--email",
            "other@x.example",
            "--profile",
            "https://GitHub.com/Jane/",
        ],
        &["already prospect #1"],
    );
    assert_refused(
        &ws,
        &[
            "prospect",
            "add",
            "--name",
            "Jane again",
            "--email",
            "JANE@acme.example",
        ],
        &["already prospect #1"],
    );
}

#[test]
fn bad_config_names_the_file_and_key() {
    let ws = seeded();
    ws.write("bad.toml", "[database]\nurll = \"sqlite://x.db\"\n");
    assert_refused(
        &ws,
        &[
            "--config",
            "bad.toml",
            "prospect",
            "add",
            "--name",
            "X",
            "--email",
            "x@y.example",
        ],
        &["bad.toml", "database.urll", "expected `one of `url`"],
    );
    ws.write("bad-value.toml", "[daemon]\nshutdown_grace_secs = \"soon\"\n");
    assert_refused(
        &ws,
        &["--config", "bad-value.toml", "config", "check"],
        &["bad-value.toml", "daemon.shutdown_grace_secs", "expected u64"],
    );
    ws.write("bad-cron.toml", "[jobs.housekeeping]\nschedule = \"every day\"\n");
    assert_refused(
        &ws,
        &["--config", "bad-cron.toml", "config", "check"],
        &["bad-cron.toml", "jobs.housekeeping.schedule", "5 (minute hour"],
    );
    ws.write("bad-job.toml", "[jobs.cleanup]\nschedule = \"0 3 * * *\"\n");
    assert_refused(
        &ws,
        &["--config", "bad-job.toml", "config", "check"],
        &["jobs.cleanup", "known jobs: housekeeping"],
    );
    assert_refused(
        &ws,
        &["--config", "missing.toml", "config", "check"],
        &["missing.toml", "cannot read"],
    );
    let out = ws
        .command()
        .args(["config", "check"])
        .env("RAPPORT__PROSPECTS__DEFAULT_CURRENCY", "dollars")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("RAPPORT__PROSPECTS__DEFAULT_CURRENCY"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_pipeline_file_names_the_file() {
    let ws = seeded();
    let before = ws.snapshot();
    let broken = ws.write(
        "config/pipelines/broken.toml",
        "name = \"Broken\"\n[[stages]]\nslug = \"a\"\nname = \"A\"\nprobability = 140\nkind = \"open\"\n",
    );
    let out = ws.run(&["prospect", "add", "--name", "X", "--email", "x@y.example"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("broken.toml") && stderr(&out).contains("probability 140 is not between 0 and 100"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(broken).unwrap();
    assert_eq!(ws.snapshot(), before);
}

/// `rapport prospect list | head -1`: the reader goes away, rapport ends
/// quietly with status 0.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let ws = Workspace::with_rep();
    let mut csv = String::from("Name,Email\n");
    for n in 0..3000 {
        csv.push_str(&format!("Person {n},person{n}@acme.example\n"));
    }
    let file = ws.write("many.csv", csv);
    ws.ok(&["prospect", "import", file.to_str().unwrap()]);
    let mut child = ws
        .command()
        .args(["prospect", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    // The pipe's reader is gone now.
    let out = child.wait_with_output().expect("wait");
    assert!(!first.is_empty());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Logs into a file or a pipe carry no colour codes.
#[test]
fn logs_not_on_a_terminal_have_no_colour_codes() {
    let ws = Workspace::with_rep();
    let out = ws
        .command()
        .args(["prospect", "list"])
        .env("RUST_LOG", "debug")
        .output()
        .expect("run");
    let logged = stderr(&out);
    assert!(logged.contains("DEBUG"), "debug logging was on: {logged}");
    assert!(!logged.contains('\u{1b}'), "{logged:?}");
}

#[test]
fn listing_a_stage_that_does_not_exist_names_the_stages() {
    let ws = Workspace::with_rep();
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Jane",
        "--email",
        "jane@acme.io",
        "--stage",
        "proposal",
    ]);
    let out = ws.run(&["prospect", "list", "--stage", "propsal"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("'propsal' is not a stage") && stderr(&out).contains("proposal"),
        "{}",
        stderr(&out)
    );
    let by_name = ws.json(&["prospect", "list", "--stage", "Proposal"]);
    assert_eq!(
        by_name.as_array().map(Vec::len),
        Some(1),
        "a stage by its display name: {by_name}"
    );
}

#[test]
fn a_now_without_an_offset_is_refused_with_an_example() {
    let ws = Workspace::with_rep();
    for local in ["2026-12-01T09:00", "2026-12-01 09:00:00", "2026-12-01"] {
        let out = ws.run(&["--now", local, "prospect", "list"]);
        assert_eq!(out.status.code(), Some(2), "{local}");
        assert!(
            stderr(&out).contains("has no UTC offset") && stderr(&out).contains("+02:00"),
            "{local}: {}",
            stderr(&out)
        );
    }
}

/// Money as people write it, the README's own `$100,000` included; a value
/// in one currency with another given is refused with the reason.
#[test]
fn deal_values_are_read_as_people_write_them() {
    let ws = Workspace::with_rep();
    for (email, value, currency, units) in [
        ("a@x.example", "$100,000", "USD", 100_000.0),
        ("b@x.example", "€50 000", "EUR", 50_000.0),
        ("c@x.example", "NOK 1 000 000", "NOK", 1_000_000.0),
        ("d@x.example", "1.5M", "USD", 1_500_000.0),
    ] {
        ws.ok(&["prospect", "add", "--name", "P", "--email", email, "--value", value]);
        let shown = ws.json(&["prospect", "show", email]);
        assert_eq!(shown["prospect"]["value"], units, "{value}: {shown}");
        assert_eq!(shown["prospect"]["currency"], currency, "{value}");
    }
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "P",
        "--email",
        "e@x.example",
        "--value",
        "1.234,56",
        "--currency",
        "EUR",
    ]);
    assert_eq!(
        ws.json(&["prospect", "show", "e@x.example"])["prospect"]["value"],
        1234.56
    );
    let out = ws.run(&[
        "prospect",
        "add",
        "--name",
        "P",
        "--email",
        "f@x.example",
        "--value",
        "NOK 1 000",
        "--currency",
        "USD",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is in NOK, but the currency given is USD"),
        "{}",
        stderr(&out)
    );
    let file = ws.write(
        "deals.csv",
        "Name,Email,Value,Currency\nG,g@x.example,\"$1,000\",EUR\nH,h@x.example,\"$2,000\",\n",
    );
    let out = ws.run(&["--json", "prospect", "import", file.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(&common::stdout(&out)).expect("JSON report");
    assert_eq!(report["imported"], 1, "{report}");
    assert!(
        report["bad_rows"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("Currency column says EUR"),
        "{report}"
    );
}
