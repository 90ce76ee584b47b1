//! `/metrics` on the daemon's metrics listener: Prometheus' own checker
//! (`promtool check metrics`, from Debian's prometheus package) accepts the
//! text, and a known counter moves after a poll.

mod common;

use common::http::{Response, Server};
use common::Workspace;
use std::io::{BufRead, Write};
use std::process::Stdio;
use std::time::Duration;

fn promtool_accepts(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (scripts/install-test-servers installs Debian's prometheus)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool refused the metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_metrics_pass_promtool_and_the_poll_counter_moves_after_a_poll() {
    let published = chrono::Utc::now().to_rfc2822();
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>Pia</title><item><guid>https://feeds.example/p/1</guid>\
         <title>Release trains</title><pubDate>{published}</pubDate></item></channel></rss>"
    );
    let server = Server::start(move |_| Response::new(200, feed.clone()).header("Content-Type", "application/rss+xml"));
    let ws = Workspace::with_rep();
    ws.write(
        "rapport.toml",
        format!(
            "[fetch]\nper_host_interval_ms = 0\n[fetch.base_urls]\n\"feeds.example\" = \"{}\"\n\
             [jobs.poll-feeds]\nschedule = \"*/1 * * * * *\"\n",
            server.url("")
        ),
    );
    ws.ok(&[
        "--config",
        "rapport.toml",
        "prospect",
        "add",
        "--name",
        "Pia Lund",
        "--profile",
        "https://feeds.example/@pia",
    ]);
    let mut daemon = ws
        .command()
        .args(["--config", "rapport.toml", "daemon"])
        // The scheduler's "job finished" (debug) says when a run is recorded.
        .env("RUST_LOG", "info,rapport::daemon::scheduler=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The listener's address, from its ready line; then the end of the
    // first poll-feeds run that polled something, recorded.
    let log = daemon.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (polled_tx, polled) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut saw_poll = false;
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            saw_poll |= line.contains("feeds polled");
            if saw_poll && line.contains("name=poll-feeds") && line.contains("job finished") {
                let _ = polled_tx.send(());
            }
            if let Some(at) = line.find("metrics listener ready") {
                let address = line[at..]
                    .split("address=")
                    .nth(1)
                    .unwrap_or("")
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                let _ = tx.send(address.to_string());
            }
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the metrics listener's ready line");
    let scrape = || {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(&address).expect("connect to /metrics");
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        body.to_string()
    };
    let first = scrape();
    promtool_accepts(&first);
    assert!(first.contains("# TYPE rapport_database_bytes gauge"), "{first}");
    // The poll (the job runs every second), waited for by its own log line: the counter moved.
    polled
        .recv_timeout(Duration::from_secs(60))
        .expect("a poll-feeds run that polled the feed, recorded");
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon stopped");
    let after = scrape();
    assert!(
        value(&after, "rapport_feeds_polled_total{outcome=\"changed\"}").is_some_and(|v| v >= 1.0),
        "no poll counted:\n{after}"
    );
    promtool_accepts(&after);
    assert_eq!(value(&after, "rapport_events{kind=\"post\"}"), Some(1.0), "{after}");
    assert!(
        value(&after, "rapport_job_runs{job=\"poll-feeds\",outcome=\"ok\"}").is_some_and(|v| v >= 1.0),
        "{after}"
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
}
