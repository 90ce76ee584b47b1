//! The feed server the poll benchmark fetches from: keep-alive HTTP/1.1 on
//! several loopback addresses (127.0.0.1, .2, …: one per host name, as a
//! team's feeds sit on many hosts), answering `/f/{i}.xml` with realistic
//! feed `i` (`realistic.rs`) and `/light/{i}.xml` with the small 5-item feed,
//! gzipped when the request accepts it (as a web server's precompressed
//! files are), 304 when it carries the ETag.
//!
//! It runs as a child process of the bench (the bench started again with
//! `--serve-feeds`), so the bodies it holds and the CPU it spends making them
//! are not the poller's: the peak RSS measured is rapport's alone. It ends
//! when the bench closes its stdin.

use super::realistic;
use flate2::{write::GzEncoder, Compression};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

pub const ETAG: &str = "\"v1\"";
/// The seed of the realistic feeds served (and parsed alone by the bench).
pub const SEED: &str = "rapport";

/// The bench's side: the child's addresses and the item count of each of
/// its distinct realistic feeds.
pub struct FeedServer {
    child: Child,
    pub addresses: Vec<String>,
    items: Vec<usize>,
}

impl FeedServer {
    /// Starts the child with `distinct` realistic feeds on `hosts` addresses.
    pub fn start(distinct: usize, hosts: usize) -> FeedServer {
        let now = chrono::Utc::now().timestamp();
        let mut child = Command::new(std::env::current_exe().expect("the bench's own path"))
            .args([
                "--serve-feeds",
                "--distinct",
                &distinct.to_string(),
                "--hosts",
                &hosts.to_string(),
            ])
            .args(["--now", &now.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the feed server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("the feed server's first line");
        // "ready ADDR,ADDR,… COUNT,COUNT,…"
        let mut parts = line.split_whitespace().skip(1);
        let addresses = parts
            .next()
            .expect("addresses")
            .split(',')
            .map(str::to_string)
            .collect();
        let items = parts
            .next()
            .expect("item counts")
            .split(',')
            .map(|n| n.parse().expect("a count"))
            .collect();
        FeedServer {
            child,
            addresses,
            items,
        }
    }

    /// Items in realistic feed `i` (the bodies repeat after `distinct`).
    pub fn items_of(&self, i: usize) -> usize {
        self.items[i % self.items.len()]
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Body {
    plain: Vec<u8>,
    gzipped: Vec<u8>,
}

fn body(text: String) -> Body {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(text.as_bytes()).expect("gzip in memory");
    Body {
        gzipped: encoder.finish().expect("gzip in memory"),
        plain: text.into_bytes(),
    }
}

/// The child's side: make the feeds, listen, print the ready line, serve
/// until stdin closes.
pub fn serve(distinct: usize, hosts: usize, now: i64) {
    // Made on both cores; feed i depends only on (seed, i, now).
    let made: Vec<(Body, usize)> = std::thread::scope(|scope| {
        let halves = [0..distinct / 2, distinct / 2..distinct];
        let workers: Vec<_> = halves
            .into_iter()
            .map(|range| {
                scope.spawn(move || {
                    range
                        .map(|i| {
                            let feed = realistic::feed(SEED, i as u64, now);
                            (body(feed.body), feed.items)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a generator thread"))
            .collect()
    });
    let counts: Vec<String> = made.iter().map(|(_, n)| n.to_string()).collect();
    let feeds: Arc<Vec<Body>> = Arc::new(made.into_iter().map(|(b, _)| b).collect());
    let light = Arc::new(body(crate::common::feeds::feed_body()));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let mut addresses = Vec::new();
        for k in 0..hosts {
            let listener = tokio::net::TcpListener::bind(format!("127.0.0.{}:0", k % 250 + 1))
                .await
                .expect("bind a loopback address");
            addresses.push(listener.local_addr().expect("addr").to_string());
            tokio::spawn(listen(listener, feeds.clone(), light.clone()));
        }
        println!("ready {} {}", addresses.join(","), counts.join(","));
        std::io::stdout().flush().expect("stdout");
        // Until the bench closes stdin (or dies).
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {}
        })
        .await
        .ok();
    });
}

async fn listen(listener: tokio::net::TcpListener, feeds: Arc<Vec<Body>>, light: Arc<Body>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(connection(stream, feeds.clone(), light.clone()));
    }
}

async fn connection(mut stream: tokio::net::TcpStream, feeds: Arc<Vec<Body>>, light: Arc<Body>) {
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let Some(head) = crate::common::feeds::read_head(&mut stream, &mut buffer).await else {
            return;
        };
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        let index = |prefix: &str| {
            path.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(".xml"))
                .and_then(|n| n.parse::<usize>().ok())
        };
        let found = match (index("/f/"), index("/light/")) {
            (Some(i), _) => Some(&feeds[i % feeds.len()]),
            (None, Some(_)) => Some(&*light),
            _ => None,
        };
        let mut response: Vec<u8>;
        match found {
            None => response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Some(_) if head.contains(&format!("if-none-match: {}", ETAG)) => {
                response =
                    format!("HTTP/1.1 304 Not Modified\r\nETag: {ETAG}\r\nContent-Length: 0\r\n\r\n").into_bytes();
            }
            Some(body) => {
                let gzip = head
                    .lines()
                    .any(|l| l.starts_with("accept-encoding:") && l.contains("gzip"));
                let (bytes, encoding) = if gzip {
                    (&body.gzipped, "Content-Encoding: gzip\r\n")
                } else {
                    (&body.plain, "")
                };
                response = format!(
                    "HTTP/1.1 200 OK\r\nETag: {ETAG}\r\nContent-Type: application/xml; charset=utf-8\r\n{encoding}Content-Length: {}\r\n\r\n",
                    bytes.len()
                )
                .into_bytes();
                response.extend_from_slice(bytes);
            }
        }
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}
