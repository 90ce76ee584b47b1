//! Host budgets at scale: S sources, 40 % of them on one host whose budget
//! gives only three quarters of the polls its feeds ask for, the rest over
//! 20 hosts with three times the budget they need. The feeds are in their
//! steady state (polled before, answering 304, next polls spread over one
//! interval of SECS), and `rapport daemon` runs with only its poll job (every
//! 10 s instead of every 5 minutes, so the interval can be minutes here
//! instead of hours) for 1.2 intervals.
//!
//! Shown: on the hosts whose budget allows, every feed due in the interval
//! is polled within it (lateness printed); on the busy host, the polls
//! made per hour against its budget (the baseline: ratio printed) and the
//! shortfall `rapport sources --hosts` reports, beside the one measured.

use super::{common, median, percentile, verdict};
use chrono::{DateTime, Utc};
use std::time::Duration;

const OTHER_HOSTS: usize = 20;
const BUSY: &str = "busy.example";

struct Setup {
    sources: usize,
    window: u64,
    busy_interval_ms: u64,
    other_interval_ms: u64,
}

impl Setup {
    fn new(sources: usize, window: u64) -> Setup {
        let per_second = |share: f64| share * sources as f64 / window as f64;
        // Busy: a budget of 3/4 of what its feeds ask; the others: 3x.
        let busy_interval_ms = (1000.0 / (0.75 * per_second(0.4))).ceil() as u64;
        let other_interval_ms = (1000.0 / (3.0 * per_second(0.6 / OTHER_HOSTS as f64))).floor().max(1.0) as u64;
        Setup {
            sources,
            window,
            busy_interval_ms,
            other_interval_ms,
        }
    }
}

/// The store's time format (SQLite keeps times as text, compared as text).
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// One rep; S prospects, each one feed: ids with `x % 5 < 2` on the busy
/// host, the others on h0…h19; each polled before (ETag kept), its next
/// poll somewhere in the coming interval. The schedule is kept beside them.
async fn seed(url: &str, setup: &Setup, start: DateTime<Utc>) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("seed connection");
    let now = stamp(Utc::now());
    let host = "CASE WHEN x % 5 < 2 THEN 'busy.example' ELSE 'h' || (x % 20) || '.example' END";
    let statements = [
        "INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'Ann', 'ann@example.com', 'UTC', 8, ?2)".to_string(),
        "INSERT INTO prospects (id, rep_id, name, pipeline, stage, currency, created_at, updated_at) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT x, 1, 'P' || x, 'default', 'prospecting', 'USD', ?2, ?2 FROM n".to_string(),
        format!(
            "INSERT INTO profiles (id, prospect_id, url, platform, created_at) \
             SELECT id, id, 'https://' || {} || '/@user' || id, 'mastodon', ?2 FROM (SELECT id, id AS x FROM prospects)",
            host
        ),
        format!(
            "INSERT INTO sources (prospect_id, profile_id, platform, page_url, feed_url, etag, interval_secs, next_poll_at, first_poll_done, created_at) \
             SELECT x, x, 'mastodon', 'https://' || {host} || '/@user' || x, 'https://' || {host} || '/@user' || x || '.rss', '\"v1\"', ?4, \
                    strftime('%Y-%m-%dT%H:%M:%f', ?3, '+' || (((x * 7919) % ?1) * ?4 * 1.0 / ?1) || ' seconds') || '000Z', 1, ?2 \
             FROM (SELECT id AS x FROM prospects)"
        ),
        "CREATE TABLE bench_schedule AS SELECT id, next_poll_at AS due, feed_url FROM sources".to_string(),
    ];
    for sql in statements {
        sqlx::query(&sql)
            .bind(setup.sources as i64)
            .bind(&now)
            .bind(start.format("%Y-%m-%dT%H:%M:%S").to_string())
            .bind(setup.window as i64)
            .execute(&pool)
            .await
            .expect("seed the sources");
    }
    pool.close().await;
}

fn config(dir: &std::path::Path, url: &str, setup: &Setup, ports: &[u16]) -> std::path::PathBuf {
    let mut text = format!(
        "[database]\nurl = \"{url}\"\n[http]\nenabled = false\n[metrics]\nenabled = false\n\
         [fetch]\nper_host_interval_ms = {}\nmax_concurrent = 16\n\
         [fetch.hosts.\"{BUSY}\"]\ninterval_ms = {}\nconcurrency = 1\n[fetch.base_urls]\n\"{BUSY}\" = \"http://127.0.0.1:{}\"\n",
        setup.other_interval_ms, setup.busy_interval_ms, ports[OTHER_HOSTS]
    );
    for (i, port) in ports.iter().take(OTHER_HOSTS).enumerate() {
        text.push_str(&format!("\"h{i}.example\" = \"http://127.0.0.1:{port}\"\n"));
    }
    for job in rapport::daemon::JOB_NAMES {
        if job == "poll-feeds" {
            text.push_str("[jobs.poll-feeds]\nschedule = \"*/10 * * * * *\"\ntimeout_secs = 1800\n");
        } else {
            text.push_str(&format!("[jobs.{job}]\nschedule = \"0 0 1 1 *\"\nenabled = false\n"));
        }
    }
    let path = dir.join("rapport.toml");
    std::fs::write(&path, text).expect("write the config");
    path
}

/// Each source's due time, when it was polled (if it was) and whether it is on the busy host.
async fn polls(url: &str) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>, bool)> {
    let pool = sqlx::SqlitePool::connect(url).await.expect("connection");
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT b.due, s.last_polled_at, b.feed_url FROM bench_schedule b JOIN sources s ON s.id = b.id",
    )
    .fetch_all(&pool)
    .await
    .expect("read the polls");
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .expect("a stored time")
            .with_timezone(&Utc)
    };
    rows.iter()
        .map(|(due, polled, feed)| (parse(due), polled.as_deref().map(parse), feed.contains(BUSY)))
        .collect()
}

pub async fn run(sources: usize, window: u64) {
    let setup = Setup::new(sources, window);
    println!(
        "== budgets: {sources} sources, 40 % on {BUSY} ({} ms a request), the rest on {OTHER_HOSTS} hosts ({} ms), \
         interval {window} s, the daemon polling for {} s",
        setup.busy_interval_ms,
        setup.other_interval_ms,
        window * 6 / 5
    );
    let ports = common::feeds::start_servers(OTHER_HOSTS + 1).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("budgets.db").display());
    drop(
        rapport::store::open(&url, Duration::from_secs(30), 2, None)
            .await
            .expect("create the database"),
    );
    let config = config(dir.path(), &url, &setup, &ports);
    // The first polls are due a few seconds from now, once the daemon is up.
    let start = Utc::now() + chrono::Duration::seconds(5);
    seed(&url, &setup, start).await;
    let mut daemon = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--config")
        .arg(&config)
        .arg("daemon")
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("daemon.log")).expect("log"))
        .spawn()
        .expect("start the daemon");
    let stop_at = start + chrono::Duration::seconds((window * 6 / 5) as i64);
    tokio::time::sleep((stop_at - Utc::now()).to_std().unwrap_or_default()).await;
    let stopped_at = Utc::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().unwrap_or_default().to_string()])
        .status();
    let _ = daemon.wait().await;

    let polls = polls(&url).await;
    let interval = chrono::Duration::seconds(window as i64);
    for busy in [false, true] {
        let mine: Vec<_> = polls.iter().filter(|p| p.2 == busy).collect();
        let late: Vec<f64> = mine
            .iter()
            .filter_map(|(due, polled, _)| polled.map(|at| (at - *due).num_milliseconds() as f64 / 1000.0))
            .collect();
        let polled = late.len();
        // Missed: not polled although its whole interval has passed.
        let missed = mine
            .iter()
            .filter(|(due, polled, _)| polled.is_none() && *due + interval <= stopped_at)
            .count();
        let within = late.iter().filter(|l| **l <= window as f64).count();
        let name = if busy {
            BUSY.to_string()
        } else {
            format!("{OTHER_HOSTS} other hosts")
        };
        println!(
            "{name}: {} feeds, {polled} polled ({within} within their interval), {missed} missed their interval; \
             lateness median {:.1} s, p99 {:.1} s, most {:.1} s",
            mine.len(),
            median(late.clone()),
            percentile(late.clone(), 0.99),
            late.iter().copied().fold(0.0, f64::max),
        );
        if busy {
            // From the first poll to the last (the daemon finishes its batch after SIGTERM).
            let times: Vec<DateTime<Utc>> = mine.iter().filter_map(|p| p.1).collect();
            let (first, last) = (times.iter().min().copied(), times.iter().max().copied());
            let ran = match (first, last) {
                (Some(first), Some(last)) => (last - first).num_milliseconds().max(1) as f64 / 1000.0,
                _ => 1.0,
            };
            let per_hour = polled.saturating_sub(1) as f64 / ran * 3600.0;
            let budget = 3_600_000.0 / setup.busy_interval_ms as f64;
            let needed = mine.len() as f64 * 3600.0 / window as f64;
            println!(
                "{BUSY}: {per_hour:.0} polls/h made, budget {budget:.0}/h (ratio {:.2}), its feeds ask {needed:.0}/h: \
                 measured shortfall {:.0}/h",
                per_hour / budget,
                (needed - per_hour).max(0.0)
            );
        } else {
            println!(
                "every feed on the hosts whose budget allows polled within its interval: {}",
                verdict(within == polled && missed == 0)
            );
        }
    }
    let report = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--config")
        .arg(&config)
        .args(["sources", "--hosts"])
        .current_dir(dir.path())
        .output()
        .expect("run rapport sources --hosts");
    println!("`rapport sources --hosts` afterwards:");
    for line in String::from_utf8_lossy(&report.stdout).lines().take(4) {
        println!("  {line}");
    }
}
