//! How rapport scales to a large team on PostgreSQL, and to several daemons:
//! `cargo bench --bench scale [-- --enrolments N --feeds F --hosts H --rows R
//! --sources S --window SECS --only PART]`.
//!
//! Four parts, each measured against a baseline in the same run (PART is
//! claims, polls, import or budgets):
//! - claims: 100 due enrolments among N (1,000,000) on PostgreSQL and on
//!   SQLite, claimed by one claimer and by three at once; no enrolment is
//!   claimed twice; per-claim latency and the ratios printed.
//! - polls: F feeds (20,000) on H loopback hosts (50) polled by one
//!   `rapport poll --once` and by three at once on PostgreSQL: every feed
//!   fetched once, every item one event, and the throughput ratio.
//! - import: R rows (100,000) imported into PostgreSQL against a bare
//!   batched INSERT of the same rows; ratio printed (target <= 3).
//! - budgets: S sources (100,000), 40 % on one host whose budget cannot keep
//!   up, polled for 1.2 feed intervals (SECS, 600): the other hosts' feeds are
//!   each polled within their interval, the busy host's shortfall is
//!   measured and set beside what `rapport sources --hosts` reports.
//!
//! PostgreSQL is a private cluster started here (Debian's binaries, as in
//! the tests: `scripts/install-test-servers` installs them), durability
//! settings off in it as in the tests; SQLite runs with the store's own
//! settings.

#[path = "../common/mod.rs"]
mod common;
#[path = "../../tests/common/postgres.rs"]
mod postgres;

mod budgets;
mod claims;
mod import;
mod polls;

/// The part named after `--only`, or every part.
fn wanted(part: &str) -> bool {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)) {
        Some(only) => only == part,
        None => true,
    }
}

/// The median of some durations or figures.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// The value at the given fraction (0.95 for p95) of sorted figures.
fn percentile(mut values: Vec<f64>, at: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let index = ((values.len() as f64 - 1.0) * at).round() as usize;
    values[index.min(values.len() - 1)]
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

#[tokio::main]
async fn main() {
    let cluster = postgres::Postgres::start();
    if wanted("claims") {
        claims::run(&cluster, common::number_arg("--enrolments", 1_000_000)).await;
    }
    if wanted("polls") {
        polls::run(
            &cluster,
            common::number_arg("--feeds", 20_000),
            common::number_arg("--hosts", 50),
        )
        .await;
    }
    if wanted("import") {
        import::run(&cluster, common::number_arg("--rows", 100_000)).await;
    }
    if wanted("budgets") {
        budgets::run(
            common::number_arg("--sources", 100_000),
            common::number_arg("--window", 600) as u64,
        )
        .await;
    }
}
