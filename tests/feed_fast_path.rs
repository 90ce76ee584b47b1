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
