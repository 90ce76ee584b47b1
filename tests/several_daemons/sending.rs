//! Three daemons share a sequence batch through kills, database restarts
//! and a shortage of connections: each step is sent once.

use super::common;
use super::common::postgres::Postgres;
use super::common::Daemon;
use super::common::Workspace;
use super::world::{self, count, sending_team, Arrivals, DAEMONS, KILLS, MESSAGES};
use chrono::Duration;
use std::time::Instant;

#[test]
fn three_daemons_one_killed_twenty_times_send_each_step_once() {
    let cluster = Postgres::start();
    let team = sending_team(cluster.database("team"), &["send-sequences"], "");
    let ws = &team.ws;
    let mut random = common::Random::seeded();
    let started = Instant::now();
    // Every daemon's clock runs from the same start, so all agree on the time.
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut runs = 0;
    let mut spawn = |ws: &Workspace| {
        runs += 1;
        ws.spawn_daemon(clock(started), runs)
    };
    let mut daemons: Vec<Daemon> = (0..DAEMONS).map(|_| spawn(ws)).collect();
    let mut kills_during_batch = 0;
    for _ in 0..KILLS {
        // Kill after a few more messages went out (the batch's own progress,
        // a random amount), so kills land all through the batch.
        let target = (team.smtp.received().len() + random.next_in(3, 15) as usize).min(MESSAGES);
        common::wait_until(
            "the batch to go on before the next kill",
            std::time::Duration::from_secs(60),
            || format!("{} received", team.smtp.received().len()),
            || team.smtp.received().len() >= target,
        );
        let victim = random.next_in(0, DAEMONS as u64) as usize;
        let before = team.smtp.received().len();
        daemons[victim].kill().expect("SIGKILL");
        daemons[victim].wait().expect("reap");
        if before < MESSAGES {
            kills_during_batch += 1;
        }
        daemons[victim] = spawn(ws);
    }
    team.wait_for_the_batch();
    for mut daemon in daemons {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    let seen = team.check_each_step_once(runs);
    println!("daemons {DAEMONS}, kills {KILLS} ({kills_during_batch} during the batch), {seen}");
    assert!(kills_during_batch >= KILLS / 2, "most kills landed during the batch");
}

/// The embedded defaults' outbox (`.eml` files, no SMTP) shared by three
/// daemons on PostgreSQL, one of them killed twenty times: each step is one
/// file (named by its Message-ID, so a send cut off is settled by looking
/// for it), recorded as sent once.
#[test]
fn three_daemons_one_killed_twenty_times_write_each_step_to_the_file_outbox_once() {
    const TEAM: usize = 3 * world::PROSPECTS;
    let cluster = Postgres::start();
    let team = world::sending_team_of(cluster.database("files"), &["send-sequences"], "", TEAM, &|_| None);
    let ws = &team.ws;
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    let smtp = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 1\n",
        team.smtp.port
    );
    assert!(config.contains(&smtp), "the team's SMTP settings: {config}");
    ws.write("config/rapport.toml", config.replace(&smtp, ""));
    let outbox = ws.path("data/outbox");
    let files = || -> Vec<String> {
        std::fs::read_dir(&outbox)
            .map(|dir| {
                dir.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    };
    let count = || files().len();
    let mut random = common::Random::seeded();
    let started = Instant::now();
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut runs = 0;
    let mut spawn = |ws: &Workspace| {
        runs += 1;
        ws.spawn_daemon(clock(started), runs)
    };
    let mut daemons: Vec<Daemon> = (0..DAEMONS).map(|_| spawn(ws)).collect();
    let mut kills_during_batch = 0;
    for _ in 0..KILLS {
        let target = (count() + random.next_in(3, 25) as usize).min(2 * TEAM);
        common::wait_until(
            "the batch to go on before the next kill",
            std::time::Duration::from_secs(60),
            || format!("{} files", count()),
            || count() >= target,
        );
        let victim = random.next_in(0, DAEMONS as u64) as usize;
        if count() < 2 * TEAM {
            kills_during_batch += 1;
        }
        daemons[victim].kill().expect("SIGKILL");
        daemons[victim].wait().expect("reap");
        daemons[victim] = spawn(ws);
    }
    team.wait_for_the_batch();
    for mut daemon in daemons {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    let written = files();
    let steps: std::collections::BTreeSet<(String, String)> = written
        .iter()
        .map(|m| {
            (
                common::smtp::header(m, "To").unwrap_or_default(),
                common::smtp::header(m, "Subject").unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(written.len(), 2 * TEAM, "one file a step");
    assert_eq!(steps.len(), written.len(), "no prospect got the same step twice");
    let rows = ws.json(&["sequence", "outbox"]);
    let rows = rows.as_array().expect("list");
    let sent = rows.iter().filter(|r| r["state"] == "sent").count();
    assert_eq!(sent, 2 * TEAM, "each step recorded as sent, once");
    // A send cut off before its file was written is settled as not sent
    // (no file holds its Message-ID) and the step goes again: nothing else.
    let ids: std::collections::BTreeSet<String> = written
        .iter()
        .filter_map(|m| common::smtp::header(m, "Message-ID"))
        .collect();
    let again: Vec<&serde_json::Value> = rows.iter().filter(|r| r["state"] != "sent").collect();
    for row in &again {
        assert_eq!(row["state"], "refused", "a row neither sent nor settled: {row}");
        let id = row["message_id"].as_str().unwrap_or_default();
        assert!(
            !ids.iter().any(|written| written.contains(id)),
            "a settled row's message was written: {row}"
        );
    }
    assert!(team.smtp.received().is_empty(), "nothing went over SMTP");
    println!(
        "daemons {DAEMONS}, kills {KILLS} ({kills_during_batch} during the batch): {} files, {sent} sent, \
         {} cut off before their file and sent again",
        written.len(),
        again.len()
    );
    assert!(kills_during_batch >= KILLS / 2, "most kills landed during the batch");
}

/// One rep's daily cap and the gap between her sends hold with three
/// daemons sending for her at once: the rep's row is locked while a send is
/// counted, so the twelfth send of the day is the last and no two start
/// closer than the gap; the rest wait for tomorrow.
#[test]
fn a_reps_daily_cap_and_gap_hold_across_three_daemons() {
    const CAP: i64 = 12;
    let cluster = Postgres::start();
    let url = cluster.database("paced");
    let team = world::sending_team_of(url.clone(), &["send-sequences"], "", 20, &|_| None);
    let ws = &team.ws;
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write(
        "config/rapport.toml",
        config
            .replace("min_gap_secs = 0", "min_gap_secs = 1")
            .replace("daily_cap = 10000", &format!("daily_cap = {CAP}"))
            // Small claims, so every daemon holds some of her enrolments.
            .replace("batch = 20", "batch = 2"),
    );
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt
        .block_on(sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url))
        .expect("connect");
    let started = Instant::now();
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut daemons: Vec<Daemon> = (1..=DAEMONS).map(|run| ws.spawn_daemon(clock(started), run)).collect();
    // Done for today: every enrolment still running waits for tomorrow
    // (12 hours on is past midnight in Oslo and in UTC).
    let tomorrow = (team.base + Duration::hours(12)).to_rfc3339();
    common::wait_until(
        "every running enrolment to wait for tomorrow",
        std::time::Duration::from_secs(120),
        || format!("{} sent", team.smtp.received().len()),
        || {
            count(
                &rt,
                &pool,
                &format!(
                    "SELECT count(*) FROM enrolments WHERE state = 'active' \
                     AND (next_due_at IS NULL OR next_due_at < '{tomorrow}')"
                ),
            ) == 0
        },
    );
    for daemon in &mut daemons {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    let started_at: Vec<chrono::DateTime<chrono::Utc>> = rt
        .block_on(sqlx::query_scalar("SELECT started_at FROM outbox ORDER BY started_at").fetch_all(&pool))
        .expect("the outbox");
    assert_eq!(
        started_at.len() as i64,
        CAP,
        "the cap is the day's sends, whoever sends them"
    );
    assert_eq!(team.smtp.received().len() as i64, CAP, "and what the server took");
    let closest = started_at
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .min()
        .expect("two sends");
    assert!(
        closest >= Duration::seconds(1),
        "two of the rep's sends started {closest} apart (gap 1 s)"
    );
    println!(
        "daemons {DAEMONS}, daily cap {CAP}: {} sent, closest two starts {} ms apart (gap 1,000 ms)",
        started_at.len(),
        closest.num_milliseconds()
    );
}

/// PostgreSQL is restarted (`pg_ctl restart -m fast`, every connection cut)
/// three times while three daemons send the batch and poll feeds: they
/// reconnect, the crash rule settles what the restarts cut off, each step
/// goes out once and each feed item is one event.
#[test]
fn postgres_restarted_mid_pass_loses_and_repeats_nothing() {
    const FEEDS: usize = 30;
    let cluster = Postgres::start();
    let feeds = world::github_feeds(std::time::Duration::from_millis(100), 1, Arrivals::default());
    let url = cluster.database("restarted");
    let more = format!(
        "[feeds]\ninterval_mins = 240\nclaim_batch = 5\n\
         [fetch]\nper_host_interval_ms = 0\nmax_concurrent = 2\n\
         [fetch.base_urls]\n\"github.com\" = \"{}\"\n\
         [fetch.hosts.\"github.com\"]\ninterval_ms = 0\nconcurrency = 2\n\
         [jobs.poll-feeds]\nschedule = \"* * * * * *\"\n",
        feeds.url("")
    );
    let team = sending_team(url.clone(), &["send-sequences", "poll-feeds"], &more);
    let ws = &team.ws;
    world::import_github_prospects(ws, "watchers.csv", FEEDS, team.base);

    let started = Instant::now();
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut daemons: Vec<Daemon> = (1..=DAEMONS).map(|run| ws.spawn_daemon(clock(started), run)).collect();
    for at in [40, 120, 200] {
        common::wait_until(
            &format!("{at} messages before a restart"),
            std::time::Duration::from_secs(120),
            || format!("{} received", team.smtp.received().len()),
            || team.smtp.received().len() >= at,
        );
        cluster.restart();
    }
    team.wait_for_the_batch();
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    common::wait_until(
        "every feed to be polled",
        std::time::Duration::from_secs(90),
        String::new,
        || {
            count(
                &rt,
                &pool,
                "SELECT count(*) FROM sources WHERE last_polled_at IS NULL OR lease_owner IS NOT NULL",
            ) == 0
        },
    );
    for daemon in &mut daemons {
        assert!(
            daemon.try_wait().expect("status").is_none(),
            "a daemon stopped when the database restarted"
        );
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    let seen = team.check_each_step_once(DAEMONS);
    let posts = count(&rt, &pool, "SELECT count(*) FROM events WHERE kind = 'post'");
    println!("daemons {DAEMONS}, restarts 3, {seen}, posts {posts}");
    assert_eq!(posts, FEEDS as i64, "each feed item one event");
}

/// The server allows fewer connections than the daemons' pools want
/// (`max_connections = 7`, one held by the test, four wanted by each of
/// three daemons): they wait for one (at start too) and log it, and none
/// stops. Once two of them are stopped, the third finishes the batch, each
/// step sent once.
#[test]
fn daemons_short_of_connections_wait_and_none_stops() {
    let cluster = Postgres::start_with("-c max_connections=7 -c superuser_reserved_connections=0");
    let url = cluster.database("crowded");
    let team = sending_team(url.clone(), &["send-sequences"], "");
    let ws = &team.ws;
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt
        .block_on(sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url))
        .expect("connect");
    let started = Instant::now();
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut daemons: Vec<Daemon> = (1..=DAEMONS)
        .map(|run| {
            let child = ws
                .command()
                .args(["--now", &clock(started).to_rfc3339(), "daemon"])
                .env("RUST_LOG", "info")
                .env("RAPPORT__DATABASE__MAX_CONNECTIONS", "4")
                .env("RAPPORT__DATABASE__BUSY_TIMEOUT_MS", "1000")
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(ws.path(&format!("daemon-{run}.log"))).expect("log"))
                .spawn()
                .expect("start daemon");
            Daemon::from(child)
        })
        .collect();
    let logs = || -> String {
        (1..=DAEMONS)
            .map(|run| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default())
            .collect()
    };
    let waits = |logs: &str| logs.matches("too many clients").count() + logs.matches("pool timed out").count();
    common::wait_until(
        "a daemon to wait for a connection",
        std::time::Duration::from_secs(90),
        logs,
        || waits(&logs()) >= 3,
    );
    for daemon in &mut daemons {
        assert!(
            daemon.try_wait().expect("status").is_none(),
            "a daemon stopped for want of a connection"
        );
    }
    for daemon in &mut daemons[1..] {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    common::wait_until(
        "the remaining daemon to finish the batch",
        std::time::Duration::from_secs(180),
        String::new,
        || count(&rt, &pool, "SELECT count(*) FROM enrolments WHERE state = 'active'") == 0,
    );
    assert!(
        daemons[0].try_wait().expect("status").is_none(),
        "the first daemon stopped"
    );
    daemons[0].kill().expect("stop");
    daemons[0].wait().expect("reap");
    drop(pool);
    let seen = team.check_each_step_once(DAEMONS);
    println!(
        "daemons {DAEMONS}, server max_connections 7, waits logged {}, {seen}",
        waits(&logs())
    );
}

/// A daemon started while PostgreSQL is down waits for it (logging each
/// try) instead of stopping, and starts its jobs once the server is up.
#[test]
fn a_daemon_started_before_its_database_waits_for_it() {
    let cluster = Postgres::start();
    let ws = Workspace::on_database(Some(cluster.database("later")));
    ws.init_ann();
    cluster.stop();
    let mut daemon = ws.spawn_daemon(world::base(), 1);
    let log = || std::fs::read_to_string(ws.path("daemon-1.log")).unwrap_or_default();
    common::wait_until(
        "the daemon to wait for the database",
        std::time::Duration::from_secs(30),
        log,
        || log().contains("the database is not reachable yet; waiting"),
    );
    assert!(
        daemon.try_wait().expect("status").is_none(),
        "the daemon stopped:\n{}",
        log()
    );
    cluster.start_again();
    common::wait_until(
        "the daemon to start its jobs",
        std::time::Duration::from_secs(60),
        log,
        || log().contains("job registered"),
    );
    daemon.kill().expect("stop");
    daemon.wait().expect("reap");
}
