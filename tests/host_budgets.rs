//! Per-host budgets: request starts to one host (and its subdomains) at
//! least its interval apart, through the one HTTP client; and `rapport
//! sources --hosts` showing each host's feeds, budget and shortfall.

mod common;

use common::http::{Response, Server};
use common::Workspace;
use rapport::net::client::{FetchSettings, HostBudget, HttpClient, Validators};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test]
async fn request_starts_to_one_budgeted_host_keep_its_interval() {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let server = Server::start(move |_| {
        seen.lock().unwrap().push(Instant::now());
        Response::new(200, "ok")
    });
    let client = Arc::new(
        HttpClient::new(FetchSettings {
            contact_url: "https://example.com/test".into(),
            allow_private_networks: true,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_body_bytes: 1 << 20,
            max_redirects: 0,
            per_host_interval: Duration::ZERO,
            max_concurrent: 8,
            base_urls: Default::default(),
            host_budgets: [(
                "127.0.0.1".to_string(),
                HostBudget {
                    interval_ms: 150,
                    concurrency: 3,
                },
            )]
            .into(),
        })
        .unwrap(),
    );
    let requests: Vec<_> = (0..5)
        .map(|n| {
            let client = client.clone();
            let url = url::Url::parse(&server.url(&format!("/feed{n}"))).unwrap();
            tokio::spawn(async move { client.get(&url, &Validators::default()).await.map(|_| ()) })
        })
        .collect();
    for request in requests {
        request.await.unwrap().unwrap();
    }
    let mut arrivals = arrivals.lock().unwrap().clone();
    arrivals.sort();
    assert_eq!(arrivals.len(), 5);
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        // Starts are stamped 150 ms apart; loopback adds well under 20 ms either way.
        assert!(gap >= Duration::from_millis(130), "two requests {gap:?} apart");
    }
}

#[test]
fn sources_hosts_shows_each_hosts_feeds_budget_and_shortfall() {
    let ws = Workspace::with_rep();
    ws.write(
        "config/rapport.toml",
        "[fetch.hosts.\"github.com\"]\ninterval_ms = 3600000\nconcurrency = 1\n",
    );
    for (name, profile) in [
        ("Ada", "https://github.com/ada"),
        ("Bo", "https://github.com/bo"),
        ("Cy", "https://cy.substack.com"),
        ("Di", "https://di.substack.com"),
    ] {
        ws.ok(&["prospect", "add", "--name", name, "--profile", profile]);
    }
    let loads = ws.json(&["sources", "--hosts"]);
    let host = |name: &str| {
        loads
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == name)
            .cloned()
            .unwrap()
    };
    let github = host("github.com");
    assert_eq!(
        (github["feeds"].as_u64(), github["interval_ms"].as_u64()),
        (Some(2), Some(3_600_000))
    );
    assert_eq!(
        (github["needed_per_hour"].as_f64(), github["budget_per_hour"].as_f64()),
        (Some(2.0), Some(1.0))
    );
    assert_eq!(github["shortfall_per_hour"].as_f64(), Some(1.0), "{loads}");
    let substack = host("substack.com");
    assert_eq!(
        substack["feeds"].as_u64(),
        Some(2),
        "both publications under one budget: {loads}"
    );
    assert_eq!(substack["shortfall_per_hour"].as_f64(), Some(0.0));
    let text = ws.ok(&["sources", "--hosts"]);
    assert!(text.contains("1/h short") && text.contains("[fetch.hosts"), "{text}");
}

#[test]
fn a_budget_without_requests_or_on_a_url_is_refused_by_name() {
    let ws = Workspace::new();
    let file = ws.write(
        "rapport.toml",
        "[fetch.hosts.\"github.com\"]\ninterval_ms = 1000\nconcurrency = 0\n\
         [fetch.hosts.\"https://bsky.app/\"]\ninterval_ms = 100\n",
    );
    let err = rapport::config::load(Some(&file)).unwrap_err().to_string();
    assert!(
        err.contains("fetch.hosts.github.com.concurrency") && err.contains("at least 1"),
        "{err}"
    );
    assert!(err.contains("is not a bare host name"), "{err}");
}

/// A host with more due feeds than its budget can start in one batch does
/// not hold back another host's feeds (each host polls in its own lane),
/// and what its budget cannot reach in the batch is given back for its
/// later turns and polled in the same pass.
#[test]
fn a_busy_hosts_backlog_follows_its_budget_and_never_holds_back_another_host() {
    const GITHUB: usize = 25;
    let arrivals: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let seen = arrivals.clone();
    let server = Server::start(move |req| {
        seen.lock().unwrap().push((req.path.clone(), Instant::now()));
        let body = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>";
        Response::new(200, body).header("Content-Type", "application/atom+xml")
    });
    let ws = Workspace::with_rep();
    ws.write(
        "config/rapport.toml",
        format!(
            "[fetch]\nper_host_interval_ms = 0\nmax_concurrent = 4\n\
             [fetch.base_urls]\n\"github.com\" = \"{0}\"\n\"quiet.example\" = \"{0}\"\n\
             [fetch.hosts.\"github.com\"]\ninterval_ms = 500\nconcurrency = 1\n",
            server.url("")
        ),
    );
    // GitHub's feeds first, so the oldest claimed work is all the busy host's.
    let mut csv = String::from("Name,Email,Profile URL\n");
    for i in 0..GITHUB {
        csv.push_str(&format!("User {i},u{i}@dev{i}.example,https://github.com/user{i}\n"));
    }
    for i in 0..3 {
        csv.push_str(&format!(
            "Writer {i},w{i}@quiet.example,https://quiet.example/w{i}/feed.xml\n"
        ));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);

    let out = ws.ok(&["poll", "--once"]);
    assert!(out.contains(&format!("polled {} feeds", GITHUB + 3)), "{out}");
    // 500 ms a request: 20 fit a 10 s batch, 5 wait for later turns.
    assert!(out.contains("5 polls waited for their host's turn"), "{out}");

    let arrivals = arrivals.lock().unwrap().clone();
    let github: Vec<Instant> = arrivals
        .iter()
        .filter(|(path, _)| path.ends_with(".atom"))
        .map(|(_, at)| *at)
        .collect();
    let quiet: Vec<Instant> = arrivals
        .iter()
        .filter(|(path, _)| path.ends_with("/feed.xml"))
        .map(|(_, at)| *at)
        .collect();
    assert_eq!(
        (github.len(), quiet.len()),
        (GITHUB, 3),
        "each feed fetched once: {arrivals:?}"
    );
    let quiet_done = quiet.iter().max().unwrap();
    let busy_before = github.iter().filter(|at| *at < quiet_done).count();
    assert!(
        busy_before <= 2,
        "the quiet host's feeds waited for {busy_before} of the busy host's turns"
    );
    for pair in github.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(450), "two GitHub requests {gap:?} apart");
    }
}
