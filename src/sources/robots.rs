//! robots.txt for discovery crawling (RFC 9309). Feeds a profile names are
//! fetched as they are; fetching a person's pages to *find* a feed is
//! crawling, so it asks the site first.
//!
//! A robots.txt is cached per origin for up to 24 hours. A 4xx answer means
//! everything is allowed; a 5xx or no answer at all means nothing is, until
//! it can be read (asked again after an hour), and the caller is told why
//! (a site the guard refuses, a server error, no answer) rather than that
//! robots.txt forbids it.

use crate::net::client::{FetchError, Fetched, HttpClient, Validators};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// The product token matched against robots.txt groups.
const AGENT: &str = "rapport";
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// A robots.txt that could not be read (5xx, no answer) is asked for again sooner.
const KEEP_FAILURE: Duration = Duration::from_secs(3600);

fn keep_for(rules: &Rules) -> Duration {
    match rules {
        Rules::Unreadable(_) => KEEP_FAILURE,
        _ => KEEP,
    }
}

enum Rules {
    AllowAll,
    /// robots.txt could not be read; why. Nothing on the site is crawled.
    Unreadable(String),
    Listed(texting_robots::Robot),
}

impl Rules {
    fn allows(&self, url: &Url) -> Result<bool, String> {
        match self {
            Rules::AllowAll => Ok(true),
            Rules::Unreadable(why) => Err(why.clone()),
            Rules::Listed(robot) => Ok(robot.allowed(url.as_str())),
        }
    }
}

#[derive(Default)]
pub struct RobotsCache {
    by_origin: Mutex<HashMap<String, (Instant, std::sync::Arc<Rules>)>>,
}

impl RobotsCache {
    /// Whether the site's robots.txt lets rapport fetch `url`; an error says
    /// why it could not be read (then nothing on the site is crawled).
    pub async fn allows(&self, client: &HttpClient, url: &Url) -> Result<bool, String> {
        let origin = url.origin().ascii_serialization();
        let cached = self
            .lock()
            .get(&origin)
            .filter(|(at, rules)| at.elapsed() < keep_for(rules))
            .map(|(_, rules)| rules.clone());
        let rules = match cached {
            Some(rules) => rules,
            None => {
                let rules = std::sync::Arc::new(fetch_rules(client, url).await);
                self.lock().insert(origin, (Instant::now(), rules.clone()));
                rules
            }
        };
        rules.allows(url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, std::sync::Arc<Rules>)>> {
        self.by_origin.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn fetch_rules(client: &HttpClient, url: &Url) -> Rules {
    let Ok(robots_url) = url.join("/robots.txt") else {
        return Rules::Unreadable(format!("{url} has no robots.txt address"));
    };
    match client.get(&robots_url, &Validators::default()).await {
        Ok(Fetched::Body { bytes, .. }) => {
            texting_robots::Robot::new(AGENT, &bytes).map_or(Rules::AllowAll, Rules::Listed)
        }
        Ok(Fetched::NotModified) => Rules::AllowAll,
        Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => Rules::AllowAll,
        Err(e) => Rules::Unreadable(e.to_string()),
    }
}
