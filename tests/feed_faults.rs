//! Every fault a feed server can throw, served by a real HTTP server on
//! 127.0.0.1 while the real daemon polls: the daemon keeps running, each
//! source records its status and error and gets a next poll, and the bomb
//! and oversize bodies do not blow up memory.

mod common;

use common::http::{Response, Server};
use common::{stderr, Workspace};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

const FEED: &str =
    "<rss version=\"2.0\"><channel><title>ok</title><item><guid>1</guid><title>Hello</title></item></channel></rss>";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// 64 MiB of zeros, gzipped to about 64 KiB.
fn gzip_bomb() -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

fn billion_laughs() -> String {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    doc.push_str("]>\n<rss version=\"2.0\"><channel><title>&lol9;</title></channel></rss>");
    doc
}

/// The faults, by Mastodon-style user name (`/@NAME.rss`), with what the
/// source's recorded error must mention (empty: the poll must succeed).
fn faults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("notfound", "HTTP 404"),
        ("gone", "HTTP 410"),
        ("ratelimited", "HTTP 429"),
        ("servererror", "HTTP 500"),
        ("loop", "more than 5 redirects"),
        ("toprivate", "private or special-purpose"),
        ("drip", "took longer than"),
        ("oversize", "larger than"),
        ("bomb", "larger than"),
        ("laughs", ""),
        ("badutf8", ""),
        ("truncated", "not a readable RSS, Atom or JSON feed"),
        ("wrongtype", ""),
        ("html", "not a readable RSS, Atom or JSON feed"),
    ]
}

fn respond(path: &str, bomb: &[u8]) -> Response {
    let name = path.trim_start_matches("/@").trim_end_matches(".rss");
    match name {
        "notfound" => Response::new(404, "no"),
        "gone" => Response::new(410, "gone"),
        "ratelimited" => Response::new(429, "slow down").header("Retry-After", "7200"),
        "servererror" => Response::new(500, "oops"),
        "loop" => Response::new(302, "").header("Location", "/@loop.rss"),
        "toprivate" => Response::new(301, "").header("Location", "http://10.0.0.1/feed"),
        "drip" => Response { drip: Some((16, Duration::from_millis(400))), ..Response::new(200, FEED.repeat(4)) },
        "oversize" => Response::new(200, vec![b' '; 20 << 20]),
        "bomb" => Response::new(200, bomb.to_vec()).header("Content-Encoding", "gzip"),
        "laughs" => Response::new(200, billion_laughs()),
        "badutf8" => Response::new(200, b"<rss version=\"2.0\"><channel><title>caf\xe9 \xff\xfe</title><item><guid>1</guid><title>B\xf8rge</title></item></channel></rss>".to_vec()),
        "truncated" => Response::new(200, &FEED.as_bytes()[..FEED.len() / 2]),
        "wrongtype" => Response::new(200, gzip(FEED.as_bytes())).header("Content-Type", "text/plain").header("Content-Encoding", "gzip"),
        "html" => Response::new(200, "<!doctype html><html><body><h1>Hello</h1></body></html>").header("Content-Type", "text/html"),
        _ => Response::new(404, "unknown"),
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

#[test]
fn every_fault_is_recorded_and_the_daemon_keeps_running() {
    let bomb = gzip_bomb();
    let server = Server::start(move |req| respond(&req.path, &bomb));
    let ws = Workspace::with_rep();
    ws.write(
        "faults.toml",
        format!(
            "[fetch]\nper_host_interval_ms = 0\ntotal_timeout_secs = 3\nconnect_timeout_secs = 2\n\
             [fetch.base_urls]\n\"faults.example\" = \"{0}\"\n\"limited.example\" = \"{0}\"\n\
             [jobs.poll-feeds]\nschedule = \"*/2 * * * * *\"\n",
            server.url("")
        ),
    );
    for (name, _) in faults() {
        let email = format!("{name}@faults.example");
        // A 429 pauses every feed of its host: the rate-limited one has a
        // host of its own, so the others' faults are still met.
        let host = if name == "ratelimited" {
            "limited.example"
        } else {
            "faults.example"
        };
        let profile = format!("https://{host}/@{name}");
        ws.ok(&[
            "--config",
            "faults.toml",
            "prospect",
            "add",
            "--name",
            name,
            "--email",
            &email,
            "--profile",
            &profile,
        ]);
    }
    let mut daemon = ws
        .command()
        .args(["--config", "faults.toml", "daemon"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(ws.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let sources = loop {
        let sources = ws.json(&["--config", "faults.toml", "sources"]);
        if sources
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["last_polled_at"].is_null())
        {
            break sources;
        }
        assert!(
            daemon.try_wait().unwrap().is_none(),
            "the daemon died: {}",
            std::fs::read_to_string(ws.path("daemon.log")).unwrap()
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not every source was polled: {sources}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let peak = peak_rss_kib(daemon.id());
    println!("daemon peak RSS after every fault: {} MiB", peak / 1024);
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon died");
    let now = chrono::Utc::now();
    for (name, expected) in faults() {
        let source: &Value = sources
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["prospect_name"] == name)
            .unwrap();
        let error = source["last_error"].as_str().unwrap_or("");
        if expected.is_empty() {
            assert!(error.is_empty(), "{name}: unexpected error {error}");
        } else {
            assert!(error.contains(expected), "{name}: error {error:?} lacks {expected:?}");
            assert_eq!(source["last_status"], "failed", "{name}");
        }
        let next: chrono::DateTime<chrono::Utc> = source["next_poll_at"].as_str().unwrap().parse().unwrap();
        assert!(next > now, "{name}: next poll {next} is not scheduled ahead");
    }
    let by_name = |name: &str| {
        sources
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["prospect_name"] == name)
            .unwrap()
            .clone()
    };
    let rate_limited: chrono::DateTime<chrono::Utc> = by_name("ratelimited")["next_poll_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        rate_limited - now > chrono::Duration::minutes(110),
        "Retry-After 7200 not honoured: {rate_limited}"
    );
    assert_eq!(by_name("gone")["broken"], true);
    assert!(
        peak > 0 && peak < 200 * 1024,
        "peak RSS {peak} KiB while reading the bomb and oversize bodies"
    );
    let pid = daemon.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = daemon.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(ws.path("daemon.log")).unwrap()
    );
    let broken = ws.run(&["--config", "faults.toml", "sources", "--broken"]);
    assert!(broken.status.success(), "{}", stderr(&broken));
    assert!(String::from_utf8_lossy(&broken.stdout).contains("BROKEN"));
}
