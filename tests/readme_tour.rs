//! The README's quick tour, run top to bottom in a fresh folder as written:
//! every command in its block, in order, must succeed. The internet is the
//! one thing substituted: jane.example and github.com are answered by a
//! server on loopback (through `fetch.base_urls`, set in the environment).

mod common;

use common::http::{Response, Server};
use common::{stderr, stdout, Workspace};

/// The quick tour's commands, continuation lines joined, comments removed, as words.
fn tour() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find("## A quick tour").expect("the quick tour section");
    let section = &readme[start..];
    let end = section.find("Day to day").expect("the end of the tour");
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in section[..end].lines() {
        let Some(code) = line.strip_prefix("    ") else {
            continue;
        };
        if pending.is_empty() && !code.starts_with("rapport ") {
            continue;
        }
        match code.trim_end().strip_suffix('\\') {
            Some(more) => pending.push_str(more),
            None => {
                pending.push_str(code);
                commands.push(words(&pending));
                pending.clear();
            }
        }
    }
    commands
}

/// Splits a command line as a POSIX shell would for these commands: quotes,
/// and a `#` starting a word begins a comment.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&c| c != '"'));
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

const FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Jane's notes</title><id>urn:jane</id>
<updated>2026-11-29T08:00:00Z</updated>
<entry><title>Why we moved to trunk-based development</title><id>urn:jane:1</id>
<link href="https://jane.example/trunk"/><updated>2026-11-29T08:00:00Z</updated>
<summary>Three teams, one branch.</summary></entry></feed>"#;

#[test]
fn the_readme_quick_tour_runs_as_written() {
    let server = Server::start(|req| match req.path.as_str() {
        "/feed.xml" | "/jane.atom" => Response::new(200, FEED).header("Content-Type", "application/atom+xml"),
        _ => Response::new(404, "not found"),
    });
    let ws = Workspace::new();
    std::fs::copy(common::fixture("import/sales-navigator.csv"), ws.path("leads.csv")).expect("leads.csv");
    let base = server.url("");
    let base = base.trim_end_matches('/');
    let commands = tour();
    assert!(commands.len() >= 30, "the tour was read: {commands:?}");
    let mut outputs = Vec::new();
    for command in &commands {
        assert_eq!(command[0], "rapport", "{command:?}");
        let out = ws
            .command()
            .args(&command[1..])
            .env("RAPPORT__FETCH__ALLOW_PRIVATE_NETWORKS", "true")
            .env("RAPPORT__FETCH__PER_HOST_INTERVAL_MS", "0")
            .env(
                "RAPPORT__FETCH__BASE_URLS",
                format!("{{\"jane.example\"=\"{base}\",\"github.com\"=\"{base}\"}}"),
            )
            .output()
            .expect("run rapport");
        assert!(
            out.status.success(),
            "`{}` failed ({:?}):\n{}\n{}",
            command.join(" "),
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        outputs.push((command.join(" "), stdout(&out)));
    }
    let said = |prefix: &str| {
        outputs
            .iter()
            .find(|(c, _)| c.starts_with(prefix))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| panic!("no command {prefix}"))
    };
    assert!(
        said("rapport prospect import").contains("imported 4"),
        "{}",
        said("rapport prospect import")
    );
    assert!(said("rapport prospect list --stage proposal").contains("100,000 USD"));
    assert!(said("rapport sources test").contains("Why we moved to trunk-based development"));
    assert!(
        said("rapport poll --once").contains("polled 1 feed: 1 new post,"),
        "{}",
        said("rapport poll --once")
    );
    assert!(said("rapport sequence enroll example --stage prospecting --dry-run").contains("would be enrolled"));
    assert!(said("rapport sequence preview").contains("cannot be enrolled"));
    assert!(said("rapport tasks --all").contains("send the deck"));
    assert!(ws.path("deals.csv").is_file());
    assert!(std::fs::read_to_string(ws.path("deals.csv"))
        .unwrap()
        .contains("Jane Doe"));
}
