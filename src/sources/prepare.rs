//! Gets a feed document into the shape `feed-rs` reads best: UTF-8 text
//! (whatever the BOM, the XML declaration or the HTTP charset said), without
//! what makes the parsers under it panic, and in a form it reads
//! (`rewrite.rs`: legacy RSS, Atom 0.3 and odd Atom, CDF).

use quick_xml::events::Event;
use std::borrow::Cow;

/// Returns the document as UTF-8 text with an XML declaration (if any) that
/// says so, upgraded from Atom 0.3 when it is that. The encoding comes from a
/// BOM, else `charset` (the HTTP Content-Type's), else the XML declaration.
/// A document already in UTF-8 that needs nothing is borrowed as it came,
/// its bytes checked once.
pub fn prepare<'a>(bytes: &'a [u8], charset: Option<&str>) -> Cow<'a, str> {
    let decoded = match to_utf8(bytes, charset) {
        Cow::Owned(text) => Cow::Owned(declare_utf8(&text)),
        borrowed => borrowed,
    };
    let repaired = repaired(&decoded);
    let text = repaired.as_deref().unwrap_or(&decoded);
    match super::rewrite::rewrite(text) {
        Some(upgraded) => Cow::Owned(upgraded),
        None => repaired.map_or(decoded, Cow::Owned),
    }
}

/// The text without what makes the parsers under feed-rs panic (late XML
/// declarations, addresses against a non-ASCII symbol); `None` when it has
/// none of it.
fn repaired(text: &str) -> Option<String> {
    let without = without_late_declarations(text);
    let current = without.as_deref().unwrap_or(text);
    spaced_addresses(current).or(without)
}

/// Decodes to UTF-8; borrowed when the bytes already are valid UTF-8 with
/// no BOM and nothing says otherwise.
fn to_utf8<'a>(bytes: &'a [u8], charset: Option<&str>) -> Cow<'a, str> {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => return Cow::Owned(String::from_utf8_lossy(rest).into_owned()),
        [0x00, 0x00, 0xFE, 0xFF, rest @ ..] => return Cow::Owned(utf32(rest, u32::from_be_bytes)),
        [0xFF, 0xFE, 0x00, 0x00, rest @ ..] => return Cow::Owned(utf32(rest, u32::from_le_bytes)),
        [0x00, 0x00, 0x00, 0x3C, ..] => return Cow::Owned(utf32(bytes, u32::from_be_bytes)),
        [0x3C, 0x00, 0x00, 0x00, ..] => return Cow::Owned(utf32(bytes, u32::from_le_bytes)),
        [0xFE, 0xFF, ..] | [0x00, 0x3C, 0x00, 0x3F, ..] => return Cow::Owned(decode(bytes, encoding_rs::UTF_16BE)),
        [0xFF, 0xFE, ..] | [0x3C, 0x00, 0x3F, 0x00, ..] => return Cow::Owned(decode(bytes, encoding_rs::UTF_16LE)),
        _ => {}
    }
    let valid = std::str::from_utf8(bytes).ok();
    let label_of = |label: &str| encoding_rs::Encoding::for_label(label.trim().as_bytes());
    let named = charset
        .and_then(label_of)
        .or_else(|| declared_encoding(bytes).as_deref().and_then(label_of));
    // Undeclared bytes that are not UTF-8 are read as windows-1252, as browsers
    // do; declared UTF-8 with bad bytes keeps the good text around them.
    let encoding = named.unwrap_or(if valid.is_some() {
        encoding_rs::UTF_8
    } else {
        encoding_rs::WINDOWS_1252
    });
    match valid {
        Some(text) if encoding == encoding_rs::UTF_8 => Cow::Borrowed(text),
        _ => Cow::Owned(decode(bytes, encoding)),
    }
}

fn decode(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> String {
    encoding.decode(bytes).0.into_owned()
}

fn utf32(bytes: &[u8], read: fn([u8; 4]) -> u32) -> String {
    bytes
        .chunks_exact(4)
        .map(|c| char::from_u32(read([c[0], c[1], c[2], c[3]])).unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// The `encoding="…"` of an ASCII-compatible XML declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head);
    let declaration = head.trim_start().strip_prefix("<?xml")?.split("?>").next()?;
    let after = declaration
        .split("encoding")
        .nth(1)?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    after[1..].split(quote).next().map(str::to_string)
}

/// Rewrites the declaration's encoding to utf-8, since the text now is.
fn declare_utf8(text: &str) -> String {
    let trimmed = text.trim_start_matches('\u{feff}');
    let Some(end) = trimmed.strip_prefix("<?xml").and_then(|_| trimmed.find("?>")) else {
        return trimmed.to_string();
    };
    let declaration = &trimmed[..end];
    match declaration.find("encoding") {
        Some(_) => {
            let version = if declaration.contains("1.1") { "1.1" } else { "1.0" };
            format!("<?xml version=\"{version}\" encoding=\"utf-8\"{}", &trimmed[end..])
        }
        None => trimmed.to_string(),
    }
}

/// Characters an address written for a feed's author can be made of, with
/// `mailto:` and the brackets around it.
fn in_address(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-@:<>[]()".contains(c)
}

/// The text with a space between an address and a non-ASCII symbol right
/// against it (`jane@acme.io«`): feed-rs slices one byte past the address
/// when it splits an author into name and email, and panics inside such a
/// character (found by fuzzing). `None` when nothing needs it.
fn spaced_addresses(text: &str) -> Option<String> {
    if text.is_ascii() {
        return None;
    }
    let awkward = |c: char| !c.is_ascii() && !c.is_alphanumeric();
    let mut spaces: Vec<usize> = Vec::new();
    let mut scanned = 0;
    for (at, _) in text.match_indices('@') {
        if at < scanned {
            continue;
        }
        // The run of address characters around this `@`, and what borders it.
        let before = text[..at].char_indices().rev().find(|(_, c)| !in_address(*c));
        let after = text[at + 1..]
            .char_indices()
            .find(|(_, c)| !in_address(*c))
            .map(|(i, c)| (at + 1 + i, c));
        if let Some((i, c)) = before.filter(|(_, c)| awkward(*c)) {
            spaces.push(i + c.len_utf8());
        }
        if let Some((i, _)) = after.filter(|(_, c)| awkward(*c)) {
            spaces.push(i);
        }
        scanned = after.map_or(text.len(), |(i, _)| i);
    }
    if spaces.is_empty() {
        return None;
    }
    spaces.sort_unstable();
    spaces.dedup();
    let mut spaced = String::with_capacity(text.len() + spaces.len());
    let mut from = 0;
    for at in spaces {
        spaced.push_str(&text[from..at]);
        spaced.push(' ');
        from = at;
    }
    spaced.push_str(&text[from..]);
    Some(spaced)
}

/// The text without XML declarations after its start: one there is not
/// well-formed, and the parser under feed-rs panics on its encoding instead
/// of refusing it. Found as the XML reader sees them, so one quoted in CDATA
/// or a comment (a post about XML) stays; where the reader gives up, by
/// their text. `None` when there is none (`<?xml-stylesheet` stays).
fn without_late_declarations(text: &str) -> Option<String> {
    // Nearly every feed has none: a substring search, not a parse, says so.
    if !memchr::memmem::find_iter(text.as_bytes(), "<?xml").any(|at| at > 0) {
        return None;
    }
    let mut late: Vec<(usize, usize)> = Vec::new();
    let mut reader = quick_xml::Reader::from_str(text);
    let mut unread_from = None;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match reader.read_event() {
            Ok(Event::Decl(_)) if start > 0 => {
                let end = usize::try_from(reader.buffer_position()).unwrap_or(text.len());
                late.push((start, end.min(text.len())));
            }
            Ok(Event::Eof) => break,
            Err(_) => {
                unread_from = Some(start.min(text.len()));
                break;
            }
            Ok(_) => {}
        }
    }
    if let Some(from) = unread_from {
        late.extend(text_declarations(text, from));
    }
    if late.is_empty() {
        return None;
    }
    let mut kept = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in late {
        if start < from || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        kept.push_str(&text[from..start]);
        from = end;
    }
    kept.push_str(&text[from..]);
    Some(kept)
}

/// `<?xml …?>` declarations in `text` at or after `from` (not at its very
/// start), each with its end; one that never ends is left alone.
fn text_declarations(text: &str, from: usize) -> Vec<(usize, usize)> {
    let Some(rest) = text.get(from..) else {
        return Vec::new();
    };
    rest.match_indices("<?xml")
        .map(|(at, _)| from + at)
        .filter(|&at| at > 0)
        .filter(|&at| text[at + 5..].starts_with(|c: char| c.is_whitespace() || c == '?'))
        .filter_map(|at| text[at..].find("?>").map(|end| (at, at + end + 2)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(bytes: &[u8]) -> String {
        prepare(bytes, None).into_owned()
    }

    #[test]
    fn declarations_after_the_start_are_dropped_and_stylesheets_kept() {
        let doc = "<?xml version=\"1.0\"?><?xml-stylesheet href=\"a.xsl\"?><rss version=\"2.0\">\
                   <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><channel/></rss>";
        assert_eq!(
            prepared(doc.as_bytes()),
            "<?xml version=\"1.0\"?><?xml-stylesheet href=\"a.xsl\"?><rss version=\"2.0\"><channel/></rss>"
        );
        let undeclared =
            b"<?xml version=\"1.0\" encoding=\"\xff\"?>a<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss/>";
        assert!(
            !prepared(undeclared)[5..].contains("<?xml "),
            "{}",
            prepared(undeclared)
        );
        // Quoted in a post, a declaration is content; one never closed is left alone.
        let quoted = "<rss version=\"2.0\"><channel><item><description><![CDATA[Start with <?xml version=\"1.0\"?> \
                      then]]></description></item></channel></rss>";
        assert_eq!(prepared(quoted.as_bytes()), quoted);
        let open = "<rss version=\"2.0\"><channel><title>a <?xml and the rest</title></channel></rss>";
        assert_eq!(
            spaced_addresses("<managingEditor>«mailto:jane@acme.io»</managingEditor> plain@ascii.io"),
            Some("<managingEditor>« mailto:jane@acme.io »</managingEditor> plain@ascii.io".into())
        );
        assert_eq!(
            spaced_addresses("Ærlig jane@acme.io, «Jane»"),
            None,
            "letters and ASCII stay"
        );
        assert!(
            prepared(open.as_bytes()).contains("and the rest</title>"),
            "{}",
            prepared(open.as_bytes())
        );
    }

    #[test]
    fn utf16_and_utf32_become_utf8() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>ø</rss>";
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(doc.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            prepared(&utf16le),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>ø</channel></rss>"
        );
        let utf32be: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        assert_eq!(
            prepared(&utf32be),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>ø</channel></rss>"
        );
    }

    #[test]
    fn declared_and_http_charsets_are_honoured() {
        let latin1 = b"<?xml version='1.0' encoding='iso-8859-1'?><rss version='2.0'><channel>\xf8</channel></rss>";
        assert_eq!(
            prepared(latin1),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version='2.0'><channel>ø</channel></rss>"
        );
        let undeclared = b"<rss version='2.0'><channel>\xf8</channel></rss>";
        assert_eq!(
            prepare(undeclared, Some("windows-1252")).into_owned(),
            "<rss version='2.0'><channel>ø</channel></rss>"
        );
        assert!(matches!(
            prepare(b"<rss version='2.0'><channel>plain</channel></rss>", None),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn an_unversioned_rss_is_read_as_rss_2() {
        assert_eq!(
            prepared(b"<rss>\n<channel/></rss>"),
            "<rss version=\"2.0\">\n<channel/></rss>"
        );
        assert_eq!(
            prepared(b"<rss version=\"0.91\"><channel/></rss>"),
            "<rss version=\"0.91\"><channel/></rss>"
        );
    }

    #[test]
    fn atom_03_is_upgraded() {
        let doc = br#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title type="text/html" mode="escaped">&lt;b&gt;Hi&lt;/b&gt;</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>"#;
        let out = prepared(doc);
        assert!(out.contains(r#"xmlns="http://www.w3.org/2005/Atom""#), "{out}");
        assert!(
            out.contains(r#"<title type="html">&lt;b&gt;Hi&lt;/b&gt;</title>"#),
            "{out}"
        );
        assert!(out.contains("<published>2004-01-01T00:00:00Z</published>"), "{out}");
    }
}
