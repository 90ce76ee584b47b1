//! A streaming reader for the feeds most prospects publish: plain RSS 2.0
//! (blogs, Mastodon, Bluesky; `rss.rs`) and Atom 1.0 (GitHub; `atom.rs`).
//! One pass of quick-xml's tokenizer over the document, keeping only what
//! rapport keeps of an item, at a fraction of what building feed-rs's whole
//! element tree costs.
//!
//! It reads exactly what feed-rs reads (the same items, texts, links, dates
//! and ids: `tests/feed_fast_path.rs` compares the two on every corpus feed)
//! and declines anything it does not know for certain it reads the same —
//! another root, `xml:base`, a default namespace other than Atom's on an
//! Atom root, an unbound prefix, a date only a lenient parser reads, an RSS
//! author with an address, iTunes or podcast elements in RSS, a text of a
//! type feed-rs refuses or re-serialises (XHTML), malformed XML. A declined
//! document is read by feed-rs, so declining costs only time.

mod atom;
mod rss;

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Link, LinkTarget, Text};
use mediatype::{names, MediaTypeBuf};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

/// What feed-rs would have made of the document's title and items.
pub(super) struct Read {
    pub(super) title: Option<Text>,
    pub(super) entries: Vec<Entry>,
}

/// The namespaces whose elements change what rapport keeps of an item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ns {
    Rss,
    Atom,
    Content,
    DublinCore,
    MediaRss,
    CommentApi,
    /// iTunes and podcast elements: feed-rs may refuse a document over them.
    Declined,
    Other,
}

const ATOM: &str = "http://www.w3.org/2005/Atom";

fn namespace(uri: &str) -> Ns {
    match uri {
        "http://purl.org/rss/1.0/" => Ns::Rss,
        ATOM => Ns::Atom,
        "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
        "http://purl.org/dc/elements/1.1/" => Ns::DublinCore,
        "http://search.yahoo.com/mrss/" => Ns::MediaRss,
        "http://wellformedweb.org/CommentAPI/" => Ns::CommentApi,
        "http://www.itunes.com/dtds/podcast-1.0.dtd" | "https://podcastindex.org/namespace/1.0" => Ns::Declined,
        _ => Ns::Other,
    }
}

/// Why a document is left to feed-rs (never shown: feed-rs reads it then).
struct Declined;

type Step<T> = Result<T, Declined>;

/// Reads `text` (UTF-8) as RSS 2.0 or Atom 1.0, or `None` when feed-rs must read it.
pub(super) fn read(text: &str, base: Option<&Url>) -> Option<Read> {
    Reader::new(text, base).document().ok()
}

struct Reader<'a> {
    xml: NsReader<&'a [u8]>,
    /// The whole document (the reader reads a suffix of it).
    document: &'a str,
    base: Option<&'a Url>,
    /// Whether the root element has been read (only it may name Atom as the default namespace).
    rooted: bool,
}

/// An element start: its namespace and the event itself.
struct Start<'a> {
    ns: Ns,
    event: BytesStart<'a>,
}

impl Start<'_> {
    /// The element's local name.
    fn name(&self) -> &str {
        self.event.local_name().into_inner()
    }
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, base: Option<&'a Url>) -> Reader<'a> {
        let mut xml = NsReader::from_str(text);
        // As feed-rs configures its reader.
        let config = xml.config_mut();
        config.expand_empty_elements = true;
        config.trim_markup_names_in_closing_tags = true;
        config.trim_text(false);
        Reader {
            xml,
            document: text,
            base,
            rooted: false,
        }
    }

    /// The next element start or end, `None` at an end.
    fn next_start(&mut self) -> Step<Option<Start<'a>>> {
        loop {
            let (resolved, event) = self.xml.read_resolved_event().map_err(|_| Declined)?;
            let ns = match resolved {
                ResolveResult::Bound(uri) => namespace(uri.0),
                ResolveResult::Unbound => Ns::Rss,
                ResolveResult::Unknown(_) => return Err(Declined),
            };
            match event {
                Event::Start(start) => {
                    let root = !std::mem::replace(&mut self.rooted, true);
                    // Only the root may set the default namespace, and only to Atom's.
                    check_start(&start, |key, value| key == "xmlns" && !(root && value == ATOM))?;
                    return Ok(Some(Start { ns, event: start }));
                }
                Event::End(_) => return Ok(None),
                Event::GeneralRef(r) => {
                    r.resolve_char_ref().map_err(|_| Declined)?;
                }
                Event::Decl(decl) => {
                    if let Some(Ok(encoding)) = decl.encoding() {
                        if !encoding.eq_ignore_ascii_case("utf-8") {
                            return Err(Declined);
                        }
                    }
                }
                Event::Eof => return Err(Declined),
                _ => {}
            }
        }
    }

    /// The next event inside an element; the end of the document is an
    /// unclosed element there. A start tag with `xml:base` (which feed-rs
    /// follows even in elements it skips) or a character reference to no
    /// character declines.
    fn inner(&mut self) -> Step<Event<'a>> {
        let event = self.xml.read_event().map_err(|_| Declined)?;
        match &event {
            Event::Start(start) => check_start(start, |_, _| false)?,
            // feed-rs refuses a document with a bad character reference anywhere.
            Event::GeneralRef(r) => {
                r.resolve_char_ref().map_err(|_| Declined)?;
            }
            Event::Eof => return Err(Declined),
            _ => {}
        }
        Ok(event)
    }

    /// Skips what is left of `open` elements, to the last one's end.
    fn close(&mut self, mut open: usize) -> Step<()> {
        while open > 0 {
            match self.inner()? {
                Event::Start(_) => open += 1,
                Event::End(_) => open -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips what is left of the element just started, to its end.
    fn skip(&mut self) -> Step<()> {
        self.close(1)
    }

    /// The element's text as feed-rs takes it: the text, CDATA and
    /// references right after the start tag up to the first tag, then the
    /// rest of the element skipped. `None` when a tag comes first.
    fn text(&mut self) -> Step<Option<String>> {
        let mut text: Option<String> = None;
        self.scan_text(&mut text)?;
        let open = loop {
            match self.inner()? {
                Event::Text(t) if !t.is_empty() => text.get_or_insert_with(String::new).push_str(&t),
                Event::CData(t) if !t.is_empty() => text.get_or_insert_with(String::new).push_str(&t),
                Event::GeneralRef(r) => resolve(text.get_or_insert_with(String::new), &r)?,
                // A tag came first or after the text: the rest is not read.
                Event::Start(_) => break 2,
                Event::End(_) => break 0,
                _ => {}
            }
        };
        self.close(open)?;
        // Made at its size before anything was read into it: still `None` when nothing was.
        Ok(text.filter(|t| !t.is_empty()))
    }

    /// The start of `text`'s work, straight from the document: the text,
    /// references and CDATA sections right after the start tag just read,
    /// taken as the events would give them, up to the first other markup
    /// (a tag, a comment), where the reader is moved on to go on with
    /// events. quick-xml makes an event of every reference and validates
    /// each event's UTF-8 again, in a document already known to be UTF-8:
    /// an escaped `description` was hundreds of events. Only after a start
    /// tag's `>` (not an empty element's `/>`, whose end comes next) is the
    /// reader where text begins; a reference quick-xml would refuse (no `;`
    /// before the next `&` or `<`), an unclosed CDATA section or the end of
    /// the document are left to the events, which decline them.
    fn scan_text(&mut self, text: &mut Option<String>) -> Step<()> {
        let rest: &'a [u8] = self.xml.get_ref();
        let start = self.document.len() - rest.len();
        let read = &self.document.as_bytes()[..start];
        if !read.ends_with(b">") || read.ends_with(b"/>") {
            return Ok(());
        }
        // The text is made once at its likely size (what comes before the
        // first `<`, with the CDATA section there): grown from nothing, a
        // post's kilobytes were copied again at every doubling.
        if let Some(lt) = memchr::memchr(b'<', rest) {
            let cdata = rest[lt..]
                .strip_prefix(b"<![CDATA[")
                .and_then(|cdata| memchr::memmem::find(cdata, b"]]>"));
            let size = lt + cdata.unwrap_or(0);
            if size > 0 && text.is_none() {
                *text = Some(String::with_capacity(size));
            }
        }
        // Pieces of the document between ASCII bytes: `str` slices, not checked again.
        let piece = |from: usize, to: usize| self.document.get(start + from..start + to).ok_or(Declined);
        let mut at = 0;
        while let Some(found) = memchr::memchr2(b'<', b'&', &rest[at..]) {
            if found > 0 {
                text.get_or_insert_with(String::new).push_str(piece(at, at + found)?);
            }
            at += found;
            let markup = &rest[at..];
            if markup[0] == b'&' {
                let Some(end) = memchr::memchr3(b';', b'&', b'<', &markup[1..]).filter(|&i| markup[1 + i] == b';')
                else {
                    break;
                };
                resolve(text.get_or_insert_with(String::new), piece(at + 1, at + 1 + end)?)?;
                at += end + 2;
            } else if let Some(cdata) = markup.strip_prefix(b"<![CDATA[") {
                let Some(end) = memchr::memmem::find(cdata, b"]]>") else {
                    break;
                };
                if end > 0 {
                    text.get_or_insert_with(String::new)
                        .push_str(piece(at + 9, at + 9 + end)?);
                }
                at += 9 + end + 3;
            } else {
                break;
            }
        }
        *self.xml.get_mut() = &rest[at..];
        Ok(())
    }

    fn document(mut self) -> Step<Read> {
        let root = self.next_start()?.ok_or(Declined)?;
        match root.event.name().as_ref() {
            "rss" if root.ns == Ns::Rss => self.rss(&root),
            "feed" if root.ns == Ns::Atom => self.atom(),
            _ => Err(Declined),
        }
    }

    /// MediaRSS elements keep nothing rapport reads, but feed-rs refuses a
    /// document whose media title or description has a type it does not know.
    fn media(&mut self, start: &Start<'a>) -> Step<()> {
        self.check_media(start)?;
        let mut depth = 1usize;
        while depth > 0 {
            match self.next_start() {
                Ok(Some(inner)) => {
                    depth += 1;
                    self.check_media(&inner)?;
                }
                Ok(None) => depth -= 1,
                Err(declined) => return Err(declined),
            }
        }
        Ok(())
    }

    fn check_media(&self, start: &Start<'a>) -> Step<()> {
        if start.ns == Ns::MediaRss && matches!(start.name(), "title" | "description") {
            if let Some(kind) = attribute(&start.event, "type")? {
                if kind != "plain" && kind != "html" {
                    return Err(Declined);
                }
            }
        }
        Ok(())
    }

    /// A date feed-rs reads the same: RFC 3339, else RFC 2822, strictly.
    fn date(&mut self) -> Step<Option<DateTime<Utc>>> {
        let Some(text) = self.text()? else {
            return Ok(None);
        };
        let text = text.trim();
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| DateTime::parse_from_rfc2822(text))
            .map(|d| Some(d.with_timezone(&Utc)))
            .map_err(|_| Declined)
    }

    /// A link as feed-rs makes one: resolved against the base when relative.
    fn link(&self, href: &str, target: Option<LinkTarget>) -> Link {
        let resolved = match Url::parse(href) {
            Ok(url) => Some(url),
            Err(url::ParseError::RelativeUrlWithoutBase) => self.base.and_then(|b| b.join(href).ok()),
            Err(_) => None,
        };
        Link {
            href: trimmed(resolved.map_or_else(|| href.to_string(), String::from)),
            target,
            rel: None,
            media_type: None,
            href_lang: None,
            title: None,
            length: None,
        }
    }
}

/// A reference (`name` between `&` and `;`) as feed-rs takes it: a
/// character, a predefined entity's text, any other entity as written.
fn resolve(buffer: &mut String, name: &str) -> Step<()> {
    match quick_xml::events::BytesRef::new(name)
        .resolve_char_ref()
        .map_err(|_| Declined)?
    {
        Some(c) => buffer.push(c),
        None => match quick_xml::escape::resolve_predefined_entity(name) {
            Some(resolved) => buffer.push_str(resolved),
            None => {
                buffer.push('&');
                buffer.push_str(name);
                buffer.push(';');
            }
        },
    }
    Ok(())
}

/// Declines a start tag with `xml:base` (feed-rs follows it, even in
/// elements it skips), with an attribute `refused(name, value)` names, or
/// with attributes quick-xml cannot read.
fn check_start(start: &BytesStart<'_>, refused: impl Fn(&str, &str) -> bool) -> Step<()> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|_| Declined)?;
        let key = attribute.key.as_ref();
        if key == "xml:base" || refused(key, &attribute.value) {
            return Err(Declined);
        }
    }
    Ok(())
}

/// An attribute's value, unescaped as feed-rs unescapes it.
fn attribute(start: &BytesStart<'_>, name: &str) -> Step<Option<String>> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|_| Declined)?;
        if attribute.key.as_ref() == name {
            let raw = &attribute.value;
            let value = quick_xml::escape::unescape(raw).unwrap_or_else(|_| raw.clone());
            return Ok(Some(value.to_string()));
        }
    }
    Ok(None)
}

fn plain(content: String) -> Text {
    Text {
        content_type: MediaTypeBuf::new(names::TEXT, names::PLAIN),
        src: None,
        content: trimmed(content),
    }
}

fn html(content: String) -> Text {
    Text {
        content_type: MediaTypeBuf::new(names::TEXT, names::HTML),
        src: None,
        content: trimmed(content),
    }
}

/// `text.trim()`, in the string it came in (a post's content runs to kilobytes).
fn trimmed(mut text: String) -> String {
    text.truncate(text.trim_end().len());
    let start = text.len() - text.trim_start().len();
    text.drain(..start);
    text
}
