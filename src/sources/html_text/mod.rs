//! The visible text of an item's HTML, made while the HTML is tokenized:
//! no DOM is built for it (a feed's first poll reduces thousands of posts;
//! a tree per post was a tenth of the poll's time). Tags are dropped,
//! `script`, `style` and `template` content skipped, entities decoded,
//! the start of a block kept as a space, whitespace collapsed. The tokenizer is
//! html5ever's (the one scraper builds trees with), so what counts as a tag,
//! an entity or raw text is what a browser says; the simple markup most
//! items hold is read by a byte scan that gives the same text (`simple.rs`).

mod simple;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use html5ever::TokenizerResult;
use std::cell::{Cell, RefCell};

/// The visible text of an HTML fragment, whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    html_to_text_up_to(html, usize::MAX)
}

/// As `html_to_text`, but tokenizing stops once `chars` characters of text
/// are gathered (an excerpt needs the start of a post, not all of it); the
/// text is then a prefix of the whole one, with at least `chars` characters.
pub fn html_to_text_up_to(html: &str, chars: usize) -> String {
    // Plain text (most short posts): nothing to tokenize.
    if memchr::memchr2(b'<', b'&', html.as_bytes()).is_none() {
        return collapse_whitespace(html);
    }
    simple_text_up_to(html, chars).unwrap_or_else(|| html5ever_text_up_to(html, chars))
}

/// As `html_to_text_up_to`, read by the byte scan alone; `None` when it
/// declines the fragment (html5ever must read it).
pub fn simple_text_up_to(html: &str, chars: usize) -> Option<String> {
    let sink = TextSink::sized_for(html, chars);
    simple::read(html, &sink).ok()?;
    Some(sink.text.into_inner())
}

/// As `html_to_text_up_to`, read by html5ever's tokenizer alone (what the
/// byte scan is compared with).
pub fn html5ever_text_up_to(html: &str, chars: usize) -> String {
    let sink = TextSink::sized_for(html, chars);
    let tokenizer = Tokenizer::new(sink, Default::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // A stop asked for by the sink (enough text) leaves the rest unread.
    if let TokenizerResult::Done = tokenizer.feed(&input) {
        tokenizer.end();
    }
    tokenizer.sink.text.take()
}

struct TextSink {
    /// The text so far, whitespace collapsed as it comes.
    text: RefCell<String>,
    chars: Cell<usize>,
    /// Whitespace (or a block boundary) seen since the last character kept.
    space: Cell<bool>,
    /// Open `script`, `style` and `template` elements: their text is not shown.
    hidden: Cell<u32>,
    enough: usize,
}

impl TextSink {
    /// A sink for the text of `source`, its buffer made once at the size
    /// the text will likely take (no longer than the source, nor much
    /// longer than `enough` characters): grown from nothing, a post's text
    /// was copied again at every doubling.
    fn sized_for(source: &str, enough: usize) -> TextSink {
        TextSink {
            text: RefCell::new(String::with_capacity(source.len().min(enough.saturating_add(64)))),
            chars: Cell::new(0),
            space: Cell::new(false),
            hidden: Cell::new(0),
            enough,
        }
    }

    /// Whether the text holds enough: the next tag ends the reading.
    fn full(&self) -> bool {
        self.chars.get() >= self.enough
    }

    /// Adds a piece of text: each run of characters between whitespace is
    /// copied at once (a character at a time was most of the item HTML's
    /// cost), with one space before it if whitespace or a block came first.
    fn push(&self, chunk: &str) {
        let mut text = self.text.borrow_mut();
        let mut count = self.chars.get();
        let mut keep = |run: &str, count: &mut usize| {
            if self.space.replace(false) && !text.is_empty() {
                text.push(' ');
                *count += 1;
            }
            text.push_str(run);
        };
        let mut run_from = None;
        for (at, c) in chunk.char_indices() {
            if c.is_whitespace() {
                if let Some(from) = run_from.take() {
                    keep(&chunk[from..at], &mut count);
                }
                self.space.set(true);
            } else {
                run_from.get_or_insert(at);
                count += 1;
            }
        }
        if let Some(from) = run_from {
            keep(&chunk[from..], &mut count);
        }
        self.chars.set(count);
    }

    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if start && is_block(name) {
            self.space.set(true);
        }
        let raw = match name {
            "script" => Some(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
            "textarea" | "title" => Some(RawKind::Rcdata),
            _ => None,
        };
        let hides = matches!(name, "script" | "style" | "template");
        if hides && !tag.self_closing {
            let open = self.hidden.get();
            self.hidden.set(if start { open + 1 } else { open.saturating_sub(1) });
        }
        match raw {
            // Their content is text up to the matching end tag, as in a browser.
            Some(kind) if start && !tag.self_closing => TokenSinkResult::RawData(kind),
            _ => TokenSinkResult::Continue,
        }
    }
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let full = self.full();
        match token {
            // Pauses the tokenizer (as for a script); it is not resumed. Only
            // a tag may answer other than Continue (html5ever asserts it).
            Token::TagToken(_) if full => TokenSinkResult::Script(()),
            Token::TagToken(tag) => self.tag(&tag),
            Token::CharacterTokens(chars) if !full && self.hidden.get() == 0 => {
                self.push(&chars);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// Elements whose start is a word boundary. (Their end is not: the text
/// must stay what it has been, since an item with no id, link or title is
/// known by a hash of it.)
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "br" | "p" | "div" | "li" | "ul" | "ol" | "blockquote" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr" | "pre"
    )
}

pub fn collapse_whitespace(text: &str) -> String {
    let sink = TextSink::sized_for(text, usize::MAX);
    sink.push(text);
    sink.text.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_entities_are_decoded_hidden_text_is_skipped() {
        assert_eq!(
            html_to_text("<p>Hello <b>world</b> &amp; friends</p><script>alert(1)</script><p>Next</p>"),
            "Hello world & friends Next"
        );
        assert_eq!(html_to_text("a<br>b"), "a b");
        assert_eq!(html_to_text("<img src=x onerror=alert(1)>"), "");
        assert_eq!(html_to_text("<style>p { color: red }</style>shown"), "shown");
        assert_eq!(html_to_text("<template><p>later</p></template>now"), "now");
        assert_eq!(
            html_to_text("<script>if (a < b) { x = '</p>'; }</script>after"),
            "after"
        );
        assert_eq!(html_to_text("x &lt; y &#8230; caf&eacute; &nbsp;z"), "x < y … café z");
        assert_eq!(html_to_text("plain   words\n here"), "plain words here");
        assert_eq!(
            html_to_text("<pre><code>let a = b &amp;&amp; c;</code></pre>"),
            "let a = b && c;"
        );
    }

    #[test]
    fn broken_markup_is_text_not_a_failure() {
        for html in [
            "<",
            "<<<>>>",
            "<p",
            "</",
            "<!--",
            "<![CDATA[x",
            "&#xFFFFFFFF;",
            "<a href='",
            "\u{0}<b>\u{0}</b>",
        ] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("a < b"), "a < b");
    }

    /// The sink's text as it was made a character at a time.
    fn pushed_a_character_at_a_time(pieces: &[&str], space: bool) -> (String, usize) {
        let (mut text, mut count, mut pending) = (String::new(), 0, space);
        for c in pieces.iter().flat_map(|p| p.chars()) {
            if c.is_whitespace() {
                pending = true;
                continue;
            }
            if std::mem::take(&mut pending) && !text.is_empty() {
                text.push(' ');
                count += 1;
            }
            text.push(c);
            count += 1;
        }
        (text, count)
    }

    proptest::proptest! {
        #[test]
        fn runs_are_pushed_as_characters_were(
            pieces in proptest::collection::vec("[a\u{e9} \t\n\u{b}\u{a0}\u{2003}\u{3000}\u{1F600}b]{0,12}", 0..6),
            space: bool,
        ) {
            let sink = TextSink::sized_for("", usize::MAX);
            sink.space.set(space);
            for piece in &pieces {
                sink.push(piece);
            }
            let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
            proptest::prop_assert_eq!(
                (sink.text.into_inner(), sink.chars.get()),
                pushed_a_character_at_a_time(&pieces, space)
            );
        }

        #[test]
        fn any_text_is_read_without_a_panic_and_a_prefix_is_a_prefix(
            html in "(<[a-z/!?]{0,8}[^>]{0,12}>?|&[#a-z0-9]{0,8};?|[^<&]{0,20}){0,40}",
            at in 0usize..200,
        ) {
            let whole = html_to_text(&html);
            let part = html_to_text_up_to(&html, at);
            proptest::prop_assert!(whole.starts_with(&part), "{whole:?} / {part:?}");
        }
    }

    #[test]
    fn a_long_post_is_read_only_as_far_as_needed() {
        let long = "<p>word</p>".repeat(10_000);
        let text = html_to_text_up_to(&long, 100);
        assert!(
            (100..200).contains(&text.len()) && text.starts_with("word word"),
            "{}",
            text.len()
        );
        let entities = "a &amp; b <!-- c --> d ".repeat(500);
        for html in [entities.as_str(), "x<p>y</p>z &lt;"] {
            for at in 0..60 {
                assert!(html_to_text(html).starts_with(&html_to_text_up_to(html, at)));
            }
        }
        let whole = html_to_text(&long);
        assert!(whole.starts_with(&text) && whole.len() == 10_000 * 5 - 1);
    }
}
