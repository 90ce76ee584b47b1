//! Polling prospects' feeds against real HTTP servers on 127.0.0.1: which
//! profiles become sources, conditional GET, and the SSRF guard.

mod common;

use common::http::{Response, Server};
use common::{fixture, stderr, stdout, Workspace};
use serde_json::Value;

const NOW: &str = "2025-08-06T00:00:00Z";

fn feed_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("feeds/{name}"))).unwrap()
}

/// A workspace whose config routes the given hosts to test servers.
fn routed(routes: &[(&str, &Server)]) -> Workspace {
    let ws = Workspace::with_rep();
    let mut config = String::from(
        "[fetch]\nper_host_interval_ms = 0\nconnect_timeout_secs = 2\ntotal_timeout_secs = 5\n[fetch.base_urls]\n",
    );
    for (host, server) in routes {
        config.push_str(&format!("\"{host}\" = \"{}\"\n", server.url("")));
    }
    ws.write("routes.toml", config);
    ws
}

fn with_routes<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--config", "routes.toml"];
    all.extend_from_slice(args);
    all
}

#[test]
fn five_profiles_make_four_sources_and_linkedin_and_x_are_never_requested() {
    let platforms = Server::start(|req| {
        match req.path.as_str() {
        "/@jane.rss" => Response::new(200, feed_fixture("mastodon.rss")).header("Content-Type", "application/rss+xml"),
        "/profile/jane.bsky.social/rss" => Response::new(200, feed_fixture("bluesky.rss")),
        "/jane.atom" => Response::new(200, feed_fixture("github.atom")),
        "/blog" => Response::new(200, "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/blog/feed.xml\"></head><body>Blog</body></html>")
            .header("Content-Type", "text/html"),
        "/blog/feed.xml" => Response::new(200, feed_fixture("bluesky.rss")),
        _ => Response::new(404, "not found"),
    }
    });
    let forbidden = Server::start(|_| Response::new(200, "should never be asked"));
    let ws = routed(&[
        ("social.example", &platforms),
        ("bsky.app", &platforms),
        ("github.com", &platforms),
        ("jane.example", &platforms),
        ("linkedin.com", &forbidden),
        ("x.com", &forbidden),
    ]);
    ws.ok(&with_routes(&[
        "--now",
        NOW,
        "prospect",
        "add",
        "--name",
        "Jane Doe",
        "--email",
        "jane@acme.example",
        "--profile",
        "https://social.example/@jane",
        "--profile",
        "https://bsky.app/profile/jane.bsky.social",
        "--profile",
        "https://github.com/jane",
        "--profile",
        "https://jane.example/blog",
        "--profile",
        "https://www.linkedin.com/in/janedoe",
        "--profile",
        "https://x.com/janedoe",
    ]));
    let sources = ws.json(&with_routes(&["sources"]));
    let platforms_listed: Vec<&str> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms_listed, ["mastodon", "bluesky", "github", "website"]);

    let report = ws.json(&with_routes(&["--now", NOW, "poll", "--once"]));
    assert_eq!(report["polled"], 4, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["new_posts"], 6, "{report}");
    // Mastodon 2 + Bluesky 2 (blog serves the same items: one event each) + GitHub 2, all within 30 days.
    let shown = ws.json(&with_routes(&["prospect", "show", "jane@acme.example"]));
    let posts: Vec<&Value> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "post")
        .collect();
    assert_eq!(posts.len(), 6, "{shown}");
    assert!(posts
        .iter()
        .any(|p| p["data"]["url"] == "https://github.com/jane/shipit/compare/abc123...def456"));
    let blog = ws.json(&with_routes(&["sources"]))[3].clone();
    assert_eq!(blog["feed_url"], "https://jane.example/blog/feed.xml", "{blog}");
    assert_eq!(forbidden.connections(), 0, "a LinkedIn or X address was requested");
    let feed_fetches = platforms
        .requests()
        .iter()
        .filter(|r| r.path == "/blog/feed.xml")
        .count();
    assert_eq!(feed_fetches, 1, "discovery fetched the blog's feed more than once");
    for request in platforms.requests() {
        assert!(
            request.headers["user-agent"].starts_with("rapport/"),
            "{:?}",
            request.headers
        );
    }
}

#[test]
fn an_unchanged_feed_gets_304_and_one_changed_item_one_event() {
    let version = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let served = version.clone();
    let server = Server::start(move |req| {
        let v = served.load(std::sync::atomic::Ordering::SeqCst);
        let etag = format!("\"v{v}\"");
        if req.headers.get("if-none-match") == Some(&etag) {
            return Response::new(304, "").header("ETag", &etag);
        }
        let mut items = String::new();
        for i in 0..(1 + v) {
            items.push_str(&format!("<item><guid>post-{i}</guid><title>Post {i}</title><link>https://jane.example/p/{i}</link><pubDate>Tue, 05 Aug 2025 0{i}:00:00 +0000</pubDate></item>"));
        }
        Response::new(
            200,
            format!("<rss version=\"2.0\"><channel><title>Jane</title>{items}</channel></rss>"),
        )
        .header("ETag", &etag)
        .header("Last-Modified", "Tue, 05 Aug 2025 09:00:00 GMT")
    });
    let ws = routed(&[("jane.example", &server)]);
    ws.ok(&with_routes(&[
        "prospect",
        "add",
        "--name",
        "Jane",
        "--email",
        "jane@acme.example",
        "--profile",
        "https://jane.example/feed.xml",
    ]));
    let first = ws.json(&with_routes(&["--now", NOW, "poll", "--prospect", "jane@acme.example"]));
    assert_eq!(first["new_posts"], 2);
    let again = ws.json(&with_routes(&["--now", NOW, "poll", "--prospect", "jane@acme.example"]));
    assert_eq!(
        (again["new_posts"].clone(), again["unchanged"].clone()),
        (0.into(), 1.into())
    );
    let last = server.requests().last().unwrap().clone();
    assert_eq!(last.headers.get("if-none-match").map(String::as_str), Some("\"v1\""));
    assert_eq!(
        last.headers.get("if-modified-since").map(String::as_str),
        Some("Tue, 05 Aug 2025 09:00:00 GMT")
    );
    version.store(2, std::sync::atomic::Ordering::SeqCst);
    let changed = ws.json(&with_routes(&["--now", NOW, "poll", "--prospect", "jane@acme.example"]));
    assert_eq!(changed["new_posts"], 1, "{changed}");
    let posts = ws.json(&with_routes(&["prospect", "show", "jane@acme.example"]))["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "post")
        .count();
    assert_eq!(posts, 3);
}

#[test]
fn the_ssrf_matrix_is_refused_and_the_loopback_listener_sees_no_connection() {
    let listener =
        Server::start(|_| Response::new(200, "<rss version=\"2.0\"><channel><title>x</title></channel></rss>"));
    let port = listener.port;
    let redirect_to = format!("http://127.0.0.1:{port}/");
    let redirector = Server::start(move |_| Response::new(302, "").header("Location", &redirect_to));
    let ws = routed(&[("redirector.example", &redirector)]);
    let cases = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f000001:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
        format!("http://localhost:{port}/"),
        "https://redirector.example/feed".to_string(),
        "file:///etc/passwd".to_string(),
    ];
    for case in &cases {
        let out = ws.run(&with_routes(&["sources", "test", case]));
        assert_ne!(out.status.code(), Some(0), "{case} was fetched: {}", stdout(&out));
        let message = stderr(&out);
        // A file: URL given to `sources test` is the user's own file, read
        // locally (never a fetch); /etc/passwd is no feed.
        assert!(
            message.contains("private or special-purpose")
                || message.contains("rapport fetches only public addresses")
                || message.contains("/etc/passwd: not a readable RSS"),
            "{case}: {message}"
        );
    }
    assert_eq!(
        redirector.connections(),
        1,
        "the trusted redirector should have been asked once"
    );
    assert_eq!(listener.connections(), 0, "the loopback listener was connected to");
}

#[test]
fn discovery_honours_robots_txt() {
    let feed = "<rss version=\"2.0\"><channel><title>t</title></channel></rss>";
    let polite = Server::start(move |req| match req.path.as_str() {
        "/robots.txt" => Response::new(200, "User-agent: *\nDisallow: /private\n"),
        _ => Response::new(200, feed),
    });
    let failing = Server::start(move |req| match req.path.as_str() {
        "/robots.txt" => Response::new(503, "down"),
        _ => Response::new(200, feed),
    });
    let ws = routed(&[("polite.example", &polite), ("failing.example", &failing)]);
    for (name, profile) in [
        ("a", "https://polite.example/private/blog"),
        ("b", "https://polite.example/public"),
        ("c", "https://failing.example/blog"),
    ] {
        let email = format!("{name}@x.example");
        ws.ok(&with_routes(&[
            "prospect",
            "add",
            "--name",
            name,
            "--email",
            &email,
            "--profile",
            profile,
        ]));
    }
    ws.json(&with_routes(&["poll", "--once"]));
    let sources = ws.json(&with_routes(&["sources"]));
    let error = |i: usize| sources[i]["last_error"].as_str().unwrap_or("").to_string();
    assert!(error(0).contains("robots.txt of http"), "{}", error(0));
    assert_eq!(error(1), "", "{sources}");
    assert_eq!(sources[1]["feed_url"], "https://polite.example/public");
    assert!(error(2).contains("robots.txt"), "{}", error(2));
    assert!(
        polite.requests().iter().all(|r| !r.path.starts_with("/private")),
        "a disallowed page was fetched"
    );
    assert!(
        failing.requests().iter().all(|r| r.path == "/robots.txt"),
        "a site whose robots.txt fails was crawled"
    );
}

#[test]
fn the_first_poll_takes_only_recent_items_and_imports_get_sources_too() {
    let server = Server::start(|req| {
        match req.path.as_str() {
        "/jane.atom" => Response::new(
            200,
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>jane</title><id>x</id><updated>2025-08-05T00:00:00Z</updated>\
             <entry><id>old</id><title>Old news</title><updated>2025-01-01T00:00:00Z</updated></entry>\
             <entry><id>new</id><title>Fresh</title><updated>2025-08-05T00:00:00Z</updated></entry></feed>",
        ),
        _ => Response::new(404, ""),
    }
    });
    let ws = routed(&[("github.com", &server)]);
    let csv = ws.write("people.csv", "Name,Email,GitHub URL,LinkedIn URL\nJane,jane@x.example,https://github.com/jane,https://linkedin.com/in/jane\n");
    ws.ok(&with_routes(&[
        "--now",
        NOW,
        "prospect",
        "import",
        csv.to_str().unwrap(),
    ]));
    let sources = ws.json(&with_routes(&["sources"]));
    assert_eq!(sources.as_array().unwrap().len(), 1, "{sources}");
    assert_eq!(sources[0]["feed_url"], "https://github.com/jane.atom");
    let report = ws.json(&with_routes(&["--now", NOW, "poll", "--once"]));
    assert_eq!(report["new_posts"], 1, "{report}");
    let tested = ws.json(&with_routes(&["sources", "test", "https://github.com/jane.atom"]));
    let ids: Vec<&str> = tested["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["old", "new"], "sources test must ignore the recent-items window");
    assert_eq!(tested["items"][1]["published"], "2025-08-05T00:00:00Z");
}

#[test]
fn brotli_and_gzip_bodies_are_decoded() {
    let feed = "<rss version=\"2.0\"><channel><title>Compressed</title><item><guid>https://jane.example/1</guid><title>One</title></item></channel></rss>";
    let server = Server::start(move |req| {
        let accepts = req.headers.get("accept-encoding").cloned().unwrap_or_default();
        match req.path.as_str() {
            "/br.xml" if accepts.contains("br") => {
                let mut body = Vec::new();
                let mut writer = brotli::CompressorWriter::new(&mut body, 4096, 9, 22);
                std::io::Write::write_all(&mut writer, feed.as_bytes()).unwrap();
                drop(writer);
                Response::new(200, body).header("Content-Encoding", "br")
            }
            "/gz.xml" if accepts.contains("gzip") => {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                std::io::Write::write_all(&mut encoder, feed.as_bytes()).unwrap();
                Response::new(200, encoder.finish().unwrap()).header("Content-Encoding", "gzip")
            }
            _ => Response::new(406, "compression expected"),
        }
    });
    let ws = routed(&[("jane.example", &server)]);
    for path in ["br.xml", "gz.xml"] {
        let feed = ws.json(&with_routes(&[
            "sources",
            "test",
            &format!("https://jane.example/{path}"),
        ]));
        assert_eq!(feed["title"], "Compressed", "{path}");
    }
}

/// A profile is followed as given: a blog on plain HTTP (loopback, with
/// private networks allowed) stays http, its page's `<link rel=alternate>`
/// leads to the feed, every post is one event, and a re-poll gets 304.
#[test]
fn a_plain_http_blog_is_followed_as_given_and_re_polled_with_304() {
    let blog = Server::start(|req| match req.path.as_str() {
        "/blog" => Response::new(
            200,
            "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/blog/feed.xml\"></head></html>",
        )
        .header("Content-Type", "text/html"),
        "/blog/feed.xml" if req.headers.get("if-none-match").is_some_and(|v| v == "\"v1\"") => Response::new(304, ""),
        "/blog/feed.xml" => Response::new(200, feed_fixture("mastodon.rss"))
            .header("Content-Type", "application/rss+xml")
            .header("ETag", "\"v1\""),
        _ => Response::new(404, "not found"),
    });
    let ws = Workspace::with_rep();
    ws.write(
        "plain.toml",
        "[fetch]\nallow_private_networks = true\nper_host_interval_ms = 0\nconnect_timeout_secs = 2\ntotal_timeout_secs = 5\n",
    );
    let page = format!("http://127.0.0.1:{}/blog", blog.port);
    let config = ["--config", "plain.toml"];
    let run = |args: &[&str]| ws.json(&[&config[..], args].concat());
    ws.ok(&[
        &config[..],
        &[
            "--now",
            NOW,
            "prospect",
            "add",
            "--name",
            "Jane",
            "--email",
            "jane@blog.example",
            "--profile",
            &page,
        ],
    ]
    .concat());
    let first = run(&["--now", NOW, "poll", "--once"]);
    assert_eq!(first["new_posts"], 2, "{first}");
    let source = run(&["sources"])[0].clone();
    assert_eq!(source["page_url"], page, "followed as given: {source}");
    assert_eq!(
        source["feed_url"],
        format!("http://127.0.0.1:{}/blog/feed.xml", blog.port)
    );
    let later = "2025-08-08T00:00:00Z";
    let second = run(&["--now", later, "poll", "--once"]);
    assert_eq!(second["new_posts"], 0, "{second}");
    assert_eq!(second["unchanged"], 1, "a 304: {second}");
    let shown = run(&["prospect", "show", "jane@blog.example"]);
    let posts = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "post")
        .count();
    assert_eq!(posts, 2, "each post once: {shown}");
}
