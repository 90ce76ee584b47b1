//! Several daemons polling one PostgreSQL database: `rapport poll --once`
//! run once alone and then three at once, each time over a fresh database
//! holding the same F feeds spread over H loopback hosts (the benchmarks'
//! feed server, every feed five items). The three share the work through
//! claims (SKIP LOCKED, leases, fences) and share each host's pacing
//! through the database, as daemons do.
//!
//! Shown: every feed fetched exactly once (the server counts the requests),
//! every item one event, and the throughput of three against one.

use super::{common, postgres::Postgres, verdict};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Items in the benchmark feed (`common::feeds::feed_body`).
const ITEMS: i64 = 5;

/// One rep and F prospects, each with one Mastodon-style profile and its
/// feed, every feed due.
async fn seed(url: &str, feeds: usize, hosts: usize) {
    let pool = sqlx::PgPool::connect(url).await.expect("seed connection");
    let statements: [(&str, bool); 4] = [
        ("INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) VALUES (1, 'B', 'b@x.example', 'UTC', 7, now())", false),
        ("INSERT INTO prospects (id, rep_id, name, pipeline, stage, currency, created_at, updated_at) \
          SELECT x, 1, 'P' || x, 'default', 'prospecting', 'USD', now(), now() FROM generate_series(1, $1::bigint) x", true),
        ("INSERT INTO profiles (id, prospect_id, url, platform, created_at) \
          SELECT x, x, 'https://h' || (x % $2::bigint) || '.example/@user' || x, 'mastodon', now() FROM generate_series(1, $1::bigint) x", true),
        ("INSERT INTO sources (prospect_id, profile_id, platform, page_url, feed_url, interval_secs, next_poll_at, created_at) \
          SELECT x, x, 'mastodon', 'https://h' || (x % $2::bigint) || '.example/@user' || x, \
                 'https://h' || (x % $2::bigint) || '.example/@user' || x || '.rss', 3600, '2000-01-01T00:00:00Z', now() \
          FROM generate_series(1, $1::bigint) x", true),
    ];
    for (sql, sized) in statements {
        let mut query = sqlx::query(sql);
        if sized {
            query = query.bind(feeds as i64);
            if sql.contains("$2") {
                query = query.bind(hosts as i64);
            }
        }
        query.execute(&pool).await.expect("seed the feeds");
    }
    sqlx::query("ANALYZE").execute(&pool).await.expect("analyze");
}

/// The config the pollers read: the hosts sent to the loopback servers,
/// each host paced at 2 ms (shared through the database), 16 at once.
fn config(dir: &std::path::Path, ports: &[u16]) -> std::path::PathBuf {
    let mut text = String::from("[fetch]\nper_host_interval_ms = 2\nmax_concurrent = 16\n[fetch.base_urls]\n");
    for (i, port) in ports.iter().enumerate() {
        text.push_str(&format!("\"h{i}.example\" = \"http://127.0.0.1:{port}\"\n"));
    }
    let path = dir.join("rapport.toml");
    std::fs::write(&path, text).expect("write the config");
    path
}

/// Runs `daemons` pollers at once on the database until each finds nothing
/// due, and gives the seconds it took.
async fn poll_with(daemons: usize, url: &str, config: &std::path::Path, dir: &std::path::Path) -> f64 {
    let started = Instant::now();
    let mut children = Vec::new();
    for _ in 0..daemons {
        children.push(
            tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
                .arg("--config")
                .arg(config)
                .args(["poll", "--once"])
                .env("RAPPORT__DATABASE__URL", url)
                .env("RAPPORT__DATABASE__MAX_CONNECTIONS", "4")
                .current_dir(dir)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start rapport poll"),
        );
    }
    for child in children {
        let out = child.wait_with_output().await.expect("wait for rapport poll");
        assert!(
            out.status.success(),
            "rapport poll failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    started.elapsed().as_secs_f64()
}

/// Events written, and feeds not polled, in the database.
async fn outcome(url: &str) -> (i64, i64) {
    let pool = sqlx::PgPool::connect(url).await.expect("connection");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .expect("count events");
    let unpolled: i64 = sqlx::query_scalar("SELECT count(*) FROM sources WHERE last_polled_at IS NULL")
        .fetch_one(&pool)
        .await
        .expect("count unpolled feeds");
    (events, unpolled)
}

pub async fn run(cluster: &Postgres, feeds: usize, hosts: usize) {
    println!("== polls: {feeds} feeds on {hosts} loopback hosts, PostgreSQL, `rapport poll --once` x1 and x3");
    let ports = common::feeds::start_servers(hosts).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path(), &ports);
    let mut rates = Vec::new();
    for daemons in [1usize, 3] {
        let url = cluster.database(&format!("scale_polls_{daemons}"));
        // Migrations first, so the pollers' start is not the first one.
        drop(
            rapport::store::open(&url, std::time::Duration::from_secs(30), 2, None)
                .await
                .expect("migrate"),
        );
        seed(&url, feeds, hosts).await;
        let before = common::feeds::REQUESTS.load(Ordering::Relaxed) - common::feeds::ROBOTS.load(Ordering::Relaxed);
        let took = poll_with(daemons, &url, &config, dir.path()).await;
        let fetched =
            common::feeds::REQUESTS.load(Ordering::Relaxed) - common::feeds::ROBOTS.load(Ordering::Relaxed) - before;
        let (events, unpolled) = outcome(&url).await;
        let rate = feeds as f64 / took;
        println!(
            "{daemons} daemon(s): {took:.1} s, {rate:.0} feeds/s; feed requests {fetched} (feeds {feeds}); events {events} (items {}); feeds left unpolled {unpolled}",
            feeds as i64 * ITEMS
        );
        assert_eq!(fetched as usize, feeds, "every feed fetched exactly once");
        assert_eq!(events, feeds as i64 * ITEMS, "every item one event, none twice");
        assert_eq!(unpolled, 0, "every feed polled");
        rates.push(rate);
    }
    let ratio = rates[1] / rates[0];
    println!(
        "ratio 3 daemons / 1 daemon, feeds/s: {ratio:.2} (target >= 1: {}); this machine has {} cores, shared by the pollers, PostgreSQL and the feed servers",
        verdict(ratio >= 1.0),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
