//! Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) parsed by `feed-rs` and reduced
//! to what rapport keeps of each item: a stable id, url, title, a plain-text
//! excerpt, published time and author. Item HTML becomes plain text here, so
//! nothing downstream (digests, templates) ever renders a feed's markup.

use super::html_text::{collapse_whitespace, html_to_text, html_to_text_up_to};
use crate::domain::text::into_excerpt;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Longest text excerpt kept per item, in characters.
pub const EXCERPT_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub items: Vec<FeedItem>,
    /// Items left out as published before the `since` asked for.
    #[serde(skip)]
    pub older: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedItem {
    /// The feed's own id (guid, Atom id, JSON Feed id); when it has none, a
    /// hash of link and title (else of text and date), the same on every poll.
    pub id: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("not a readable RSS, Atom or JSON feed: {0}")]
pub struct FeedError(String);

/// What `parse_feed` says when the parser under it panicked (caught): a bug
/// to fix at its root, which the fuzz target and its regression replay look for.
pub const PARSER_GAVE_UP: &str = "the XML parser gave up on this document's encoding declaration";

impl FeedError {
    pub fn parser_panicked(&self) -> bool {
        self.0 == PARSER_GAVE_UP
    }
}

/// Parses a feed document. `base_url` resolves relative links; the charset
/// of `content_type` (the HTTP header, when the feed came over HTTP) wins over
/// the document's own XML declaration, as RFC 3023 has it.
pub fn parse_feed(bytes: &[u8], base_url: Option<&str>, content_type: Option<&str>) -> Result<ParsedFeed, FeedError> {
    parse_feed_since(bytes, base_url, content_type, None)
}

/// As `parse_feed`, keeping only the items published at or after `since`
/// when it is given (a source's first poll keeps recent posts only): the
/// others are dropped before their text is made.
pub fn parse_feed_since(
    bytes: &[u8],
    base_url: Option<&str>,
    content_type: Option<&str>,
    since: Option<DateTime<Utc>>,
) -> Result<ParsedFeed, FeedError> {
    parse(bytes, base_url, content_type, since, Reader::Fastest)
}

/// Which reader reads a document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The streaming reader (RSS 2.0, Atom 1.0) when it takes the document, else feed-rs.
    Fastest,
    /// The streaming reader only (`None` when it declines).
    Streaming,
    /// feed-rs only.
    FeedRs,
}

/// The same document read by the streaming reader (`None` when it
/// declines it) and by feed-rs alone: the two must agree wherever the first
/// reads (`tests/feed_fast_path.rs`). Not for use outside that check.
#[doc(hidden)]
pub fn parse_feed_both_ways(
    bytes: &[u8],
    base_url: Option<&str>,
    content_type: Option<&str>,
) -> (Option<ParsedFeed>, Result<ParsedFeed, FeedError>) {
    (
        parse(bytes, base_url, content_type, None, Reader::Streaming).ok(),
        parse_feed_by_feed_rs(bytes, base_url, content_type),
    )
}

/// The document read by feed-rs alone, as every document was before the
/// streaming reader: the poll benchmark's baseline for parsing.
#[doc(hidden)]
pub fn parse_feed_by_feed_rs(
    bytes: &[u8],
    base_url: Option<&str>,
    content_type: Option<&str>,
) -> Result<ParsedFeed, FeedError> {
    parse(bytes, base_url, content_type, None, Reader::FeedRs)
}

fn parse(
    bytes: &[u8],
    base_url: Option<&str>,
    content_type: Option<&str>,
    since: Option<DateTime<Utc>>,
    reader: Reader,
) -> Result<ParsedFeed, FeedError> {
    let charset = content_type.and_then(charset_of);
    let text = &*super::prepare::prepare(bytes, charset.as_deref());
    // Plain RSS 2.0 and Atom 1.0 are read in one streaming pass (`stream/`), into
    // what feed-rs would have made of it; anything else is feed-rs's.
    // quick-xml (under both) asserts on some input instead of returning an
    // error; a feed from the network must never take rapport down, so a
    // panic of the streaming reader is a document it declines.
    let base = base_url.and_then(|b| url::Url::parse(b).ok());
    let streamed = (reader != Reader::FeedRs)
        .then(|| std::panic::catch_unwind(|| super::stream::read(text, base.as_ref())).ok())
        .flatten()
        .flatten();
    let (title, entries) = match streamed {
        Some(read) => {
            let mut entries = read.entries;
            for entry in entries.iter_mut().filter(|e| e.id.is_empty()) {
                entry.id = stable_id_from_link_and_title(&entry.links, &entry.title, base_url);
            }
            (read.title, entries)
        }
        None if reader == Reader::Streaming => return Err(FeedError("declined by the streaming reader".into())),
        None => {
            let parser = feed_rs::parser::Builder::new()
                .base_uri(base_url)
                .sanitize_content(false)
                .id_generator(stable_id_from_link_and_title)
                .build();
            let feed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(text.as_bytes())))
                .map_err(|_| FeedError(PARSER_GAVE_UP.into()))?
                .map_err(|e| FeedError(e.to_string()))?;
            (feed.title, feed.entries)
        }
    };
    let items: Vec<FeedItem> = entries
        .iter()
        .filter(|entry| since.is_none_or(|since| entry.published.or(entry.updated).is_some_and(|p| p >= since)))
        .map(item_of)
        .collect();
    let kept = items.len();
    Ok(ParsedFeed {
        title: title.as_ref().and_then(text_of),
        items,
        older: entries.len() - kept,
    })
}

/// The `charset` parameter of a Content-Type value, unquoted.
fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// An id for an item that has none: from its link and title only, never the
/// document's base URL (a server can change that) or anything random, so the
/// same item keeps its id from poll to poll. Empty when there is neither.
fn stable_id_from_link_and_title(
    links: &[feed_rs::model::Link],
    title: &Option<feed_rs::model::Text>,
    _base: Option<&str>,
) -> String {
    let link = links.first().map(|l| l.href.as_str()).unwrap_or("");
    let title = title.as_ref().map(|t| t.content.as_str()).unwrap_or("");
    if link.is_empty() && title.is_empty() {
        String::new()
    } else {
        digest(&[link, title])
    }
}

fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    format!("sha256:{}", hex::encode(&hasher.finalize()[..16]))
}

fn item_of(entry: &feed_rs::model::Entry) -> FeedItem {
    // An excerpt needs one character more than it keeps (to know there is more).
    let body = || {
        entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(|html| html_to_text_up_to(html, EXCERPT_CHARS + 1))
    };
    let summary = entry.summary.as_ref().and_then(|s| text_up_to(s, EXCERPT_CHARS + 1));
    let id = if entry.id.is_empty() {
        // Neither id, link nor title: the text and date are all there is.
        let date = entry
            .published
            .or(entry.updated)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        // The whole text, as ever: the id must not change from poll to poll.
        let whole = entry
            .summary
            .as_ref()
            .and_then(text_of)
            .or_else(|| entry.content.as_ref().and_then(|c| c.body.as_deref()).map(html_to_text));
        digest(&[whole.as_deref().unwrap_or(""), &date])
    } else {
        entry.id.clone()
    };
    FeedItem {
        id,
        url: preferred_link(&entry.links),
        title: entry.title.as_ref().and_then(text_of),
        text: summary
            .or_else(body)
            .filter(|t| !t.is_empty())
            .map(|t| into_excerpt(t, EXCERPT_CHARS)),
        published: entry.published.or(entry.updated),
        author: entry.authors.iter().find_map(author_name),
    }
}

/// A person's name, else their address; never feed-rs's "Unknown" placeholder.
fn author_name(person: &feed_rs::model::Person) -> Option<String> {
    [person.name.as_deref(), person.email.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|n| !n.is_empty() && *n != "Unknown")
        .map(str::to_string)
}

/// The `alternate` link (the post itself), else the first link.
fn preferred_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// A feed text construct as plain text; HTML types are reduced to their text.
fn text_of(text: &feed_rs::model::Text) -> Option<String> {
    text_up_to(text, usize::MAX)
}

/// As `text_of`, made no further than `chars` characters (and a word) in.
fn text_up_to(text: &feed_rs::model::Text, chars: usize) -> Option<String> {
    let is_markup = text.content_type.subty() == "html" || text.content_type.subty() == "xhtml";
    let plain = if is_markup {
        html_to_text_up_to(&text.content, chars)
    } else {
        collapse_whitespace(&text.content)
    };
    Some(plain).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::excerpt;

    #[test]
    fn a_late_xml_declaration_is_an_ordinary_document_not_a_parser_panic() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/fuzz/feed_parse/late-xml-declaration.xml"
        ))
        .unwrap();
        let parsed = parse_feed(&bytes, None, None);
        assert!(
            !parsed.as_ref().is_err_and(FeedError::parser_panicked),
            "{:?}",
            parsed.err()
        );
    }

    #[test]
    fn a_first_poll_keeps_only_recent_items_and_counts_the_others() {
        let doc = br#"<rss version="2.0"><channel><title>t</title>
            <item><guid>new</guid><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate><description>&lt;p&gt;fresh&lt;/p&gt;</description></item>
            <item><guid>old</guid><pubDate>Mon, 02 Feb 2026 10:00:00 +0000</pubDate><description>stale</description></item>
            <item><guid>undated</guid><description>when?</description></item></channel></rss>"#;
        let since = "2026-11-01T00:00:00Z".parse().unwrap();
        let recent = parse_feed_since(doc, None, None, Some(since)).unwrap();
        assert_eq!(recent.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["new"]);
        assert_eq!((recent.items[0].text.as_deref(), recent.older), (Some("fresh"), 2));
        let all = parse_feed(doc, None, None).unwrap();
        assert_eq!((all.items.len(), all.older), (3, 0));
    }

    #[test]
    fn an_excerpt_made_from_part_of_a_long_post_is_the_whole_posts_excerpt() {
        let body = "<p>".to_string() + &"lorem ipsum dolor sit amet ".repeat(400) + "</p>";
        let doc = format!(
            "<rss version='2.0'><channel><title>t</title><item><guid>a</guid><description>{}</description></item></channel></rss>",
            body.replace('<', "&lt;").replace('>', "&gt;")
        );
        let item = &parse_feed(doc.as_bytes(), None, None).unwrap().items[0];
        let whole = excerpt(&html_to_text(&body), EXCERPT_CHARS);
        assert_eq!(item.text.as_deref(), Some(whole.as_str()));
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        let long = "word ".repeat(200);
        let cut = excerpt(long.trim(), 50);
        assert!(cut.ends_with('…') && cut.chars().count() <= 51, "{cut}");
        assert_eq!(excerpt("short", 50), "short");
    }

    #[test]
    fn rss_atom_and_json_feed_normalise_alike() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
            <item><title>Post &amp; more</title><link>https://jane.example/p1</link><guid>p1</guid>
            <pubDate>Tue, 05 Aug 2025 01:40:00 +0000</pubDate><description>&lt;p&gt;Hi &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</description>
            <author>jane@jane.example (Jane)</author></item></channel></rss>"#;
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><id>x</id><updated>2025-08-05T01:40:00Z</updated>
            <entry><title type="html">Post &amp;amp; more</title><id>p1</id><link rel="alternate" href="https://jane.example/p1"/>
            <updated>2025-08-05T01:40:00Z</updated><summary type="html">&lt;p&gt;Hi &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</summary>
            <author><name>Jane</name></author></entry></feed>"#;
        let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"Blog","items":[{"id":"p1","url":"https://jane.example/p1",
            "title":"Post & more","content_html":"<p>Hi <b>there</b></p>","date_published":"2025-08-05T01:40:00Z","authors":[{"name":"Jane"}]}]}"#;
        for doc in [&rss[..], &atom[..], &json[..]] {
            let feed = parse_feed(doc, None, None).unwrap();
            assert_eq!(feed.title.as_deref(), Some("Blog"));
            let item = &feed.items[0];
            assert_eq!(item.id, "p1");
            assert_eq!(item.url.as_deref(), Some("https://jane.example/p1"));
            assert_eq!(item.title.as_deref(), Some("Post & more"));
            assert_eq!(item.text.as_deref(), Some("Hi there"));
            assert_eq!(item.published, Some("2025-08-05T01:40:00Z".parse().unwrap()));
            assert!(
                item.author.as_deref().is_some_and(|a| a.contains("Jane")),
                "{:?}",
                item.author
            );
        }
    }

    #[test]
    fn the_http_charset_wins_over_the_declaration() {
        let doc = b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>B\xf8rge</title></channel></rss>";
        let feed = parse_feed(doc, None, Some("application/rss+xml; charset='iso-8859-1'")).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Børge"));
        assert_eq!(charset_of("text/xml;charset=\"utf-8\""), Some("utf-8".into()));
        assert_eq!(charset_of("text/xml"), None);
    }

    #[test]
    fn items_without_ids_keep_the_same_id_across_polls_and_base_urls() {
        let doc = b"<rss version='2.0'><channel><title>t</title><item><description>only text</description></item><item><title>T</title></item></channel></rss>";
        let first = parse_feed(doc, Some("http://a.example/"), None).unwrap();
        let again = parse_feed(doc, Some("http://b.example/"), None).unwrap();
        assert_eq!(first.items[0].id, again.items[0].id);
        assert_eq!(first.items[1].id, again.items[1].id);
        assert_ne!(first.items[0].id, first.items[1].id);
    }

    #[test]
    fn relative_links_resolve_against_xml_base_and_the_document_url() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://jane.example/blog/"><title>B</title>
            <entry><id>1</id><title>One</title><link href="posts/1"/></entry>
            <entry xml:base="/other/"><id>2</id><title>Two</title><link href="2"/></entry></feed>"#;
        let feed = parse_feed(atom, Some("http://mirror.example/feed.xml"), None).unwrap();
        assert_eq!(feed.items[0].url.as_deref(), Some("http://jane.example/blog/posts/1"));
        assert_eq!(feed.items[1].url.as_deref(), Some("http://jane.example/other/2"));
        let rss = br#"<rss version="2.0"><channel><title>B</title><item><title>One</title><link>/posts/1</link></item></channel></rss>"#;
        let feed = parse_feed(rss, Some("http://jane.example/feed.xml"), None).unwrap();
        assert_eq!(feed.items[0].url.as_deref(), Some("http://jane.example/posts/1"));
    }

    /// The legacy and odd forms `rewrite.rs` turns into ones feed-rs reads, end to end.
    #[test]
    fn legacy_and_odd_forms_are_read() {
        let no_channel = b"<rss><item><title>Loose item</title><link>http://x.example/1</link></item></rss>";
        assert_eq!(
            parse_feed(no_channel, None, None).unwrap().items[0].title.as_deref(),
            Some("Loose item")
        );
        let prefixed = br#"<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"><atom:title>Prefixed</atom:title>
            <atom:entry><atom:id>1</atom:id><atom:title>E</atom:title></atom:entry></atom:feed>"#;
        let feed = parse_feed(prefixed, None, None).unwrap();
        assert_eq!((feed.title.as_deref(), feed.items.len()), (Some("Prefixed"), 1));
        let xhtml03 = br#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title><entry><id>1</id>
            <title>E</title><content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Inline <b>xhtml</b></p></div></content></entry></feed>"#;
        let feed = parse_feed(xhtml03, None, None).unwrap();
        assert_eq!(feed.items[0].text.as_deref(), Some("Inline xhtml"));
        let cdf = br#"<CHANNEL HREF="http://x.example/"><TITLE>CDF</TITLE><ITEM HREF="http://x.example/1"><TITLE>One</TITLE></ITEM></CHANNEL>"#;
        let feed = parse_feed(cdf, None, None).unwrap();
        assert_eq!(feed.items[0].url.as_deref(), Some("http://x.example/1"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for doc in [
            &b""[..],
            b"<html><body>hi</body></html>",
            b"{\"not\": \"a feed\"}",
            b"<rss><channel><item><title>cut",
            &[0xff, 0xfe, 0x00],
        ] {
            let _ = parse_feed(doc, None, None);
        }
        assert!(parse_feed(b"plain text", None, None).is_err());
    }
}
