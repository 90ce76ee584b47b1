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
