//! Feed polling benchmark: `cargo bench --bench poll [-- --feeds N --hosts H --rss-feeds M]`.
//!
//! N feeds (spread over H local HTTP servers, since a host gets one request
//! at a time) are polled through the real poller into a real SQLite store:
//! (a) a first poll (fetch, parse, store the posts), and (b) a re-poll where
//! every feed answers 304. Each is reported in feeds/s next to a fetch-only
//! baseline measured in the same run: the same servers and the same client,
//! with no parsing and no store. Then M sources are polled once while the
//! process's peak RSS is read.

mod common;

use chrono::Utc;
use futures::stream::{self, StreamExt};
use rapport::clock::SystemClock;
use rapport::config::{self, Settings};
use rapport::domain::clock::Clock;
use rapport::net::client::{Fetched, HttpClient, Validators};
use rapport::sources::poll::Poller;
use rapport::store::{SqliteStore, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

struct Options {
    feeds: usize,
    hosts: usize,
    rss_feeds: usize,
}

fn options() -> Options {
    let value = common::number_arg;
    Options {
        feeds: value("--feeds", 2000),
        hosts: value("--hosts", 16),
        rss_feeds: value("--rss-feeds", 100_000),
    }
}

fn bench_settings(dir: &tempfile::TempDir, ports: &[u16]) -> Settings {
    let mut text = format!(
        "[database]\nurl = \"sqlite://{}\"\n[fetch]\nper_host_interval_ms = 0\nmax_concurrent = 32\n[fetch.base_urls]\n",
        dir.path().join("bench.db").display()
    );
    for (i, port) in ports.iter().enumerate() {
        text.push_str(&format!("\"h{i}.example\" = \"http://127.0.0.1:{port}\"\n"));
    }
    let path = dir.path().join("bench.toml");
    std::fs::write(&path, text).expect("write config");
    config::load(Some(&path)).expect("config")
}

fn feed_url(i: usize, hosts: usize) -> String {
    format!("https://h{}.example/@user{i}.rss", i % hosts)
}

/// N prospects, each with one Mastodon-style profile whose feed is known.
async fn seed(url: &str, n: usize, hosts: usize) {
    // Seeded with SQL on a connection of its own: the store has no public pool.
    let pool = sqlx::SqlitePool::connect(url).await.expect("seed connection");
    let now = Utc::now().to_rfc3339();
    let rep: i64 = sqlx::query_scalar(
        "INSERT INTO reps (name, email, time_zone, digest_hour, language, created_at) VALUES ('B', 'b@x.example', 'UTC', 7, 'en', ?) RETURNING id",
    )
    .bind(&now)
    .fetch_one(&pool)
    .await
    .expect("rep");
    for chunk_start in (0..n).step_by(5000) {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("tx");
        for i in chunk_start..(chunk_start + 5000).min(n) {
            let prospect: i64 = sqlx::query_scalar(
                "INSERT INTO prospects (rep_id, name, pipeline, stage, currency, created_at, updated_at) \
                 VALUES (?, ?, 'default', 'prospecting', 'USD', ?, ?) RETURNING id",
            )
            .bind(rep)
            .bind(format!("P{i}"))
            .bind(&now)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await
            .expect("prospect");
            let page = format!("https://h{}.example/@user{i}", i % hosts);
            let profile: i64 = sqlx::query_scalar("INSERT INTO profiles (prospect_id, url, platform, created_at) VALUES (?, ?, 'mastodon', ?) RETURNING id")
                .bind(prospect)
                .bind(&page)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await
                .expect("profile");
            sqlx::query(
                "INSERT INTO sources (prospect_id, profile_id, platform, page_url, feed_url, interval_secs, next_poll_at, created_at) \
                 VALUES (?, ?, 'mastodon', ?, ?, 0, '2000-01-01T00:00:00.000000Z', ?)",
            )
            .bind(prospect)
            .bind(profile)
            .bind(&page)
            .bind(feed_url(i, hosts))
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("source");
        }
        tx.commit().await.expect("commit");
    }
}

async fn make_all_due(url: &str) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("connection");
    sqlx::query("UPDATE sources SET next_poll_at = '2000-01-01T00:00:00.000000Z'")
        .execute(&pool)
        .await
        .expect("due");
}

/// Fetch-only: the same client and URLs, bodies read and dropped.
async fn fetch_only(
    client: &HttpClient,
    n: usize,
    hosts: usize,
    validators: &Validators,
    concurrency: usize,
) -> Duration {
    let urls: Vec<Url> = (0..n).map(|i| Url::parse(&feed_url(i, hosts)).expect("url")).collect();
    let start = Instant::now();
    let fetched: Vec<bool> = stream::iter(urls.iter())
        .map(|url| async move {
            matches!(
                client.get(url, validators).await,
                Ok(Fetched::Body { .. } | Fetched::NotModified)
            )
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    assert!(fetched.iter().all(|ok| *ok), "a baseline fetch failed");
    start.elapsed()
}

async fn timed_poll(poller: &Poller, n: usize) -> Duration {
    let start = Instant::now();
    let report = poller.poll_due(None, &|_| {}).await.expect("poll");
    assert_eq!(report.polled as usize, n);
    assert_eq!(report.failed, 0, "{report:?}");
    start.elapsed()
}

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let opts = options();
    let ports = common::feeds::start_servers(opts.hosts).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = bench_settings(&dir, &ports);
    let store = SqliteStore::open(&settings.config.database.url, Duration::from_secs(10), 4)
        .await
        .expect("store");
    seed(&settings.config.database.url, opts.feeds, opts.hosts).await;
    let store_arc: Arc<dyn Store> = Arc::new(store.clone());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let poller = Poller::new(&settings, store_arc.clone(), clock.clone()).expect("poller");
    let concurrency = settings.config.fetch.max_concurrent;
    let baseline_client = HttpClient::new(settings.config.fetch.client_settings()).expect("client");

    let first_baseline = fetch_only(
        &baseline_client,
        opts.feeds,
        opts.hosts,
        &Validators::default(),
        concurrency,
    )
    .await;
    let first = timed_poll(&poller, opts.feeds).await;
    make_all_due(&settings.config.database.url).await;
    let validators = Validators {
        etag: Some(common::feeds::ETAG.into()),
        last_modified: None,
    };
    let repoll_baseline = fetch_only(&baseline_client, opts.feeds, opts.hosts, &validators, concurrency).await;
    let repoll = timed_poll(&poller, opts.feeds).await;

    let (a, a_base) = (rate(opts.feeds, first), rate(opts.feeds, first_baseline));
    let (b, b_base) = (rate(opts.feeds, repoll), rate(opts.feeds, repoll_baseline));
    println!("{} feeds over {} hosts:", opts.feeds, opts.hosts);
    println!(
        "(a) first poll: {a:.0} feeds/s; fetch-only baseline {a_base:.0} feeds/s; ratio {:.0} % (target >= 30 %)",
        100.0 * a / a_base
    );
    println!(
        "(b) all-304 re-poll: {b:.0} feeds/s; fetch-only baseline {b_base:.0} feeds/s; ratio {:.0} % (target >= 70 %)",
        100.0 * b / b_base
    );

    if opts.rss_feeds > 0 {
        let big_dir = tempfile::tempdir().expect("temp dir");
        let big_settings = bench_settings(&big_dir, &ports);
        let big_store = SqliteStore::open(&big_settings.config.database.url, Duration::from_secs(10), 4)
            .await
            .expect("store");
        seed(&big_settings.config.database.url, opts.rss_feeds, opts.hosts).await;
        let big_poller = Poller::new(&big_settings, Arc::new(big_store), clock).expect("poller");
        let before = peak_rss_mib();
        let took = timed_poll(&big_poller, opts.rss_feeds).await;
        println!(
            "peak RSS polling {} sources: {} MiB (before polling: {before} MiB; target <= 200 MB); {:.0} feeds/s",
            opts.rss_feeds,
            peak_rss_mib(),
            rate(opts.rss_feeds, took)
        );
    }
}
