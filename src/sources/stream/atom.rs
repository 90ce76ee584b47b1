//! Atom 1.0 for the streaming reader (GitHub's activity feeds, among
//! others): the feed's title and its entries, as feed-rs's `atom` parser
//! makes them. Only a `feed` root in Atom's namespace (as the default one)
//! comes here.

use super::{attribute, html, plain, Declined, Ns, Read, Reader, Start, Step};
use feed_rs::model::{Content, Entry, LinkTarget, Person, Text};

impl<'a> Reader<'a> {
    /// The children of an Atom `feed` root.
    pub(super) fn atom(&mut self) -> Step<Read> {
        let mut read = Read {
            title: None,
            entries: Vec::new(),
        };
        while let Some(child) = self.next_start()? {
            match (child.ns, child.name()) {
                (Ns::Atom, "title") => read.title = Some(self.construct(&child)?),
                (Ns::Atom, "entry") => read.entries.push(self.entry()?),
                (Ns::Atom, "subtitle") | (Ns::Atom, "rights") => self.skip_construct(&child)?,
                _ => self.skip()?,
            }
        }
        Ok(read)
    }

    fn entry(&mut self) -> Step<Entry> {
        let mut entry = Entry::default();
        while let Some(child) = self.next_start()? {
            match (child.ns, child.name()) {
                // Kept as written: feed-rs trims an RSS guid, not an Atom id.
                (Ns::Atom, "id") => {
                    if let Some(id) = self.text()? {
                        entry.id = id;
                    }
                }
                (Ns::Atom, "title") => entry.title = Some(self.construct(&child)?),
                (Ns::Atom, "summary") => entry.summary = Some(self.construct(&child)?),
                (Ns::Atom, "content") => entry.content = Some(self.content(&child)?),
                // A date element without text leaves the date as it was.
                (Ns::Atom, "updated") => {
                    if let Some(date) = self.date()? {
                        entry.updated = Some(date);
                    }
                }
                (Ns::Atom, "published") | (Ns::Atom, "pubDate") => {
                    if let Some(date) = self.date()? {
                        entry.published = Some(date);
                    }
                }
                (Ns::Atom, "author") => {
                    if let Some(person) = self.person()? {
                        entry.authors.push(person);
                    }
                }
                (Ns::Atom, "link") => {
                    let link = self.atom_link(&child)?;
                    self.skip()?;
                    entry.links.extend(link);
                }
                (Ns::CommentApi, "commentRss") | (Ns::CommentApi, "commentRSS") => {
                    if let Some(href) = self.text()? {
                        entry.links.push(self.link(&href, Some(LinkTarget::CommentsFeed)));
                    }
                }
                (Ns::Atom, "rights") => self.skip_construct(&child)?,
                (Ns::MediaRss, _) => self.media(&child)?,
                _ => self.skip()?,
            }
        }
        Ok(entry)
    }

    /// A text construct (title, summary) as feed-rs's `handle_text` makes
    /// it from plain text or escaped HTML. XHTML (which feed-rs re-serialises),
    /// a type it refuses, an empty element or one whose text does not come
    /// first (it would serialise the children) are left to feed-rs.
    fn construct(&mut self, start: &Start<'a>) -> Step<Text> {
        let make = match attribute(&start.event, "type")?.as_deref() {
            None | Some("text") => plain,
            Some("html") | Some("text/html") => html,
            _ => return Err(Declined),
        };
        self.text()?.map(make).ok_or(Declined)
    }

    /// A text construct rapport does not keep (subtitle, rights), skipped;
    /// feed-rs refuses the whole document over a type it does not know.
    fn skip_construct(&mut self, start: &Start<'a>) -> Step<()> {
        match attribute(&start.event, "type")?.as_deref() {
            None | Some("text") | Some("html") | Some("text/html") | Some("xhtml") => self.skip(),
            _ => Err(Declined),
        }
    }

    /// An entry's content given inline as text or HTML; content by
    /// reference (`src`), XML or another media type is left to feed-rs.
    fn content(&mut self, start: &Start<'a>) -> Step<Content> {
        if attribute(&start.event, "src")?.is_some() {
            return Err(Declined);
        }
        let text = self.construct(start)?;
        Ok(Content {
            body: Some(text.content),
            content_type: text.content_type,
            ..Default::default()
        })
    }

    /// An author as feed-rs's `handle_person` reads one: its `name`,
    /// `email` and `uri` children (by local name, the text as written), a
    /// person only with a name or an address.
    fn person(&mut self) -> Step<Option<Person>> {
        let (mut name, mut email, mut uri) = (None, None, None);
        while let Some(child) = self.next_start()? {
            let text = self.text()?;
            match child.name() {
                "name" if text.is_some() => name = text,
                "email" => email = text,
                "uri" => uri = text,
                _ => {}
            }
        }
        if name.is_none() && email.is_none() {
            return Ok(None);
        }
        Ok(Some(Person {
            name,
            uri,
            email,
            role: Some("author".into()),
        }))
    }

    /// An Atom `link` as feed-rs's `handle_link` makes it (none without
    /// `href`; `rel` defaults to `alternate`).
    fn atom_link(&self, start: &Start<'a>) -> Step<Option<feed_rs::model::Link>> {
        let Some(href) = attribute(&start.event, "href")? else {
            return Ok(None);
        };
        let mut link = self.link(&href, None);
        link.rel = Some(attribute(&start.event, "rel")?.unwrap_or_else(|| "alternate".into()));
        link.media_type = attribute(&start.event, "type")?;
        link.href_lang = attribute(&start.event, "hreflang")?;
        link.title = attribute(&start.event, "title")?;
        link.length = attribute(&start.event, "length")?.and_then(|l| l.parse::<u64>().ok());
        Ok(Some(link))
    }
}

#[cfg(test)]
mod tests {
    use super::super::read;
    use url::Url;

    fn atom(entries: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" \
             xmlns:media=\"http://search.yahoo.com/mrss/\" xml:lang=\"en-US\"><id>tag:x</id>\
             <title type=\"text\"> Jane’s Activity </title>{entries}</feed>"
        )
    }

    fn base() -> Url {
        Url::parse("https://github.com/jane.atom").unwrap()
    }

    #[test]
    fn an_entry_is_read_with_its_text_links_dates_and_author() {
        let doc = atom(
            "<entry><id>tag:github.com,2008:PushEvent/1</id><published>2026-11-30T10:00:00Z</published>\
             <updated>2026-11-30T11:00:00Z</updated><link type=\"text/html\" rel=\"alternate\" href=\"/jane/repo\"/>\
             <title type=\"html\">jane pushed to &lt;b&gt;repo&lt;/b&gt;</title>\
             <author><name>jane</name><uri>https://github.com/jane</uri></author>\
             <media:thumbnail height=\"30\" width=\"30\" url=\"https://avatars.example/j\"/>\
             <content type=\"html\">&lt;p&gt;Fixed it&lt;/p&gt;</content></entry>",
        );
        let read = read(&doc, Some(&base())).expect("plain Atom 1.0 is read");
        assert_eq!(read.title.unwrap().content, "Jane’s Activity");
        let entry = &read.entries[0];
        assert_eq!(entry.id, "tag:github.com,2008:PushEvent/1");
        assert_eq!(entry.title.as_ref().unwrap().content, "jane pushed to <b>repo</b>");
        assert_eq!(entry.content.as_ref().unwrap().body.as_deref(), Some("<p>Fixed it</p>"));
        assert_eq!(entry.links[0].href, "https://github.com/jane/repo");
        assert_eq!(entry.links[0].rel.as_deref(), Some("alternate"));
        assert_eq!(entry.published.unwrap().to_rfc3339(), "2026-11-30T10:00:00+00:00");
        assert_eq!(entry.updated.unwrap().to_rfc3339(), "2026-11-30T11:00:00+00:00");
        assert_eq!(entry.authors[0].name.as_deref(), Some("jane"));
        assert_eq!(entry.authors[0].uri.as_deref(), Some("https://github.com/jane"));
    }

    #[test]
    fn what_it_does_not_know_for_certain_is_left_to_feed_rs() {
        let declined = [
            atom("<entry xml:base=\"https://other.example/\"><link href=\"p\"/></entry>"),
            atom("<entry><title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">x</div></title></entry>"),
            atom("<entry><content src=\"https://jane.example/post\" type=\"text/html\"/></entry>"),
            atom("<entry><content type=\"application/xml\"><x/></content></entry>"),
            atom("<entry><summary type=\"markdown\">*x*</summary></entry>"),
            atom("<entry><rights type=\"markdown\">x</rights></entry>"),
            atom("<entry><title></title></entry>"),
            atom("<entry><updated>30 Nov 2026</updated></entry>"),
            atom("<entry><title>unclosed</entry>"),
            "<feed><title>no namespace</title></feed>".into(),
            "<atom:feed xmlns:atom=\"http://www.w3.org/2005/Atom\"/>".into(),
            "<feed xmlns=\"http://purl.org/atom/ns#\" version=\"0.3\"/>".into(),
            "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>x</id></entry>".into(),
        ];
        for doc in &declined {
            assert!(read(doc, Some(&base())).is_none(), "should decline: {doc}");
        }
    }
}
