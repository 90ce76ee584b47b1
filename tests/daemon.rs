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
    // The write-ahead log went back into the database file.
    let wal = ws.path("data/rapport.db-wal");
    let left = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(left, 0, "a clean stop leaves no write-ahead log ({left} bytes)");
}

#[test]
fn a_signing_key_that_cannot_be_read_stops_the_start_with_a_message() {
    let ws = Workspace::with_rep();
    // A stored key nobody could have made: the links already mailed cannot be checked.
    let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query("INSERT OR REPLACE INTO local_keys (name, value) VALUES ('unsubscribe', 'short')")
            .execute(&mut db)
            .await
            .expect("write");
        db.close().await.expect("close");
    });
    let out = ws.command().arg("daemon").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unsubscribe links' signing key"),
        "{}",
        stderr(&out)
    );
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

/// Two imports at once beside the daemon; returns their outputs.
fn import_pair(ws: &Workspace, round: usize) -> Vec<std::process::Output> {
    let files: Vec<_> = (0..2)
        .map(|i| big_csv(ws, &format!("load{round}-{i}.csv"), 1500, &format!("r{round}b{i}")))
        .collect();
    let children: Vec<_> = files
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
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

#[test]
fn imports_run_while_the_daemon_writes_without_lock_errors() {
    let ws = Workspace::with_rep();
    // Housekeeping every second, so the daemon writes throughout the imports
    // (its runs that prune nothing are logged at debug).
    let mut daemon = spawn_daemon(
        &ws,
        &[
            ("RAPPORT__JOBS__HOUSEKEEPING__SCHEDULE", "* * * * * *"),
            ("RUST_LOG", "info,rapport::daemon=debug"),
        ],
    );
    wait_for("the first housekeeping run", Duration::from_secs(20), || {
        log(&ws).contains("housekeeping done")
    });
    let runs = || log(&ws).matches("housekeeping done").count();
    let before = runs();
    let mut rounds = 0;
    // Keep importing until the daemon has written at least three times meanwhile.
    while runs() < before + 3 {
        assert!(
            rounds < 30,
            "the daemon stopped running housekeeping during the imports"
        );
        for out in import_pair(&ws, rounds) {
            assert!(out.status.success(), "import failed: {}", stderr(&out));
            assert!(stdout(&out).contains("imported 1500"), "{}", stdout(&out));
            assert!(!stderr(&out).contains("database is locked"), "{}", stderr(&out));
        }
        rounds += 1;
    }
    let (code, _) = terminate(&mut daemon);
    assert_eq!(code, Some(0));
    let daemon_log = log(&ws);
    // (A slow-statement warning may quote SQL naming `locked_until`: the
    // failure looked for is SQLite's "database is locked".)
    assert!(
        !daemon_log.contains("database is locked") && !daemon_log.contains("ERROR"),
        "{daemon_log}"
    );
    assert_eq!(ws.json(&["prospect", "list"]).as_array().unwrap().len(), rounds * 3000);
}

/// An idle daemon's log stays quiet: runs that did nothing are logged at
/// debug, not as lines every minute.
#[test]
fn an_idle_daemon_logs_nothing_after_starting() {
    let ws = Workspace::with_rep();
    let every_second: String = rapport::daemon::JOB_NAMES
        .iter()
        .map(|job| format!("[jobs.{job}]\nschedule = \"* * * * * *\"\n"))
        .collect();
    ws.write(
        "config/rapport.toml",
        format!("[database]\nurl = \"sqlite://data/rapport.db\"\n[digest]\nsend_empty = false\n{every_second}"),
    );
    let mut daemon = spawn_daemon(&ws, &[]);
    let runs = || {
        let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            use sqlx::Connection;
            let Ok(mut db) = sqlx::SqliteConnection::connect(&url).await else {
                return 0;
            };
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_runs WHERE outcome = 'ok'")
                .fetch_one(&mut db)
                .await
                .unwrap_or(0);
            let _ = db.close().await;
            n
        })
    };
    // Every job has run (and done nothing) a few times.
    wait_for("idle job runs", Duration::from_secs(30), || {
        runs() >= 3 * rapport::daemon::JOB_NAMES.len() as i64
    });
    let (code, _) = terminate(&mut daemon);
    assert_eq!(code, Some(0));
    let after_start: Vec<String> = log(&ws)
        .lines()
        .filter(|l| l.contains("INFO"))
        .filter(|l| {
            ![
                "starting",
                "listener ready",
                "job registered",
                "SIGTERM",
                "shutting down",
                "stopped",
            ]
            .iter()
            .any(|known| l.contains(known))
        })
        .map(str::to_string)
        .collect();
    assert!(after_start.is_empty(), "an idle daemon logged: {after_start:#?}");
}
