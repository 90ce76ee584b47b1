//! The visible text of the HTML most items hold, read without html5ever:
//! paragraphs, links, emphasis, line breaks, code, the common entities. A
//! byte scan over the fragment, a few times faster than the tokenizer (whose
//! reading of item HTML was a tenth of a first poll's CPU).
//!
//! It gives exactly the text html5ever's tokenizer gives (`tests/html_text.rs`
//! compares the two on every corpus item and on generated markup), and
//! declines what it does not know for certain it reads the same: comments,
//! doctypes and CDATA (`<!`), processing instructions, a `<` that opens no
//! tag, a NUL, a tag or quoted value cut off by the end, an entity not in
//! the HTML table or without its `;`, a numeric reference html5ever replaces,
//! and the elements whose content is not shown or not markup (`script`,
//! `style`, `template`, `textarea`, `title`, `xmp`, `iframe`, `noembed`,
//! `noframes`). A declined fragment is read by html5ever.

use super::{is_block, TextSink};
use html5ever::data::NAMED_ENTITIES;

/// Why a fragment is left to html5ever (never shown).
pub(super) struct Declined;

/// Pushes the visible text of `html` into `sink`, stopping at the first tag
/// once the sink holds enough; `Declined` (the sink then holds a part of the
/// text, to be thrown away) when html5ever must read it.
pub(super) fn read(html: &str, sink: &TextSink) -> Result<(), Declined> {
    let bytes = html.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let Some(found) = memchr::memchr3(b'<', b'&', 0, &bytes[at..]) else {
            sink.push(&html[at..]);
            break;
        };
        let special = at + found;
        if special > at {
            sink.push(&html[at..special]);
        }
        at = match bytes[special] {
            b'&' => reference(html, special, sink)?,
            b'<' => {
                let (end, name, start) = tag(bytes, special)?;
                if hides_or_is_raw(name) {
                    return Err(Declined);
                }
                // As the tokenizer's sink: a tag once there is enough ends the reading.
                if sink.full() {
                    return Ok(());
                }
                if start && is_block_bytes(name) {
                    sink.space.set(true);
                }
                end
            }
            _ => return Err(Declined),
        };
    }
    Ok(())
}

/// A character reference at `at` (`&`): its text pushed, the index after it.
fn reference(html: &str, at: usize, sink: &TextSink) -> Result<usize, Declined> {
    let bytes = html.as_bytes();
    let after = at + 1;
    match bytes.get(after) {
        // Not a reference: the `&` is text.
        Some(b) if !b.is_ascii_alphanumeric() && *b != b'#' => {
            sink.push("&");
            Ok(after)
        }
        None => {
            sink.push("&");
            Ok(after)
        }
        Some(b'#') => numeric(bytes, after + 1, sink),
        Some(_) => {
            let name_end = after + bytes[after..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            if bytes.get(name_end) != Some(&b';') {
                return Err(Declined);
            }
            // The table's keys carry the `;`; a key's value (0, 0) is only a prefix of names.
            match NAMED_ENTITIES.get(&html[after..=name_end]) {
                Some(&(first, second)) if first != 0 => {
                    push_code_point(first, sink)?;
                    if second != 0 {
                        push_code_point(second, sink)?;
                    }
                    Ok(name_end + 1)
                }
                _ => Err(Declined),
            }
        }
    }
}

/// `&#…;` from its digits at `at`: decimal, or hexadecimal after `x`.
fn numeric(bytes: &[u8], at: usize, sink: &TextSink) -> Result<usize, Declined> {
    let (radix, digits_at) = match bytes.get(at) {
        Some(b'x' | b'X') => (16, at + 1),
        _ => (10, at),
    };
    let digits = bytes[digits_at.min(bytes.len())..]
        .iter()
        .take_while(|b| (**b as char).is_digit(radix))
        .count();
    let end = digits_at + digits;
    // No digits, too many for any character, or no `;`: html5ever's error paths.
    if digits == 0 || digits > 8 || bytes.get(end) != Some(&b';') {
        return Err(Declined);
    }
    let text = std::str::from_utf8(&bytes[digits_at..end]).map_err(|_| Declined)?;
    let value = u32::from_str_radix(text, radix).map_err(|_| Declined)?;
    // html5ever replaces these (U+FFFD, or Windows-1252's characters for C1).
    if value == 0 || (0x80..=0x9F).contains(&value) || value > 0x10FFFF || (0xD800..=0xDFFF).contains(&value) {
        return Err(Declined);
    }
    push_code_point(value, sink)?;
    Ok(end + 1)
}

fn push_code_point(value: u32, sink: &TextSink) -> Result<(), Declined> {
    let c = char::from_u32(value).ok_or(Declined)?;
    sink.push(c.encode_utf8(&mut [0; 4]));
    Ok(())
}

fn is_space(b: u8) -> bool {
    // CR too: the tokenizer reads it as a line feed.
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// Where the tokenizer is inside a tag, after its name.
#[derive(Clone, Copy)]
enum In {
    BeforeAttribute,
    AttributeName,
    AfterAttributeName,
    BeforeValue,
    DoubleQuoted,
    SingleQuoted,
    Unquoted,
    AfterQuoted,
    SelfClosing,
}

/// The tag at `at` (`<`): the index after its `>`, its name, and whether it
/// is a start tag. The states are the tokenizer's (HTML's tag states).
fn tag(bytes: &[u8], at: usize) -> Result<(usize, &[u8], bool), Declined> {
    let (start, name_at) = match (bytes.get(at + 1), bytes.get(at + 2)) {
        (Some(b), _) if b.is_ascii_alphabetic() => (true, at + 1),
        (Some(b'/'), Some(b)) if b.is_ascii_alphabetic() => (false, at + 2),
        // `<!`, `<?`, `</>`, or a `<` that is text: html5ever's.
        _ => return Err(Declined),
    };
    let name_len = bytes[name_at..]
        .iter()
        .take_while(|b| !is_space(**b) && **b != b'/' && **b != b'>')
        .count();
    let name = &bytes[name_at..name_at + name_len];
    if name.contains(&0) {
        return Err(Declined);
    }
    let mut state = In::BeforeAttribute;
    for (offset, &b) in bytes[name_at + name_len..].iter().enumerate() {
        if b == 0 {
            return Err(Declined);
        }
        let end = name_at + name_len + offset + 1;
        state = match (state, b) {
            (In::DoubleQuoted, b'"') | (In::SingleQuoted, b'\'') => In::AfterQuoted,
            (In::DoubleQuoted | In::SingleQuoted, _) => state,
            (_, b'>') => return Ok((end, name, start)),
            (In::Unquoted, b) if is_space(b) => In::BeforeAttribute,
            (In::Unquoted, _) => In::Unquoted,
            (In::BeforeValue, b'"') => In::DoubleQuoted,
            (In::BeforeValue, b'\'') => In::SingleQuoted,
            (In::BeforeValue, b) if is_space(b) => In::BeforeValue,
            (In::BeforeValue, _) => In::Unquoted,
            (In::AttributeName | In::AfterAttributeName, b'=') => In::BeforeValue,
            (_, b'/') => In::SelfClosing,
            (In::AttributeName, b) if is_space(b) => In::AfterAttributeName,
            (In::AttributeName, _) => In::AttributeName,
            (In::AfterAttributeName, b) if is_space(b) => In::AfterAttributeName,
            (In::AfterQuoted | In::BeforeAttribute | In::SelfClosing, b) if is_space(b) => In::BeforeAttribute,
            // A new attribute's name (after a quoted value or `/`, a parse error html5ever recovers from).
            (In::AfterAttributeName | In::AfterQuoted | In::BeforeAttribute | In::SelfClosing, _) => In::AttributeName,
        };
    }
    // Cut off by the end: html5ever drops it.
    Err(Declined)
}

/// The elements the tokenizer's sink treats other than as markup.
fn hides_or_is_raw(name: &[u8]) -> bool {
    const SPECIAL: [&[u8]; 9] = [
        b"script",
        b"style",
        b"template",
        b"textarea",
        b"title",
        b"xmp",
        b"iframe",
        b"noembed",
        b"noframes",
    ];
    SPECIAL.iter().any(|s| s.eq_ignore_ascii_case(name))
}

fn is_block_bytes(name: &[u8]) -> bool {
    // Block names are ASCII; the tokenizer lowercases ASCII letters only.
    name.len() <= 10
        && std::str::from_utf8(name)
            .map(|n| is_block(&n.to_ascii_lowercase()))
            .unwrap_or(false)
}
