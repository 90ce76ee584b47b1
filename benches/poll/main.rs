//! Feed polling benchmark: `cargo bench --bench poll [-- --feeds N --hosts H
//! --light-feeds L --rss-feeds M]`.
//!
//! N realistic feeds (`realistic.rs`: ≈ 23 KB and ≈ 20 items each, the mix
//! reps' prospects publish; 10,000) on H loopback host names (64) are polled
//! through the real poller into a real SQLite store, politeness off so what
//! is measured is rapport's own work. Each figure is a ratio against a
//! baseline in the same run: the same client fetching the same URLs with no
//! parsing and no store.
//! - first poll: feeds/s and the ratio against fetch-only (target >= 50 %);
//!   every item must become one event;
//! - the next poll times the first poll set: no second may hold more than
//!   2 % of the sources;
//! - all-304 re-poll: the ratio against fetch-only with the ETag (target >= 90 %),
//!   over two rounds (each round's ratio printed beside);
//! - the same two polls on L light feeds (5 short items) as a second line;
//! - peak RSS of the process while M sources (100,000) are polled once
//!   (target <= 64 MB), measured first, before the other parts have grown
//!   the heap;
//! - parsing alone, the realistic feeds read by rapport's reader (RSS 2.0
//!   and Atom 1.0 streamed, the rest by feed-rs) against feed-rs reading
//!   them all (both reduce item HTML to text the same way).
//!
//! The feeds are served by a child process (`server.rs`), so neither their
//! bodies nor the CPU spent making them count as the poller's. Both polls
//! and their baselines run in a task on the runtime's worker threads, as
//! the daemon's poll job does.

#[path = "../common/mod.rs"]
mod common;
mod realistic;
mod server;

use chrono::Utc;
use futures::stream::{self, StreamExt};
use rapport::clock::SystemClock;
use rapport::config::{self, Settings};
use rapport::domain::clock::Clock;
use rapport::net::client::{Fetched, HttpClient, Validators};
use rapport::sources::feed::{parse_feed, parse_feed_by_feed_rs};
use rapport::sources::poll::{PollReport, Poller};
use rapport::store::{SqliteStore, Store};
use server::FeedServer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// The daemon's allocator (`src/main.rs`), so the figures are the daemon's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy)]
struct Options {
    feeds: usize,
    hosts: usize,
    light_feeds: usize,
    rss_feeds: usize,
}

fn options() -> Options {
    let value = common::number_arg;
    Options {
        feeds: value("--feeds", 10_000),
        hosts: value("--hosts", 64),
        light_feeds: value("--light-feeds", 2_000),
        rss_feeds: value("--rss-feeds", 100_000),
    }
}

/// Realistic feeds (`/f/`) or the light 5-item one (`/light/`).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Realistic,
    Light,
}

fn feed_url(kind: Kind, i: usize, hosts: usize) -> String {
    let path = match kind {
        Kind::Realistic => "f",
        Kind::Light => "light",
    };
    format!("https://h{}.example/{path}/{i}.xml", i % hosts)
}

fn bench_settings(dir: &tempfile::TempDir, server: &FeedServer) -> Settings {
    let mut text = format!(
        "[database]\nurl = \"sqlite://{}\"\n[fetch]\nper_host_interval_ms = 0\nmax_concurrent = 32\n[fetch.base_urls]\n",
        dir.path().join("bench.db").display()
    );
    for (i, address) in server.addresses.iter().enumerate() {
        text.push_str(&format!("\"h{i}.example\" = \"http://{address}\"\n"));
    }
    let path = dir.path().join("bench.toml");
    std::fs::write(&path, text).expect("write config");
    config::load(Some(&path)).expect("config")
}

/// N prospects, each with one profile whose feed is known, all due.
async fn seed(url: &str, kind: Kind, n: usize, hosts: usize) {
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
            let profile: i64 = sqlx::query_scalar(
                "INSERT INTO profiles (prospect_id, url, platform, created_at) VALUES (?, ?, 'blog', ?) RETURNING id",
            )
            .bind(prospect)
            .bind(&page)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await
            .expect("profile");
            sqlx::query(
                "INSERT INTO sources (prospect_id, profile_id, platform, page_url, feed_url, interval_secs, next_poll_at, created_at) \
                 VALUES (?, ?, 'blog', ?, ?, 0, '2000-01-01T00:00:00.000000Z', ?)",
            )
            .bind(prospect)
            .bind(profile)
            .bind(&page)
            .bind(feed_url(kind, i, hosts))
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

/// Writes the database's files out to the disk before a measurement, so
/// that the kernel's write-back of what an earlier step wrote (seeding, the
/// first poll, the 100,000-source run's database) does not fall inside it:
/// without this the same binary's light first poll read 56 % to 84 %.
fn settle(url: &str) {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).expect("database url");
    let file = options.get_filename().to_path_buf();
    let mut wal = file.clone().into_os_string();
    wal.push("-wal");
    for path in [file, wal.into()] {
        if let Ok(file) = std::fs::File::open(&path) {
            file.sync_all().expect("write the database out");
        }
    }
}

/// The sources' next poll times: how many seconds they span, and the share
/// of the sources in the busiest second.
async fn spread(url: &str) -> (i64, f64) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("connection");
    let (total, seconds, busiest): (i64, i64, i64) = sqlx::query_as(
        "SELECT SUM(c), COUNT(*), MAX(c) FROM (SELECT COUNT(*) AS c FROM sources GROUP BY substr(next_poll_at, 1, 19))",
    )
    .fetch_one(&pool)
    .await
    .expect("next poll times");
    (seconds, busiest as f64 / total.max(1) as f64)
}

/// Fetch-only: the same client and URLs, bodies read and dropped.
async fn fetch_only(
    client: &HttpClient,
    kind: Kind,
    n: usize,
    hosts: usize,
    validators: &Validators,
) -> (Duration, f64) {
    let urls: Vec<Url> = (0..n)
        .map(|i| Url::parse(&feed_url(kind, i, hosts)).expect("url"))
        .collect();
    let (start, cpu) = (Instant::now(), cpu_seconds());
    // The URLs are moved into their requests: a stream of requests
    // borrowing them would not be `Send` for a spawned task.
    let fetched: Vec<bool> = stream::iter(urls.into_iter().map(|url| async move {
        matches!(
            client.get(&url, validators).await,
            Ok(Fetched::Body { .. } | Fetched::NotModified)
        )
    }))
    .buffer_unordered(32)
    .collect()
    .await;
    assert!(fetched.iter().all(|ok| *ok), "a baseline fetch failed");
    let took = start.elapsed();
    (took, (cpu_seconds() - cpu) / took.as_secs_f64())
}

struct Timed {
    took: Duration,
    /// Cores the process kept busy meanwhile (CPU time / wall time).
    cores: f64,
    report: PollReport,
}

async fn timed_poll(poller: &Poller, n: usize) -> Timed {
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let report = poller.poll_due(None, &|_| {}).await.expect("poll");
    assert_eq!(report.polled as usize, n, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    let took = start.elapsed();
    Timed {
        took,
        cores: (cpu_seconds() - cpu) / took.as_secs_f64(),
        report,
    }
}

/// The process's CPU time so far, user and system (Linux: /proc/self/stat, in ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The process's peak resident memory since start or the last reset.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Starts the peak over from what the process holds now (Linux: "5" to clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

struct Prepared {
    _dir: tempfile::TempDir,
    url: String,
    store: Arc<SqliteStore>,
    poller: Poller,
    client: HttpClient,
}

impl Prepared {
    /// Stops the section's store as the daemon does (the log written back
    /// into the database, the connections closed), so that no work left of
    /// it (a checkpoint waiting for its turn) runs inside the next section.
    async fn close(self) {
        self.store.close().await;
    }
}

async fn prepared(server: &FeedServer, kind: Kind, n: usize, hosts: usize) -> Prepared {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = bench_settings(&dir, server);
    let url = settings.config.database.url.clone();
    let store = SqliteStore::open(&url, Duration::from_secs(10), 4)
        .await
        .expect("store");
    seed(&url, kind, n, hosts).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(store);
    let poller = Poller::new(&settings, store.clone(), clock).expect("poller");
    let client = HttpClient::new(settings.config.fetch.client_settings()).expect("client");
    Prepared {
        _dir: dir,
        url,
        store,
        poller,
        client,
    }
}

/// All-304 re-polls measured, each after a fetch-only of its own.
const REPOLL_ROUNDS: usize = 2;

/// First poll and all-304 re-polls of `n` feeds, each beside fetch-only.
async fn first_and_repoll(server: &FeedServer, kind: Kind, n: usize, hosts: usize) {
    let run = prepared(server, kind, n, hosts).await;
    settle(&run.url);
    let (first_base, first_base_cores) = fetch_only(&run.client, kind, n, hosts, &Validators::default()).await;
    let first = timed_poll(&run.poller, n).await;
    let report = &first.report;
    let expected: usize = match kind {
        Kind::Realistic => (0..n).map(|i| server.items_of(i)).sum(),
        Kind::Light => 5 * n,
    };
    assert_eq!(report.new_posts as usize, expected, "every item one event: {report:?}");
    let (seconds, busiest) = spread(&run.url).await;
    let validators = Validators {
        etag: Some(server::ETAG.into()),
        last_modified: None,
    };
    // A re-poll takes about half a second: a passing stall of the machine
    // in it or in its baseline moved one round's ratio by ten points, so the
    // figure is over rounds, each re-poll right after its own baseline.
    let mut rounds = Vec::with_capacity(REPOLL_ROUNDS);
    for _ in 0..REPOLL_ROUNDS {
        make_all_due(&run.url).await;
        settle(&run.url);
        let (base, base_cores) = fetch_only(&run.client, kind, n, hosts, &validators).await;
        let repoll = timed_poll(&run.poller, n).await;
        rounds.push((base, base_cores, repoll));
    }
    let repoll_took: Duration = rounds.iter().map(|(_, _, repoll)| repoll.took).sum();
    let repoll_base: Duration = rounds.iter().map(|(base, _, _)| *base).sum();
    // Cores over all rounds: each round's weighted by its time.
    let repoll_cores = rounds
        .iter()
        .map(|(_, _, r)| r.cores * r.took.as_secs_f64())
        .sum::<f64>()
        / repoll_took.as_secs_f64();
    let repoll_base_cores = rounds
        .iter()
        .map(|(base, cores, _)| cores * base.as_secs_f64())
        .sum::<f64>()
        / repoll_base.as_secs_f64();
    let each_round: Vec<String> = rounds
        .iter()
        .map(|(base, _, r)| format!("{:.0} %", 100.0 * base.as_secs_f64() / r.took.as_secs_f64()))
        .collect();

    let (a, a_base) = (rate(n, first.took), rate(n, first_base));
    let (b, b_base) = (
        rate(n * REPOLL_ROUNDS, repoll_took),
        rate(n * REPOLL_ROUNDS, repoll_base),
    );
    let (label, first_target, repoll_target) = match kind {
        Kind::Realistic => ("realistic feeds (≈ 23 KB, ≈ 20 items)", 50.0, 90.0),
        Kind::Light => ("light feeds (5 short items)", 50.0, 90.0),
    };
    println!("{n} {label} over {hosts} hosts, {expected} items:");
    println!(
        "  first poll: {a:.0} feeds/s using {:.1} cores; fetch-only {a_base:.0} feeds/s using {first_base_cores:.1}; ratio {:.0} % (target >= {first_target:.0} %: {})",
        first.cores,
        100.0 * a / a_base,
        verdict(100.0 * a / a_base >= first_target)
    );
    println!(
        "  all-304 re-poll, {REPOLL_ROUNDS} rounds: {b:.0} feeds/s using {repoll_cores:.1} cores; fetch-only {b_base:.0} feeds/s using {repoll_base_cores:.1}; ratio {:.0} % (rounds {}; target >= {repoll_target:.0} %: {})",
        100.0 * b / b_base,
        each_round.join(", "),
        verdict(100.0 * b / b_base >= repoll_target)
    );
    println!(
        "  next poll times after the first poll: spread over {seconds} s, busiest second {:.2} % of the sources (target <= 2 %: {})",
        100.0 * busiest,
        verdict(busiest <= 0.02)
    );
    run.close().await;
}

/// Peak RSS while `m` realistic sources are polled once.
async fn peak_memory(server: &FeedServer, m: usize, hosts: usize) {
    let run = prepared(server, Kind::Realistic, m, hosts).await;
    let before = peak_rss_mib();
    reset_peak_rss();
    let Timed { took, report, .. } = timed_poll(&run.poller, m).await;
    let peak = peak_rss_mib();
    println!(
        "peak RSS polling {m} realistic sources: {peak:.0} MiB ({:.0} MB; before polling {before:.0} MiB; target <= 64 MB: {}); \
         {:.0} feeds/s, {} events",
        peak * 1.048_576,
        verdict(peak * 1.048_576 <= 64.0),
        rate(m, took),
        report.new_posts
    );
    run.close().await;
}

/// Parsing alone: the same realistic documents read by rapport's reader
/// and by feed-rs alone (what every feed went through before), in one run.
fn parsing(distinct: usize) {
    let now = Utc::now().timestamp();
    let feeds: Vec<String> = (0..distinct.min(1000))
        .map(|i| realistic::feed(server::SEED, i as u64, now).body)
        .collect();
    let (base, kind) = (
        Some("https://h1.example/f/1.xml"),
        Some("application/xml; charset=utf-8"),
    );
    let time = |read: &dyn Fn(&[u8]) -> usize| {
        let start = Instant::now();
        let items: usize = (0..3).flat_map(|_| &feeds).map(|f| read(f.as_bytes())).sum();
        (start.elapsed(), items)
    };
    let (ours, items) = time(&|b| parse_feed(b, base, kind).expect("a realistic feed").items.len());
    let (theirs, their_items) = time(&|b| {
        parse_feed_by_feed_rs(b, base, kind)
            .expect("a realistic feed")
            .items
            .len()
    });
    assert_eq!(items, their_items, "both readers read every item");
    let n = 3 * feeds.len();
    println!(
        "parsing {} realistic feeds 3 times: {:.0} feeds/s ({:.0} us a feed); feed-rs alone {:.0} feeds/s ({:.0} us); {:.2}x as fast",
        feeds.len(),
        rate(n, ours),
        ours.as_secs_f64() * 1e6 / n as f64,
        rate(n, theirs),
        theirs.as_secs_f64() * 1e6 / n as f64,
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    // As the daemon does at start: the peak RSS printed is the daemon's.
    rapport::memory::configure_allocators();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve-feeds") {
        let now = common::number_arg("--now", 0) as i64;
        server::serve(
            common::number_arg("--distinct", 1),
            common::number_arg("--hosts", 1),
            now,
        );
        return;
    }
    let opts = options();
    let distinct = opts.feeds.max(opts.rss_feeds).clamp(1, 10_000);
    let server = FeedServer::start(distinct, opts.hosts);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sections = async move {
        let server = &server;
        // First, while the heap is small: the peak is the poll's.
        if opts.rss_feeds > 0 {
            peak_memory(server, opts.rss_feeds, opts.hosts).await;
        }
        if opts.feeds > 0 {
            first_and_repoll(server, Kind::Realistic, opts.feeds, opts.hosts).await;
        }
        if opts.light_feeds > 0 {
            first_and_repoll(server, Kind::Light, opts.light_feeds, opts.hosts).await;
        }
    };
    // On the runtime's worker threads, as the daemon runs its poll job (a
    // task of its own), not on this thread: a future `block_on` runs here is
    // woken from the workers (where the HTTP connections run) at every step
    // of every request, a thread switch each.
    runtime.block_on(async move { tokio::spawn(sections).await.expect("the bench's sections ran") });
    if opts.feeds > 0 {
        parsing(opts.feeds);
    }
}
