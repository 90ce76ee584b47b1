//! Conformance over the public feed corpora in `../shared/corpora/feeds`
//! (read in place, never copied): no panic on any file, and the share of
//! feedparser's expectations about the fields rapport keeps that hold.
//!
//! Applicable feedparser rows (`expected_simple.tsv`): a `==` comparison on
//! the feed title or the first entry's title, link, id, author or published
//! time, compared by meaning (markup in an expected title is reduced to text,
//! as rapport does); and "bozo = 0", meaning the feed must be usable. Files
//! whose expectations depend on HTTP headers (`Header:` lines) are served by a
//! real HTTP server on 127.0.0.1:8097 (the document URI they assume) with
//! those headers, and fetched through rapport's own client.

mod common;

use common::http::{Response, Server};
use rapport::net::client::{FetchSettings, Fetched, HttpClient, Validators};
use rapport::sources::feed::{parse_feed, FeedError, ParsedFeed};
use rapport::sources::html_text::html_to_text;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The share of feedparser's expectations that must hold.
const FEEDPARSER_TARGET: f64 = 97.0;

fn corpora(test: &str) -> Option<PathBuf> {
    common::corpora_or_skip("feeds", test)
}

#[test]
fn no_corpus_file_makes_the_parser_panic() {
    let Some(root) = corpora("no_corpus_file_makes_the_parser_panic") else {
        return;
    };
    let mut files = Vec::new();
    common::all_files(&root, &mut files);
    let mut panicked = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        if std::panic::catch_unwind(|| parse_feed(&bytes, Some("http://127.0.0.1:8097/"), None)).is_err() {
            panicked.push(file.display().to_string());
        }
    }
    println!("parsed {} corpus files, {} panics", files.len(), panicked.len());
    assert!(panicked.is_empty(), "panics on: {panicked:#?}");
}

/// What rapport holds at a feedparser path, if it keeps that field.
fn ours(feed: &ParsedFeed, path: &str) -> Option<Option<String>> {
    let first = feed.items.first();
    let value = match path {
        "feed.title" | "feed.title_detail.value" => feed.title.clone(),
        "entries.0.title" | "entries.0.title_detail.value" => first.and_then(|i| i.title.clone()),
        "entries.0.link" => first.and_then(|i| i.url.clone()),
        "entries.0.id" => first.map(|i| i.id.clone()),
        "entries.0.author" => first.and_then(|i| i.author.clone()),
        "entries.0.published" | "entries.0.updated" => first.and_then(|i| i.published).map(|t| t.to_rfc3339()),
        _ => return None,
    };
    Some(value)
}

fn same_meaning(path: &str, ours: Option<&str>, expected: &str) -> bool {
    // rapport keeps no title whose text is empty (an image alone): the same
    // meaning as markup with no text in it.
    let Some(ours) = ours else {
        return !path.ends_with("published") && !path.ends_with("updated") && html_to_text(expected).trim().is_empty();
    };
    if path.ends_with("published") || path.ends_with("updated") {
        let parse = |t: &str| {
            chrono::DateTime::parse_from_rfc2822(t)
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(t))
                .ok()
        };
        return parse(expected).is_some_and(|e| parse(ours) == Some(e));
    }
    // feedparser hands back titles as HTML; rapport keeps plain text.
    let plain = expected.split_whitespace().collect::<Vec<_>>().join(" ");
    ours == plain || ours == html_to_text(expected)
}

/// Serves the corpus files that carry HTTP headers, with those headers.
fn serve_with_headers(dir: PathBuf, headers: HashMap<String, (String, String)>) -> Server {
    let handler = move |req: &common::http::Request| {
        let file = req.path.trim_start_matches('/').to_string();
        match (std::fs::read(dir.join(&file)), headers.get(&file)) {
            (Ok(body), Some((name, value))) => Response::new(200, body).header(name, value),
            (Ok(body), None) => Response::new(200, body),
            (Err(_), _) => Response::new(404, "no such file"),
        }
    };
    Server::start_on(8097, handler.clone()).unwrap_or_else(|| {
        eprintln!("port 8097 is taken: expectations that name http://127.0.0.1:8097/ may not hold");
        Server::start(handler)
    })
}

fn client() -> HttpClient {
    HttpClient::new(FetchSettings {
        contact_url: "https://example.com/conformance".into(),
        allow_private_networks: true,
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        max_body_bytes: 15 << 20,
        max_redirects: 5,
        per_host_interval: Duration::ZERO,
        max_concurrent: 4,
        base_urls: Default::default(),
        host_budgets: Default::default(),
    })
    .unwrap()
}

async fn fetch_and_parse(client: &HttpClient, server: &Server, file: &str) -> Result<ParsedFeed, FeedError> {
    let url = url::Url::parse(&server.url(&format!("/{file}"))).unwrap();
    match client.get(&url, &Validators::default()).await {
        Ok(Fetched::Body {
            bytes,
            base_url,
            content_type,
            ..
        }) => parse_feed(&bytes, Some(base_url.as_str()), content_type.as_deref()),
        other => panic!("{file}: not served: {other:?}"),
    }
}

#[tokio::test]
async fn feedparser_expectations_about_kept_fields() {
    let Some(root) = corpora("feedparser_expectations_about_kept_fields") else {
        return;
    };
    let dir = root.join("feedparser");
    let headers: HashMap<String, (String, String)> = std::fs::read_to_string(dir.join("expected.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let (name, value) = cols.get(3)?.split_once(':')?;
            Some((cols[0].to_string(), (name.trim().to_string(), value.trim().to_string())))
        })
        .collect();
    let server = serve_with_headers(dir.clone(), headers.clone());
    let client = client();
    let (mut applicable, mut held, mut over_http) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    for line in std::fs::read_to_string(dir.join("expected_simple.tsv"))
        .unwrap()
        .lines()
        .skip(1)
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, bozo, path, op, value] = cols[..] else {
            continue;
        };
        let parsed = if headers.contains_key(file) {
            over_http += 1;
            fetch_and_parse(&client, &server, file).await
        } else {
            parse_feed(
                &std::fs::read(dir.join(file)).unwrap(),
                Some("http://127.0.0.1:8097/"),
                None,
            )
        };
        if bozo == "0" {
            applicable += 1;
            match &parsed {
                Ok(_) => held += 1,
                Err(e) => misses.push(format!("{file}: not usable: {e}")),
            }
        }
        if op != "==" {
            continue;
        }
        let Ok(expected) = serde_json::from_str::<serde_json::Value>(value) else {
            continue;
        };
        let Some(expected) = expected.as_str() else { continue };
        let Some(actual) = parsed.as_ref().ok().map(|f| ours(f, path)) else {
            if ours(
                &ParsedFeed {
                    title: None,
                    items: vec![],
                    older: 0,
                },
                path,
            )
            .is_some()
            {
                applicable += 1;
                misses.push(format!("{file}: {path}: feed not parsed"));
            }
            continue;
        };
        let Some(actual) = actual else { continue };
        applicable += 1;
        if same_meaning(path, actual.as_deref(), expected) {
            held += 1;
        } else {
            misses.push(format!("{file}: {path}: expected {expected:?}, got {actual:?}"));
        }
    }
    let share = held as f64 * 100.0 / applicable.max(1) as f64;
    println!("feedparser expectations about kept fields: {held} of {applicable} hold ({share:.1} %, target >= {FEEDPARSER_TARGET} %); {over_http} rows served over HTTP with their headers");
    let shown = if std::env::var_os("RAPPORT_SHOW_MISSES").is_some() {
        usize::MAX
    } else {
        40
    };
    for miss in misses.iter().take(shown) {
        println!("  miss: {miss}");
    }
    assert!(
        share >= FEEDPARSER_TARGET,
        "conformance {share:.1} % is below {FEEDPARSER_TARGET} % (RAPPORT_SHOW_MISSES=1 lists every miss)"
    );
}
