//! The whole team's work at once, at the size a team outgrowing one machine
//! has: 5,000 prospects in a two-email sequence (10,000 messages through
//! the SMTP sink, copies filed in Dovecot's Sent), 2,000 of them with a feed
//! spread over 20 loopback hosts each paced at 100 ms, and 200 replies
//! arriving in the mailbox, shared by three daemons on one PostgreSQL
//! database while a random one is SIGKILLed and restarted 20 times.
//!
//! Afterwards: no Message-ID twice and no step twice, every reply one event,
//! every feed item one event, every lease recovered (no source, mail folder
//! or watch still held, no send left `sending`, no enrolment still active),
//! and each host's request log with no two requests closer than its
//! interval (arrivals, so with some slack for a busy machine; the closest
//! pair is printed).

use super::common;
use super::common::http::{Response, Server};
use super::common::postgres::Postgres;
use super::common::Daemon;
use super::world::{count, sending_team_of, DAEMONS, KILLS};
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const PROSPECTS: usize = 5_000;
const FEEDS: usize = 2_000;
const HOSTS: usize = 20;
const ITEMS: usize = 2;
const REPLIES: usize = 200;
const HOST_INTERVAL_MS: u128 = 100;

type RequestLog = Arc<Mutex<Vec<Instant>>>;

/// One server per host, each logging when every request reached it; every
/// feed has `ITEMS` entries of its own.
fn feed_hosts() -> Vec<(Server, RequestLog)> {
    (0..HOSTS)
        .map(|_| {
            let log = RequestLog::default();
            let seen = log.clone();
            let server = Server::start(move |req| {
                seen.lock().expect("log").push(Instant::now());
                if !req.path.ends_with("/feed.xml") {
                    return Response::new(404, "not here");
                }
                let feed = req.path.trim_end_matches("/feed.xml").trim_start_matches('/').to_string();
                let entries: String = (0..ITEMS)
                    .map(|n| {
                        format!(
                            "<entry><id>tag:{feed}/{n}</id><updated>2026-12-01T0{n}:00:00Z</updated>\
                             <link href=\"https://blog.example/{feed}/{n}\"/><title>{feed} wrote {n}</title></entry>"
                        )
                    })
                    .collect();
                Response::new(
                    200,
                    format!("<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{feed}</title>{entries}</feed>"),
                )
                .header("Content-Type", "application/atom+xml")
            });
            (server, log)
        })
        .collect()
}

/// A reply from replier `n` (a prospect not in the sequence).
/// The daemons log each request's start at a host (the request log).
const TURNS_LOGGED: &str = "info,rapport::net::turns=debug";

/// Each host's request starts, in order, from the daemons' logs.
fn request_starts(logs: &str) -> std::collections::BTreeMap<String, Vec<DateTime<Utc>>> {
    let mut starts: std::collections::BTreeMap<String, Vec<DateTime<Utc>>> = Default::default();
    for line in logs.lines().filter(|l| l.contains("request start")) {
        let field = |name: &str| {
            let rest = &line[line.find(&format!(" {name}="))? + name.len() + 2..];
            Some(rest.split_whitespace().next()?.trim_matches('"').to_string())
        };
        if let (Some(host), Some(at)) = (field("host"), field("at").and_then(|at| at.parse().ok())) {
            starts.entry(host).or_default().push(at);
        }
    }
    for times in starts.values_mut() {
        times.sort();
    }
    starts
}

fn reply(n: usize, at: DateTime<Utc>) -> Vec<u8> {
    format!(
        "From: R{n} Test <r{n}@reply{n}.example>\r\nTo: Ann Rep <ann@example.com>\r\nSubject: Re: our call\r\n\
         Message-ID: <reply-{n}@reply{n}.example>\r\nDate: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Sounds good, let us talk on Tuesday.\r\n",
        at.to_rfc2822()
    )
    .into_bytes()
}

#[test]
fn three_daemons_killed_twenty_times_over_the_whole_teams_work_lose_and_repeat_nothing() {
    let cluster = Postgres::start();
    let url = cluster.database("whole");
    let hosts = feed_hosts();
    let mut more = format!(
        "[feeds]\ninterval_mins = 240\nlease_secs = 3\n[mail]\nsync_lease_secs = 5\nwatch_lease_secs = 3\n\
         [fetch]\nper_host_interval_ms = {HOST_INTERVAL_MS}\nmax_concurrent = 8\n[fetch.base_urls]\n"
    );
    for (k, (server, _)) in hosts.iter().enumerate() {
        more.push_str(&format!("\"h{k}.example\" = \"{}\"\n", server.url("")));
    }
    more.push_str("[jobs.poll-feeds]\nschedule = \"* * * * * *\"\n[jobs.sync-mail]\nschedule = \"*/5 * * * * *\"\n");
    let team = sending_team_of(
        url.clone(),
        &["send-sequences", "poll-feeds", "sync-mail"],
        &more,
        PROSPECTS,
        &|n| (n < FEEDS).then(|| format!("https://h{}.example/p{n}/feed.xml", n % HOSTS)),
    );
    let ws = &team.ws;
    let mut repliers = String::from("First Name,Last Name,Email\n");
    for n in 0..REPLIES {
        repliers.push_str(&format!("R{n},Test,r{n}@reply{n}.example\n"));
    }
    ws.write("repliers.csv", repliers);
    ws.at(&team.base.to_rfc3339(), &["prospect", "import", "repliers.csv"]);
    let replies: Vec<Vec<u8>> = (0..REPLIES).map(|n| reply(n, team.base)).collect();
    let mut imap = team.dovecot.client();
    imap.append_all("INBOX", &replies[..REPLIES / 2]);

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    let sql = |query: &str| count(&rt, &pool, query);
    let mut random = common::Random::seeded();
    let started = Instant::now();
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut runs = 0;
    let mut spawn = || {
        runs += 1;
        ws.spawn_daemon_logging(clock(started), runs, TURNS_LOGGED)
    };
    let mut daemons: Vec<Daemon> = (0..DAEMONS).map(|_| spawn()).collect();
    let messages = 2 * PROSPECTS;
    let mut kills_during_batch = 0;
    for kill in 0..KILLS {
        // The first kills a few messages apart (the feeds are polled then
        // too), the rest spread over the batch.
        let step = if kill < 4 {
            random.next_in(3, 15)
        } else {
            random.next_in(200, 700)
        };
        let target = (team.smtp.received_count() + step as usize).min(messages);
        common::wait_until(
            "the batch to go on before the next kill",
            std::time::Duration::from_secs(120),
            || format!("{} received", team.smtp.received_count()),
            || team.smtp.received_count() >= target,
        );
        let victim = random.next_in(0, DAEMONS as u64) as usize;
        if team.smtp.received_count() < messages {
            kills_during_batch += 1;
        }
        daemons[victim].kill().expect("SIGKILL");
        daemons[victim].wait().expect("reap");
        daemons[victim] = spawn();
        if kill % 5 == 4 {
            // The other replies arrive while the daemons come and go.
            let chunk = REPLIES / 2 / 4;
            let from = REPLIES / 2 + (kill / 5) * chunk;
            imap.append_all("INBOX", &replies[from..from + chunk]);
        }
    }
    common::wait_until(
        "the batch, the feeds and the replies to be done",
        std::time::Duration::from_secs(900),
        || {
            format!(
                "{} received, active enrolments {}, feeds unpolled {}, replies {}",
                team.smtp.received_count(),
                sql("SELECT count(*) FROM enrolments WHERE state = 'active'"),
                sql("SELECT count(*) FROM sources WHERE last_polled_at IS NULL"),
                sql("SELECT count(*) FROM events WHERE kind = 'email.replied'")
            )
        },
        || {
            sql("SELECT count(*) FROM enrolments WHERE state = 'active'") == 0
                && sql("SELECT count(*) FROM sources WHERE last_polled_at IS NULL") == 0
                && sql("SELECT count(*) FROM events WHERE kind = 'email.replied'") >= REPLIES as i64
        },
    );
    for daemon in &mut daemons {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &daemon.id().to_string()])
            .status();
    }
    for daemon in &mut daemons {
        daemon.wait().expect("reap");
    }

    let seen = team.check_each_step_once(runs);
    let posts = sql("SELECT count(*) FROM events WHERE kind = 'post'");
    let replied = sql("SELECT count(*) FROM events WHERE kind = 'email.replied'");
    let repliers = sql("SELECT count(DISTINCT prospect_id) FROM events WHERE kind = 'email.replied'");
    assert_eq!(posts, (FEEDS * ITEMS) as i64, "every feed item one event");
    assert_eq!(
        (replied, repliers),
        (REPLIES as i64, REPLIES as i64),
        "every reply one event"
    );
    assert_eq!(
        sql("SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL"),
        0,
        "a feed still claimed"
    );
    common::wait_until(
        "the stopped daemons' mail leases to be free",
        std::time::Duration::from_secs(10),
        || "mail folders or a mailbox watch still held".into(),
        || {
            sql("SELECT count(*) FROM mail_folders WHERE lease_until > now()") == 0
                && sql("SELECT count(*) FROM mailbox_watchers WHERE lease_until > now()") == 0
        },
    );
    // The daemons' request log (every run's, the killed ones' too): no two
    // starts at a host closer than its interval.
    let logs: String = (1..=runs)
        .map(|run| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default())
        .collect();
    let starts = request_starts(&logs);
    let mut closest_start = i64::MAX;
    for (host, times) in &starts {
        for pair in times.windows(2) {
            let gap = (pair[1] - pair[0]).num_microseconds().unwrap_or(i64::MAX);
            closest_start = closest_start.min(gap);
            assert!(
                gap >= HOST_INTERVAL_MS as i64 * 1000,
                "{host}: two requests started {gap} µs apart (its interval {HOST_INTERVAL_MS} ms)"
            );
        }
    }
    let mut closest = u128::MAX;
    let mut requests = 0;
    for (k, (_, log)) in hosts.iter().enumerate() {
        let mut times = log.lock().expect("log").clone();
        times.sort();
        requests += times.len();
        assert!(times.len() >= FEEDS / HOSTS, "host {k} got {} requests", times.len());
        for pair in times.windows(2) {
            let gap = (pair[1] - pair[0]).as_millis();
            closest = closest.min(gap);
            // What the server logs is their arrival: on two busy cores (three
            // daemons, PostgreSQL, Dovecot, the sink) a request may reach it
            // a little after it started, so some slack, far above the
            // interval / 3 of three unpaced daemons.
            assert!(
                gap >= HOST_INTERVAL_MS / 2,
                "host {k}: two requests arrived {gap} ms apart (its interval {HOST_INTERVAL_MS} ms)"
            );
        }
    }
    let logged: usize = starts.values().map(Vec::len).sum();
    assert!(
        logged >= requests,
        "every request's start is logged ({logged} of {requests})"
    );
    println!(
        "daemons {DAEMONS}, kills {KILLS} ({kills_during_batch} during the batch), {seen}; \
         {posts} post events from {FEEDS} feeds, {requests} feed requests, closest two starts at one host \
         {:.1} ms (arrivals {closest} ms); \
         {replied} replies; {:.0} s",
        closest_start as f64 / 1000.0,
        started.elapsed().as_secs_f64()
    );
    assert!(kills_during_batch >= KILLS / 2, "most kills landed during the batch");
}
