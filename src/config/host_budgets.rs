//! The per-host budgets rapport ships, inside each platform's documented
//! (or, where none is documented, a conservative) anonymous limit, and the
//! config's `[fetch.hosts."HOST"]` over them.

use super::{FetchConfig, HostBudget};
use std::collections::BTreeMap;

/// Budgets that stay inside each platform's documented (or, where none is
/// documented, a conservative) anonymous limit; `[fetch.hosts]` overrides.
pub const SHIPPED_HOST_BUDGETS: [(&str, HostBudget); 7] = [
    // Bluesky's public API: 3,000 requests per 5 minutes per address (10/s).
    (
        "bsky.app",
        HostBudget {
            interval_ms: 250,
            concurrency: 2,
        },
    ),
    // Mastodon's default: 300 requests per 5 minutes per address (1/s).
    (
        "mastodon.social",
        HostBudget {
            interval_ms: 1200,
            concurrency: 1,
        },
    ),
    // GitHub's web pages and Atom feeds: no published anonymous figure.
    (
        "github.com",
        HostBudget {
            interval_ms: 1000,
            concurrency: 1,
        },
    ),
    (
        "youtube.com",
        HostBudget {
            interval_ms: 1000,
            concurrency: 1,
        },
    ),
    // Every *.substack.com publication is one service.
    (
        "substack.com",
        HostBudget {
            interval_ms: 1000,
            concurrency: 1,
        },
    ),
    (
        "medium.com",
        HostBudget {
            interval_ms: 1000,
            concurrency: 1,
        },
    ),
    (
        "dev.to",
        HostBudget {
            interval_ms: 1000,
            concurrency: 1,
        },
    ),
];

impl FetchConfig {
    /// The shipped budgets with the config's over them, by lower-case host.
    pub fn host_budgets(&self) -> BTreeMap<String, HostBudget> {
        let mut budgets: BTreeMap<String, HostBudget> =
            SHIPPED_HOST_BUDGETS.iter().map(|(h, b)| (h.to_string(), *b)).collect();
        for (host, budget) in &self.hosts {
            budgets.insert(host.trim().trim_end_matches('.').to_ascii_lowercase(), *budget);
        }
        budgets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests per second each shipped host may take from one address:
    /// the documented anonymous limit, else 1/s.
    fn documented_limit(host: &str) -> f64 {
        match host {
            // 3,000 requests per 5 minutes.
            "bsky.app" => 10.0,
            // 300 requests per 5 minutes.
            "mastodon.social" => 1.0,
            _ => 1.0,
        }
    }

    #[test]
    fn every_shipped_budget_stays_inside_its_platforms_anonymous_limit() {
        for (host, budget) in SHIPPED_HOST_BUDGETS {
            let per_second = budget.concurrency as f64 * 1000.0 / budget.interval_ms as f64;
            assert!(
                per_second <= documented_limit(host),
                "{host}: {per_second:.2} requests/s against a limit of {}",
                documented_limit(host)
            );
            assert!(
                budget.concurrency >= 1 && budget.interval_ms >= 100,
                "{host}: {budget:?}"
            );
        }
        let hosts: Vec<&str> = SHIPPED_HOST_BUDGETS.iter().map(|(h, _)| *h).collect();
        for busy in [
            "github.com",
            "bsky.app",
            "mastodon.social",
            "youtube.com",
            "substack.com",
        ] {
            assert!(hosts.contains(&busy), "the issue's busy hosts ship a budget: {busy}");
        }
    }
}
