//! Feeds shaped like what reps' prospects publish, made in the bench so
//! the poll benchmark measures parsing on what a team really polls, not on
//! a toy feed. Per block of ten: four RSS 2.0 blogs (10–20 items of
//! 300–2,000 characters of HTML, half in `content:encoded` CDATA beside a
//! short description, half escaped in `description`), two GitHub Atom feeds
//! (20–30 entries), two Mastodon RSS feeds (20 items without `<title>`) and
//! two Bluesky RSS feeds (15–30 items without `<title>`, short dates, `at://`
//! guids): about 23 KB and 20 items a feed. Feed `i` depends only on the
//! seed, `i` and `now`, so every run of a day polls the same documents.

use chrono::{DateTime, TimeZone, Utc};

/// A small deterministic generator (SplitMix64): the same feed for the same
/// seed and index, with no dependency for it.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: &str, i: u64) -> Rng {
        // FNV-1a of the seed, then the index mixed in.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng(h ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.next() as usize % from.len()]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.next() as usize % (i + 1);
            items.swap(i, j);
        }
    }
}

const WORDS: &[&str] = &[
    "pipeline",
    "prospect",
    "rust",
    "async",
    "tokio",
    "latency",
    "feed",
    "parser",
    "cache",
    "sqlite",
    "release",
    "deploy",
    "metrics",
    "schema",
    "migration",
    "index",
    "query",
    "retry",
    "backoff",
    "server",
    "client",
    "socket",
    "buffer",
    "stream",
    "event",
    "sales",
    "demo",
    "proposal",
    "quarter",
    "forecast",
    "weekend",
    "coffee",
    "garden",
    "running",
    "book",
    "paper",
    "talk",
    "conference",
    "kernel",
    "memory",
    "thread",
    "lock",
    "queue",
    "worker",
    "budget",
    "design",
];
const TAGS: &[&str] = &["rust", "sales", "opensource", "devops", "python", "startups", "ai"];
const EVENTS: &[&str] = &[
    "PushEvent",
    "WatchEvent",
    "CreateEvent",
    "IssueCommentEvent",
    "PullRequestEvent",
    "ForkEvent",
    "ReleaseEvent",
    "IssuesEvent",
];
/// The atproto base32-sortable alphabet.
const S32: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";

/// Items are dated within this many days before `now`: inside the first
/// poll's window (30 days) even when the poll starts minutes later.
const SPAN_DAYS: u64 = 29;

pub struct Generated {
    pub body: String,
    pub items: usize,
}

/// Feed `i` of the mix.
pub fn feed(seed: &str, i: u64, now: i64) -> Generated {
    let mut block = [
        "blog", "blog", "blog", "blog", "github", "github", "mastodon", "mastodon", "bluesky", "bluesky",
    ];
    Rng::new(&format!("{seed}:block"), i / 10).shuffle(&mut block);
    let mut r = Rng::new(seed, i);
    match block[(i % 10) as usize] {
        "blog" => blog(&mut r, i, now),
        "github" => github(&mut r, i, now),
        "mastodon" => mastodon(&mut r, i, now),
        _ => bluesky(&mut r, i, now),
    }
}

fn words(r: &mut Rng, lo: u64, hi: u64) -> String {
    let n = r.between(lo, hi);
    (0..n).map(|_| *r.pick(WORDS)).collect::<Vec<_>>().join(" ")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn title_case(text: &str) -> String {
    text.split(' ').map(capitalized).collect::<Vec<_>>().join(" ")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// HTML of roughly `lo..=hi` characters: paragraphs with links, code, lists.
fn html_body(r: &mut Rng, lo: u64, hi: u64) -> String {
    let target = r.between(lo, hi) as usize;
    let mut html = String::new();
    while html.len() < target {
        let k = r.next() % 10;
        if k < 6 {
            let (a, b, c, d, e) = (
                capitalized(&words(r, 12, 40)),
                *r.pick(WORDS),
                r.between(1, 9999),
                words(r, 1, 4),
                words(r, 5, 20),
            );
            let em = *r.pick(WORDS);
            html.push_str(&format!(
                "<p>{a} <a href=\"https://example.org/{b}/{c}\">{d}</a> {e} <em>{em}</em>.</p>"
            ));
        } else if k < 8 {
            let (a, b, n) = (*r.pick(WORDS), *r.pick(WORDS), r.between(0, 99));
            html.push_str(&format!(
                "<pre><code>let {a} = {b}::new({n}) &amp;&amp; x &lt; y;</code></pre>"
            ));
        } else {
            let n = r.between(2, 5);
            let items: String = (0..n).map(|_| format!("<li>{}</li>", words(r, 2, 8))).collect();
            html.push_str(&format!("<ul>{items}</ul>"));
        }
    }
    html
}

/// `k` times in the span before `now`, newest first.
fn dates(r: &mut Rng, now: i64, k: u64) -> Vec<DateTime<Utc>> {
    let mut times: Vec<i64> = (0..k).map(|_| now - r.between(60, SPAN_DAYS * 86_400) as i64).collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    times
        .into_iter()
        .map(|t| Utc.timestamp_opt(t, 0).single().expect("a time in range"))
        .collect()
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn at(now: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(now, 0).single().expect("a time in range")
}

fn blog(r: &mut Rng, i: u64, now: i64) -> Generated {
    let host = format!("blog{i}.example.com");
    let count = r.between(10, 20);
    let mut post_id = r.between(5000, 90000);
    let mut items = String::new();
    let mut seen = std::collections::HashSet::new();
    for t in dates(r, now, count) {
        post_id -= r.between(1, 40);
        let url = loop {
            let slug = words(r, 3, 6).replace(' ', "-");
            let url = format!("https://{host}/{}/{slug}/", t.format("%Y/%m"));
            if seen.insert(url.clone()) {
                break url;
            }
        };
        let body = html_body(r, 300, 2000);
        let content = if r.chance(0.5) {
            // WordPress style: a summary and the post in CDATA.
            format!(
                "<description>{} [&#8230;]</description>\n      <content:encoded><![CDATA[{body}]]></content:encoded>",
                escape(&words(r, 15, 40))
            )
        } else {
            format!("<description>{}</description>", escape(&body))
        };
        let guid = if r.chance(0.7) {
            format!("<guid isPermaLink=\"true\">{url}</guid>")
        } else {
            format!("<guid isPermaLink=\"false\">https://{host}/?p={post_id}</guid>")
        };
        let tag_count = r.between(0, 3);
        let cats: String = (0..tag_count)
            .map(|_| format!("<category>{}</category>", r.pick(TAGS)))
            .collect();
        let title = escape(&title_case(&words(r, 3, 9)));
        let author = title_case(&words(r, 2, 2));
        items.push_str(&format!(
            "    <item>\n      <title>{title}</title>\n      <link>{url}</link>\n      {guid}\n      <pubDate>{}</pubDate>\n      \
             <dc:creator><![CDATA[{author}]]></dc:creator>{cats}\n      {content}\n    </item>\n",
            t.to_rfc2822()
        ));
    }
    let title = escape(&title_case(&words(r, 2, 4)));
    let description = escape(&words(r, 5, 12));
    let built = at(now - r.between(0, 3600) as i64).to_rfc2822();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n  <channel>\n    \
         <title>{title} Blog</title>\n    <atom:link href=\"https://{host}/feed/\" rel=\"self\" type=\"application/rss+xml\"/>\n    \
         <link>https://{host}/</link>\n    <description>{description}</description>\n    <lastBuildDate>{built}</lastBuildDate>\n    \
         <language>en-US</language>\n    <generator>https://wordpress.org/?v=6.6.1</generator>\n{items}  </channel>\n</rss>\n"
    );
    Generated {
        body,
        items: count as usize,
    }
}

fn github(r: &mut Rng, i: u64, now: i64) -> Generated {
    let user = format!("user{i}");
    let uid = 10_000 + i;
    let mut eid = 40_000_000_000 + r.between(0, 9_000_000_000);
    let count = r.between(20, 30);
    let mut entries = String::new();
    for t in dates(r, now, count) {
        eid -= r.between(1, 5_000_000);
        let event = *r.pick(EVENTS);
        let repo = format!("{user}/{}-{}", r.pick(WORDS), r.pick(WORDS));
        let sha = format!("{:016x}{:016x}{:08x}", r.next(), r.next(), r.next() as u32);
        let title = match event {
            "PushEvent" => format!("{user} pushed to main in {repo}"),
            "WatchEvent" => format!("{user} starred {repo}"),
            "CreateEvent" => format!("{user} created a branch in {repo}"),
            "ForkEvent" => format!("{user} forked {repo}"),
            other => format!("{user} {} in {repo}", other.trim_end_matches("Event").to_lowercase()),
        };
        let message = escape(&words(r, 4, 14));
        let html = format!(
            "<div class=\"push js-feed-item-view\"><div class=\"body\"><span>{}</span><div class=\"message\"><blockquote>\
             <a href=\"https://github.com/{repo}/commit/{sha}\">{}</a> {message}</blockquote></div>\
             <relative-time datetime=\"{}\" class=\"no-wrap\">{}</relative-time></div></div>",
            escape(&title),
            &sha[..7],
            iso(t),
            iso(t)
        );
        entries.push_str(&format!(
            "  <entry>\n    <id>tag:github.com,2008:{event}/{eid}</id>\n    <published>{}</published>\n    <updated>{}</updated>\n    \
             <link type=\"text/html\" rel=\"alternate\" href=\"https://github.com/{repo}/compare/{}...{}\"/>\n    \
             <title type=\"html\">{}</title>\n    <author>\n      <name>{user}</name>\n      <email>{user}@users.noreply.github.com</email>\n      \
             <uri>https://github.com/{user}</uri>\n    </author>\n    \
             <media:thumbnail height=\"30\" width=\"30\" url=\"https://avatars.githubusercontent.com/u/{uid}?s=30&amp;v=4\"/>\n    \
             <content type=\"html\">{}</content>\n  </entry>\n",
            iso(t),
            iso(t),
            &sha[..10],
            &sha[10..20],
            escape(&title),
            escape(&html)
        ));
    }
    let updated = iso(at(now - r.between(0, 3600) as i64));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"http://search.yahoo.com/mrss/\" xml:lang=\"en-US\">\n  \
         <id>tag:github.com,2008:/{user}</id>\n  <link type=\"text/html\" rel=\"alternate\" href=\"https://github.com/{user}\"/>\n  \
         <link type=\"application/atom+xml\" rel=\"self\" href=\"https://github.com/{user}.atom\"/>\n  <title>{user}\u{2019}s Activity</title>\n  \
         <updated>{updated}</updated>\n{entries}</feed>\n"
    );
    Generated {
        body,
        items: count as usize,
    }
}

fn mastodon(r: &mut Rng, i: u64, now: i64) -> Generated {
    let user = format!("user{i}");
    let host = *r.pick(&["mastodon.social", "fosstodon.org", "hachyderm.io"]);
    let mut items = String::new();
    for t in dates(r, now, 20) {
        let sid = ((t.timestamp() as u64 * 1000 + r.between(0, 999)) << 16) | (r.next() & 0xffff);
        let url = format!("https://{host}/@{user}/{sid}");
        let tag_count = r.between(0, 2);
        let tags: Vec<&str> = (0..tag_count).map(|_| *r.pick(TAGS)).collect();
        let mut text = format!("<p>{}", escape(&capitalized(&words(r, 5, 45))));
        for tag in &tags {
            text.push_str(&format!(
                " <a href=\"https://{host}/tags/{tag}\" class=\"mention hashtag\" rel=\"tag\">#<span>{tag}</span></a>"
            ));
        }
        text.push_str("</p>");
        let media = if r.chance(0.2) {
            format!(
                "\n      <media:content url=\"https://files.{host}/media/{sid}.png\" type=\"image/png\" fileSize=\"{}\" medium=\"image\">\
                 <media:rating scheme=\"urn:simple\">nonadult</media:rating></media:content>",
                r.between(10_000, 900_000)
            )
        } else {
            String::new()
        };
        let cats: String = tags.iter().map(|t| format!("<category>{t}</category>")).collect();
        items.push_str(&format!(
            "    <item>\n      <guid isPermaLink=\"true\">{url}</guid>\n      <link>{url}</link>\n      <pubDate>{}</pubDate>\n      \
             <description>{}</description>{media}{cats}\n    </item>\n",
            t.to_rfc2822(),
            escape(&text)
        ));
    }
    let name = escape(&title_case(&words(r, 2, 2)));
    let built = at(now - r.between(0, 3600) as i64).to_rfc2822();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:webfeeds=\"http://webfeeds.org/rss/1.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n  \
         <channel>\n    <title>{name}</title>\n    <description>Public posts from @{user}@{host}</description>\n    \
         <link>https://{host}/@{user}</link>\n    <image>\n      <url>https://files.{host}/accounts/avatars/{i}/original/avatar.png</url>\n      \
         <title>{name}</title>\n      <link>https://{host}/@{user}</link>\n    </image>\n    <lastBuildDate>{built}</lastBuildDate>\n    \
         <webfeeds:icon>https://files.{host}/accounts/avatars/{i}/original/avatar.png</webfeeds:icon>\n    \
         <generator>Mastodon v4.3.2</generator>\n{items}  </channel>\n</rss>\n"
    );
    Generated { body, items: 20 }
}

/// An atproto record key (TID): microseconds and a clock id, base32-sortable.
fn tid(r: &mut Rng, t: DateTime<Utc>) -> String {
    let v = ((t.timestamp() as u64 * 1_000_000 + r.between(0, 999_999)) << 10) | (r.next() & 0x3ff);
    (0..13)
        .rev()
        .map(|k| S32[((v >> (5 * k)) & 31) as usize] as char)
        .collect()
}

fn bluesky(r: &mut Rng, i: u64, now: i64) -> Generated {
    let handle = format!("user{i}.bsky.social");
    let did: String = (0..24).map(|_| *r.pick(S32) as char).collect();
    let did = format!("did:plc:{did}");
    let count = r.between(15, 30);
    let mut items = String::new();
    for t in dates(r, now, count) {
        let rkey = tid(r, t);
        items.push_str(&format!(
            "<item><link>https://bsky.app/profile/{did}/post/{rkey}</link><description>{}</description><pubDate>{}</pubDate>\
             <guid isPermaLink=\"false\">at://{did}/app.bsky.feed.post/{rkey}</guid></item>",
            escape(&capitalized(&words(r, 3, 50))),
            t.format("%d %b %Y %H:%M +0000")
        ));
    }
    let description = escape(&words(r, 4, 20));
    let name = escape(&title_case(&words(r, 2, 2)));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><description>{description}</description>\
         <link>https://bsky.app/profile/{handle}</link><title>@{handle} - {name}</title>{items}</channel></rss>"
    );
    Generated {
        body,
        items: count as usize,
    }
}
