//! Fetching a pass's feeds host by host (the rules and their reasons are in
//! `domain::host_lanes`): each claimed batch becomes lanes, one per request
//! a host may have in flight, each polling its feeds one after another;
//! what a host's budget cannot reach within `BATCH_TARGET` is given back
//! due at its later turns. Up to `[fetch] max_concurrent` lanes run side
//! by side, and more is claimed as soon as half of what was claimed is
//! done, so a slow host's lane never holds back the others. A pass goes on until the feeds it gave back have come due and
//! been polled, up to `DRAIN_LIMIT`.

use super::poll::Poller;
use crate::domain::host_lanes::{self, Budget};
use crate::store::{Claim, PollRecord, Source, StoreResult};
use chrono::{DateTime, Duration, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::mpsc::Sender;
use url::Url;

/// How far ahead of now a host's lanes may hold work at its budget's pace.
const BATCH_TARGET: Duration = Duration::seconds(10);
/// The longest a pass waits for feeds it gave back to come due; later ones
/// are left to the next pass (the poll job runs every five minutes).
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// A claim and its plan, in flight beside the lanes: whether the claim
/// came back full, and the lanes.
type Refill<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<(bool, Lanes)>> + Send + 'a>>;

/// What the fetch loop woke up for.
enum Step {
    Claimed(StoreResult<(bool, Lanes)>),
    Polled(Option<Result<usize, ()>>),
}

/// A claimed batch planned: its lanes, how many feeds were given back, and
/// (real time from now, at most `DRAIN_LIMIT`) when the last of them is due.
struct Lanes {
    lanes: Vec<Vec<Source>>,
    deferred: u64,
    drain_for: Option<std::time::Duration>,
}

impl Poller {
    /// Claims and polls every due source (or one prospect's), sending each
    /// result to the writer; counts the feeds given back in `deferred`.
    pub(super) async fn fetch_due(
        &self,
        prospect: Option<i64>,
        sender: Sender<(Claim, PollRecord)>,
        deferred: &AtomicU64,
    ) -> StoreResult<()> {
        let batch = self.batch() as usize;
        // However busy a host stays, the pass stops waiting this long after it began.
        let pass_deadline = Instant::now() + DRAIN_LIMIT;
        let mut drain_until: Option<Instant> = None;
        let mut running = FuturesUnordered::new();
        // Lanes wait here for a place: at most `[fetch] max_concurrent` run at
        // once, each holding at most one request and one database call.
        let mut waiting_lanes: VecDeque<Vec<Source>> = VecDeque::new();
        let mut outstanding = 0usize;
        let mut all_claimed = false;
        // The next claim runs beside the lanes, never while they stand still:
        // a lane may hold a pooled connection (its host's shared turn), and a
        // claim waiting for a connection while the lanes wait for it would wait
        // for ever.
        let mut refill: Option<Refill<'_>> = None;
        loop {
            if refill.is_none() && !all_claimed && (running.is_empty() || outstanding <= batch / 2) {
                let room = batch.saturating_sub(outstanding).max(1);
                refill = Some(Box::pin(async move {
                    let claimed = self.claim(prospect, room as u32).await?;
                    let full = claimed.len() >= room;
                    let planned = self.lanes(claimed, prospect.is_none()).await?;
                    Ok((full, planned))
                }));
            }
            while running.len() < self.concurrency() {
                let Some(lane) = waiting_lanes.pop_front() else {
                    break;
                };
                running.push(self.run_lane(lane, &sender));
            }
            if refill.is_none() && running.is_empty() {
                // Nothing to claim now and nothing running. Feeds given back
                // come due along their host's budget: poll them in this pass.
                let left = drain_until.map(|until: Instant| until.saturating_duration_since(Instant::now()));
                match left {
                    Some(left) if !left.is_zero() => {
                        tokio::time::sleep(left.min(std::time::Duration::from_secs(1))).await;
                        all_claimed = false;
                        continue;
                    }
                    _ => return Ok(()),
                }
            }
            let step = {
                let claiming = async {
                    match refill.as_mut() {
                        Some(claim) => claim.await,
                        None => std::future::pending().await,
                    }
                };
                let polling = async {
                    match running.is_empty() {
                        true => std::future::pending().await,
                        false => running.next().await,
                    }
                };
                tokio::select! {
                    claimed = claiming => Step::Claimed(claimed),
                    done = polling => Step::Polled(done),
                }
            };
            match step {
                Step::Claimed(claimed) => {
                    refill = None;
                    let (full, planned) = claimed?;
                    all_claimed = prospect.is_some() || !full;
                    deferred.fetch_add(planned.deferred, Ordering::Relaxed);
                    if let Some(wait) = planned.drain_for {
                        let until = (Instant::now() + wait).min(pass_deadline);
                        drain_until = Some(drain_until.map_or(until, |d| d.max(until)));
                    }
                    for lane in planned.lanes {
                        outstanding += lane.len();
                        waiting_lanes.push_back(lane);
                    }
                }
                Step::Polled(Some(Ok(done))) => outstanding = outstanding.saturating_sub(done),
                // The writer stopped (it failed): its error is the pass's.
                Step::Polled(Some(Err(()))) => return Ok(()),
                Step::Polled(None) => {}
            }
        }
    }

    /// Polls a lane's feeds one after another, each fetched while the one
    /// before is parsed and sent to the writer: a lane still holds at most
    /// one request, and its next starts without waiting for a parse thread
    /// or a place in the writer's queue. Fetched and then parsed in turn,
    /// the lanes' requests in flight fell below `[fetch] max_concurrent`
    /// whenever parses queued (`cargo bench --bench poll`, the first poll
    /// of 10,000 realistic feeds: 7,137 feeds/s against 6,764, eight runs
    /// each in turns). Gives how many were polled, or `Err` when the
    /// writer is gone.
    async fn run_lane(&self, lane: Vec<Source>, sender: &Sender<(Claim, PollRecord)>) -> Result<usize, ()> {
        let count = lane.len();
        let finish = |source: Source, fetched| async move {
            let result = self.finish(source, fetched).await;
            sender.send(result).await.map_err(|_| ())
        };
        let mut finishing = None;
        for source in lane {
            let fetching = self.fetch(&source);
            let fetched = match finishing.take() {
                Some(previous) => {
                    let (fetched, sent) = tokio::join!(fetching, previous);
                    sent?;
                    fetched
                }
                None => fetching.await,
            };
            finishing = Some(finish(source, fetched));
        }
        match finishing {
            Some(last) => last.await.map(|()| count),
            None => Ok(count),
        }
    }

    /// Splits a claimed batch into host lanes; with `spread`, what a host's
    /// budget cannot reach soon is given back for its later turns (not for
    /// one prospect's feeds polled on request: those go at once).
    async fn lanes(&self, claimed: Vec<Source>, spread: bool) -> StoreResult<Lanes> {
        let items = claimed
            .into_iter()
            .map(|source| {
                let url = source.feed_url.as_deref().unwrap_or(&source.page_url);
                match Url::parse(url) {
                    Ok(url) => {
                        let (key, budget) = self.client().budget_key(&url);
                        let budget = Budget {
                            interval_ms: if spread { budget.interval_ms } else { 0 },
                            concurrency: budget.concurrency,
                        };
                        (key, budget, source)
                    }
                    // It fails at once when polled: a lane of its own.
                    Err(_) => (
                        format!("unparsable:{}", source.id),
                        Budget {
                            interval_ms: 0,
                            concurrency: 1,
                        },
                        source,
                    ),
                }
            })
            .collect();
        let now = self.now();
        let plan = host_lanes::plan(items, now, BATCH_TARGET, &mut self.queued_hosts());
        let mut drain_for = None;
        if !plan.deferred.is_empty() {
            let deferrals: Vec<(Claim, DateTime<Utc>)> = plan
                .deferred
                .iter()
                .map(|(source, due)| (source.claim(), *due))
                .collect();
            self.give_back_for_later(&deferrals).await?;
            let latest = deferrals.iter().map(|(_, due)| *due).max().unwrap_or(now);
            drain_for = Some((latest - now).to_std().unwrap_or_default().min(DRAIN_LIMIT));
        }
        Ok(Lanes {
            lanes: plan.lanes,
            deferred: plan.deferred.len() as u64,
            drain_for,
        })
    }
}
