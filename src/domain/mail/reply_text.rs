//! The fresh text of a human message: without quoted history and without the signature.

/// HTML markers where quoted history starts in HTML-only replies, lower-case.
const HTML_QUOTE_MARKERS: &[&str] = &[
    "<div class=\"gmail_quote",
    "<div class=\"gmail_extra",
    "<blockquote",
    "<div id=\"messagereplysection",
    "<div name=\"messagereplysection",
    "<div id=\"appendonsend",
    "<div id=\"divrplyfwdmsg",
    "<div class=\"moz-cite-prefix",
    "<div class=\"yahoo_quoted",
];

/// HTML markers of a signature block, lower-case.
const HTML_SIGNATURE_MARKERS: &[&str] = &["<div class=\"gmail_signature", "<div data-smartmail=\"gmail_signature"];

/// The fresh text of a message, from its plain body or, for HTML-only mail, its HTML.
pub fn fresh_text(plain: &str, html: Option<&str>, plain_from_html: bool) -> Option<String> {
    let text = match html {
        Some(html) if plain_from_html || plain.trim().is_empty() => {
            mail_parser::decoders::html::html_to_text(cut_html(html))
        }
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
    html_quotes
        || lines
            .iter()
            .enumerate()
            .any(|(i, l)| opens_quote(l, lines.get(i + 1).copied()))
}

fn cut_html(html: &str) -> &str {
    let lower = html.to_ascii_lowercase();
    let cut = HTML_QUOTE_MARKERS
        .iter()
        .chain(HTML_SIGNATURE_MARKERS)
        .filter_map(|marker| lower.find(marker))
        .min()
        .unwrap_or(html.len());
    html.get(..cut).unwrap_or(html)
}

/// Drops everything from the first line that opens quoted history.
fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if opens_quote(line, lines.get(index + 1).copied()) {
            break;
        }
        if !line.trim_start().starts_with('>') {
            kept.push(line);
        }
    }
    kept.join("\n")
}

/// Attribution endings: "On … wrote:", "Den … skrev:", "Am … schrieb:", "Le … a écrit :".
const ATTRIBUTION_ENDINGS: &[&str] = &[
    "wrote:",
    "skrev:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "scrisse:",
];

/// Separators of forwarded or quoted originals.
const QUOTE_SEPARATORS: &[&str] = &[
    "-----original message-----",
    "----- original message -----",
    "-----opprinnelig melding-----",
    "-----ursprüngliche nachricht-----",
    "-----message d'origine-----",
    "________________________________",
    "---------- forwarded message",
    "begin forwarded message:",
];

fn opens_quote(line: &str, next: Option<&str>) -> bool {
    let lower = line.trim().to_lowercase();
    if QUOTE_SEPARATORS.iter().any(|s| lower.starts_with(s)) {
        return true;
    }
    let attribution_start = ["on ", "den ", "am ", "le ", "el ", "il ", "op "]
        .iter()
        .any(|p| lower.starts_with(p));
    if attribution_start && ATTRIBUTION_ENDINGS.iter().any(|e| lower.ends_with(e)) {
        return true;
    }
    // An attribution wrapped over two lines: "On Tue, 3 Dec 2026 at 10:00, Ann <ann@x>" / "wrote:".
    let next_lower = next.map(|n| n.trim().to_lowercase()).unwrap_or_default();
    if attribution_start
        && ATTRIBUTION_ENDINGS
            .iter()
            .any(|e| next_lower.ends_with(e) && next_lower.len() < 60)
    {
        return true;
    }
    // Outlook header block: "From: …" followed by "Sent: …" (or localized).
    let header_start = ["from:", "fra:", "von:", "de :", "de:"]
        .iter()
        .any(|p| lower.starts_with(p));
    let sent_next = [
        "sent:",
        "sendt:",
        "gesendet:",
        "envoyé :",
        "envoyé:",
        "date:",
        "dato:",
        "datum:",
    ]
    .iter()
    .any(|p| next_lower.starts_with(p));
    header_start && sent_next
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
mod tests {
    use super::*;

    #[test]
    fn cuts_quote_and_signature() {
        let text = "Sounds good, see you then.\n\nAnn\n-- \nAnn Example\n\nOn Tue, 3 Dec 2026, Bob wrote:\n> hi";
        assert_eq!(
            fresh_text(text, None, false).as_deref(),
            Some("Sounds good, see you then.\n\nAnn")
        );
    }

    #[test]
    fn cuts_html_gmail_quote() {
        let html = "<div>Yes please.</div><div class=\"gmail_quote\">On Mon wrote:<blockquote>x</blockquote></div>";
        assert_eq!(fresh_text("", Some(html), true).as_deref(), Some("Yes please."));
    }
}
