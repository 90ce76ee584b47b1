//! How far each host's feeds are from their polling interval under the
//! host's budget: `rapport sources --hosts`. A host asked at most once per
//! `interval_ms` can take 3,600,000 / interval_ms polls an hour; its feeds
//! need the sum of 3,600 / each feed's interval. Where they need more, the
//! shortfall is the polls an hour the budget cannot give, and the feeds
//! fall behind by it; `overdue` and `most_late_secs` show how far they are
//! now. Pure: the sources' hosts, schedules and the time are passed in.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One host (a platform and its subdomains share one) and its load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostLoad {
    pub host: String,
    pub feeds: u64,
    pub interval_ms: u64,
    pub concurrency: usize,
    /// Polls an hour the feeds' own intervals ask for.
    pub needed_per_hour: f64,
    /// Polls an hour the budget allows (unbounded with no interval).
    pub budget_per_hour: Option<f64>,
    /// What the budget cannot give, per hour (0 when it keeps up).
    pub shortfall_per_hour: f64,
    /// Feeds past their next poll time now.
    pub overdue: u64,
    /// How late the most overdue feed is.
    pub most_late_secs: i64,
}

/// A source as the report sees it: its host's budget key and budget, its interval and next poll.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub host: String,
    pub interval_ms: u64,
    pub concurrency: usize,
    pub feed_interval_secs: i64,
    pub next_poll_at: DateTime<Utc>,
}

/// Each host's load, the most loaded (by shortfall, then feeds) first.
pub fn report(sources: &[Scheduled], now: DateTime<Utc>) -> Vec<HostLoad> {
    let mut hosts: std::collections::BTreeMap<&str, HostLoad> = std::collections::BTreeMap::new();
    for s in sources {
        let load = hosts.entry(&s.host).or_insert_with(|| HostLoad {
            host: s.host.clone(),
            feeds: 0,
            interval_ms: s.interval_ms,
            concurrency: s.concurrency,
            needed_per_hour: 0.0,
            budget_per_hour: (s.interval_ms > 0).then(|| 3_600_000.0 / s.interval_ms as f64),
            shortfall_per_hour: 0.0,
            overdue: 0,
            most_late_secs: 0,
        });
        load.feeds += 1;
        load.needed_per_hour += 3600.0 / s.feed_interval_secs.max(1) as f64;
        if s.next_poll_at < now {
            load.overdue += 1;
            load.most_late_secs = load.most_late_secs.max((now - s.next_poll_at).num_seconds());
        }
    }
    let mut loads: Vec<HostLoad> = hosts
        .into_values()
        .map(|mut load| {
            load.shortfall_per_hour = load
                .budget_per_hour
                .map_or(0.0, |budget| (load.needed_per_hour - budget).max(0.0));
            load
        })
        .collect();
    loads.sort_by(|a, b| {
        b.shortfall_per_hour
            .total_cmp(&a.shortfall_per_hour)
            .then(b.feeds.cmp(&a.feeds))
            .then(a.host.cmp(&b.host))
    });
    loads
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_host_with_more_feeds_than_its_budget_shows_the_shortfall_and_the_others_none() {
        let now = at("2026-12-01T09:00:00Z");
        let mut sources = Vec::new();
        // 40,000 hourly feeds on one host at one request a second: 3,600 an hour.
        for n in 0..40_000 {
            sources.push(Scheduled {
                host: "github.com".into(),
                interval_ms: 1000,
                concurrency: 1,
                feed_interval_secs: 3600,
                next_poll_at: now - chrono::Duration::seconds(n % 7200),
            });
        }
        for n in 0..600 {
            sources.push(Scheduled {
                host: format!("blog{}.example", n % 60),
                interval_ms: 1000,
                concurrency: 1,
                feed_interval_secs: 3600,
                next_poll_at: now + chrono::Duration::seconds(n),
            });
        }
        let loads = report(&sources, now);
        assert_eq!(loads[0].host, "github.com");
        assert_eq!(loads[0].feeds, 40_000);
        assert_eq!(loads[0].budget_per_hour, Some(3600.0));
        assert!((loads[0].shortfall_per_hour - 36_400.0).abs() < 1e-6);
        assert_eq!((loads[0].overdue, loads[0].most_late_secs), (39_994, 7199));
        assert!(loads[1..]
            .iter()
            .all(|l| l.shortfall_per_hour == 0.0 && l.overdue == 0 && l.feeds == 10));
        assert_eq!(loads.len(), 61);
    }
}
