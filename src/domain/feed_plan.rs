//! Which feed a profile URL is followed by, decided from the address alone:
//! a platform with a known feed layout maps to its feed, a URL naming a feed
//! is that feed, anything else is a page to search, and LinkedIn and X are
//! never fetched. Pure; `sources::discovery` does the fetching and searching.

use super::profile::{Platform, ProfileUrl};
use url::Url;

/// How a profile's feed is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedPlan {
    /// The feed URL follows from the profile URL.
    Known(Url),
    /// The page must be fetched and searched for a feed.
    Discover(Url),
    /// No permitted feed: engagement there is logged by hand or by webhook.
    NotFetched,
}

/// The plan for a profile, from the address as given (its scheme, host and
/// path are the ones followed).
pub fn plan_for(profile: &ProfileUrl) -> FeedPlan {
    let Ok(page) = Url::parse(&profile.given) else {
        return FeedPlan::NotFetched;
    };
    let segments: Vec<&str> = page
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    let known = |path: String| FeedPlan::Known(with_path(&page, &path));
    match (profile.platform, segments.as_slice()) {
        (Platform::Linkedin | Platform::X, _) => FeedPlan::NotFetched,
        (Platform::Mastodon, [user]) => known(format!("/{user}.rss")),
        (Platform::Bluesky, ["profile", handle]) => known(format!("/profile/{handle}/rss")),
        (Platform::Github, [user]) => known(format!("/{user}.atom")),
        (Platform::Youtube, ["channel", id]) => {
            let mut feed = page.clone();
            feed.set_path("/feeds/videos.xml");
            feed.set_query(Some(&format!("channel_id={id}")));
            FeedPlan::Known(feed)
        }
        (Platform::Substack, []) => known("/feed".into()),
        (Platform::Medium, [user]) if user.starts_with('@') => known(format!("/feed/{user}")),
        (Platform::Medium, []) => known("/feed".into()),
        // A profile that names a feed is fetched as it is (no crawling, so no robots.txt).
        (_, [.., last]) if is_feed_name(last) => FeedPlan::Known(page),
        _ => FeedPlan::Discover(page),
    }
}

/// A last path segment that names a feed: `feed.xml`, `index.rss`, `atom`, `feed`…
fn is_feed_name(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    [".xml", ".rss", ".atom", ".rdf"].iter().any(|ext| lower.ends_with(ext))
        || matches!(lower.as_str(), "feed" | "rss" | "atom" | "feed.json")
}

fn with_path(page: &Url, path: &str) -> Url {
    let mut url = page.clone();
    url.set_path(path);
    url.set_query(None);
    url
}
