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
