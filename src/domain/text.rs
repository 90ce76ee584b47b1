//! Small text helpers shared by the pure core and the edges.

/// At most `limit` characters, cut at a word boundary with an ellipsis.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|i| *i > limit / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

/// As `excerpt`, keeping `text` itself when it is short enough (no copy).
pub fn into_excerpt(text: String, limit: usize) -> String {
    if text.chars().nth(limit).is_none() {
        text
    } else {
        excerpt(&text, limit)
    }
}

/// Text from outside (feeds, mail, imported files) made safe to print on a
/// terminal or in a plain-text mail: escape sequences (CSI, OSC, and the
/// other ESC forms) and every other control character are removed; line
/// breaks and tabs stay.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI and OSC/DCS/APC/PM/SOS: their sequences run to a terminator.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\n' | '\t' => out.push(c),
            '\r' => {}
            c if c.is_control() => {}
            // Bidirectional controls and marks can make text read other than it is;
            // line and paragraph separators break lines where none should be.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' => {}
            '\u{2028}' | '\u{2029}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// After ESC: a CSI (`ESC [`), a string (`ESC ]`, `ESC P`, `ESC _`, `ESC ^`,
/// `ESC X`) or a two-character sequence.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => skip_string(chars),
        _ => {}
    }
}

/// Parameters and intermediates up to the final byte (`@` to `~`).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// Up to BEL, ST (`ESC \\` or U+009C).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// Whether a link from outside may be followed: only `http` and `https`
/// (never `javascript:`, `data:`, `file:` or a relative reference).
pub fn is_web_link(url: &str) -> bool {
    url::Url::parse(url.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_of_an_owned_text_is_the_text_itself_when_short_enough() {
        let short = "a short post".to_string();
        let at = short.as_ptr();
        let kept = into_excerpt(short, 12);
        assert_eq!((kept.as_str(), kept.as_ptr()), ("a short post", at), "not copied");
        let long = "word ".repeat(40);
        assert_eq!(into_excerpt(long.clone(), 50), excerpt(&long, 50));
        assert_eq!(into_excerpt("twelve chars".into(), 11), excerpt("twelve chars", 11));
    }

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        assert_eq!(printable("\u{1b}[31mred\u{1b}[0m title"), "red title");
        assert_eq!(printable("\u{1b}]0;pwned\u{7}title"), "title");
        assert_eq!(
            printable("\u{1b}]8;;https://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(printable("a\u{0}b\u{8}c\rd\u{7f}e\u{9b}2Jf"), "abcdef");
        assert_eq!(printable("line one\n\tline two"), "line one\n\tline two");
        assert_eq!(printable("abc\u{202e}def\u{200f}\u{61c}"), "abcdef");
        assert_eq!(printable("one\u{2028}two"), "one two");
        assert_eq!(printable("Ærlig talt — ok ✓"), "Ærlig talt — ok ✓");
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(is_web_link("https://jane.example/post/1"));
        assert!(is_web_link("http://jane.example/"));
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "/relative",
            "vbscript:x",
            "",
        ] {
            assert!(!is_web_link(bad), "{bad}");
        }
    }
}
