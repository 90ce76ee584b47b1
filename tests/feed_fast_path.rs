//! The streaming reader of RSS 2.0 and Atom 1.0 (`src/sources/stream/`) must
//! make of every document it takes exactly what feed-rs makes of it: the
//! same title and items (ids, links, titles, text, dates, authors), so the
//! same events and keys. Checked on every file of the public feed corpora
//! (read in place) and on the realistic feeds the poll benchmark polls, of
//! which it must take every one (RSS and Atom).

mod common;

#[path = "../benches/poll/realistic.rs"]
#[allow(dead_code)]
mod realistic;

use rapport::sources::feed::parse_feed_both_ways;

/// Whether the two readers agree on `bytes`; `None` when the streaming reader declined.
fn agree(bytes: &[u8], base: &str) -> Option<Result<(), String>> {
    let (streamed, feed_rs) = parse_feed_both_ways(bytes, Some(base), None);
    let streamed = streamed?;
    Some(match feed_rs {
        Ok(feed_rs) if feed_rs == streamed => Ok(()),
        Ok(feed_rs) => Err(format!("streamed {streamed:#?}\nfeed-rs {feed_rs:#?}")),
        Err(e) => Err(format!(
            "feed-rs refused it ({e}), the streaming reader read {streamed:#?}"
        )),
    })
}

#[test]
fn the_streaming_reader_reads_every_corpus_feed_it_takes_as_feed_rs_does() {
    let Some(root) = common::corpora_or_skip(
        "feeds",
        "the_streaming_reader_reads_every_corpus_feed_it_takes_as_feed_rs_does",
    ) else {
        return;
    };
    let mut files = Vec::new();
    common::all_files(&root, &mut files);
    files.sort();
    let (mut taken, mut atom, mut differ) = (0, 0, Vec::new());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let is_atom = text.contains("<feed") && !text.contains("<rss");
        for base in ["http://127.0.0.1:8097/", "https://example.org/blog/feed.xml"] {
            match agree(&bytes, base) {
                None => {}
                Some(Ok(())) => {
                    taken += 1;
                    atom += usize::from(is_atom);
                }
                Some(Err(why)) => differ.push(format!("{} (base {base}):\n{why}", file.display())),
            }
        }
    }
    println!(
        "{} corpus files read twice (two base URLs): the streaming reader took {taken} readings ({atom} of Atom documents), {} differ from feed-rs",
        files.len(),
        differ.len()
    );
    assert!(
        taken > 100 && atom > 20,
        "the streaming reader took only {taken} readings ({atom} of Atom): it declines too much"
    );
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
}

#[test]
fn the_streaming_reader_takes_every_realistic_feed_and_reads_it_as_feed_rs_does() {
    let now = chrono::Utc::now().timestamp();
    let (mut rss, mut atom) = (0, 0);
    for i in 0..200 {
        let feed = realistic::feed("rapport", i, now);
        let body = feed.body.as_bytes();
        match agree(body, "https://h1.example/f/1.xml") {
            Some(Ok(())) if feed.body.contains("<rss") => rss += 1,
            Some(Ok(())) => atom += 1,
            Some(Err(why)) => panic!("realistic feed {i}: {why}"),
            None => panic!("realistic feed {i} declined:\n{}", feed.body),
        }
    }
    println!("realistic feeds read by the streaming reader: {rss} RSS, {atom} Atom");
    assert!(rss >= 150 && atom >= 30, "{rss} RSS, {atom} Atom");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// An item's texts made of the pieces the reader takes straight from the
    /// document (text, references good and bad, CDATA) and of those it
    /// leaves to quick-xml's events (comments, tags, empty elements, stray
    /// `<`, `&`, `]]>`): read as feed-rs reads them, or declined.
    #[test]
    fn generated_item_texts_are_read_as_feed_rs_reads_them_or_declined(
        texts in proptest::collection::vec(
            proptest::collection::vec(
                proptest::prop_oneof![
                    12 => "[a-zA-Z .,\n\t\r>\\]\"'é😀]{0,12}",
                    6 => "&(amp|lt|gt|quot|apos|nbsp|hellip|bogus|#[1-9][0-9]{1,4}|#x[1-9a-fA-F][0-9a-fA-F]{1,3});",
                    1 => "&(#|#x|#xZ|#0|#x110000|amp)",
                    4 => "<!\\[CDATA\\[[a-z<>&;\\] ]{0,10}\\]\\]>",
                    2 => "<!--[a-z -]{0,6}-->|<\\?pi x\\?>|<b>[a-z&;]{0,4}</b>|<br/>|<i/>",
                    1 => "</x>|<|&|<!\\[CDATA\\[x",
                ],
                0..8,
            ),
            3,
        ),
        empty in proptest::bool::ANY,
    ) {
        let [title, description, guid] = [&texts[0], &texts[1], &texts[2]].map(|pieces| pieces.concat());
        let title = if empty { "<title/>".to_string() } else { format!("<title>{title}</title>") };
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>\
             <item>{title}<description>{description}</description><guid>{guid}</guid><link>/p/1</link></item>\
             </channel></rss>"
        );
        if let Some(Err(why)) = agree(doc.as_bytes(), "https://example.org/feed.xml") {
            proptest::prop_assert!(false, "{}\n{}", doc, why);
        }
    }
}
