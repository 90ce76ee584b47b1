//! Mail classification speed over real mail: `cargo bench --bench classify [-- --rounds N]`.
//!
//! The 629 Sisimai bounces and other machine mail of the public corpora
//! (`../shared/corpora/mail/bounces/sisimai/maildir/bsd`, read in place,
//! never copied), read N times (20 by default) in one process through the
//! same reader `rapport mail classify FOLDER` uses. The baseline, in the same
//! run, only reads the same files the same way; the measured run reads and
//! classifies them. Reported: messages per second (target: at least 20,000;
//! Sisimai does ~770/s, flufl.bounce ~1,150/s) and the ratio of the times.

mod common;

use chrono::NaiveDate;
use rapport::domain::mail::classify;
use rapport::sources::mail::saved::for_each_saved;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/mail/bounces/sisimai/maildir/bsd");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the public corpora are missing at {} (CI must have them beside the clone)",
        dir.display()
    );
    println!(
        "classify bench skipped: the public corpora are absent at {}",
        dir.display()
    );
    None
}

/// Reads every file `rounds` times; `work` gets each message's bytes. Returns
/// the messages seen and the time taken.
fn timed(dir: &Path, rounds: usize, mut work: impl FnMut(&[u8]) -> usize) -> (usize, usize, Duration) {
    let inputs = [dir.to_path_buf()];
    let (mut messages, mut checksum) = (0, 0);
    let start = Instant::now();
    for _ in 0..rounds {
        messages += for_each_saved(&inputs, |message| {
            if let Ok(raw) = &message.raw {
                checksum += work(raw);
            }
        });
    }
    (messages, checksum, start.elapsed())
}

fn main() {
    let rounds = common::number_arg("--rounds", 20).max(1);
    let Some(dir) = corpus() else { return };
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
    // Warm the page cache and the classifier's tables before either is timed.
    timed(&dir, 1, |raw| {
        classify(raw, day).map(|c| c.recipients.len()).unwrap_or(0)
    });

    let files = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().count())
        .unwrap_or(0);
    let (read, bytes, baseline) = timed(&dir, rounds, |raw| black_box(raw).len());
    let (classified, bounces, took) = timed(&dir, rounds, |raw| {
        black_box(classify(raw, day))
            .map(|c| usize::from(c.class == rapport::domain::mail::MailClass::Bounce))
            .unwrap_or(0)
    });
    assert_eq!(read, classified);
    let rate = classified as f64 / took.as_secs_f64();
    let base_rate = read as f64 / baseline.as_secs_f64();
    println!(
        "classify: {files} files ({} messages; an mbox among them holds several) x {rounds} rounds ({} MB read per round): \
         {rate:.0} messages/s (target >= 20,000: {}); reading the same files alone {base_rate:.0}/s; \
         ratio {:.2}x the baseline's time; {} bounces per round",
        classified / rounds,
        bytes / rounds / 1_000_000,
        if rate >= 20_000.0 { "met" } else { "NOT met" },
        took.as_secs_f64() / baseline.as_secs_f64(),
        bounces / rounds,
    );
}
