//! RSS 2.0 for the streaming reader: the channel's title and its items, as
//! feed-rs's `rss2` parser makes them.

use super::{attribute, html, plain, Declined, Ns, Read, Reader, Start, Step};
use feed_rs::model::{Content, Entry, Link, LinkTarget, Person};
use mediatype::{names, MediaTypeBuf};

impl<'a> Reader<'a> {
    /// An `rss` root: version 2.0 (or none given, as feed-rs reads it) only.
    pub(super) fn rss(&mut self, root: &Start<'a>) -> Step<Read> {
        let version = attribute(&root.event, "version")?;
        if !matches!(version.as_deref(), Some("2.0") | Some("")) {
            return Err(Declined);
        }
        // The first child named `channel` is the feed; what follows it is not read.
        while let Some(child) = self.next_start()? {
            if child.name() == "channel" {
                return self.channel();
            }
            self.skip()?;
        }
        Err(Declined)
    }

    fn channel(&mut self) -> Step<Read> {
        let mut read = Read {
            title: None,
            entries: Vec::new(),
        };
        while let Some(child) = self.next_start()? {
            match (child.ns, child.name()) {
                (Ns::Rss, "title") => read.title = self.text()?.map(plain),
                (Ns::Rss, "item") => read.entries.push(self.item()?),
                (Ns::Declined, _) => return Err(Declined),
                _ => self.skip()?,
            }
        }
        Ok(read)
    }

    fn item(&mut self) -> Step<Entry> {
        let mut entry = Entry::default();
        while let Some(child) = self.next_start()? {
            match (child.ns, child.name()) {
                (Ns::Rss, "title") => entry.title = self.text()?.map(plain),
                (Ns::Rss, "link") => {
                    if let Some(href) = self.text()? {
                        entry.links.push(self.link(&href, None));
                    }
                }
                (Ns::Rss, "description") => entry.summary = self.text()?.map(html),
                (Ns::Rss, "author") | (Ns::DublinCore, "creator") => {
                    if let Some(name) = self.text()? {
                        entry.authors.push(person(name)?);
                    }
                }
                (Ns::Rss, "guid") => {
                    if let Some(guid) = self.text()? {
                        entry.id = super::trimmed(guid);
                    }
                }
                (Ns::Rss, "pubDate") | (Ns::DublinCore, "date") => entry.published = self.date()?,
                (Ns::Rss, "updated") | (Ns::Atom, "updated") => entry.updated = self.date()?,
                (Ns::Content, "encoded") => {
                    entry.content = self.text()?.filter(|body| !body.is_empty()).map(|body| Content {
                        body: Some(body),
                        content_type: MediaTypeBuf::new(names::TEXT, names::HTML),
                        ..Default::default()
                    });
                }
                (Ns::CommentApi, "commentRss") | (Ns::CommentApi, "commentRSS") => {
                    if let Some(href) = self.text()? {
                        entry.links.push(self.link(&href, Some(LinkTarget::CommentsFeed)));
                    }
                }
                (Ns::Rss, "comments") => {
                    if let Some(href) = self.text()? {
                        entry.links.push(self.link(&href, Some(LinkTarget::Comments)));
                    }
                }
                (Ns::MediaRss, _) => self.media(&child)?,
                (Ns::Declined, _) => return Err(Declined),
                _ => self.skip()?,
            }
        }
        if entry.updated.is_none() && entry.published.is_some() {
            entry.updated = entry.published;
        }
        // As feed-rs: a comments link to a page another link names goes.
        let comments = |link: &Link| link.target == Some(LinkTarget::Comments);
        if entry.links.iter().any(comments) {
            let others: Vec<String> = entry
                .links
                .iter()
                .filter(|l| !comments(l))
                .map(|l| l.href.clone())
                .collect();
            entry.links.retain(|l| !comments(l) || !others.contains(&l.href));
        }
        Ok(entry)
    }
}

/// A name as feed-rs reads one; with an address in it, feed-rs splits
/// name and address by a pattern of its own, so that is left to it.
fn person(text: String) -> Step<Person> {
    if text.contains('@') {
        return Err(Declined);
    }
    Ok(Person {
        name: Some(super::trimmed(text)),
        uri: None,
        email: None,
        role: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::read;
    use url::Url;

    fn rss(items: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" \
             xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title> Jane </title>{items}</channel></rss>"
        )
    }

    fn base() -> Url {
        Url::parse("https://jane.example/feed.xml").unwrap()
    }

    #[test]
    fn a_plain_item_is_read_with_its_text_links_and_date() {
        let doc = rss("<item><title>A &amp; B</title><link>/p/1</link><guid> g1 </guid>\
             <description><![CDATA[<p>Hi</p>]]></description><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>\
             <dc:creator>Jane Doe</dc:creator><comments>https://jane.example/p/1</comments></item>");
        let read = read(&doc, Some(&base())).expect("plain RSS 2.0 is read");
        assert_eq!(read.title.unwrap().content, "Jane");
        let entry = &read.entries[0];
        assert_eq!(entry.id, "g1");
        assert_eq!(entry.title.as_ref().unwrap().content, "A & B");
        assert_eq!(entry.summary.as_ref().unwrap().content, "<p>Hi</p>");
        assert_eq!(entry.links.len(), 1, "a comments link to the post itself goes");
        assert_eq!(entry.links[0].href, "https://jane.example/p/1");
        assert_eq!(entry.published.unwrap().to_rfc3339(), "2026-11-30T10:00:00+00:00");
        assert_eq!(entry.updated, entry.published);
        assert_eq!(entry.authors[0].name.as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn what_it_does_not_know_for_certain_is_left_to_feed_rs() {
        let declined = [
            rss("<item xml:base=\"https://other.example/\"><link>p</link></item>"),
            rss("<item><itunes:duration>3:00</itunes:duration></item>"),
            rss("<item><pubDate>30 Nov 2026</pubDate></item>"),
            rss("<item><author>jane@jane.example (Jane)</author></item>"),
            rss("<item><media:title type=\"xhtml\">x</media:title></item>"),
            rss("<item><x:title>unbound prefix</x:title></item>"),
            rss("<item><title>unclosed</item>"),
            // feed-rs refuses a reference to no character, even after a tag it does not read.
            rss("<item><description><b></b>&#;</description></item>"),
            rss("<item><title>a &#xZ; b</title></item>"),
            "<rss><channel/></rss>".into(),
            "<rss version=\"2.0\" xmlns=\"http://www.w3.org/2005/Atom\"><channel/></rss>".into(),
            "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel/></rss>".into(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel/></rss>".into(),
        ];
        for doc in &declined {
            assert!(read(doc, Some(&base())).is_none(), "should decline: {doc}");
        }
    }
}
