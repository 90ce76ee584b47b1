//! Feed parsing through `rapport sources test FILE`, on project-written
//! fixtures that reproduce the formats and quirks of Mastodon, Bluesky,
//! GitHub and YouTube feeds.

mod common;

use common::{fixture, stderr, Workspace};
use serde_json::Value;

fn parsed(file: &str) -> Value {
    Workspace::new().json(&["sources", "test", fixture(&format!("feeds/{file}")).to_str().unwrap()])
}

#[test]
fn mastodon_items_have_no_title_and_their_text_comes_from_the_html() {
    let feed = parsed("mastodon.rss");
    assert_eq!(feed["title"], "Jane Doe");
    let first = &feed["items"][0];
    assert_eq!(first["id"], "https://social.example/@jane/112233445566778899");
    assert_eq!(first["url"], "https://social.example/@jane/112233445566778899");
    assert_eq!(first["title"], Value::Null);
    assert_eq!(
        first["text"],
        "We just shipped https://acme.example/launch & we are hiring! #saas"
    );
    assert_eq!(first["published"], "2025-08-05T09:12:44Z");
    assert_eq!(feed["items"].as_array().unwrap().len(), 2);
}

#[test]
fn bluesky_dates_without_weekday_or_seconds_parse() {
    let feed = parsed("bluesky.rss");
    let first = &feed["items"][0];
    assert_eq!(
        first["id"],
        "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3lvmxzq2abc2k"
    );
    assert_eq!(first["published"], "2025-08-05T01:40:00Z");
    assert_eq!(first["title"], Value::Null);
    assert_eq!(
        feed["items"][1]["text"],
        "Quiet week. Reading \"The Challenger Sale\" again & taking notes."
    );
    assert_eq!(feed["items"][1]["published"], "2025-07-31T18:05:00Z");
}

#[test]
fn github_activity_entries_keep_their_event_ids() {
    let feed = parsed("github.atom");
    let first = &feed["items"][0];
    assert_eq!(first["id"], "tag:github.com,2008:PushEvent/51234567890");
    assert_eq!(first["title"], "jane pushed to main in jane/shipit");
    assert_eq!(first["text"], "Faster CSV import & dedupe");
    assert_eq!(first["url"], "https://github.com/jane/shipit/compare/abc123...def456");
    assert_eq!(first["author"], "jane");
}

#[test]
fn youtube_videos_take_their_description_from_media_group() {
    let feed = parsed("youtube.xml");
    let video = &feed["items"][0];
    assert_eq!(video["id"], "yt:video:dQw4w9WgXcQ");
    assert_eq!(video["url"], "https://www.youtube.com/watch?v=dQw4w9WgXcQ");
    assert_eq!(video["title"], "How we run discovery calls");
    assert_eq!(video["published"], "2025-08-03T15:00:07Z");
    assert_eq!(video["author"], "Jane Doe Sells");
    let text = video["text"].as_str().unwrap_or_default();
    assert!(text.is_empty() || text.contains("five questions"), "{text}");
}

#[test]
fn what_is_not_a_feed_is_refused_with_the_file_named() {
    let ws = Workspace::new();
    let page = ws.write(
        "page.html",
        "<html><head><title>Blog</title></head><body><p>Hello</p></body></html>",
    );
    let out = ws.run(&["sources", "test", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("page.html") && stderr(&out).contains("not a readable RSS, Atom or JSON feed"),
        "{}",
        stderr(&out)
    );
    let out = ws.run(&["sources", "test", "missing.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read missing.xml"));
    let json_items = ws.json(&["sources", "test", fixture("feeds/bluesky.rss").to_str().unwrap()]);
    assert_eq!(
        json_items["items"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["author", "id", "published", "text", "title", "url"]
    );
}

#[test]
fn a_feed_file_is_read_by_its_path_or_its_file_url() {
    let ws = Workspace::new();
    let path = fixture("feeds/bluesky.rss");
    let by_path = ws.json(&["sources", "test", path.to_str().unwrap()]);
    let url = url::Url::from_file_path(&path).expect("absolute path");
    let by_url = ws.json(&["sources", "test", url.as_str()]);
    assert_eq!(by_path, by_url);
    assert!(!by_url["items"].as_array().expect("items").is_empty());
    let out = ws.run(&["sources", "test", "file://host-name/feed.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("file:///"), "{}", stderr(&out));
}
