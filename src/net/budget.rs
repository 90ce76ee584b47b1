//! Per-host budgets: how hard one host (and its subdomains, which share
//! its budget: every `*.substack.com` is one service) may be asked, and
//! which budget a host falls under. The one HTTP client keeps them.

use super::client::FetchSettings;

/// How hard one host (and its subdomains) may be asked: request starts at
/// least `interval_ms` apart, at most `concurrency` at once
/// (`[fetch.hosts."github.com"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostBudget {
    pub interval_ms: u64,
    #[serde(default = "one")]
    pub concurrency: usize,
}

fn one() -> usize {
    1
}

impl FetchSettings {
    /// The budget a host is asked under: its own or its nearest parent's in
    /// `host_budgets` (with that name as the key all of them share), else
    /// the host alone at `per_host_interval`, one request at a time.
    pub fn budget_of(&self, host: &str) -> (String, HostBudget) {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        // A name and its parents (`a.substack.com`, `substack.com`); an address alone.
        let is_address = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok();
        let mut candidates = vec![host.as_str()];
        if !is_address {
            let mut rest = host.as_str();
            while let Some((_, parent)) = rest.split_once('.').filter(|(_, p)| p.contains('.')) {
                candidates.push(parent);
                rest = parent;
            }
        }
        if let Some((name, budget)) = candidates
            .iter()
            .find_map(|c| self.host_budgets.get(*c).map(|b| (c.to_string(), *b)))
        {
            return (name, budget);
        }
        let interval_ms = u64::try_from(self.per_host_interval.as_millis()).unwrap_or(u64::MAX);
        (
            host,
            HostBudget {
                interval_ms,
                concurrency: 1,
            },
        )
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn settings() -> FetchSettings {
        FetchSettings {
            contact_url: "https://example.com".into(),
            allow_private_networks: false,
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(1),
            max_body_bytes: 1,
            max_redirects: 0,
            per_host_interval: Duration::from_millis(1000),
            max_concurrent: 1,
            base_urls: BTreeMap::new(),
            host_budgets: [
                (
                    "substack.com".to_string(),
                    HostBudget {
                        interval_ms: 2000,
                        concurrency: 1,
                    },
                ),
                (
                    "bsky.app".to_string(),
                    HostBudget {
                        interval_ms: 250,
                        concurrency: 2,
                    },
                ),
            ]
            .into(),
        }
    }

    #[test]
    fn a_host_is_asked_under_its_own_or_its_parents_budget_else_alone() {
        let s = settings();
        assert_eq!(
            s.budget_of("bsky.app"),
            (
                "bsky.app".into(),
                HostBudget {
                    interval_ms: 250,
                    concurrency: 2
                }
            )
        );
        let (key, budget) = s.budget_of("Jane.Substack.com.");
        assert_eq!(
            (key.as_str(), budget.interval_ms),
            ("substack.com", 2000),
            "publications share one budget"
        );
        let (key, budget) = s.budget_of("blog.example.org");
        assert_eq!(
            (key.as_str(), budget),
            (
                "blog.example.org",
                HostBudget {
                    interval_ms: 1000,
                    concurrency: 1
                }
            )
        );
        assert_eq!(s.budget_of("10.0.0.1").0, "10.0.0.1", "an address has no parents");
    }
}
