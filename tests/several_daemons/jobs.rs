//! Three daemons share the scheduled jobs, the rules and the morning digest:
//! each run, each firing and each rep's digest happens once.

use super::common;
use super::common::postgres::Postgres;
use super::common::smtp::{header, SmtpSink};
use super::common::Daemon;
use super::common::Workspace;
use super::world::{count, DAEMONS};
use chrono::{DateTime, Duration, Utc};
use std::time::Instant;

/// Three daemons started together on one PostgreSQL database, every job on
/// a one-second schedule: the rules act on three replies once (one advance,
/// two reminders), Ann's digest goes once at her hour, and no job run is
/// claimed by two daemons.
#[test]
fn three_daemons_run_each_job_fire_each_rule_and_send_each_digest_once() {
    let cluster = Postgres::start();
    let url = cluster.database("jobs");
    let smtp = SmtpSink::start();
    let ws = Workspace::on_database(Some(url.clone()));
    ws.init_ann();
    let jobs = common::jobs_off_except(&["apply-rules", "send-digests", "housekeeping"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n[http]\nenabled = false\n\
             [jobs.apply-rules]\nschedule = \"* * * * * *\"\n[jobs.send-digests]\nschedule = \"* * * * * *\"\n\
             [jobs.housekeeping]\nschedule = \"* * * * * *\"\n{jobs}",
            smtp.port
        ),
    );
    let replies = [
        ("Jane Doe", "jane@acme.io", "Sounds great, Tuesday works."),
        ("Raj Patel", "raj@globex.com", "Not right now - please reach out in Q3."),
        (
            "Nia Obi",
            "nia@initech.example",
            "How does this integrate with HubSpot?",
        ),
    ];
    for (name, email, text) in replies {
        ws.at(
            "2026-12-03T09:00:00Z",
            &["prospect", "add", "--name", name, "--email", email],
        );
        ws.at(
            "2026-12-03T10:00:00Z",
            &[
                "log",
                email,
                "email.replied",
                "--at",
                "2026-12-03T10:00:00Z",
                "--note",
                text,
            ],
        );
    }
    // Ann's digest hour is 07:00 in Oslo: 06:00 UTC in December.
    let base: DateTime<Utc> = "2026-12-04T05:59:57Z".parse().expect("time");
    let started = Instant::now();
    let clock = || base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut daemons: Vec<Daemon> = (1..=DAEMONS).map(|run| ws.spawn_daemon(clock(), run)).collect();

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    let sql = |query: &str| count(&rt, &pool, query);
    let runs = || sql("SELECT count(*) FROM job_runs");
    common::wait_until(
        "the digest, the rules' work and a dozen job runs",
        std::time::Duration::from_secs(60),
        || format!("{} digests received, {} job runs", smtp.received().len(), runs()),
        || {
            !smtp.received().is_empty()
                && sql("SELECT count(*) FROM tasks") >= 2
                && sql("SELECT count(*) FROM job_runs WHERE name = 'send-digests' AND scheduled_for > '2026-12-04T06:00:02Z'") >= 3
                && runs() >= 12
        },
    );
    for daemon in &mut daemons {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }

    let twice = sql(
        "SELECT count(*) FROM (SELECT name, scheduled_for FROM job_runs GROUP BY name, scheduled_for \
         HAVING count(*) > 1) AS doubled",
    );
    assert_eq!(twice, 0, "a job run claimed by two daemons");
    let received = smtp.received();
    assert_eq!(received.len(), 1, "one digest for the day, whichever daemon sent it");
    assert_eq!(header(&received[0], "X-RcptTo").as_deref(), Some("ann@example.com"));
    assert_eq!(sql("SELECT count(*) FROM digest_runs"), 1);
    assert_eq!(
        sql("SELECT count(*) FROM events WHERE kind = 'stage.changed'"),
        1,
        "Jane advanced once"
    );
    assert_eq!(
        sql("SELECT count(*) FROM tasks"),
        2,
        "one follow-up for Raj, one question to answer for Nia"
    );
    assert_eq!(
        sql("SELECT count(*) FROM rule_firings WHERE done_at IS NULL"),
        0,
        "no firing left half done"
    );
    let logs: String = (1..=DAEMONS)
        .map(|run| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default())
        .collect();
    assert!(!logs.contains("panicked"), "a daemon panicked:\n{logs}");
    println!(
        "daemons {DAEMONS}: {} job runs, none twice; 1 digest; rules: 1 advance, 2 tasks",
        runs()
    );
}
