//! Social profile URLs: normalised so the same profile written two ways is one
//! profile, and classified by platform so later code knows what may be fetched.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Linkedin,
    X,
    Mastodon,
    Bluesky,
    Github,
    Youtube,
    Substack,
    Medium,
    Website,
}

impl Platform {
    pub const ALL: [Platform; 9] = [
        Platform::Linkedin,
        Platform::X,
        Platform::Mastodon,
        Platform::Bluesky,
        Platform::Github,
        Platform::Youtube,
        Platform::Substack,
        Platform::Medium,
        Platform::Website,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Linkedin => "linkedin",
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
            Platform::Github => "github",
            Platform::Youtube => "youtube",
            Platform::Substack => "substack",
            Platform::Medium => "medium",
            Platform::Website => "website",
        }
    }

    pub fn parse(text: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// LinkedIn and X offer no permitted feed: rapport never fetches them, and
    /// engagement there is logged by hand or by webhook.
    pub fn has_permitted_feed(self) -> bool {
        !matches!(self, Platform::Linkedin | Platform::X)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile URL in its one canonical spelling (to recognise the same
/// profile however it is written), with its platform, and the address as
/// given, which is the one followed (`http://` stays http, `www.` stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUrl {
    pub url: String,
    pub platform: Platform,
    pub given: String,
}

impl ProfileUrl {
    /// A stored profile; `given` is absent for ones stored before it was kept.
    pub fn stored(url: String, platform: Platform, given: Option<String>) -> ProfileUrl {
        ProfileUrl {
            given: given.unwrap_or_else(|| url.clone()),
            url,
            platform,
        }
    }
}

/// `url` and `platform`, and `followed` when the given address differs.
impl Serialize for ProfileUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let differs = self.given != self.url;
        let mut map = serializer.serialize_map(Some(2 + usize::from(differs)))?;
        map.serialize_entry("url", &self.url)?;
        map.serialize_entry("platform", &self.platform)?;
        if differs {
            map.serialize_entry("followed", &self.given)?;
        }
        map.end()
    }
}

/// Normalises a profile URL as typed or exported (`linkedin.com/in/jane/`,
/// `http://www.twitter.com/Jane?s=20`) and detects its platform.
///
/// Canonical form: https, lower-case host without `www.`/`m.`/`mobile.`, no
/// fragment, no trailing slash; on the social platforms the query string is
/// dropped (it only carries tracking) and handles are lower-cased (they are
/// case-insensitive there); on other sites only `utm_*` parameters go.
pub fn normalize_profile_url(input: &str) -> Result<ProfileUrl, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("the profile URL is empty".into());
    }
    let with_scheme = if has_scheme(trimmed) {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| format!("'{trimmed}' is not a URL ({e}); write it like https://github.com/jane"))?;
    let mut given = url.clone();
    given.set_fragment(None);
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "'{trimmed}' is not a web address; only http and https profile URLs are accepted"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "'{trimmed}' carries a user name or password; profile URLs never do"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("'{trimmed}' has no host name"))?
        .to_ascii_lowercase();
    let host = ["www.", "m.", "mobile."]
        .iter()
        .find_map(|prefix| host.strip_prefix(prefix))
        .unwrap_or(&host)
        .to_string();
    if !host.contains('.') && url.host().is_none_or(|h| matches!(h, url::Host::Domain(_))) && host != "localhost" {
        return Err(format!(
            "'{trimmed}' has no domain (host '{host}'); write the full address"
        ));
    }
    let platform = detect_platform(&host, url.path());
    let canonical_host = match platform {
        Platform::X => "x.com".to_string(),
        _ => host,
    };
    url.set_scheme("https")
        .map_err(|_| format!("'{trimmed}' cannot be written as https"))?;
    url.set_host(Some(&canonical_host))
        .map_err(|e| format!("'{trimmed}': bad host ({e})"))?;
    url.set_fragment(None);
    if platform == Platform::Website {
        strip_tracking_parameters(&mut url);
    } else {
        url.set_query(None);
    }
    let mut path = url.path().trim_end_matches('/').to_string();
    if platform_handles_are_case_insensitive(platform) {
        path = path.to_lowercase();
    }
    url.set_path(if path.is_empty() { "/" } else { &path });
    let mut text = url.to_string();
    if text.ends_with('/') && url.query().is_none() {
        text.pop();
    }
    Ok(ProfileUrl {
        url: text,
        platform,
        given: given.to_string(),
    })
}

/// `mailto:x`, `ftp://x` and `https://x` name a scheme; `example.com:8080/x` does not.
fn has_scheme(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let looks_like_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let port_follows = rest.chars().take_while(|c| *c != '/').all(|c| c.is_ascii_digit()) && !rest.starts_with("//");
    looks_like_scheme && !scheme.contains('.') && !port_follows
}

fn detect_platform(host: &str, path: &str) -> Platform {
    let on = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let first_segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if on("linkedin.com") {
        Platform::Linkedin
    } else if on("twitter.com") || on("x.com") {
        Platform::X
    } else if on("bsky.app") {
        Platform::Bluesky
    } else if on("github.com") {
        Platform::Github
    } else if on("youtube.com") || host == "youtu.be" {
        Platform::Youtube
    } else if on("substack.com") {
        Platform::Substack
    } else if on("medium.com") {
        Platform::Medium
    } else if first_segment.len() > 1 && first_segment.starts_with('@') && path.trim_matches('/') == first_segment {
        Platform::Mastodon
    } else {
        Platform::Website
    }
}

fn platform_handles_are_case_insensitive(platform: Platform) -> bool {
    matches!(
        platform,
        Platform::Linkedin | Platform::X | Platform::Github | Platform::Bluesky | Platform::Mastodon | Platform::Medium
    )
}

fn strip_tracking_parameters(url: &mut Url) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !key.starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(input: &str) -> (String, Platform) {
        let p = normalize_profile_url(input).unwrap();
        (p.url, p.platform)
    }

    #[test]
    fn detects_every_platform() {
        assert_eq!(
            norm("https://www.linkedin.com/in/Jane-Doe/?trk=x"),
            ("https://linkedin.com/in/jane-doe".into(), Platform::Linkedin)
        );
        assert_eq!(
            norm("linkedin.com/in/jane"),
            ("https://linkedin.com/in/jane".into(), Platform::Linkedin)
        );
        assert_eq!(
            norm("http://twitter.com/JaneDoe?s=20"),
            ("https://x.com/janedoe".into(), Platform::X)
        );
        assert_eq!(
            norm("https://mobile.twitter.com/jane"),
            ("https://x.com/jane".into(), Platform::X)
        );
        assert_eq!(norm("https://x.com/jane"), ("https://x.com/jane".into(), Platform::X));
        assert_eq!(
            norm("https://fosstodon.org/@Jane"),
            ("https://fosstodon.org/@jane".into(), Platform::Mastodon)
        );
        assert_eq!(
            norm("https://bsky.app/profile/jane.bsky.social"),
            ("https://bsky.app/profile/jane.bsky.social".into(), Platform::Bluesky)
        );
        assert_eq!(
            norm("https://github.com/Jane/"),
            ("https://github.com/jane".into(), Platform::Github)
        );
        assert_eq!(
            norm("https://www.youtube.com/channel/UCabcDEF"),
            ("https://youtube.com/channel/UCabcDEF".into(), Platform::Youtube)
        );
        assert_eq!(
            norm("https://jane.substack.com/"),
            ("https://jane.substack.com".into(), Platform::Substack)
        );
        assert_eq!(
            norm("https://medium.com/@jane"),
            ("https://medium.com/@jane".into(), Platform::Medium)
        );
        assert_eq!(
            norm("https://jane.dev/blog/?utm_source=x&page=2#top"),
            ("https://jane.dev/blog?page=2".into(), Platform::Website)
        );
    }

    #[test]
    fn refuses_what_is_not_a_web_profile() {
        for bad in [
            "",
            "   ",
            "mailto:jane@example.com",
            "ftp://example.com/x",
            "https://",
            "http://exa mple.com",
            "justaword",
        ] {
            assert!(normalize_profile_url(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn only_linkedin_and_x_lack_a_permitted_feed() {
        let without: Vec<_> = Platform::ALL.into_iter().filter(|p| !p.has_permitted_feed()).collect();
        assert_eq!(without, vec![Platform::Linkedin, Platform::X]);
    }
}
