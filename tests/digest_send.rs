//! The daemon sends each rep's digest at their local hour, once per local
//! day, across a restart at the send hour; marked auto-generated, text and
//! HTML, and posted to a Slack-compatible webhook on a local HTTP server.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::http::{Response, Server};
use common::smtp::{header, SmtpSink};
use common::Daemon;
use common::Workspace;
use std::time::Instant;

fn stop(mut daemon: Daemon) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = daemon.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "the daemon stops cleanly");
}

fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + std::time::Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_digest_goes_once_at_the_reps_hour_across_a_restart() {
    let smtp = SmtpSink::start();
    let hook = Server::start(|_| Response::new(200, "ok"));
    let ws = Workspace::with_rep();
    let jobs = common::jobs_off_except(&["send-digests"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             [http]\nenabled = false\n[fetch]\nallow_private_networks = true\n[digest]\nslack_webhook_url = \"{}\"\n\
             [jobs.send-digests]\nschedule = \"* * * * * *\"\n{jobs}",
            smtp.port,
            hook.url("/hook")
        ),
    );
    ws.add_jane(Some("2026-12-01T09:00:00Z"), &[]);
    ws.ok(&[
        "--now",
        "2026-12-03T09:00:00Z",
        "log",
        "jane@acme.io",
        "post",
        "--note",
        "Our new deploy pipeline <!channel> & <https://evil.example|Click>",
        "--url",
        "https://blog.acme.io/p2",
        "--at",
        "2026-12-03T09:00:00Z",
    ]);

    // Ann's digest hour is 07:00 in Oslo: 06:00 UTC in December.
    let base: DateTime<Utc> = "2026-12-04T05:59:57Z".parse().expect("time");
    let started = Instant::now();
    let clock = || base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let first = ws.spawn_daemon(clock(), 0);
    wait_for("the digest", 30, || !smtp.received().is_empty());
    // Restart right after the send hour: the day's digest is not sent again.
    stop(first);
    let digest_runs = || {
        let status: serde_json::Value = serde_json::from_str(&ws.ok(&["--json", "status"])).expect("JSON");
        status["jobs"]
            .as_array()
            .and_then(|jobs| jobs.iter().find(|j| j["name"] == "send-digests"))
            .and_then(|j| j["id"].as_i64())
            .unwrap_or(0)
    };
    let before = digest_runs();
    let second = ws.spawn_daemon(clock(), 1);
    // The restarted daemon has run the digest job (every second) twice since.
    wait_for("the restarted daemon's digest runs", 30, || digest_runs() >= before + 2);
    stop(second);

    let received = smtp.received();
    assert_eq!(received.len(), 1, "one digest for the day");
    let digest = &received[0];
    assert_eq!(header(digest, "Auto-Submitted").as_deref(), Some("auto-generated"));
    assert_eq!(header(digest, "X-RcptTo").as_deref(), Some("ann@example.com"));
    assert!(
        header(digest, "Subject").is_some_and(|s| s.contains("Friday 4 December 2026")),
        "{digest}"
    );
    let sent: DateTime<Utc> = DateTime::parse_from_rfc2822(&header(digest, "Date").expect("Date"))
        .expect("date")
        .with_timezone(&Utc);
    assert!(
        sent >= "2026-12-04T06:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        "not before 07:00 Oslo: {sent}"
    );
    assert!(
        digest.contains("text/plain") && digest.contains("text/html"),
        "{digest}"
    );
    assert!(digest.contains("Our new deploy pipeline"), "{digest}");

    let posts: Vec<_> = hook.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1, "one chat message");
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).expect("JSON body");
    let text = body["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("Good morning, Ann Rep."), "{body}");
    assert!(
        text.contains("&lt;!channel&gt; &amp; &lt;https://evil.example|Click&gt;") && !text.contains("<!channel>"),
        "Slack's control characters arrive as text: {text}"
    );
}

/// A webhook is posted to through the guarded client: never plain http to
/// another host, never followed through a redirect, never shown in an error.
#[test]
fn a_chat_webhook_must_be_https_is_not_redirected_and_is_never_shown() {
    let smtp = SmtpSink::start();
    let elsewhere = Server::start(|_| Response::new(200, "ok"));
    let target = elsewhere.url("/stolen");
    let redirecting = Server::start(move |_| Response::new(302, "").header("Location", &target));
    for (webhook, expected) in [
        (
            "http://hooks.example/services/T000/B000/SECRETTOKEN".to_string(),
            "is not an https address",
        ),
        (redirecting.url("/services/T000/B000/SECRETTOKEN"), "a redirect"),
    ] {
        let ws = Workspace::new();
        ws.write(
            "config/rapport.toml",
            format!(
                "[database]\nurl = \"sqlite://data/rapport.db\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
                 [fetch]\nallow_private_networks = true\n[digest]\nsend_empty = true\nslack_webhook_url = \"{webhook}\"\n",
                smtp.port
            ),
        );
        ws.init_ann();
        let out = ws
            .command()
            .args(["--now", "2026-12-04T06:30:00Z", "digest", "--send"])
            .env("RUST_LOG", "trace")
            .output()
            .expect("run");
        let shown = format!("{}{}", common::stdout(&out), common::stderr(&out));
        assert!(shown.contains(expected), "{shown}");
        assert!(
            !shown.contains("SECRETTOKEN"),
            "the webhook's secret was shown: {shown}"
        );
    }
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
    assert_eq!(smtp.received().len(), 2, "the mail went out all the same");
}

/// Runs `rapport digest --send` every hour from `from` for `hours`.
fn send_hourly(ws: &Workspace, from: &str, hours: i64) {
    let start: DateTime<Utc> = from.parse().expect("time");
    for hour in 0..hours {
        let now = (start + Duration::hours(hour)).to_rfc3339();
        ws.ok(&["--now", &now, "digest", "--send"]);
    }
}

#[test]
fn one_digest_per_local_day_across_both_dst_changes() {
    let smtp = SmtpSink::start();
    let ws = Workspace::new();
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
            smtp.port
        ),
    );
    // A 02:00 digest: the hour Oslo skips on 29 March and repeats on 25 October.
    ws.init_ann();
    ws.ok(&[
        "rep",
        "add",
        "--name",
        "Bo Night",
        "--email",
        "bo@example.com",
        "--tz",
        "Europe/Oslo",
        "--digest-hour",
        "2",
    ]);
    send_hourly(&ws, "2026-03-27T20:00:00Z", 60);
    send_hourly(&ws, "2026-10-23T20:00:00Z", 60);
    let dates: Vec<String> = smtp
        .received()
        .iter()
        .filter(|m| header(m, "X-RcptTo").as_deref() == Some("bo@example.com"))
        .map(|m| header(m, "Subject").unwrap_or_default())
        .collect();
    // The first check (21:00 local) sends that day's, whose hour has passed.
    let expected = [
        "Friday 27 March 2026",
        "Saturday 28 March 2026",
        "Sunday 29 March 2026",
        "Monday 30 March 2026",
        "Friday 23 October 2026",
        "Saturday 24 October 2026",
        "Sunday 25 October 2026",
        "Monday 26 October 2026",
    ];
    assert_eq!(dates.len(), expected.len(), "{dates:#?}");
    for (subject, date) in dates.iter().zip(expected) {
        assert!(subject.contains(date), "{subject} is not {date}");
    }
    // The spring-forward digest went at 03:00 local, just after the skipped hour.
    let spring = smtp
        .received()
        .into_iter()
        .find(|m| header(m, "Subject").is_some_and(|s| s.contains("Sunday 29 March 2026")))
        .expect("29 March");
    assert_eq!(
        header(&spring, "Date").as_deref(),
        Some("Sun, 29 Mar 2026 01:00:00 +0000")
    );
}

#[test]
fn a_quiet_day_sends_nothing_when_told_so() {
    let smtp = SmtpSink::start();
    let ws = Workspace::new();
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             [digest]\nsend_empty = false\n",
            smtp.port
        ),
    );
    ws.init_ann();
    let out = ws.ok(&["--now", "2026-12-04T06:30:00Z", "digest", "--send"]);
    assert!(out.contains("left out (quiet day) 1"), "{out}");
    assert!(smtp.received().is_empty());
}
