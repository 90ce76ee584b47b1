//! Shared helpers: a scratch folder per test, and the real `rapport` binary run in it.
#![allow(dead_code)]

pub mod app;
pub mod browser;
pub mod chrome;
pub mod http;
pub mod imap;
pub mod postgres;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_rapport");

/// A daemon a test started (`Workspace::spawn_daemon`), used as the child
/// process it is. Killed when dropped if still running, so a test that fails
/// halfway leaves no daemon behind (before, a failing several-daemon test left
/// its daemons running after the suite).
pub struct Daemon(std::process::Child);

impl From<std::process::Child> for Daemon {
    fn from(child: std::process::Child) -> Daemon {
        Daemon(child)
    }
}

impl std::ops::Deref for Daemon {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub struct Workspace {
    pub dir: tempfile::TempDir,
    /// Set as `RAPPORT__DATABASE__URL` for every command (over the config's).
    pub database: Option<String>,
}

impl Workspace {
    /// An empty folder with no config: rapport runs on its built-in defaults there.
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
            database: None,
        }
    }

    /// An empty folder whose commands use the database at `url`.
    pub fn on_database(url: Option<String>) -> Workspace {
        Workspace {
            database: url,
            ..Workspace::new()
        }
    }

    /// An initialised folder with one rep, Ann.
    pub fn with_rep() -> Workspace {
        let ws = Workspace::new();
        ws.init_ann();
        ws
    }

    /// `rapport init` with rep Ann (Europe/Oslo), after whatever config the test wrote.
    pub fn init_ann(&self) {
        self.ok(&[
            "init",
            "--rep-name",
            "Ann Rep",
            "--rep-email",
            "ann@example.com",
            "--tz",
            "Europe/Oslo",
        ]);
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// `rapport` in this folder, with no RAPPORT_* settings inherited from the caller.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(self.dir.path())
            .env("RUST_LOG", "warn")
            .env("USER", "tester");
        for (key, _) in std::env::vars() {
            if key.starts_with("RAPPORT") {
                command.env_remove(key);
            }
        }
        // Daemons of parallel tests must not share the default HTTP port; a
        // test that uses the listener sets its own address after this.
        command.env("RAPPORT__HTTP__LISTEN", "127.0.0.1:0");
        command.env("RAPPORT__METRICS__LISTEN", "127.0.0.1:0");
        if let Some(url) = &self.database {
            command.env("RAPPORT__DATABASE__URL", url);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run rapport")
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rapport {args:?} failed: {}\n{}",
            stderr(&out),
            stdout(&out)
        );
        stdout(&out)
    }

    /// Runs with `--json`, asserts success and parses stdout.
    /// The daemon on a clock starting at `now`, logging at info into `daemon-RUN.log`.
    pub fn spawn_daemon(&self, now: chrono::DateTime<chrono::Utc>, run: usize) -> Daemon {
        self.spawn_daemon_logging(now, run, "info")
    }

    /// As `spawn_daemon`, logging what `filter` (RUST_LOG) asks for.
    pub fn spawn_daemon_logging(&self, now: chrono::DateTime<chrono::Utc>, run: usize, filter: &str) -> Daemon {
        let child = self
            .command()
            .args(["--now", &now.to_rfc3339(), "daemon"])
            .env("RUST_LOG", filter)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(self.path(&format!("daemon-{run}.log"))).expect("log"))
            .spawn()
            .expect("start daemon");
        Daemon(child)
    }

    /// Adds Jane Doe (jane@acme.io, of Acme) with `more` arguments, at `now` if given.
    pub fn add_jane(&self, now: Option<&str>, more: &[&str]) -> String {
        let mut args = vec![
            "prospect",
            "add",
            "--name",
            "Jane Doe",
            "--email",
            "jane@acme.io",
            "--company",
            "Acme",
        ];
        args.extend_from_slice(more);
        match now {
            Some(now) => self.at(now, &args),
            None => self.ok(&args),
        }
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }

    /// Runs at the moment `now` (RFC 3339) and asserts success; returns stdout.
    pub fn at(&self, now: &str, args: &[&str]) -> String {
        let mut all = vec!["--now", now];
        all.extend_from_slice(args);
        self.ok(&all)
    }

    /// `at` with `--json`, parsed.
    pub fn json_at(&self, now: &str, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.at(now, &all)).expect("JSON output")
    }

    /// Everything a user can see of the data: prospects with their events, and reps.
    pub fn snapshot(&self) -> serde_json::Value {
        let prospects = self.json(&["prospect", "list"]);
        let mut shown = Vec::new();
        for p in prospects.as_array().expect("list") {
            shown.push(self.json(&["prospect", "show", &p["id"].to_string()]));
        }
        serde_json::json!({ "prospects": shown, "reps": self.json(&["rep", "list"]) })
    }
}

/// Two reps, Ann and Bob, with a prospect each (Jane is Ann's, Raj is Bob's),
/// and the database's URL, for tests of who may see and change what.
pub fn ann_and_bob() -> (Workspace, String) {
    let ws = Workspace::with_rep();
    ws.ok(&["rep", "add", "--name", "Bob Rep", "--email", "bob@example.com"]);
    for (name, email, rep) in [
        ("Jane Doe", "jane@acme.io", "ann@example.com"),
        ("Raj Patel", "raj@globex.com", "bob@example.com"),
    ] {
        ws.ok(&["prospect", "add", "--name", name, "--email", email, "--rep", rep]);
    }
    let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
    (ws, url)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Every file under `dir`, in its subfolders too, added to `out`.
pub fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// A folder of the public corpora (`../shared/corpora/REL`), if present.
/// A folder of the public corpora beside the project that a test measures
/// against. Absent: under `CI` a failure (they must be there), elsewhere the
/// test says so and is counted as skipped in `scripts/test`'s closing line.
pub fn corpora_or_skip(rel: &str, test: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(rel);
    if path.is_dir() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the public corpora are missing at {} (CI must have them beside the clone)",
        path.display()
    );
    skipped(test, &format!("public corpora absent at {}", path.display()));
    None
}

/// A file `scripts/install-test-assets` fetched (axe-core, the OpenAPI
/// schema), under `RAPPORT_TEST_ASSETS` or the cache folder it defaults to.
/// Absent: under `CI` a failure, elsewhere the test is counted as skipped.
pub fn test_asset(rel: &str, test: &str) -> Option<PathBuf> {
    let base = std::env::var_os("RAPPORT_TEST_ASSETS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("rapport-test-assets")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/rapport-test-assets")))?;
    let path = base.join(rel);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing (scripts/test runs scripts/install-test-assets first)",
        path.display()
    );
    skipped(
        test,
        &format!("{} absent: run scripts/install-test-assets", path.display()),
    );
    None
}

/// Records that `test` did not run its checks, and why: `scripts/test` counts
/// these (in the file `RAPPORT_TEST_SKIPS` names) as skipped, not passed.
pub fn skipped(test: &str, why: &str) {
    eprintln!("skipped {test}: {why}");
    if let Some(file) = std::env::var_os("RAPPORT_TEST_SKIPS") {
        use std::io::Write;
        // One write per line: tests running at once append whole lines (O_APPEND).
        if let Ok(mut out) = std::fs::OpenOptions::new().append(true).create(true).open(file) {
            let _ = out.write_all(format!("{test}: {why}\n").as_bytes());
        }
    }
}

/// Extra material from the public corpora, used when present (the test runs either way).
pub fn corpora(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(rel);
    path.is_dir().then_some(path)
}

/// One HTTP/1.1 request to a server on loopback: (status code, body).
pub fn http_request(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Waits until something listens on a loopback port.
pub fn wait_for_port(port: u16, timeout: std::time::Duration) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < timeout, "nothing listens on port {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Config sections turning off every daemon job but `keep`, so a test's
/// daemon does only what the test looks at.
pub fn jobs_off_except(keep: &[&str]) -> String {
    rapport::daemon::JOB_NAMES
        .iter()
        .filter(|job| !keep.contains(job))
        .map(|job| format!("[jobs.{job}]\nschedule = \"0 0 1 1 *\"\nenabled = false\n"))
        .collect()
}

/// The postal address the sending tests put in every email.
pub const POSTAL: &str = "Ann Rep, Example Inc., Storgata 1, 0155 Oslo, Norway";

/// A config for sending through the test SMTP server on `smtp_port`, with the
/// listener on `http_port`, a `[mailboxes]` section (or none) and extra
/// `[sending]` keys: every daemon job is off, so only the commands a test
/// runs act.
pub fn write_sending_config(ws: &Workspace, smtp_port: u16, http_port: u16, mailbox: &str, sending: &str) {
    let jobs = jobs_off_except(&[]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[sequences]\ndir = \"sequences\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout_secs = 5\n\
             [http]\nlisten = \"127.0.0.1:{http_port}\"\npublic_url = \"http://127.0.0.1:{http_port}\"\n\
             [sending]\npostal_address = \"{POSTAL}\"\nmin_gap_secs = 0\nmax_jitter_secs = 0\n{sending}\n\
             {jobs}{mailbox}"
        ),
    );
}

/// A sequence of one email, sent as soon as the window allows.
pub const ONE_EMAIL_SEQUENCE: &str =
    "name = \"One\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello\"\ntext = \"Hi\"\n";

/// Waits until `done`, checking every 50 ms; after `limit`, fails naming
/// `what` with `context()` (a log, say).
pub fn wait_until(
    what: &str,
    limit: std::time::Duration,
    context: impl Fn() -> String,
    mut done: impl FnMut() -> bool,
) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A small deterministic generator for fault tests, seeded from the clock
/// and printed, so a failing run can be repeated with RAPPORT_CRASH_SEED.
pub struct Random(pub u64);

impl Random {
    pub fn seeded() -> Random {
        let seed = std::env::var("RAPPORT_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(7) as u64);
        println!("crash seed {seed} (set RAPPORT_CRASH_SEED to repeat)");
        Random(seed)
    }

    pub fn next_in(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        low + (self.0 >> 33) % (high - low)
    }
}
