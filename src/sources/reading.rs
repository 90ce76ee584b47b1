//! What a poll makes of what it fetched: whether a body is a feed or a page
//! (so only pages are searched for feeds), the parse and the `post` events
//! (CPU work, on the parse threads of `parsers.rs`, one per core), and
//! why a poll failed, in words for the rep.

use super::feed::{parse_feed_since, FeedItem};
use crate::domain::event::payload::FeedPost;
use crate::domain::event::{keys, Actor, NewEvent};
use crate::domain::polling::PollResult;
use crate::net::client::{FetchError, Fetched, Validators};
use chrono::{DateTime, Duration, Utc};
use url::Url;

/// Why a poll failed, in words for the rep, and how the schedule should take it.
pub(super) struct PollFailure {
    pub(super) message: String,
    pub(super) result: PollResult,
    /// The metrics' class of the error (`rapport_fetch_errors_total{class}`).
    pub(super) class: &'static str,
}

impl PollFailure {
    /// A failure after the fetch: what came back is not a usable feed.
    pub(super) fn new(message: String) -> PollFailure {
        PollFailure::of("feed", message)
    }

    pub(super) fn of(class: &'static str, message: String) -> PollFailure {
        PollFailure {
            message,
            result: PollResult::Failed { retry_after: None },
            class,
        }
    }
}

impl From<FetchError> for PollFailure {
    fn from(error: FetchError) -> Self {
        let result = match &error {
            FetchError::Status { status: 410, .. } => PollResult::Gone,
            FetchError::Held { wait, .. } => PollResult::Held {
                wait: Duration::from_std(*wait).unwrap_or(Duration::hours(1)),
            },
            _ => PollResult::Failed {
                retry_after: error.retry_after().and_then(|d| Duration::from_std(d).ok()),
            },
        };
        let class = match &error {
            FetchError::Guard(_) => "refused_address",
            FetchError::Held { .. } => "held",
            FetchError::Status { status, .. } if *status >= 500 => "http_5xx",
            FetchError::Status { status: 429, .. } => "http_429",
            FetchError::Status { .. } => "http_4xx",
            FetchError::TooManyRedirects { .. } | FetchError::BadRedirect { .. } => "redirect",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Network { .. } => "network",
        };
        PollFailure {
            message: error.to_string(),
            result,
            class,
        }
    }
}

/// What a successful poll brought back.
pub(super) enum Polled {
    NotModified,
    Feed {
        feed_url: Url,
        /// How many items the feed holds (a first poll makes events of the
        /// recent ones only).
        items: usize,
        /// A `post` event per item, made beside the parse.
        events: Vec<NewEvent>,
        validators: Validators,
    },
}

/// What turning a feed's items into events needs of its source, owned so
/// the work can move off the async threads with the parse.
#[derive(Clone)]
pub(super) struct PostContext {
    pub(super) prospect_id: i64,
    pub(super) source_id: i64,
    pub(super) platform: String,
    /// On a first poll, the oldest post kept.
    pub(super) since: Option<DateTime<Utc>>,
    pub(super) now: DateTime<Utc>,
}

/// Parses what a fetch brought back and makes its events. That is CPU
/// work: it runs on the parse threads (one per core, `parsers.rs`), never
/// on the async threads, so other fetches go on meanwhile.
pub(super) async fn read_feed(feed_url: Url, fetched: Fetched, posts: &PostContext) -> Result<Polled, PollFailure> {
    let Fetched::Body {
        bytes,
        base_url,
        content_type,
        validators,
    } = fetched
    else {
        return Ok(Polled::NotModified);
    };
    let posts = posts.clone();
    let parsed = super::parsers::parse(move || {
        parse_feed_since(&bytes, Some(base_url.as_str()), content_type.as_deref(), posts.since)
            .map(|feed| (feed.items.len() + feed.older, post_events(&posts, feed.items)))
    })
    .await
    .ok_or_else(|| PollFailure::new(format!("{feed_url}: the parser failed")))?;
    let (items, events) = parsed.map_err(|e| PollFailure::new(format!("{feed_url}: {e}")))?;
    Ok(Polled::Feed {
        feed_url,
        items,
        events,
        validators,
    })
}

/// Whether a body is a feed rather than a page, by its declared type and
/// then its first bytes (servers label feeds `text/html` and pages `text/xml`).
pub(super) fn looks_like_a_feed(content_type: Option<&str>, bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = &start[start
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(start.len())..];
    let head = String::from_utf8_lossy(&start[..start.len().min(512)]).to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return false;
    }
    if head.starts_with("<rss") || head.starts_with("<feed") || head.starts_with("<rdf:rdf") || head.starts_with('{') {
        return true;
    }
    if head.starts_with("<?xml") {
        // An XHTML page is XML too: a feed's root follows the declaration.
        return !head.contains("<html");
    }
    let declared = content_type.unwrap_or("").to_ascii_lowercase();
    ["rss", "atom", "feed+json", "/xml", "+xml"]
        .iter()
        .any(|t| declared.contains(t))
}

/// One `post` event per item (already only the recent ones on a first poll).
fn post_events(posts: &PostContext, items: Vec<FeedItem>) -> Vec<NewEvent> {
    items
        .into_iter()
        .map(|item| {
            let key = keys::post(posts.prospect_id, posts.source_id, &item.id);
            let post = FeedPost {
                source: posts.source_id,
                platform: posts.platform.clone(),
                url: item.url,
                title: item.title,
                text: item.text,
                published: item.published,
                author: item.author,
            };
            NewEvent::with(
                posts.prospect_id,
                post.published.unwrap_or(posts.now),
                key,
                Actor::System(format!("feed:{}", posts.platform)),
                &post,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_is_told_from_a_page_by_its_first_bytes_then_its_type() {
        let rss = b"\xEF\xBB\xBF\n  <?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>";
        assert!(looks_like_a_feed(Some("text/html"), rss), "a feed served as text/html");
        assert!(looks_like_a_feed(
            None,
            b"<feed xmlns=\"http://www.w3.org/2005/Atom\"/>"
        ));
        assert!(looks_like_a_feed(
            None,
            b"{\"version\": \"https://jsonfeed.org/version/1.1\"}"
        ));
        assert!(looks_like_a_feed(None, b"<rdf:RDF xmlns:rdf=\"x\"/>"));
        assert!(!looks_like_a_feed(
            Some("application/rss+xml"),
            b"<!DOCTYPE html><html><head>"
        ));
        assert!(!looks_like_a_feed(
            Some("text/xml"),
            b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
        ));
        assert!(looks_like_a_feed(
            Some("application/atom+xml; charset=utf-8"),
            b"<!-- a comment first --><feed/>"
        ));
        assert!(!looks_like_a_feed(
            Some("text/html; charset=utf-8"),
            b"<!-- a comment first --><p>hi</p>"
        ));
        assert!(!looks_like_a_feed(None, b""));
    }

    #[test]
    fn a_poll_s_posts_are_keyed_by_prospect_source_and_item() {
        let now: DateTime<Utc> = "2026-12-01T08:00:00Z".parse().unwrap();
        let posts = PostContext {
            prospect_id: 7,
            source_id: 3,
            platform: "blog".into(),
            since: None,
            now,
        };
        let item = FeedItem {
            id: "p1".into(),
            url: Some("https://jane.example/p1".into()),
            title: Some("Hello".into()),
            text: None,
            published: None,
            author: None,
        };
        let events = post_events(&posts, vec![item]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].source_key, keys::post(7, 3, "p1"));
        assert_eq!(events[0].occurred_at, now, "an undated post happened when it was seen");
        assert_eq!(events[0].data.value()["url"], "https://jane.example/p1");
    }
}
