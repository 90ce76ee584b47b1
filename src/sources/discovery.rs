//! From a profile URL to the feed that carries the person's public activity.
//!
//! Platforms with a known feed layout map directly, with no request:
//! Mastodon `/@user` → `/@user.rss`, Bluesky → `/profile/HANDLE/rss`,
//! GitHub → `/USER.atom`, YouTube channel ids → `feeds/videos.xml`,
//! Substack and Medium → their `/feed`. Anything else (blogs, sites, YouTube
//! handles) is found by HTML autodiscovery, then by common feed paths.
//! LinkedIn and X have no permitted feed and are never fetched.

pub use crate::domain::feed_plan::{plan_for, FeedPlan};
use url::Url;

/// Paths tried, in order, when a page names no feed.
pub const COMMON_FEED_PATHS: [&str; 5] = ["/feed", "/rss", "/atom.xml", "/index.xml", "/feed.json"];

/// Feed links a page announces with `<link rel="alternate">` and an RSS,
/// Atom or JSON Feed type, resolved against the page URL, in page order.
pub fn autodiscover(html: &str, page: &Url) -> Vec<Url> {
    const FEED_TYPES: [&str; 4] = [
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
    ];
    let document = scraper::Html::parse_document(html);
    let Ok(selector) = scraper::Selector::parse("link[rel][href]") else {
        return Vec::new();
    };
    let base = document
        .select(&scraper::Selector::parse("base[href]").expect("static selector"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page.join(href).ok())
        .unwrap_or_else(|| page.clone());
    let mut found = Vec::new();
    for link in document.select(&selector) {
        let rel_is_alternate = link
            .value()
            .attr("rel")
            .is_some_and(|r| r.split_whitespace().any(|w| w.eq_ignore_ascii_case("alternate")));
        let type_is_feed = link
            .value()
            .attr("type")
            .is_some_and(|t| FEED_TYPES.iter().any(|f| t.trim().eq_ignore_ascii_case(f)));
        if let (true, true, Some(href)) = (rel_is_alternate, type_is_feed, link.value().attr("href")) {
            if let Ok(url) = base.join(href.trim()) {
                if !found.contains(&url) {
                    found.push(url);
                }
            }
        }
    }
    found
}

/// The common feed paths on a page's site, in the order to try them.
pub fn common_paths(page: &Url) -> Vec<Url> {
    COMMON_FEED_PATHS
        .iter()
        .filter_map(|path| page.join(path).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile::normalize_profile_url;

    fn plan(input: &str) -> FeedPlan {
        plan_for(&normalize_profile_url(input).unwrap())
    }

    fn known(url: &str) -> FeedPlan {
        FeedPlan::Known(Url::parse(url).unwrap())
    }

    #[test]
    fn platforms_with_a_feed_layout_map_directly() {
        assert_eq!(
            plan("https://fosstodon.org/@Jane"),
            known("https://fosstodon.org/@Jane.rss")
        );
        assert_eq!(
            plan("https://bsky.app/profile/jane.bsky.social"),
            known("https://bsky.app/profile/jane.bsky.social/rss")
        );
        assert_eq!(plan("https://github.com/Jane"), known("https://github.com/Jane.atom"));
        assert_eq!(
            plan("https://www.youtube.com/channel/UCabc"),
            known("https://www.youtube.com/feeds/videos.xml?channel_id=UCabc")
        );
        assert_eq!(
            plan("https://jane.substack.com"),
            known("https://jane.substack.com/feed")
        );
        assert_eq!(plan("https://medium.com/@jane"), known("https://medium.com/feed/@jane"));
    }

    #[test]
    fn a_profile_is_followed_as_given() {
        // The canonical form only recognises duplicates.
        let given = normalize_profile_url("http://www.blog.example/Jane/").unwrap();
        assert_eq!(given.url, "https://blog.example/Jane");
        assert_eq!(
            plan_for(&given),
            FeedPlan::Discover(Url::parse("http://www.blog.example/Jane/").unwrap())
        );
        assert_eq!(
            plan("http://blog.example/feed.xml"),
            known("http://blog.example/feed.xml"),
            "a feed named as the profile is read as it is"
        );
        assert_eq!(
            plan("http://social.example/@jane"),
            known("http://social.example/@jane.rss")
        );
    }

    #[test]
    fn linkedin_and_x_are_never_fetched() {
        assert_eq!(plan("https://www.linkedin.com/in/jane"), FeedPlan::NotFetched);
        assert_eq!(plan("https://twitter.com/jane"), FeedPlan::NotFetched);
        assert_eq!(plan("https://x.com/jane"), FeedPlan::NotFetched);
    }

    #[test]
    fn other_pages_are_discovered() {
        assert_eq!(
            plan("https://jane.dev/blog"),
            FeedPlan::Discover(Url::parse("https://jane.dev/blog").unwrap())
        );
        assert_eq!(
            plan("https://youtube.com/@janesells"),
            FeedPlan::Discover(Url::parse("https://youtube.com/@janesells").unwrap())
        );
    }

    #[test]
    fn autodiscovery_reads_alternate_links() {
        let page = Url::parse("https://jane.dev/blog/").unwrap();
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
            <link rel="Alternate" type="application/atom+xml" href="atom.xml">
            <link rel="alternate" type="text/html" href="/en/">
            <link rel="alternate" type="application/feed+json" href="https://jane.dev/feed.json">
            </head><body></body></html>"#;
        let found: Vec<String> = autodiscover(html, &page).into_iter().map(String::from).collect();
        assert_eq!(
            found,
            [
                "https://jane.dev/feed.xml",
                "https://jane.dev/blog/atom.xml",
                "https://jane.dev/feed.json"
            ]
        );
        assert!(autodiscover("not html at all <<<", &page).is_empty());
    }

    #[test]
    fn common_paths_are_on_the_site_root() {
        let paths: Vec<String> = common_paths(&Url::parse("https://jane.dev/blog/post").unwrap())
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(paths[0], "https://jane.dev/feed");
        assert_eq!(paths.len(), 5);
    }
}
