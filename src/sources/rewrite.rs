//! Rewrites feed documents that feed-rs refuses or misreads into the forms it
//! reads, in one streaming pass over the XML: an `<rss>` without a version
//! feed-rs knows (none, 0.93, 2.01) or without `<channel>` becomes RSS 2.0
//! with a channel; an Atom feed in Atom
//! 0.3, under a prefix (`<atom:feed>`) or in an unknown namespace becomes
//! plain Atom 1.0, with its text constructs' MIME types (`text/html`,
//! `application/xhtml+xml`) named as Atom 1.0 names them and base64 text
//! decoded; and Microsoft's Channel Definition Format (`<CHANNEL>`) becomes
//! RSS 2.0. Each rule is about a format, never a particular feed; documents
//! that need none are not touched (a substring test decides, not a parse).

use base64::Engine;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use std::borrow::Cow;

const ATOM_03: &str = "http://purl.org/atom/ns#";
const ATOM_10: &str = "http://www.w3.org/2005/Atom";

/// Atom's text constructs (and Atom 0.3's names for two of them), whose
/// `type` (and 0.3 `mode`) say how their text is written.
/// The RSS versions feed-rs reads; any other (`0.93`, `2.01`, none) is read as 2.0,
/// as every reader does.
const KNOWN_RSS_VERSIONS: &[&str] = &["0.91", "0.92", "2.0"];

const TEXT_CONSTRUCTS: &[&str] = &[
    "title",
    "subtitle",
    "tagline",
    "rights",
    "copyright",
    "summary",
    "content",
    "info",
];

/// What the document's root says about it.
struct Root {
    /// The root's name as written (`rss`, `atom:feed`, `CHANNEL`).
    name: String,
    version: Option<String>,
    /// The namespace its prefix (or the default) is bound to on the root.
    namespace: Option<String>,
}

/// The document rewritten, or `None` when it needs nothing (or is not
/// well-formed enough to rewrite: feed-rs then says what is wrong).
pub fn rewrite(text: &str) -> Option<String> {
    let root = root_of(text)?;
    let (prefix, local) = split_name(&root.name);
    match local {
        "rss" if prefix.is_none() => {
            let no_channel = !has(text, "<channel") && !has(text, ":channel");
            let known = root.version.as_deref().is_some_and(|v| KNOWN_RSS_VERSIONS.contains(&v));
            (!known || no_channel).then(|| rewrite_rss(text, no_channel)).flatten()
        }
        "feed" => {
            let legacy = has(text, ATOM_03)
                || prefix.is_some()
                || root.namespace.as_deref() != Some(ATOM_10)
                || has(text, "mode=\"base64\"")
                || has(text, "mode='base64'")
                || has_mime_typed_text(text);
            legacy.then(|| rewrite_atom(text, prefix)).flatten()
        }
        "CHANNEL" => rewrite_cdf(text),
        _ => None,
    }
}

/// Whether a text construct's `type` is a MIME type (`text/html`,
/// `application/xhtml+xml`, ...) rather than Atom 1.0's `text`, `html` or
/// `xhtml`. A link's `type="text/html"` (in every GitHub feed) does not count,
/// so those feeds are not rewritten.
fn has_mime_typed_text(text: &str) -> bool {
    [
        "type=\"text/",
        "type='text/",
        "type=\"application/",
        "type='application/",
    ]
    .iter()
    .flat_map(|pattern| memchr::memmem::find_iter(text.as_bytes(), pattern))
    .any(|at| {
        let tag = text
            .get(..at)
            .and_then(|before| before.rfind('<'))
            .and_then(|open| text.get(open + 1..at));
        let name = tag.and_then(|t| t.split_whitespace().next()).unwrap_or_default();
        TEXT_CONSTRUCTS.contains(&split_name(name).1)
    })
}

/// Whether `text` holds `pattern`: memchr's search, several times as fast
/// as `str::contains` on a whole document (a first poll searches thousands).
fn has(text: &str, pattern: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), pattern.as_bytes()).is_some()
}

fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, name),
    }
}

fn root_of(text: &str) -> Option<Root> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().ok()? {
            Event::Start(root) | Event::Empty(root) => {
                let name = root.name().as_ref().to_string();
                let binding = match split_name(&name).0 {
                    Some(prefix) => format!("xmlns:{prefix}"),
                    None => "xmlns".to_string(),
                };
                let mut version = None;
                let mut namespace = None;
                for attribute in root.attributes().flatten() {
                    let key = attribute.key.as_ref();
                    if key == "version" {
                        version = Some(attribute.value.trim().to_string());
                    } else if key == binding {
                        namespace = Some(attribute.value.to_string());
                    }
                }
                return Some(Root {
                    name,
                    version,
                    namespace,
                });
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// An attribute whose value is written as given (already escaped).
fn attribute<'a>(key: &'a str, value: &str) -> Attribute<'a> {
    Attribute {
        key: QName(key),
        value: Cow::Owned(value.to_string()),
    }
}

/// `<rss>` gains `version="2.0"` when it has none and wraps its content in a
/// `<channel>` when it has none (items directly under the root are read).
fn rewrite_rss(text: &str, add_channel: bool) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(text.len() + 32));
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Eof => break,
            Event::Start(start) if depth == 0 && start.name().as_ref() == "rss" => {
                depth += 1;
                writer.write_event(Event::Start(versioned(&start))).ok()?;
                if add_channel {
                    writer.write_event(Event::Start(BytesStart::new("channel"))).ok()?;
                }
            }
            Event::Empty(start) if depth == 0 && start.name().as_ref() == "rss" => {
                writer.write_event(Event::Start(versioned(&start))).ok()?;
                writer.write_event(Event::Empty(BytesStart::new("channel"))).ok()?;
                writer.write_event(Event::End(BytesEnd::new("rss"))).ok()?;
            }
            Event::End(end) if depth == 1 && end.name().as_ref() == "rss" => {
                depth -= 1;
                if add_channel {
                    writer.write_event(Event::End(BytesEnd::new("channel"))).ok()?;
                }
                writer.write_event(Event::End(end)).ok()?;
            }
            Event::Start(start) => {
                depth += 1;
                writer.write_event(Event::Start(start)).ok()?;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                writer.write_event(Event::End(end)).ok()?;
            }
            other => writer.write_event(other).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// `<rss>` with a version feed-rs reads: its own when known, else 2.0.
fn versioned(start: &BytesStart<'_>) -> BytesStart<'static> {
    let known = start
        .attributes()
        .flatten()
        .any(|a| a.key.as_ref() == "version" && KNOWN_RSS_VERSIONS.contains(&a.value.trim()));
    if known {
        return start.to_owned();
    }
    let mut rss = BytesStart::new(start.name().as_ref().to_string());
    for attr in start.attributes().flatten() {
        if attr.key.as_ref() != "version" {
            rss.push_attribute(attr);
        }
    }
    rss.push_attribute(("version", "2.0"));
    rss
}

/// Atom names as Atom 1.0 has them.
fn atom_name(local: &str) -> &str {
    match local {
        "issued" => "published",
        "modified" => "updated",
        "tagline" => "subtitle",
        "copyright" => "rights",
        other => other,
    }
}

/// How a text construct's text is written, from its `type` and Atom 0.3 `mode`.
enum TextForm {
    /// Kept as written, with the Atom 1.0 type (`text`, `html`, `xhtml`) or none.
    Plain(Option<&'static str>),
    /// Base64: decoded and written as HTML.
    Base64,
}

fn text_form(start: &BytesStart<'_>) -> TextForm {
    let mut mime: Option<String> = None;
    let mut base64 = false;
    for attribute in start.attributes().flatten() {
        let value = attribute.value.to_ascii_lowercase();
        match attribute.key.as_ref() {
            "type" => mime = Some(value),
            "mode" => base64 = value == "base64",
            _ => {}
        }
    }
    let named = match mime.as_deref() {
        None => None,
        Some("text" | "text/plain") => Some("text"),
        Some("html" | "text/html") => Some("html"),
        Some("xhtml" | "application/xhtml+xml") => Some("xhtml"),
        Some(other) if other.starts_with("text/") => Some("text"),
        // Any other MIME type is base64 in Atom 1.0 (RFC 4287 4.1.3.3).
        Some(_) => return TextForm::Base64,
    };
    if base64 {
        TextForm::Base64
    } else {
        TextForm::Plain(named)
    }
}

/// Atom (0.3, prefixed, or in another namespace) as plain Atom 1.0.
fn rewrite_atom(text: &str, prefix: Option<&str>) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(text.len() + 64));
    let own = |name: &str| -> Option<String> {
        match (prefix, split_name(name)) {
            (Some(p), (Some(q), local)) if p == q => Some(atom_name(local).to_string()),
            (None, (None, local)) => Some(atom_name(local).to_string()),
            _ => None,
        }
    };
    let mut root_done = false;
    let mut base64_text: Option<(String, String)> = None;
    loop {
        let event = reader.read_event().ok()?;
        if let Some((name, collected)) = base64_text.as_mut() {
            match event {
                Event::Text(t) => collected.push_str(t.as_ref()),
                Event::CData(c) => collected.push_str(c.as_ref()),
                Event::End(_) => {
                    let decoded = decode_base64(collected);
                    writer.write_event(Event::Text(BytesText::new(&decoded))).ok()?;
                    writer.write_event(Event::End(BytesEnd::new(name.clone()))).ok()?;
                    base64_text = None;
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Eof => break,
            Event::Start(start) if !root_done => {
                root_done = true;
                let root = atom_start(&start, own(start.name().as_ref()), prefix, true);
                writer.write_event(Event::Start(root)).ok()?;
            }
            Event::Empty(start) if !root_done => {
                root_done = true;
                let root = atom_start(&start, own(start.name().as_ref()), prefix, true);
                writer.write_event(Event::Empty(root)).ok()?;
            }
            Event::Start(start) => {
                let renamed = own(start.name().as_ref());
                let is_text = renamed.as_deref().is_some_and(|n| TEXT_CONSTRUCTS.contains(&n));
                let form = if is_text {
                    text_form(&start)
                } else {
                    TextForm::Plain(None)
                };
                let mut out = atom_start(&start, renamed.clone(), prefix, false);
                match form {
                    TextForm::Base64 => {
                        out = with_type(&out, "html");
                        let name = out.name().as_ref().to_string();
                        writer.write_event(Event::Start(out)).ok()?;
                        base64_text = Some((name, String::new()));
                    }
                    TextForm::Plain(Some(kind)) => writer.write_event(Event::Start(with_type(&out, kind))).ok()?,
                    TextForm::Plain(None) => writer.write_event(Event::Start(out)).ok()?,
                }
            }
            Event::Empty(start) => {
                let renamed = own(start.name().as_ref());
                writer
                    .write_event(Event::Empty(atom_start(&start, renamed, prefix, false)))
                    .ok()?;
            }
            Event::End(end) => {
                let name = own(end.name().as_ref()).unwrap_or_else(|| end.name().as_ref().to_string());
                writer.write_event(Event::End(BytesEnd::new(name))).ok()?;
            }
            other => writer.write_event(other).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// An Atom element under its Atom 1.0 name; the root also declares Atom 1.0
/// as the default namespace (in place of Atom 0.3's, an unknown one, or the
/// prefix's binding).
fn atom_start(
    start: &BytesStart<'_>,
    renamed: Option<String>,
    prefix: Option<&str>,
    root: bool,
) -> BytesStart<'static> {
    let name = renamed.unwrap_or_else(|| start.name().as_ref().to_string());
    let mut out = BytesStart::new(name);
    let binding = prefix.map(|p| format!("xmlns:{p}"));
    for attr in start.attributes().flatten() {
        let key = attr.key.as_ref().to_string();
        let value = attr.value.to_string();
        let drops =
            key == "mode" || root && (key == "xmlns" || key == "version" || binding.as_deref() == Some(key.as_str()));
        if drops {
            continue;
        }
        let value = if key.starts_with("xmlns") && value == ATOM_03 {
            ATOM_10.to_string()
        } else {
            value
        };
        out.push_attribute(attribute(&key, &value));
    }
    if root {
        out.push_attribute(attribute("xmlns", ATOM_10));
    }
    out
}

fn with_type(start: &BytesStart<'_>, kind: &str) -> BytesStart<'static> {
    let mut out = BytesStart::new(start.name().as_ref().to_string());
    for attr in start.attributes().flatten() {
        if attr.key.as_ref() != "type" {
            out.push_attribute(attr);
        }
    }
    out.push_attribute(attribute("type", kind));
    out
}

/// Base64 text decoded (whitespace ignored); text that is not base64, or
/// does not decode to UTF-8, is kept as written.
fn decode_base64(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| text.trim().to_string())
}

/// Microsoft's Channel Definition Format as RSS 2.0: `CHANNEL HREF` is the
/// channel's link, `ITEM HREF` and `LASTMOD` an item's link and date,
/// `TITLE` and `ABSTRACT` titles and descriptions; anything else is dropped.
fn rewrite_cdf(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(text.len() + 64));
    writer
        .write_event(Event::Start(versioned(&BytesStart::new("rss"))))
        .ok()?;
    let mut open: Vec<Option<&'static str>> = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            Event::Start(start) => {
                let mapped = cdf_start(&mut writer, &start, false)?;
                open.push(mapped);
            }
            Event::Empty(start) => {
                cdf_start(&mut writer, &start, true)?;
            }
            Event::End(_) => {
                if let Some(Some(name)) = open.pop() {
                    writer.write_event(Event::End(BytesEnd::new(name))).ok()?;
                }
            }
            Event::Text(t) if open.last().is_some_and(|o| matches!(o, Some("title" | "description"))) => {
                writer.write_event(Event::Text(t)).ok()?;
            }
            Event::CData(c) if open.last().is_some_and(|o| matches!(o, Some("title" | "description"))) => {
                writer.write_event(Event::CData(c)).ok()?;
            }
            _ => {}
        }
    }
    writer.write_event(Event::End(BytesEnd::new("rss"))).ok()?;
    String::from_utf8(writer.into_inner()).ok()
}

/// Writes the RSS form of a CDF element; the RSS element it opened, if any.
fn cdf_start(
    writer: &mut quick_xml::Writer<Vec<u8>>,
    start: &BytesStart<'_>,
    empty: bool,
) -> Option<Option<&'static str>> {
    let upper = start.name().as_ref().to_ascii_uppercase();
    // As written (escaped), and written back so.
    let value = |key: &str| -> Option<String> {
        start
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref().eq_ignore_ascii_case(key))
            .map(|a| a.value.to_string())
    };
    let element = match upper.as_str() {
        "CHANNEL" => "channel",
        "ITEM" => "item",
        "TITLE" => "title",
        "ABSTRACT" => "description",
        _ => return Some(None),
    };
    writer.write_event(Event::Start(BytesStart::new(element))).ok()?;
    if matches!(element, "channel" | "item") {
        for (key, rss) in [("HREF", "link"), ("LASTMOD", "pubDate")] {
            if let Some(v) = value(key) {
                writer.write_event(Event::Start(BytesStart::new(rss))).ok()?;
                writer.write_event(Event::Text(BytesText::from_escaped(v))).ok()?;
                writer.write_event(Event::End(BytesEnd::new(rss))).ok()?;
            }
        }
    }
    if empty {
        writer.write_event(Event::End(BytesEnd::new(element))).ok()?;
        return Some(None);
    }
    Some(Some(element))
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod tests;
