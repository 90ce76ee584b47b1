//! Three daemons on one PostgreSQL database share a sending batch while a
//! random one of them is SIGKILLed 20 times (and restarted each time): the
//! claims with their fences, the outbox row per step and the locked rep row
//! keep every email to one send, and the crash rule settles what a kill cut
//! off. The SMTP server files a copy of what it accepts in the rep's Sent
//! folder on Dovecot, as in the one-daemon crash test.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::imap::{Dovecot, MAIL_USER, PASSWORD};
use common::postgres::Postgres;
use common::smtp::{header, SmtpOptions, SmtpSink};
use common::Workspace;
use std::collections::BTreeSet;
use std::process::Child;
use std::time::Instant;

/// 150 prospects in a two-email sequence: a 300-message batch.
const PROSPECTS: usize = 150;
const MESSAGES: usize = 2 * PROSPECTS;
const DAEMONS: usize = 3;
const KILLS: usize = 20;

/// A rep, Ann, with 150 prospects enrolled in a two-email sequence, sending
/// through the SMTP sink (which files copies in her Sent folder on Dovecot),
/// her data on `url`; `jobs` are the daemon jobs left on, `more` extra config.
struct Team {
    ws: Workspace,
    smtp: SmtpSink,
    _dovecot: Dovecot,
    base: DateTime<Utc>,
}

fn sending_team(url: String, jobs: &[&str], more: &str) -> Team {
    let dovecot = Dovecot::start();
    dovecot.client().state("Sent");
    let smtp = SmtpSink::start_with(SmtpOptions {
        copy_to: Some((dovecot.maildir("Sent"), MAIL_USER.to_string())),
        delay_ms: 20,
        ..SmtpOptions::default()
    });
    let ws = Workspace::on_database(Some(url));
    ws.init_ann();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    let off = common::jobs_off_except(jobs);
    ws.write(
        "config/rapport.toml",
        format!(
            "[sequences]\ndir = \"sequences\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 1\n\
             [http]\nenabled = false\npublic_url = \"https://rapport.example.com\"\n\
             [sending]\npostal_address = \"Ann Rep, Storgata 1, 0155 Oslo\"\nmin_gap_secs = 0\n\
             max_jitter_secs = 0\ndaily_cap = 10000\nlease_secs = 2\nbatch = 20\n\
             [daemon]\nshutdown_grace_secs = 2\n\
             [jobs.send-sequences]\nschedule = \"* * * * * *\"\n{more}{off}{}",
            smtp.port,
            dovecot.mailbox_config(&password)
        ),
    );
    ws.write(
        "config/sequences/two.toml",
        "name = \"Two\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello {{ prospect.first_name }}\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Again, {{ prospect.first_name }}\"\ntext = \"Hi again\"\n",
    );
    let mut csv = String::from("First Name,Last Name,Email\n");
    for n in 0..PROSPECTS {
        csv.push_str(&format!("K{n},Test,k{n}@team{n}.example\n"));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);
    let base: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
    ws.ok(&[
        "--now",
        &base.to_rfc3339(),
        "sequence",
        "enroll",
        "two",
        "--stage",
        "prospecting",
    ]);
    Team {
        ws,
        smtp,
        _dovecot: dovecot,
        base,
    }
}

impl Team {
    /// Waits until no enrolment is active (the batch is over).
    fn wait_for_the_batch(&self) {
        common::wait_until(
            "every enrolment to end",
            std::time::Duration::from_secs(180),
            || format!("{}", self.ws.json(&["sequence", "status"])),
            || {
                self.ws
                    .json(&["sequence", "status"])
                    .as_array()
                    .expect("list")
                    .iter()
                    .all(|e| e["state"] != "active")
            },
        );
    }

    /// The batch's end state, for daemons' logs 1..=runs: each step sent
    /// once, every send settled, nothing panicked. Returns what it saw.
    fn check_each_step_once(&self, runs: usize) -> String {
        let ws = &self.ws;
        let received = self.smtp.received();
        let ids: Vec<String> = received
            .iter()
            .map(|m| header(m, "Message-ID").expect("Message-ID"))
            .collect();
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a Message-ID reached the server twice");
        let steps: Vec<(String, String)> = received
            .iter()
            .map(|m| {
                (
                    header(m, "X-RcptTo").unwrap_or_default(),
                    header(m, "Subject").unwrap_or_default(),
                )
            })
            .collect();
        let unique_steps: BTreeSet<&(String, String)> = steps.iter().collect();
        assert_eq!(unique_steps.len(), steps.len(), "a prospect got the same step twice");
        let outbox = ws.json(&["sequence", "outbox"]);
        let rows = outbox.as_array().expect("list");
        let in_state = |state: &str| rows.iter().filter(|r| r["state"] == state).count();
        let status = ws.json(&["sequence", "status"]);
        let enrolments = status.as_array().expect("list");
        let finished = enrolments.iter().filter(|e| e["state"] == "finished").count();
        let paused = enrolments.iter().filter(|e| e["state"] == "paused").count();
        let logs: String = (1..=runs)
            .map(|run| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default())
            .collect();
        let fenced = logs.matches("another worker took it over").count();
        assert_eq!(in_state("sending"), 0, "no send left unsettled");
        assert_eq!(finished + paused, PROSPECTS, "every step ends sent or accounted for");
        assert_eq!(
            paused,
            in_state("unknown"),
            "each paused enrolment waits on an unknown send"
        );
        for enrolment in enrolments.iter().filter(|e| e["state"] == "finished") {
            let email = enrolment["prospect_email"].as_str().unwrap_or_default();
            let got = steps.iter().filter(|(to, _)| to == email).count();
            assert_eq!(got, 2, "{email} finished with {got} emails");
        }
        assert_eq!(
            in_state("sent"),
            received.len(),
            "every message the server took is recorded as sent"
        );
        assert!(
            !logs.contains("panicked"),
            "no daemon panicked:\n{}",
            logs.lines()
                .filter(|l| l.contains("panicked"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        format!(
            "received {}, sent {}, unknown {}, refused {}, late writes refused by a fence {fenced}, \
             server transactions {:?}",
            received.len(),
            in_state("sent"),
            in_state("unknown"),
            in_state("refused"),
            self.smtp.transactions()
        )
    }
}

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
    let mut daemons: Vec<Child> = (0..DAEMONS).map(|_| spawn(ws)).collect();
    let mut kills_during_batch = 0;
    for _ in 0..KILLS {
        std::thread::sleep(std::time::Duration::from_millis(random.next_in(200, 1000)));
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

/// PostgreSQL is restarted (`pg_ctl restart -m fast`, every connection cut)
/// three times while three daemons send the batch and poll feeds: they
/// reconnect, the crash rule settles what the restarts cut off, each step
/// goes out once and each feed item is one event.
#[test]
fn postgres_restarted_mid_pass_loses_and_repeats_nothing() {
    const FEEDS: usize = 30;
    let cluster = Postgres::start();
    let feeds = common::http::Server::start(|req| {
        // Slow answers keep a poll running across a restart.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let user = req.path.trim_start_matches('/').trim_end_matches(".atom").to_string();
        common::http::Response::new(
            200,
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{user}</title>\
                 <entry><id>tag:github.com,2008:{user}/1</id><updated>2026-12-01T08:00:00Z</updated>\
                 <link href=\"https://github.com/{user}/commit/1\"/><title>{user} pushed</title></entry></feed>"
            ),
        )
        .header("Content-Type", "application/atom+xml")
    });
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
    let mut csv = String::from("Name,Email,Profile URL\n");
    for n in 0..FEEDS {
        csv.push_str(&format!("User {n},u{n}@dev{n}.example,https://github.com/user{n}\n"));
    }
    ws.write("watchers.csv", csv);
    ws.ok(&["prospect", "import", "watchers.csv"]);

    let started = Instant::now();
    let clock = |started: Instant| team.base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut daemons: Vec<Child> = (1..=DAEMONS).map(|run| ws.spawn_daemon(clock(started), run)).collect();
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

/// One row of numbers from the team's database.
fn count(rt: &tokio::runtime::Runtime, pool: &sqlx::PgPool, sql: &str) -> i64 {
    rt.block_on(sqlx::query_scalar(sql).fetch_one(pool)).expect(sql)
}

/// A daemon is SIGSTOPped in the middle of a poll, longer than its lease: a
/// second daemon takes its sources over and polls them. When the first one
/// is continued, every poll it still had to write is refused by the fence,
/// exactly as many as it held, and no post is stored twice.
#[test]
fn a_daemon_paused_past_its_lease_has_its_late_polls_refused() {
    const FEEDS: usize = 40;
    let cluster = Postgres::start();
    let url = cluster.database("paused");
    // Each feed answers slowly, so the first daemon is mid-batch when it stops.
    let github = common::http::Server::start(|req| {
        std::thread::sleep(std::time::Duration::from_millis(150));
        let user = req.path.trim_start_matches('/').trim_end_matches(".atom").to_string();
        let entries: String = (0..2)
            .map(|n| {
                format!(
                    "<entry><id>tag:github.com,2008:{user}/{n}</id><updated>2026-12-01T0{n}:00:00Z</updated>\
                     <link href=\"https://github.com/{user}/commit/{n}\"/><title>{user} pushed {n}</title></entry>"
                )
            })
            .collect();
        common::http::Response::new(
            200,
            format!("<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{user}</title>{entries}</feed>"),
        )
        .header("Content-Type", "application/atom+xml")
    });
    let ws = Workspace::on_database(Some(url.clone()));
    ws.init_ann();
    let jobs = common::jobs_off_except(&["poll-feeds"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[http]\nenabled = false\n[feeds]\ninterval_mins = 240\nfirst_poll_window_days = 30\n\
             [fetch]\nper_host_interval_ms = 0\nmax_concurrent = 2\n\
             [fetch.base_urls]\n\"github.com\" = \"{}\"\n\
             [fetch.hosts.\"github.com\"]\ninterval_ms = 0\nconcurrency = 2\n\
             [jobs.poll-feeds]\nschedule = \"* * * * * *\"\n{jobs}",
            github.url("")
        ),
    );
    let mut csv = String::from("Name,Email,Profile URL\n");
    for n in 0..FEEDS {
        csv.push_str(&format!("User {n},u{n}@dev{n}.example,https://github.com/user{n}\n"));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    let base: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
    let mut first = ws.spawn_daemon(base, 1);
    let log = |run: usize| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default();
    common::wait_until(
        "the first daemon to be mid-poll",
        std::time::Duration::from_secs(60),
        || log(1),
        || github.requests().len() >= 6,
    );
    let stop = |signal: &str, pid: u32| {
        let done = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(done.success(), "kill {signal}");
    };
    stop("-STOP", first.id());
    let owner = format!("%:{}", first.id());
    let held = count(
        &rt,
        &pool,
        &format!("SELECT count(*) FROM sources WHERE lease_owner LIKE '{owner}'"),
    );
    assert!(held > 0, "the paused daemon holds claims");

    // 20 minutes on (the lease is 15): the second daemon takes them over.
    let mut second = ws.spawn_daemon(base + Duration::minutes(20), 2);
    common::wait_until(
        "the second daemon to poll every source",
        std::time::Duration::from_secs(60),
        || log(2),
        || {
            count(
                &rt,
                &pool,
                "SELECT count(*) FROM sources WHERE last_polled_at IS NULL OR lease_owner IS NOT NULL",
            ) == 0
        },
    );
    second.kill().expect("stop the second daemon");
    second.wait().expect("reap");
    let first_run = "SELECT count(*) FROM job_runs WHERE finished_at IS NOT NULL \
                     AND id = (SELECT MIN(id) FROM job_runs WHERE name = 'poll-feeds')";
    assert_eq!(count(&rt, &pool, first_run), 0, "the paused daemon's poll is not over");

    stop("-CONT", first.id());
    common::wait_until(
        "the paused daemon's poll to end",
        std::time::Duration::from_secs(60),
        || log(1),
        || count(&rt, &pool, first_run) == 1,
    );
    first.kill().expect("stop the first daemon");
    first.wait().expect("reap");

    let refused = log(1).matches("a poll was not written").count() as i64;
    println!("feeds {FEEDS}, claims held by the paused daemon {held}, its late polls refused {refused}");
    assert_eq!(refused, held, "every late poll refused, and only those");
    assert_eq!(
        count(&rt, &pool, "SELECT count(*) FROM events WHERE kind = 'post'"),
        (FEEDS * 2) as i64,
        "each feed item one event"
    );
    assert_eq!(
        count(
            &rt,
            &pool,
            "SELECT count(*) FROM sources WHERE next_poll_at < '2026-12-02T10:20:00Z'::timestamptz"
        ),
        0,
        "the second daemon's schedules stand"
    );
}

/// Three daemons share a burst of due feeds on one host, a few at a time
/// each: the host's request log shows no two requests closer than its
/// budget's interval, as if one daemon polled it.
#[test]
fn three_daemons_poll_a_host_no_faster_than_its_budget() {
    const FEEDS: usize = 24;
    const INTERVAL_MS: u128 = 200;
    let cluster = Postgres::start();
    let url = cluster.database("polite");
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let seen = arrivals.clone();
    let github = common::http::Server::start(move |req| {
        seen.lock().expect("arrivals").push(Instant::now());
        let user = req.path.trim_start_matches('/').trim_end_matches(".atom").to_string();
        common::http::Response::new(
            200,
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{user}</title>\
                 <entry><id>tag:github.com,2008:{user}/1</id><updated>2026-12-01T08:00:00Z</updated>\
                 <link href=\"https://github.com/{user}/commit/1\"/><title>{user} pushed</title></entry></feed>"
            ),
        )
        .header("Content-Type", "application/atom+xml")
    });
    let ws = Workspace::on_database(Some(url.clone()));
    ws.init_ann();
    let jobs = common::jobs_off_except(&["poll-feeds"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[http]\nenabled = false\n[feeds]\ninterval_mins = 240\nclaim_batch = 2\n\
             [fetch]\nper_host_interval_ms = 0\nmax_concurrent = 4\n\
             [fetch.base_urls]\n\"github.com\" = \"{}\"\n\
             [fetch.hosts.\"github.com\"]\ninterval_ms = {INTERVAL_MS}\nconcurrency = 1\n\
             [jobs.poll-feeds]\nschedule = \"* * * * * *\"\n{jobs}",
            github.url("")
        ),
    );
    let mut csv = String::from("Name,Email,Profile URL\n");
    for n in 0..FEEDS {
        csv.push_str(&format!("User {n},u{n}@dev{n}.example,https://github.com/user{n}\n"));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    let base: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
    let mut daemons: Vec<Child> = (1..=DAEMONS).map(|run| ws.spawn_daemon(base, run)).collect();
    common::wait_until(
        "every feed to be polled",
        std::time::Duration::from_secs(90),
        || format!("{} requests", arrivals.lock().expect("arrivals").len()),
        || count(&rt, &pool, "SELECT count(*) FROM sources WHERE last_polled_at IS NULL") == 0,
    );
    for daemon in &mut daemons {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    let runs = count(&rt, &pool, "SELECT count(*) FROM job_runs WHERE name = 'poll-feeds'");
    let mut times = arrivals.lock().expect("arrivals").clone();
    times.sort();
    let gaps: Vec<u128> = times.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    let closest = gaps.iter().copied().min().unwrap_or_default();
    println!(
        "daemons {DAEMONS}, poll runs {runs}, requests {}, closest two {closest} ms, interval {INTERVAL_MS} ms",
        times.len()
    );
    assert_eq!(times.len(), FEEDS, "each feed fetched once");
    assert!(runs >= 2, "the burst was shared by several runs ({runs})");
    // A request reserved on time may reach the server a little late (its
    // connection), and the next one on time: some slack, far above the
    // interval / 3 that three unpaced daemons would give.
    assert!(
        closest >= INTERVAL_MS * 3 / 4,
        "two requests {closest} ms apart (budget {INTERVAL_MS} ms)"
    );
}

/// A 429 with Retry-After pauses the whole host for every process on the
/// database: the next process polling that host's other feeds does not
/// request them, schedules them after the pause, and counts no failure.
#[test]
fn a_hosts_retry_after_holds_every_process_on_the_database() {
    let cluster = Postgres::start();
    let url = cluster.database("held");
    let server = common::http::Server::start(|req| match req.path.as_str() {
        "/@first.rss" => common::http::Response::new(429, "slow down").header("Retry-After", "600"),
        _ => common::http::Response::new(
            200,
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>",
        )
        .header("Content-Type", "application/rss+xml"),
    });
    let ws = Workspace::on_database(Some(url));
    ws.init_ann();
    ws.write(
        "config/rapport.toml",
        format!(
            "[fetch]\nper_host_interval_ms = 100\n[fetch.base_urls]\n\"busy.example\" = \"{}\"\n",
            server.url("")
        ),
    );
    let add = |name: &str| {
        ws.ok(&[
            "prospect",
            "add",
            "--name",
            name,
            "--email",
            &format!("{name}@people.example"),
            "--profile",
            &format!("https://busy.example/@{name}"),
        ]);
    };
    add("first");
    ws.ok(&["poll", "--once"]);
    add("second");
    add("third");
    let before = chrono::Utc::now();
    ws.ok(&["poll", "--once"]);
    let asked: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(asked, ["/@first.rss"], "no request to the paused host");
    let sources = ws.json(&["sources"]);
    for source in sources.as_array().expect("list") {
        if source["prospect_name"] == "first" {
            continue;
        }
        let status = source["last_status"].as_str().unwrap_or_default();
        assert!(status.contains("asked rapport to pause"), "{status}");
        assert_eq!(source["consecutive_failures"], 0, "a pause is not the feed's failure");
        let next: DateTime<Utc> = source["next_poll_at"].as_str().expect("next").parse().expect("time");
        assert!(
            next - before > Duration::seconds(590),
            "asked again after the pause: {next}"
        );
    }
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
    let mut daemons: Vec<Child> = (1..=DAEMONS)
        .map(|run| {
            ws.command()
                .args(["--now", &clock(started).to_rfc3339(), "daemon"])
                .env("RUST_LOG", "info")
                .env("RAPPORT__DATABASE__MAX_CONNECTIONS", "4")
                .env("RAPPORT__DATABASE__BUSY_TIMEOUT_MS", "1000")
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(ws.path(&format!("daemon-{run}.log"))).expect("log"))
                .spawn()
                .expect("start daemon")
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
    let mut daemon = ws.spawn_daemon("2026-12-02T10:00:00Z".parse().expect("time"), 1);
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

/// A poll that takes longer than its lease (a slow host) keeps its feeds by
/// renewing the claims every third of the lease: a second daemon looking for
/// due feeds every second takes none of them over, and each feed is fetched
/// once.
#[test]
fn a_long_poll_renews_its_claims_and_keeps_its_feeds() {
    const FEEDS: usize = 40;
    let cluster = Postgres::start();
    let url = cluster.database("renewed");
    let github = common::http::Server::start(|req| {
        // A slow host: the poll outlasts its two-second lease.
        std::thread::sleep(std::time::Duration::from_millis(150));
        let user = req.path.trim_start_matches('/').trim_end_matches(".atom").to_string();
        common::http::Response::new(
            200,
            format!("<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{user}</title></feed>"),
        )
        .header("Content-Type", "application/atom+xml")
    });
    let ws = Workspace::on_database(Some(url.clone()));
    ws.init_ann();
    let jobs = common::jobs_off_except(&["poll-feeds"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[http]\nenabled = false\n[feeds]\ninterval_mins = 240\nlease_secs = 2\n\
             [fetch]\nper_host_interval_ms = 0\nmax_concurrent = 2\n\
             [fetch.base_urls]\n\"github.com\" = \"{}\"\n\
             [fetch.hosts.\"github.com\"]\ninterval_ms = 0\nconcurrency = 2\n\
             [jobs.poll-feeds]\nschedule = \"* * * * * *\"\n{jobs}",
            github.url("")
        ),
    );
    let mut csv = String::from("Name,Email,Profile URL\n");
    for n in 0..FEEDS {
        csv.push_str(&format!("User {n},u{n}@dev{n}.example,https://github.com/user{n}\n"));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let pool = rt.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    let base: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
    // Both daemons' clocks run from the same start, so they agree on when a lease ends.
    let zero = Instant::now();
    let clock = || base + Duration::milliseconds(zero.elapsed().as_millis() as i64);
    let mut first = ws.spawn_daemon(clock(), 1);
    common::wait_until(
        "the first poll to start",
        std::time::Duration::from_secs(60),
        String::new,
        || !github.requests().is_empty(),
    );
    let started = Instant::now();
    let mut second = ws.spawn_daemon(clock(), 2);
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
    let took = started.elapsed();
    for daemon in [&mut first, &mut second] {
        daemon.kill().expect("stop");
        daemon.wait().expect("reap");
    }
    let logs: String = (1..=2)
        .map(|run| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default())
        .collect();
    let requests = github.requests().len();
    println!("feeds {FEEDS}, lease 2 s, poll took {took:?} after the second daemon started, requests {requests}");
    assert!(
        took > std::time::Duration::from_secs(2),
        "the poll outlasted its lease ({took:?})"
    );
    assert_eq!(requests, FEEDS, "each feed fetched once: no claim was taken over");
    assert!(!logs.contains("another worker took it over"), "no write was fenced");
}

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
    let base: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
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
