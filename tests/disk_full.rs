//! A full disk: writes fail while it lasts, and within seconds of space
//! coming back the daemon recovers by itself: every job runs, an unsubscribe
//! succeeds, the database is intact, and nothing is lost or duplicated.
//! On a small tmpfs mounted for the test over the data folder (root, as the
//! test command runs; elsewhere the test says so and skips, except in CI).

mod common;

use common::http::{Response, Server};
use common::{http_request, wait_for_port, Workspace};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROSPECTS: usize = 10;
const POSTS_EACH: usize = 3;

/// A tmpfs mounted over a folder, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).expect("folder");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn atom(user: usize) -> String {
    let entries: String = (0..POSTS_EACH)
        .map(|n| {
            format!(
                "<entry><id>tag:github.com,2008:user{user}-{n}</id><title>Post {n} of user {user}</title>\
                 <link href=\"https://github.com/user{user}/p{n}\"/><updated>2026-11-2{n}T10:00:00Z</updated></entry>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>tag:github.com,2008:user{user}</id><title>user{user}</title><updated>2026-11-29T10:00:00Z</updated>{entries}</feed>"
    )
}

/// Runs SQL on the database, as another program would (read-only use here).
fn query(ws: &Workspace, statement: &str) -> Vec<String> {
    let url = format!("sqlite://{}", ws.path("data/rapport.db").display());
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        use sqlx::{Connection, Row};
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        let rows = sqlx::query(statement).fetch_all(&mut db).await.expect(statement);
        db.close().await.expect("close");
        rows.iter()
            .map(|r| {
                r.try_get::<String, _>(0)
                    .or_else(|_| r.try_get::<i64, _>(0).map(|n| n.to_string()))
                    .expect("a value")
            })
            .collect()
    })
}

fn count(ws: &Workspace, statement: &str) -> usize {
    query(ws, statement)[0].parse().expect("a count")
}

fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0;
    while file.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    // The last bytes too, one at a time, so not one page is left.
    while file.write_all(&[0]).is_ok() && file.flush().is_ok() {
        written += 1;
    }
    let _ = file.sync_all();
    written
}

fn stop(mut daemon: Child) -> Option<i32> {
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    daemon.wait().ok().and_then(|s| s.code())
}

#[test]
fn the_daemon_recovers_by_itself_when_a_full_disk_has_room_again() {
    let ws = Workspace::new();
    let Some(_tmpfs) = Tmpfs::mount(&ws.path("data"), "6m") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must mount the test file system"
        );
        common::skipped(
            "the_daemon_recovers_by_itself_when_a_full_disk_has_room_again",
            "mounting a tmpfs needs root (the test command runs as root)",
        );
        return;
    };
    let github = Server::start(|request| {
        let user: Option<usize> = request
            .path
            .strip_prefix("/user")
            .and_then(|rest| rest.strip_suffix(".atom"))
            .and_then(|n| n.parse().ok());
        match user {
            Some(user) => Response::new(200, atom(user)).header("Content-Type", "application/atom+xml"),
            None => Response::new(404, "not found"),
        }
    });
    let port = common::imap::free_port();
    // Every job the daemon has, each every second (sync-mail has no mailbox to read).
    let jobs: String = rapport::daemon::JOB_NAMES
        .iter()
        .map(|job| format!("[jobs.{job}]\nschedule = \"* * * * * *\"\n"))
        .collect();
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[sequences]\ndir = \"sequences\"\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
             [sending]\npostal_address = \"{}\"\nmin_gap_secs = 0\nmax_jitter_secs = 0\n\
             [fetch]\nper_host_interval_ms = 0\n[fetch.base_urls]\n\"github.com\" = \"{}\"\n{jobs}",
            common::POSTAL,
            github.url("")
        ),
    );
    ws.write("config/sequences/one.toml", common::ONE_EMAIL_SEQUENCE);
    ws.init_ann();
    // Monday 07:59:57 in Oslo: the sending window and the feeds' first polls
    // open three seconds after the daemon starts, when the disk is full.
    let start = "2026-11-30T06:59:57Z";
    let due = "2026-11-30T07:00:00Z";
    for n in 0..PROSPECTS {
        ws.at(
            due,
            &[
                "prospect",
                "add",
                "--name",
                &format!("User {n}"),
                "--email",
                &format!("user{n}@acme.example"),
                "--profile",
                &format!("https://github.com/user{n}"),
            ],
        );
    }
    ws.at(start, &["sequence", "enroll", "one", "--stage", "prospecting"]);

    let mut daemon = ws.command();
    daemon
        .args(["--now", start, "daemon"])
        .env("RAPPORT__HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(ws.path("daemon.log")).expect("log"));
    let daemon = daemon.spawn().expect("start daemon");
    let log = || std::fs::read_to_string(ws.path("daemon.log")).unwrap_or_default();
    wait_for_port(port, Duration::from_secs(20));
    common::wait_until("the daemon's jobs", Duration::from_secs(20), log, || {
        log().matches("job registered").count() >= rapport::daemon::JOB_NAMES.len()
    });
    let key = query(&ws, "SELECT value FROM local_keys WHERE name = 'unsubscribe'")[0].clone();
    let enrolments: Vec<i64> = query(&ws, "SELECT id FROM enrolments ORDER BY id")
        .iter()
        .map(|id| id.parse().expect("id"))
        .collect();
    let link = |enrolment: i64| {
        format!(
            "/u/{}",
            rapport::domain::sequence::unsubscribe::token(key.as_bytes(), enrolment)
        )
    };

    let filler = ws.path("data/filler");
    let filled = fill(&filler);
    assert!(filled > 0);
    // Polls and sends come due while nothing can be written; an unsubscribe cannot be saved.
    common::wait_until("writes to fail on the full disk", Duration::from_secs(60), log, || {
        log().matches("full").count() >= 2
    });
    let (status, _) = http_request(port, "POST", &link(enrolments[0]), "List-Unsubscribe=One-Click");
    assert!(status == 503 || status == 200, "while full: {status}");

    std::fs::remove_file(&filler).expect("free the disk");
    let freed = Instant::now();
    let runs_before = count(&ws, "SELECT COALESCE(MAX(id), 0) FROM job_runs");
    common::wait_until("an unsubscribe to be saved", Duration::from_secs(20), log, || {
        http_request(port, "POST", &link(enrolments[1]), "List-Unsubscribe=One-Click").0 == 200
    });
    eprintln!("unsubscribe saved {:?} after the disk had room again", freed.elapsed());
    common::wait_until("every post to be recorded", Duration::from_secs(30), log, || {
        count(&ws, "SELECT COUNT(*) FROM events WHERE kind = 'post'") == PROSPECTS * POSTS_EACH
    });
    eprintln!("posts recorded {:?} after the disk had room again", freed.elapsed());
    common::wait_until("every email to go out", Duration::from_secs(30), log, || {
        count(&ws, "SELECT COUNT(*) FROM enrolments WHERE state = 'active'") == 0
    });
    common::wait_until("every job to run again", Duration::from_secs(30), log, || {
        count(
            &ws,
            &format!("SELECT COUNT(DISTINCT name) FROM job_runs WHERE id > {runs_before} AND outcome = 'ok'"),
        ) == rapport::daemon::JOB_NAMES.len()
    });
    let recovered = freed.elapsed();
    assert_eq!(stop(daemon), Some(0), "{}", log());

    assert_eq!(query(&ws, "PRAGMA integrity_check"), ["ok"]);
    // Exact: each post once, each unsubscribed prospect mailed at most once and
    // the others exactly once, every outbox row settled and matched by a file.
    assert_eq!(
        count(&ws, "SELECT COUNT(*) FROM events WHERE kind = 'post'"),
        PROSPECTS * POSTS_EACH
    );
    assert_eq!(
        count(
            &ws,
            "SELECT COUNT(*) FROM outbox WHERE state NOT IN ('sent', 'refused')"
        ),
        0
    );
    let sent = count(&ws, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'");
    // (The rep's digest goes to the same folder.)
    let files = std::fs::read_dir(ws.path("data/outbox"))
        .expect("outbox")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| !e.file_name().to_string_lossy().contains(".digest."))
        })
        .count();
    assert_eq!(sent, files, "outbox rows and .eml files");
    assert_eq!(
        count(
            &ws,
            "SELECT COUNT(*) FROM (SELECT prospect_id FROM outbox GROUP BY prospect_id HAVING COUNT(*) > 1)"
        ),
        0,
        "nobody mailed twice"
    );
    let unsubscribed = count(
        &ws,
        "SELECT COUNT(*) FROM enrolments WHERE stop_reason LIKE '%unsubscribe%'",
    );
    assert!(unsubscribed >= 1, "the unsubscribe after recovery was saved");
    assert_eq!(sent + unsubscribed, PROSPECTS, "everyone else got their email");
    eprintln!("recovered {recovered:?} after the disk had room again");
}
