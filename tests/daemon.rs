//! The real daemon binary: embedded defaults, graceful stop, and a CLI import
//! running against the same database while the daemon writes to it.

mod common;

use common::{stderr, stdout, Workspace};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn spawn_daemon(ws: &Workspace, extra_env: &[(&str, &str)]) -> Child {
    let mut command = ws.command();
    command
        .arg("daemon")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(ws.path("daemon.log")).unwrap());
    for (k, v) in extra_env {
        command.env(k, v);
    }
    command.spawn().expect("start daemon")
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut Child) -> (Option<i32>, Duration) {
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            panic!("daemon did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.path("daemon.log")).unwrap_or_default()
}

#[test]
fn runs_on_embedded_defaults_with_nothing_configured_and_stops_on_sigterm_within_the_grace_period() {
    let ws = Workspace::new();
    let grace = Duration::from_secs(3);
    let mut daemon = spawn_daemon(&ws, &[("RAPPORT__DAEMON__SHUTDOWN_GRACE_SECS", "3")]);
    wait_for("the daemon to start", Duration::from_secs(20), || {
        log(&ws).contains("job registered")
    });
    assert!(ws.path("data/rapport.db").is_file(), "no SQLite file under ./data");
    assert!(ws.path("data/outbox").is_dir(), "no outbox folder under ./data");
    assert!(log(&ws).contains(".eml files in data/outbox"), "{}", log(&ws));
    let (code, took) = terminate(&mut daemon);
    assert_eq!(code, Some(0), "{}", log(&ws));
    assert!(took < grace, "took {took:?}, grace {grace:?}");
    assert!(log(&ws).contains("SIGTERM received"));
}

#[test]
fn json_logs_on_request() {
    let ws = Workspace::new();
    let mut command = ws.command();
    let mut daemon = command
        .args(["daemon", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(ws.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    wait_for("the daemon to start", Duration::from_secs(20), || {
        log(&ws).contains("job registered")
    });
    terminate(&mut daemon);
    for line in log(&ws).lines() {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(parsed["level"].is_string());
    }
}

fn big_csv(ws: &Workspace, name: &str, rows: usize, tag: &str) -> std::path::PathBuf {
    let mut csv = String::from("First Name,Last Name,Email,Company,LinkedIn URL\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "P{i},{tag},p{i}.{tag}@load.example,Co {i},https://linkedin.com/in/{tag}-{i}\n"
        ));
    }
    ws.write(name, csv)
}

#[test]
fn imports_run_while_the_daemon_writes_without_lock_errors() {
    let ws = Workspace::with_rep();
    // Housekeeping every second, so the daemon writes throughout the imports.
    let mut daemon = spawn_daemon(&ws, &[("RAPPORT__JOBS__HOUSEKEEPING__SCHEDULE", "* * * * * *")]);
    wait_for("the first housekeeping run", Duration::from_secs(20), || {
        log(&ws).contains("housekeeping done")
    });
    let files: Vec<_> = (0..3)
        .map(|i| big_csv(&ws, &format!("load{i}.csv"), 3000, &format!("batch{i}")))
        .collect();
    // Two imports at once, alongside the daemon.
    let handles: Vec<_> = files[..2]
        .iter()
        .map(|f| {
            ws.command()
                .args(["prospect", "import", f.to_str().unwrap()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let third = ws.run(&["prospect", "import", files[2].to_str().unwrap()]);
    let mut outputs = vec![third];
    outputs.extend(handles.into_iter().map(|h| h.wait_with_output().unwrap()));
    for out in &outputs {
        assert!(out.status.success(), "import failed: {}", stderr(out));
        assert!(stdout(out).contains("imported 3000"), "{}", stdout(out));
        assert!(!stderr(out).contains("locked"), "{}", stderr(out));
    }
    let runs_seen = log(&ws).matches("housekeeping done").count();
    let (code, _) = terminate(&mut daemon);
    assert_eq!(code, Some(0));
    let daemon_log = log(&ws);
    assert!(
        !daemon_log.contains("locked") && !daemon_log.contains("ERROR"),
        "{daemon_log}"
    );
    assert!(
        runs_seen >= 2,
        "the daemon ran housekeeping {runs_seen} time(s) during the imports"
    );
    assert_eq!(ws.json(&["prospect", "list"]).as_array().unwrap().len(), 9000);
}
