//! The fresh text of a human message: without quoted history and without the
//! signature, whether the writer answered above the quote (top-posting), below
//! it (bottom-posting) or between its paragraphs (interleaving). How quoted
//! history starts is data, per language (`lang/*.toml`, `[quote]`).

use super::lang::words;

/// HTML markers after which everything is the earlier message (Outlook's reply
/// header block, Yahoo's quote container) or the signature, lower-case.
const HTML_CUT_MARKERS: &[&str] = &[
    "<div id=\"messagereplysection",
    "<div name=\"messagereplysection",
    "<div id=\"appendonsend",
    "<div id=\"divrplyfwdmsg",
    "<div class=\"yahoo_quoted",
    "<div class=\"gmail_signature",
    "<div data-smartmail=\"gmail_signature",
];

/// HTML markers of quoted history (Gmail, Apple Mail, Thunderbird, Yandex and
/// most others quote in a `<blockquote>`), lower-case.
const HTML_QUOTE_MARKERS: &[&str] = &[
    "<blockquote",
    "<div class=\"gmail_quote",
    "<div class=\"moz-cite-prefix",
    "<div class=\"yahoo_quoted",
    "<div id=\"divrplyfwdmsg",
    "<div id=\"appendonsend",
    "<div id=\"messagereplysection",
    "<div name=\"messagereplysection",
];

/// The fresh text of a message, from its plain body or, for HTML-only mail, its HTML.
pub fn fresh_text(plain: &str, html: Option<&str>, plain_from_html: bool) -> Option<String> {
    let text = match html {
        Some(html) if plain_from_html || plain.trim().is_empty() => html_text(html),
        _ => plain.to_string(),
    };
    let fresh = strip_signature(&strip_quoted(&text));
    let fresh = fresh.trim();
    (!fresh.is_empty()).then(|| fresh.to_string())
}

/// True when the message quotes earlier mail (an attribution line, a quote block or `>` lines).
pub fn has_quoted_history(plain: &str, html: Option<&str>) -> bool {
    let html_quotes = html.is_some_and(|h| {
        let lower = h.to_ascii_lowercase();
        HTML_QUOTE_MARKERS.iter().any(|m| lower.contains(m))
    });
    let lines: Vec<&str> = plain.lines().collect();
    html_quotes || (0..lines.len()).any(|i| opener(&lines, i).is_some())
}

/// An HTML body as text: cut where an earlier message begins, and each
/// `<blockquote>` turned into `>` lines, so the plain-text reading below finds
/// fresh text above, below or between the quotes.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let cut = HTML_CUT_MARKERS
        .iter()
        .filter_map(|marker| lower.find(marker))
        .min()
        .unwrap_or(html.len());
    let html = html.get(..cut).unwrap_or(html);
    let lower = lower.get(..cut).unwrap_or(&lower);
    let mut text = String::new();
    let mut at = 0;
    for (start, end) in blockquotes(lower) {
        text.push_str(&to_text(html.get(at..start).unwrap_or_default()));
        text.push('\n');
        for line in to_text(html.get(start..end).unwrap_or_default()).lines() {
            text.push_str("> ");
            text.push_str(line);
            text.push('\n');
        }
        at = end;
    }
    text.push_str(&to_text(html.get(at..).unwrap_or_default()));
    text
}

/// HTML to text, each closed `<div>` or `<p>` on a line of its own (clients
/// put one line in each, and an attribution must not run into the answer).
fn to_text(html: &str) -> String {
    let mut lined = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = rest.find("</") {
        let (before, tag) = rest.split_at(at);
        lined.push_str(before);
        let closes_block = tag.get(..6).is_some_and(|t| t.eq_ignore_ascii_case("</div>"))
            || tag.get(..4).is_some_and(|t| t.eq_ignore_ascii_case("</p>"));
        let end = tag.find('>').map_or(tag.len(), |i| i + 1);
        lined.push_str(tag.get(..end).unwrap_or(tag));
        if closes_block {
            lined.push_str("<br>");
        }
        rest = tag.get(end..).unwrap_or_default();
    }
    lined.push_str(rest);
    mail_parser::decoders::html::html_to_text(&lined)
}

/// The outermost `<blockquote>…</blockquote>` spans (byte ranges, nesting
/// counted; an unclosed one runs to the end).
fn blockquotes(lower: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut at = 0usize;
    while at < lower.len() {
        let rest = lower.get(at..).unwrap_or_default();
        let open = rest.find("<blockquote").map(|i| at + i);
        let close = rest.find("</blockquote").map(|i| at + i);
        match (open, close) {
            (Some(o), c) if c.is_none_or(|c| o < c) => {
                if depth == 0 {
                    start = o;
                }
                depth += 1;
                at = o + "<blockquote".len();
            }
            (_, Some(c)) => {
                let end = lower
                    .get(c..)
                    .and_then(|r| r.find('>'))
                    .map_or(lower.len(), |i| c + i + 1);
                if depth == 1 {
                    spans.push((start, end));
                }
                depth = depth.saturating_sub(1);
                at = end;
            }
            _ => break,
        }
    }
    if depth > 0 {
        spans.push((start, lower.len()));
    }
    spans
}

/// What a line starts.
enum Opener {
    /// "On …, Ann <ann@x> wrote:" (over `lines` lines); `>` quotes may follow,
    /// with fresh text between or after them.
    Attribution { lines: usize },
    /// A separator or a mail client's header block: the rest is the earlier message.
    Cut,
}

/// Drops quoted history: `>` lines, attributions, and everything after a
/// separator or a header block, or after an attribution not followed by `>`
/// lines. Text below or between `>` quotes is kept.
fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        match opener(&lines, index) {
            Some(Opener::Cut) => break,
            Some(Opener::Attribution { lines: span }) => {
                let quoted_next = lines
                    .iter()
                    .skip(index + span)
                    .find(|l| !l.trim().is_empty())
                    .is_some_and(|l| l.trim_start().starts_with('>'));
                if !quoted_next {
                    break;
                }
                index += span;
                continue;
            }
            None => {}
        }
        let line = lines.get(index).copied().unwrap_or_default();
        if !line.trim_start().starts_with('>') {
            kept.push(line);
        }
        index += 1;
    }
    kept.join("\n")
}

fn opener(lines: &[&str], index: usize) -> Option<Opener> {
    let quote = &words().quote;
    let line = lines.get(index)?.trim();
    if line.starts_with('>') {
        return None;
    }
    let lower = line.to_lowercase();
    let next = lines
        .get(index + 1)
        .map(|n| n.trim().to_lowercase())
        .unwrap_or_default();
    if quote.separators.iter().any(|s| lower.starts_with(s.as_str())) {
        return Some(Opener::Cut);
    }
    // A client's header block: "From: …" then "Sent: …" (localized).
    let header_from = quote.header_from.iter().any(|p| lower.starts_with(p.as_str()));
    if header_from && quote.header_sent.iter().any(|p| next.starts_with(p.as_str())) {
        return Some(Opener::Cut);
    }
    if is_attribution(&lower) {
        return Some(Opener::Attribution { lines: 1 });
    }
    // An attribution wrapped over two lines ("Am 1. Dez. 2026 um 10:00 schrieb" / "Ann <ann@x>:"):
    // its first half already says when or who.
    let first_half = lower.chars().count() < 200 && (lower.contains('@') || has_year_or_time(&lower));
    let joined = format!("{lower} {next}");
    (first_half && !next.starts_with('>') && is_attribution(&joined)).then_some(Opener::Attribution { lines: 2 })
}

/// A line that introduces a quote: it ends in a colon, is short, and either
/// names when or who (a year, a time or an address) and the writing ("wrote",
/// "schrieb", "a écrit", "написал", in any language of the tables) or the
/// writer's address at its end (Gmail's "вт, 1 дек. 2026 г. в 10:00, Ann
/// <ann@x>:"), or opens as attributions do and names the writing ("On Mon,
/// Ann wrote:").
fn is_attribution(lower: &str) -> bool {
    let line = lower.trim_end().trim_end_matches('：');
    let line = match lower.trim_end().ends_with('：') {
        true => format!("{line}:"),
        false => line.to_string(),
    };
    if !line.ends_with(':') || line.chars().count() > 300 {
        return false;
    }
    let quote = &words().quote;
    let opens_like_one = quote.attribution_starts.iter().any(|s| line.starts_with(s.as_str()));
    let names_when_or_who = line.contains('@') || has_year_or_time(&line);
    let verb = quote.attribution_verbs.iter().any(|v| line.contains(v.as_str()));
    (names_when_or_who || opens_like_one && verb) && (verb || line.ends_with(">:") || line.ends_with(">):"))
}

/// A four-digit year or a clock time (`10:00`, `10.00`) somewhere in the line.
fn has_year_or_time(line: &str) -> bool {
    let bytes = line.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    (0..bytes.len()).any(|i| {
        let starts = digit(i) && (i == 0 || !digit(i - 1));
        let year = starts && digit(i + 1) && digit(i + 2) && digit(i + 3) && !digit(i + 4);
        let time = starts
            && (digit(i + 1) && matches!(bytes.get(i + 2), Some(b':' | b'.')) && digit(i + 3) && digit(i + 4)
                || matches!(bytes.get(i + 1), Some(b':' | b'.')) && digit(i + 2) && digit(i + 3));
        year || time
    })
}

/// Phrases that open a signature or a device footer, lower-case.
const SIGNATURE_OPENERS: &[&str] = &[
    "sent from my ",
    "sent from mail for windows",
    "get outlook for",
    "sendt fra min",
    "von meinem iphone gesendet",
    "envoyé de mon",
    "sent from outlook",
    "sendt fra outlook",
];

/// Drops the signature: from a `-- ` delimiter line or a device footer to the end.
fn strip_signature(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        let lower = line.trim().to_lowercase();
        let is_delimiter = line.trim_end_matches('\r') == "-- " || line.trim() == "--";
        if is_delimiter || SIGNATURE_OPENERS.iter().any(|o| lower.starts_with(o)) {
            break;
        }
        kept.push(line.trim_end());
    }
    kept.join("\n")
}

#[cfg(test)]
#[path = "reply_text_tests.rs"]
mod tests;
