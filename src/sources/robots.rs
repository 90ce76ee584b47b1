//! robots.txt for discovery crawling (RFC 9309). Feeds a profile names are
//! fetched as they are; fetching a person's pages to *find* a feed is
//! crawling, so it asks the site first.
//!
//! A robots.txt is cached per origin for up to 24 hours. A 4xx answer means
//! everything is allowed; a 5xx or no answer at all means nothing is, until
//! it can be read (asked again after an hour), and the caller is told why
//! (a site the guard refuses, a server error, no answer) rather than that
//! robots.txt forbids it. With several daemons, an answer one of them read is
//! kept in the database for the others (the client's shared hosts).

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

/// The kept form of an answer: `allow_all`, `unreadable` (body: why) or
/// `listed` (body: the file).
fn rules_of(kind: &str, body: &str) -> Rules {
    match kind {
        "allow_all" => Rules::AllowAll,
        "listed" => texting_robots::Robot::new(AGENT, body.as_bytes()).map_or(Rules::AllowAll, Rules::Listed),
        _ => Rules::Unreadable(body.to_string()),
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
                let (rules, age) = match kept_by_others(client, &origin).await {
                    Some(kept) => kept,
                    None => {
                        let (kind, body) = fetch_answer(client, url).await;
                        if let Some(shared) = client.shared_hosts() {
                            if let Err(error) = shared.keep_robots(&origin, kind, &body).await {
                                tracing::warn!(origin, error, "could not share a robots.txt answer");
                            }
                        }
                        (rules_of(kind, &body), Duration::ZERO)
                    }
                };
                let rules = std::sync::Arc::new(rules);
                let read_at = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                self.lock().insert(origin, (read_at, rules.clone()));
                rules
            }
        };
        rules.allows(url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, std::sync::Arc<Rules>)>> {
        self.by_origin.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A fresh answer another daemon read, with its age.
async fn kept_by_others(client: &HttpClient, origin: &str) -> Option<(Rules, Duration)> {
    let kept = match client.shared_hosts()?.robots(origin).await {
        Ok(kept) => kept?,
        Err(error) => {
            tracing::warn!(origin, error, "could not read the other daemons' robots.txt answer");
            return None;
        }
    };
    let rules = rules_of(&kept.kind, &kept.body);
    (kept.age < keep_for(&rules)).then_some((rules, kept.age))
}

async fn fetch_answer(client: &HttpClient, url: &Url) -> (&'static str, String) {
    let Ok(robots_url) = url.join("/robots.txt") else {
        return ("unreadable", format!("{url} has no robots.txt address"));
    };
    match client.get(&robots_url, &Validators::default()).await {
        Ok(Fetched::Body { bytes, .. }) => ("listed", String::from_utf8_lossy(&bytes).into_owned()),
        Ok(Fetched::NotModified) => ("allow_all", String::new()),
        Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => ("allow_all", String::new()),
        Err(e) => ("unreadable", e.to_string()),
    }
}
