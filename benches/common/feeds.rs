//! A feed server for the benchmarks: keep-alive HTTP/1.1 on loopback
//! ports, the same small RSS feed for every path, 304 when the request
//! carries its ETag. Counts the requests it answers.
#![allow(dead_code)] // not every benchmark serves feeds

use chrono::Utc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Requests answered by every server started here, robots.txt included.
pub static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Of those, the requests for robots.txt.
pub static ROBOTS: AtomicU64 = AtomicU64::new(0);

pub const ETAG: &str = "\"v1\"";

pub fn feed_body() -> String {
    let now = Utc::now();
    let mut items = String::new();
    for i in 0..5 {
        let date = (now - chrono::Duration::hours(i)).to_rfc2822();
        items.push_str(&format!(
            "<item><guid>post-{i}</guid><title>Post number {i}</title><link>https://blog.example/p/{i}</link>\
             <pubDate>{date}</pubDate><description>&lt;p&gt;Some text about selling, number {i}.&lt;/p&gt;</description></item>"
        ));
    }
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Bench blog</title>{items}</channel></rss>")
}

/// A keep-alive HTTP/1.1 server answering every GET with the feed, or 304
/// when the request carries the feed's ETag.
async fn serve(listener: tokio::net::TcpListener, body: Arc<String>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let body = body.clone();
        tokio::spawn(async move {
            let mut buffer = Vec::with_capacity(4096);
            loop {
                let Some(head) = read_head(&mut stream, &mut buffer).await else {
                    return;
                };
                REQUESTS.fetch_add(1, Ordering::Relaxed);
                if head.starts_with("get /robots.txt") {
                    ROBOTS.fetch_add(1, Ordering::Relaxed);
                }
                let response = if head.contains(&format!("if-none-match: {}", ETAG.to_ascii_lowercase())) {
                    format!("HTTP/1.1 304 Not Modified\r\nETag: {ETAG}\r\nContent-Length: 0\r\n\r\n")
                } else {
                    format!("HTTP/1.1 200 OK\r\nETag: {ETAG}\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                };
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The next request's head (up to its blank line), lowercased, from a
/// keep-alive connection; `None` once the client closes it. `buffer` keeps
/// what was read past the head.
pub async fn read_head(stream: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
    buffer.drain(..end);
    Some(head)
}

pub async fn start_servers(hosts: usize) -> Vec<u16> {
    let body = Arc::new(feed_body());
    let mut ports = Vec::new();
    for _ in 0..hosts {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        ports.push(listener.local_addr().expect("addr").port());
        tokio::spawn(serve(listener, body.clone()));
    }
    ports
}
