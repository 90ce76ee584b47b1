//! Item HTML read by the byte scan (`src/sources/html_text/simple.rs`) must
//! give exactly the text html5ever's tokenizer gives: the whole text the
//! same, and an excerpt the same (so the same events and the same keys).
//! Checked on every item of the public feed corpora, on the HTML bodies of
//! the public mail corpora (larger and messier markup), and on the realistic
//! feeds the poll benchmark polls, whose items the scan must all take.

mod common;

#[path = "../benches/poll/realistic.rs"]
#[allow(dead_code)]
mod realistic;

use rapport::domain::text::excerpt;
use rapport::sources::feed::EXCERPT_CHARS;
use rapport::sources::html_text::{html5ever_text_up_to, simple_text_up_to};

/// Whether the scan reads `html` as html5ever does; `None` when it declined.
fn agree(html: &str) -> Option<Result<(), String>> {
    let whole = simple_text_up_to(html, usize::MAX)?;
    let expected = html5ever_text_up_to(html, usize::MAX);
    if whole != expected {
        return Some(Err(format!("{html:?}\nscan     {whole:?}\nhtml5ever {expected:?}")));
    }
    // An item's text is an excerpt of the start: made from a prefix of at
    // least one character more than it keeps, as the poll makes it.
    for chars in [EXCERPT_CHARS + 1, 1, 40] {
        let part = simple_text_up_to(html, chars).expect("a fragment taken whole is taken in part");
        let theirs = html5ever_text_up_to(html, chars);
        if !whole.starts_with(&part) || (part.chars().count() < chars && part != whole) {
            return Some(Err(format!(
                "{html:?}: {part:?} is no prefix of {whole:?} with {chars} characters"
            )));
        }
        if excerpt(&part, chars - 1) != excerpt(&theirs, chars - 1) {
            return Some(Err(format!("{html:?}: excerpts differ: {part:?} / {theirs:?}")));
        }
    }
    Some(Ok(()))
}

/// Checks every fragment; returns how many the scan took.
fn check_all(fragments: &[String], what: &str) -> usize {
    let (mut taken, mut differ) = (0, Vec::new());
    for html in fragments {
        match agree(html) {
            None => {}
            Some(Ok(())) => taken += 1,
            Some(Err(why)) => differ.push(why),
        }
    }
    println!(
        "{what}: {} HTML fragments, the scan took {taken}, {} differ from html5ever",
        fragments.len(),
        differ.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
    taken
}

fn feed_fragments(bytes: &[u8], out: &mut Vec<String>) {
    // feed-rs panics on a few corpus documents; the poll catches that too.
    let Ok(Ok(feed)) = std::panic::catch_unwind(|| feed_rs::parser::parse(bytes)) else {
        return;
    };
    for entry in feed.entries {
        out.extend(entry.summary.map(|s| s.content));
        out.extend(entry.content.and_then(|c| c.body));
        out.extend(entry.title.map(|t| t.content));
    }
}

/// Every file of a public corpus folder, in order; `None` when the test is skipped.
fn corpus_files(folder: &str, test: &str) -> Option<Vec<std::path::PathBuf>> {
    let root = common::corpora_or_skip(folder, test)?;
    let mut files = Vec::new();
    common::all_files(&root, &mut files);
    files.sort();
    Some(files)
}

#[test]
fn the_scan_reads_every_corpus_item_it_takes_as_html5ever_does() {
    let Some(files) = corpus_files("feeds", "the_scan_reads_every_corpus_item_it_takes_as_html5ever_does") else {
        return;
    };
    let mut fragments = Vec::new();
    for file in &files {
        feed_fragments(&std::fs::read(file).unwrap(), &mut fragments);
    }
    fragments.retain(|h| h.contains(['<', '&']));
    let taken = check_all(&fragments, "feed corpora");
    assert!(
        taken * 2 > fragments.len(),
        "the scan took only {taken} of {}: it declines too much",
        fragments.len()
    );
}

#[test]
fn the_scan_reads_every_corpus_mail_body_it_takes_as_html5ever_does() {
    let Some(files) = corpus_files(
        "mail",
        "the_scan_reads_every_corpus_mail_body_it_takes_as_html5ever_does",
    ) else {
        return;
    };
    let mut fragments = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        if let Some(message) = mail_parser::MessageParser::default().parse(&bytes) {
            for i in 0..message.html_body.len() {
                fragments.extend(message.body_html(i).map(|h| h.into_owned()));
            }
        }
    }
    let taken = check_all(&fragments, "mail corpora");
    assert!(
        taken > 20,
        "the scan took only {taken} of {} mail bodies",
        fragments.len()
    );
}

#[test]
fn the_scan_takes_every_realistic_item() {
    let now = chrono::Utc::now().timestamp();
    let mut fragments = Vec::new();
    for i in 0..200 {
        feed_fragments(realistic::feed("rapport", i, now).body.as_bytes(), &mut fragments);
    }
    fragments.retain(|h| h.contains(['<', '&']));
    let taken = check_all(&fragments, "realistic feeds");
    assert_eq!(taken, fragments.len(), "the scan declined realistic items");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    /// Markup made of the pieces the scan must get right or decline: tags
    /// with every kind of attribute, references good and bad, stray `<`, `&`,
    /// quotes and slashes.
    #[test]
    fn generated_markup_is_read_as_html5ever_reads_it_or_declined(
        pieces in proptest::collection::vec(
            proptest::prop_oneof![
                4 => "[a-zA-Z .,\n\t\r]{0,12}",
                4 => "</?(p|P|br|a|em|div|li|h2|pre|code|span|x-y)( [a-z=\"'/<>-]{0,10}| [a-z]+=\"[^\"]{0,8}\"| [a-z]+='[^']{0,8}'| [a-z]+=[a-z/]{0,5})*/?>?",
                2 => "&(amp|lt|gt|quot|nbsp|hellip|eacute|AMP|notin|not|noti|bogus|#[0-9]{1,9}|#x[0-9a-fA-F]{1,7}|#|#x)?;?",
                1 => "[<>&/\"'=!?]",
            ],
            0..12,
        ),
    ) {
        let html = pieces.concat();
        if let Some(Err(why)) = agree(&html) {
            proptest::prop_assert!(false, "{}", why);
        }
    }
}
