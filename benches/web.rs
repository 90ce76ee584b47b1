//! The board and the API at a team's scale: `cargo bench --bench web
//! [-- --team 100000 --rep 10000 --concurrent 200]`.
//!
//! A store holds a team of ten reps with `--team` prospects in all, one rep
//! (Ann) with `--rep` of them, each with a creation event and a third of
//! them with recent activity. Measured in one run, as server time through
//! the listener's own router (no sockets), median of several rounds:
//! - Ann's board (signed in as her) and the whole team's board (signed in as
//!   a manager), each against a bare SQL read of the same rows (the prospects
//!   of the pipeline in scope): the ratio, and the target of 100 ms;
//! - an API list page of 100 (Ann's token) against reading those 100 rows
//!   bare: the ratio, and the target of 20 ms;
//! - then the daemon itself (`rapport daemon`, its scheduled jobs switched
//!   off so only the listener works) on the same database and a loopback
//!   port: `--concurrent` board requests at once, errors counted, p50 and
//!   p99 printed, and the daemon's peak memory (VmHWM) while serving them
//!   (target: under 100 MB).

mod common;

use axum::body::Body;
use axum::http::Request;
use rapport::app::{accounts, Actor, Core};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ROUNDS: usize = 9;
const REPS: i64 = 10;
const PASSWORD: &str = "bench password 1";

async fn seed(seed: &sqlx::SqlitePool, team: usize, ann: usize) {
    let now = "2026-12-01T09:00:00.000000Z";
    let exec = |sql: &'static str| sqlx::query(sql);
    exec(
        "INSERT INTO reps (id, name, email, time_zone, digest_hour, created_at) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT x, 'Rep ' || x, 'rep' || x || '@example.com', 'Europe/Oslo', 7, ?2 FROM n",
    )
    .bind(REPS)
    .bind(now)
    .execute(seed)
    .await
    .expect("reps");
    // Ann is rep 1 with `ann` prospects; the rest share the others evenly.
    exec(
        "INSERT INTO prospects (id, rep_id, name, email, company, pipeline, stage, value_cents, currency, created_at, updated_at) \
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1) \
         SELECT x, CASE WHEN x <= ?2 THEN 1 ELSE 2 + (x % (?3 - 1)) END, 'Prospect ' || x, 'p' || x || '@client.example', \
         'Company ' || (x % 997), 'default', \
         CASE x % 7 WHEN 0 THEN 'prospecting' WHEN 1 THEN 'qualification' WHEN 2 THEN 'meeting' WHEN 3 THEN 'proposal' \
                    WHEN 4 THEN 'negotiation' WHEN 5 THEN 'won' ELSE 'lost' END, \
         (x % 50) * 1000000, 'USD', ?4, ?4 FROM n",
    )
    .bind(team as i64)
    .bind(ann as i64)
    .bind(REPS)
    .bind(now)
    .execute(seed)
    .await
    .expect("prospects");
    exec(
        "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
         SELECT id, rep_id, 'prospect.created', strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || (id % 90) || ' days'), ?1, \
                'created:' || id, 'import', 'bench.csv', '{}' FROM prospects",
    )
    .bind(now)
    .execute(seed)
    .await
    .expect("creation events");
    exec(
        "INSERT INTO events (prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data) \
         SELECT id, rep_id, CASE id % 2 WHEN 0 THEN 'post' ELSE 'email.replied' END, \
                strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || (id % 20) || ' days'), ?1, 'activity:' || id, 'system', 'bench', \
                json_object('title', 'A post', 'url', 'https://blog.example/' || id) \
         FROM prospects WHERE id % 3 = 0",
    )
    .bind(now)
    .execute(seed)
    .await
    .expect("activity");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time<F, Fut>(mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed());
    }
    median(times)
}

/// A process's peak resident memory (VmHWM), in MiB.
fn peak_rss_mib(process: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let team = common::number_arg("--team", 100_000);
    let ann_count = common::number_arg("--rep", 10_000).min(team);
    let concurrent = common::number_arg("--concurrent", 200);
    let (workdir, store, pool) = common::seeded_store().await;
    seed(&pool, team, ann_count).await;
    let store: Arc<dyn rapport::store::Store> = Arc::new(store);
    let settings = Arc::new(rapport::config::load_text(None, None).expect("built-in settings"));
    let clock: Arc<dyn rapport::domain::clock::Clock> = Arc::new(rapport::clock::ShiftedClock::starting_at(
        "2026-12-01T10:00:00Z".parse().expect("a time"),
    ));
    let core = Core {
        store,
        settings: settings.clone(),
        clock,
    };
    let operator = Actor::Team { name: "bench".into() };
    for (rep, role) in [("rep1@example.com", "rep"), ("rep2@example.com", "manager")] {
        accounts::set_password(&core, &operator, Some(rep), PASSWORD)
            .await
            .expect("a password");
        accounts::set_role(&core, &operator, Some(rep), role)
            .await
            .expect("a role");
    }
    let cookie = |email: &'static str| {
        let core = core.clone();
        async move {
            let started = accounts::log_in(&core, email, PASSWORD)
                .await
                .expect("log in")
                .expect("signed in");
            format!("rapport_session={}", started.cookie)
        }
    };
    let (ann_cookie, manager_cookie) = (cookie("rep1@example.com").await, cookie("rep2@example.com").await);
    let (_, token) = accounts::create_token(&core, &operator, Some("rep1@example.com"), "bench")
        .await
        .expect("a token");
    let state = rapport::web::WebState::new(core.clone(), vec![7; 32]);
    let router = rapport::web::router(state.clone(), &settings.config.http);

    let get = |path: &str, header: (&'static str, String)| {
        let router = router.clone();
        let request = Request::get(path)
            .header(header.0, header.1)
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                9,
            ))))
            .body(Body::empty())
            .expect("a request");
        async move {
            let response = router.oneshot(request).await.expect("an answer");
            assert!(response.status().is_success(), "{}", response.status());
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body");
            assert!(body.len() > 100);
        }
    };
    let bare = |sql: String, expect: usize| {
        let pool = pool.clone();
        async move {
            let rows = sqlx::query(&sql).fetch_all(&pool).await.expect("rows");
            assert_eq!(rows.len(), expect);
        }
    };
    let ann_rows = ann_count;
    let columns = "SELECT p.id, p.rep_id, p.name, p.email, p.company, p.title, p.pipeline, p.stage, p.value_cents, \
                   p.currency, p.created_at FROM prospects p";

    let ann_board = time(|| get("/", ("cookie", ann_cookie.clone()))).await;
    let ann_bare = time(|| {
        bare(
            format!("{columns} WHERE p.rep_id = 1 AND p.pipeline = 'default'"),
            ann_rows,
        )
    })
    .await;
    let team_board = time(|| get("/", ("cookie", manager_cookie.clone()))).await;
    let team_bare = time(|| bare(format!("{columns} WHERE p.pipeline = 'default'"), team)).await;
    let page = time(|| {
        get(
            "/api/v1/prospects?limit=100",
            ("authorization", format!("Bearer {token}")),
        )
    })
    .await;
    let page_bare = time(|| {
        bare(
            format!("{columns} WHERE p.rep_id = 1 ORDER BY p.id LIMIT 101"),
            101.min(ann_rows),
        )
    })
    .await;

    let verdict = |d: Duration, limit: f64| if ms(d) < limit { "met" } else { "NOT met" };
    println!(
        "board, rep with {ann_count} prospects: median {:.1} ms (bare SQL read of the same rows {:.1} ms, ratio {:.1}x); under 100 ms: {}",
        ms(ann_board),
        ms(ann_bare),
        ann_board.as_secs_f64() / ann_bare.as_secs_f64(),
        verdict(ann_board, 100.0)
    );
    println!(
        "board, team of {team} prospects: median {:.1} ms (bare SQL read {:.1} ms, ratio {:.1}x); under 100 ms: {}",
        ms(team_board),
        ms(team_bare),
        team_board.as_secs_f64() / team_bare.as_secs_f64(),
        verdict(team_board, 100.0)
    );
    println!(
        "API list page of 100: median {:.2} ms (bare SQL read {:.2} ms, ratio {:.1}x); under 20 ms: {}",
        ms(page),
        ms(page_bare),
        page.as_secs_f64() / page_bare.as_secs_f64(),
        verdict(page, 20.0)
    );

    // The daemon itself on the same database: many boards at once.
    let dir = workdir.path();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("its address").port()
    };
    let jobs = [
        "housekeeping",
        "poll-feeds",
        "sync-mail",
        "send-sequences",
        "apply-rules",
        "send-digests",
    ]
    .iter()
    .map(|job| format!("[jobs.{job}]\nschedule = \"0 0 1 1 *\"\nenabled = false\n"))
    .collect::<String>();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let config = dir.join("rapport.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{}\"\n[http]\nlisten = \"127.0.0.1:{port}\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n[mail]\noutbox_dir = \"{}\"\n{jobs}",
            dir.join("bench.db").display(),
            dir.join("outbox").display()
        ),
    )
    .expect("the daemon's config");
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["--config", &config.display().to_string(), "daemon"])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the daemon");
    // The daemon logs when its listener is ready; its warnings are passed on.
    let log = daemon.stderr.take().expect("the daemon's log");
    let (ready, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            if line.contains("HTTP listener ready") {
                let _ = ready.send(());
            } else if line.contains("WARN") || line.contains("ERROR") {
                eprintln!("{line}");
            }
        }
    });
    tokio::task::spawn_blocking(move || listening.recv_timeout(Duration::from_secs(60)))
        .await
        .expect("the wait")
        .unwrap_or_else(|_| panic!("the daemon did not start its listener on {port}"));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrent)
        .build()
        .expect("a client");
    let started = Instant::now();
    let requests: Vec<_> = (0..concurrent)
        .map(|_| {
            let client = client.clone();
            let cookie = ann_cookie.clone();
            tokio::spawn(async move {
                let sent = Instant::now();
                let answer = client
                    .get(format!("http://127.0.0.1:{port}/"))
                    .header("cookie", cookie)
                    .send()
                    .await;
                let ok = match answer {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                (ok, sent.elapsed())
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for request in requests {
        let (ok, took) = request.await.expect("a request task");
        if !ok {
            errors += 1;
        }
        latencies.push(took);
    }
    let wall = started.elapsed();
    latencies.sort();
    let p = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(latencies.len() - 1)]
    };
    println!(
        "{concurrent} concurrent board requests (rep with {ann_count}) on loopback: {errors} errors, p50 {:.0} ms, p99 {:.0} ms, all done in {:.0} ms",
        ms(p(0.50)),
        ms(p(0.99)),
        ms(wall)
    );
    let daemon_peak = peak_rss_mib(&daemon.id().to_string());
    // A clean stop, as an operator's would be.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
    println!(
        "peak memory of the daemon serving them: {daemon_peak:.0} MiB; under 100 MB: {}",
        if daemon_peak * 1.048_576 < 100.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "(peak memory of this bench process, seeding and the in-process rounds included: {:.0} MiB)",
        peak_rss_mib("self")
    );
}
