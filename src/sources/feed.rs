//! Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) parsed by `feed-rs` and reduced
//! to what rapport keeps of each item: a stable id, url, title, a plain-text
//! excerpt, published time and author. Item HTML becomes plain text here, so
//! nothing downstream (digests, templates) ever renders a feed's markup.

use crate::domain::text::excerpt;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Longest text excerpt kept per item, in characters.
pub const EXCERPT_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub items: Vec<FeedItem>,
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
    let charset = content_type.and_then(charset_of);
    let bytes = &*super::prepare::prepare(bytes, charset.as_deref());
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base_url)
        .sanitize_content(false)
        .id_generator(stable_id_from_link_and_title)
        .build();
    // quick-xml (under feed-rs) asserts on some encoding declarations instead
    // of returning an error; a feed from the network must never take rapport down.
    let feed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(bytes)))
        .map_err(|_| FeedError(PARSER_GAVE_UP.into()))?
        .map_err(|e| FeedError(e.to_string()))?;
    Ok(ParsedFeed {
        title: feed.title.as_ref().and_then(text_of),
        items: feed.entries.iter().map(item_of).collect(),
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
    let body = entry.content.as_ref().and_then(|c| c.body.as_deref()).map(html_to_text);
    let summary = entry.summary.as_ref().and_then(text_of);
    let id = if entry.id.is_empty() {
        // Neither id, link nor title: the text and date are all there is.
        let date = entry
            .published
            .or(entry.updated)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        digest(&[summary.as_deref().or(body.as_deref()).unwrap_or(""), &date])
    } else {
        entry.id.clone()
    };
    FeedItem {
        id,
        url: preferred_link(&entry.links),
        title: entry.title.as_ref().and_then(text_of),
        text: summary
            .or(body)
            .filter(|t| !t.is_empty())
            .map(|t| excerpt(&t, EXCERPT_CHARS)),
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
    let is_markup = text.content_type.subty() == "html" || text.content_type.subty() == "xhtml";
    let plain = if is_markup {
        html_to_text(&text.content)
    } else {
        collapse_whitespace(&text.content)
    };
    Some(plain).filter(|t| !t.is_empty())
}

/// The visible text of an HTML fragment: tags dropped, scripts and styles
/// skipped, entities decoded, whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    let fragment = scraper::Html::parse_fragment(html);
    let mut out = String::new();
    for node in fragment.root_element().descendants() {
        match node.value() {
            scraper::Node::Text(text) => {
                let hidden = node.ancestors().any(|a| {
                    a.value()
                        .as_element()
                        .is_some_and(|e| matches!(e.name(), "script" | "style" | "template"))
                });
                if !hidden {
                    out.push_str(text);
                }
            }
            scraper::Node::Element(e) if is_block(e.name()) => out.push(' '),
            _ => {}
        }
    }
    collapse_whitespace(&out)
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "br" | "p" | "div" | "li" | "ul" | "ol" | "blockquote" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr" | "pre"
    )
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn html_becomes_plain_text() {
        assert_eq!(
            html_to_text("<p>Hello <b>world</b> &amp; friends</p><script>alert(1)</script><p>Next</p>"),
            "Hello world & friends Next"
        );
        assert_eq!(html_to_text("a<br>b"), "a b");
        assert_eq!(html_to_text("<img src=x onerror=alert(1)>"), "");
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
