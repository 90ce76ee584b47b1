//! The daemon's HTTP listener faces the internet (every unsubscribe link
//! points at it): clients that send slowly, hold connections or hammer it
//! are cut off, and a real one-click unsubscribe still gets through.

mod common;

use common::{http_request, wait_for_port, Workspace};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Jane enrolled and mailed into the `.eml` outbox; the daemon's listener
/// on a free port. Returns the workspace, the daemon, its port and the
/// path of Jane's one-click unsubscribe link.
fn world(extra_http: &str) -> (Workspace, Child, u16, String) {
    let ws = Workspace::with_rep();
    let port = common::imap::free_port();
    let jobs = common::jobs_off_except(&[]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[sequences]\ndir = \"sequences\"\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n{extra_http}\n\
             [sending]\npostal_address = \"{}\"\nmin_gap_secs = 0\nmax_jitter_secs = 0\n{jobs}",
            common::POSTAL
        ),
    );
    ws.write("config/sequences/one.toml", common::ONE_EMAIL_SEQUENCE);
    ws.ok(&["prospect", "add", "--name", "Jane", "--email", "jane@acme.io"]);
    let monday = "2026-11-30T09:00:00Z";
    ws.at(monday, &["sequence", "enroll", "one", "--stage", "prospecting"]);
    ws.at(monday, &["sequence", "send", "--once"]);
    let email = std::fs::read_dir(ws.path("data/outbox"))
        .expect("outbox")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("email"))
        .next()
        .expect("one email");
    let start = email.find("/u/").expect("an unsubscribe link");
    let path: String = email[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        .collect();
    let mut command = ws.command();
    command
        .arg("daemon")
        .env("RAPPORT__HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(ws.path("daemon.log")).expect("log"));
    let daemon = command.spawn().expect("start daemon");
    wait_for_port(port, Duration::from_secs(20));
    (ws, daemon, port, path)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |fds| fds.count())
}

fn stop(mut daemon: Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
}

#[test]
fn slow_clients_are_closed_while_a_real_unsubscribe_gets_through() {
    let (ws, daemon, port, path) = world("");
    let baseline = open_files(daemon.id());
    // 500 requests whose header never ends, held open.
    let attack_started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..500)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream
                .write_all(b"POST /u/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .expect("half a request");
            stream
        })
        .collect();

    let started = Instant::now();
    let (status, page) = http_request(port, "POST", &path, "List-Unsubscribe=One-Click");
    let took = started.elapsed();
    assert_eq!(status, 200, "{page}");
    assert!(took < Duration::from_secs(2), "the real unsubscribe took {took:?}");
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    assert_eq!(jane["suppressed"], true, "{jane}");

    let during = open_files(daemon.id());
    assert!(
        during <= baseline + 520,
        "open files grew past the connections held: {baseline} → {during}"
    );

    // The server closes every half-sent request (http.header_timeout_secs = 10).
    for stream in &mut slow {
        stream.set_nonblocking(true).expect("nonblocking");
    }
    let mut open: Vec<usize> = (0..slow.len()).collect();
    let mut buffer = [0u8; 512];
    let left = Duration::from_secs(30).saturating_sub(attack_started.elapsed());
    common::wait_until("the server to close every half-sent request", left, String::new, || {
        open.retain(|&i| match slow[i].read(&mut buffer) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
            Err(_) => false,
        });
        open.is_empty()
    });
    drop(slow);
    common::wait_until(
        "the daemon to close its files",
        Duration::from_secs(10),
        || format!("open: {} (was {baseline})", open_files(daemon.id())),
        || open_files(daemon.id()) <= baseline + 8,
    );
    stop(daemon);
}

#[test]
fn a_client_guessing_links_is_slowed_and_large_bodies_are_refused() {
    let (_ws, daemon, port, path) = world("unsubscribe_per_minute = 5\nmax_body_bytes = 1024");
    let (status, _) = http_request(port, "POST", &path, &"x".repeat(4096));
    assert_eq!(status, 413, "a body over http.max_body_bytes");
    let statuses: Vec<u16> = (0..6)
        .map(|n| http_request(port, "GET", &format!("/u/guess{n}"), "").0)
        .collect();
    assert_eq!(&statuses[..4], &[404, 404, 404, 404], "{statuses:?}");
    assert_eq!(statuses[5], 429, "over the rate: {statuses:?}");
    // A link that verifies is served all the same (many people may share a proxy).
    let (status, page) = http_request(port, "POST", &path, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    assert_eq!(http_request(port, "GET", "/health", "").0, 200);
    stop(daemon);
}
