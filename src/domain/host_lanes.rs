//! How a batch of claimed feeds is polled so that no host's budget holds
//! back the others, and a host with more feeds than its budget has its
//! polls laid out evenly along that budget.
//!
//! Without this, a batch is the oldest due feeds of every host together:
//! the requests waiting for a busy host's next turn take every place the
//! poller has, so all hosts go at the busy host's pace; and once that host
//! falls behind, its backlog is the oldest work, so every claim is its
//! feeds and the other hosts' feeds wait behind them however small their
//! own load. Here:
//! - each host keeps what its budget can start within `target` of now,
//!   counting the work its lanes hold already (`queued`): at most
//!   `ceil(target / interval) × concurrency` feeds;
//! - the rest of its feeds are given back due at the budget's next turns
//!   after that (evenly spaced, `interval / concurrency` apart), so the next
//!   claims reach the other hosts' due feeds, and the busy host's polls
//!   follow its budget instead of piling up as overdue;
//! - what is kept is split into lanes, one per request the host may have
//!   in flight; a lane polls its feeds one after another, so a place taken
//!   by a lane is never spent waiting for a host's turn.
//!
//! Pure: the items' budget keys and budgets and the time are passed in.

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};

/// A host's budget as the planner sees it: starts at least `interval_ms`
/// apart (0: no pacing), at most `concurrency` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub interval_ms: u64,
    pub concurrency: usize,
}

/// A batch planned: lanes to poll now, and items given back for later.
#[derive(Debug)]
pub struct Plan<T> {
    /// Each lane's items, polled one after another.
    pub lanes: Vec<Vec<T>>,
    /// Items the host's budget cannot reach in this batch, each with the
    /// time it is due again.
    pub deferred: Vec<(T, DateTime<Utc>)>,
}

/// Plans a claimed batch (items in claim order: oldest due first).
/// `queued` holds, per host, when the work already handed to its lanes
/// ends at its budget's pace; it is advanced by what this batch keeps, so
/// batches claimed while a host's lane still runs add to its queue only
/// what fits within `target` of now.
pub fn plan<T>(
    items: Vec<(String, Budget, T)>,
    now: DateTime<Utc>,
    target: Duration,
    queued: &mut HashMap<String, DateTime<Utc>>,
) -> Plan<T> {
    let mut hosts: BTreeMap<String, (Budget, Vec<T>)> = BTreeMap::new();
    let mut order = Vec::new();
    for (key, budget, item) in items {
        let entry = hosts.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (budget, Vec::new())
        });
        entry.1.push(item);
    }
    queued.retain(|_, ends| *ends > now);
    let mut plan = Plan {
        lanes: Vec::new(),
        deferred: Vec::new(),
    };
    // Hosts in the order their oldest feed was claimed.
    for key in order {
        let Some((budget, items)) = hosts.remove(&key) else {
            continue;
        };
        let concurrency = budget.concurrency.max(1);
        let mut kept = Vec::new();
        if budget.interval_ms == 0 {
            kept = items;
        } else {
            // The budget's turns, `interval / concurrency` apart, after what is queued already.
            let step = Duration::milliseconds((budget.interval_ms / concurrency as u64).max(1) as i64);
            let mut turn = queued.get(&key).copied().unwrap_or(now).max(now);
            let mut later = Vec::new();
            for item in items {
                if turn < now + target && later.is_empty() {
                    kept.push(item);
                    turn += step;
                } else {
                    later.push(item);
                }
            }
            if !kept.is_empty() {
                queued.insert(key.clone(), turn);
            }
            for (n, item) in later.into_iter().enumerate() {
                plan.deferred.push((item, turn + step * n as i32));
            }
        }
        if kept.is_empty() {
            continue;
        }
        let count = concurrency.min(kept.len());
        let mut lanes: Vec<Vec<T>> = (0..count).map(|_| Vec::new()).collect();
        for (n, item) in kept.into_iter().enumerate() {
            lanes[n % count].push(item);
        }
        plan.lanes.extend(lanes);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const ONE_A_SECOND: Budget = Budget {
        interval_ms: 1000,
        concurrency: 1,
    };

    #[test]
    fn a_busy_host_keeps_what_its_budget_starts_in_a_batch_and_the_rest_follow_its_turns() {
        let now = at("2026-12-01T09:00:00Z");
        let mut items = Vec::new();
        for n in 0..30 {
            items.push(("busy.example".to_string(), ONE_A_SECOND, n));
        }
        items.push(("quiet.example".to_string(), ONE_A_SECOND, 100));
        let plan = plan(items, now, Duration::seconds(10), &mut HashMap::new());
        assert_eq!(plan.lanes, vec![(0..10).collect::<Vec<_>>(), vec![100]]);
        assert_eq!(plan.deferred.len(), 20);
        // The first given back is due at the budget's first turn after the ten kept, then one a second.
        assert_eq!(plan.deferred[0], (10, at("2026-12-01T09:00:10Z")));
        assert_eq!(plan.deferred[19], (29, at("2026-12-01T09:00:29Z")));
    }

    #[test]
    fn a_host_allowed_several_at_once_gets_a_lane_for_each_and_turns_twice_as_close() {
        let now = at("2026-12-01T09:00:00Z");
        let budget = Budget {
            interval_ms: 250,
            concurrency: 2,
        };
        let items = (0..12).map(|n| ("bsky.app".to_string(), budget, n)).collect();
        let plan = plan(items, now, Duration::seconds(1), &mut HashMap::new());
        // 1 s of 250 ms turns, two at a time: eight polled, in two lanes.
        assert_eq!(plan.lanes, vec![vec![0, 2, 4, 6], vec![1, 3, 5, 7]]);
        let due: Vec<_> = plan.deferred.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            due,
            ["09:00:01", "09:00:01.125", "09:00:01.250", "09:00:01.375"].map(|t| at(&format!("2026-12-01T{t}Z")))
        );
    }

    #[test]
    fn an_unpaced_host_keeps_everything_in_one_lane_and_nothing_waits() {
        let now = at("2026-12-01T09:00:00Z");
        let budget = Budget {
            interval_ms: 0,
            concurrency: 1,
        };
        let items = (0..1000).map(|n| ("intranet.example".to_string(), budget, n)).collect();
        let plan = plan(items, now, Duration::seconds(10), &mut HashMap::new());
        assert_eq!(plan.lanes.len(), 1);
        assert_eq!(plan.lanes[0].len(), 1000);
        assert!(plan.deferred.is_empty());
    }

    #[test]
    fn a_host_slower_than_a_batch_still_gets_one_turn_per_batch() {
        let now = at("2026-12-01T09:00:00Z");
        let slow = Budget {
            interval_ms: 60_000,
            concurrency: 1,
        };
        let items = (0..3).map(|n| ("slow.example".to_string(), slow, n)).collect();
        let plan = plan(items, now, Duration::seconds(10), &mut HashMap::new());
        assert_eq!(plan.lanes, vec![vec![0]]);
        assert_eq!(
            plan.deferred,
            vec![(1, at("2026-12-01T09:01:00Z")), (2, at("2026-12-01T09:02:00Z"))]
        );
    }

    #[test]
    fn a_batch_claimed_while_a_hosts_lane_runs_adds_only_what_fits_after_its_queue() {
        let now = at("2026-12-01T09:00:00Z");
        let mut queued = HashMap::new();
        let first = plan(
            (0..8).map(|n| ("busy.example".to_string(), ONE_A_SECOND, n)).collect(),
            now,
            Duration::seconds(10),
            &mut queued,
        );
        assert_eq!(first.lanes, vec![(0..8).collect::<Vec<_>>()]);
        // Two seconds on, the queue ends at 09:00:08: turns at 8, 9, 10 and 11 s fit before 09:00:12.
        let later = at("2026-12-01T09:00:02Z");
        let second = plan(
            (10..15)
                .map(|n| ("busy.example".to_string(), ONE_A_SECOND, n))
                .collect(),
            later,
            Duration::seconds(10),
            &mut queued,
        );
        assert_eq!(second.lanes, vec![vec![10, 11, 12, 13]]);
        assert_eq!(second.deferred, vec![(14, at("2026-12-01T09:00:12Z"))]);
        assert_eq!(queued["busy.example"], at("2026-12-01T09:00:12Z"));
        // Once its queue has run out, a host starts from now again.
        let much_later = at("2026-12-01T10:00:00Z");
        let third = plan(
            vec![("busy.example".to_string(), ONE_A_SECOND, 20)],
            much_later,
            Duration::seconds(10),
            &mut queued,
        );
        assert_eq!(third.lanes, vec![vec![20]]);
    }

    #[test]
    fn hosts_come_in_the_order_of_their_oldest_claimed_feed() {
        let now = at("2026-12-01T09:00:00Z");
        let items = vec![
            ("b.example".to_string(), ONE_A_SECOND, 1),
            ("a.example".to_string(), ONE_A_SECOND, 2),
            ("b.example".to_string(), ONE_A_SECOND, 3),
        ];
        let plan = plan(items, now, Duration::seconds(10), &mut HashMap::new());
        assert_eq!(plan.lanes, vec![vec![1, 3], vec![2]]);
    }
}
