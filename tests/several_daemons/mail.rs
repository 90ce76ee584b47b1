//! One daemon keeps a mailbox's IDLE connection; another takes it over.

use super::common;
use super::common::imap::{Dovecot, PASSWORD};
use super::common::postgres::Postgres;
use super::common::Workspace;
use super::world;
use chrono::Duration;
use std::time::Instant;

/// With two daemons on one database, one keeps the mailbox's IDLE
/// connection and the other stands by; when the watcher is SIGKILLed, the
/// other takes the watch over once its lease runs out.
#[test]
fn one_daemon_watches_a_mailbox_and_another_takes_over_when_it_dies() {
    let cluster = Postgres::start();
    let dovecot = Dovecot::start();
    let ws = Workspace::on_database(Some(cluster.database("watch")));
    ws.init_ann();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    let jobs = common::jobs_off_except(&["sync-mail"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[http]\nenabled = false\n[mail]\nwatch_lease_secs = 3\n{jobs}{}",
            dovecot.mailbox_config(&password)
        ),
    );
    let base = world::base();
    let zero = Instant::now();
    let clock = || base + Duration::milliseconds(zero.elapsed().as_millis() as i64);
    let log = |run: usize| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default();
    let mut first = ws.spawn_daemon(clock(), 1);
    common::wait_until(
        "the first daemon to watch",
        std::time::Duration::from_secs(30),
        || log(1),
        || log(1).contains("watching the mailbox"),
    );
    let mut second = ws.spawn_daemon(clock(), 2);
    common::wait_until(
        "the second daemon to stand by",
        std::time::Duration::from_secs(30),
        || log(2),
        || log(2).contains("standing by to take over"),
    );
    assert!(
        !log(2).contains("watching the mailbox"),
        "one watcher per mailbox:\n{}",
        log(2)
    );
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    let killed = Instant::now();
    common::wait_until(
        "the second daemon to take over",
        std::time::Duration::from_secs(30),
        || log(2),
        || log(2).contains("watching the mailbox"),
    );
    println!(
        "watch taken over {:?} after the watcher died (lease 3 s)",
        killed.elapsed()
    );
    second.kill().expect("stop");
    second.wait().expect("reap");
}
