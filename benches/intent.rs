//! Reply intent speed: `cargo bench --bench intent [-- --replies N]`.
//!
//! The labelled replies of `tests/fixtures/intent/` (nine languages, one
//! line to a few paragraphs), repeated to N (200,000 by default), are read
//! for intent in one thread; the baseline, in the same process, reads the
//! same texts lower-cased (the least any reading of words must do).
//! Reported: replies per second (target: at least 50,000) and the ratio.

use chrono::NaiveDate;
use rapport::domain::intent::{reply_intent, Intent};
use std::hint::black_box;
use std::time::Instant;

fn texts() -> Vec<String> {
    ["replies.tsv", "held_out.tsv"]
        .iter()
        .flat_map(|file| {
            let path = format!("{}/tests/fixtures/intent/{file}", env!("CARGO_MANIFEST_DIR"));
            let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            data.lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with("language\t"))
                .filter_map(|l| l.splitn(3, '\t').nth(2).map(|t| t.replace("\\n", "\n")))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let replies: usize = args
        .iter()
        .position(|a| a == "--replies")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let texts = texts();
    let sent: NaiveDate = "2026-12-01".parse().expect("date");
    // Warm the tables (built once per process) before timing.
    black_box(reply_intent("warm", sent));
    let each = || (0..replies).map(|i| texts[i % texts.len()].as_str());

    let start = Instant::now();
    let mut read = 0usize;
    for text in each() {
        read += black_box(text.to_lowercase()).len();
    }
    let baseline = start.elapsed();

    let start = Instant::now();
    let mut interested = 0usize;
    for text in each() {
        interested += usize::from(black_box(reply_intent(text, sent)).intent == Intent::Interested);
    }
    let took = start.elapsed();

    let rate = replies as f64 / took.as_secs_f64();
    let base_rate = replies as f64 / baseline.as_secs_f64();
    println!(
        "{replies} replies ({} distinct, {} bytes read): {rate:.0} replies/s (target >= 50,000: {}); \
         reading the same texts lower-cased {base_rate:.0}/s; ratio {:.2}x the baseline's time; {interested} interested",
        texts.len(),
        read,
        if rate >= 50_000.0 { "met" } else { "NOT met" },
        took.as_secs_f64() / baseline.as_secs_f64()
    );
}
