//! Storing what a poll fetched: a task of its own, fed by the lanes through
//! a channel, writing what has gathered in one transaction (a group commit:
//! it waits a moment for a batch worth a commit). It runs on a thread of its
//! own (`spawn`), so the database is kept busy while the fetches go on, and
//! a slow database slows the lanes only once the channel is full.

use super::poll::PollReport;
use crate::domain::clock::Clock;
use crate::store::{Claim, PollRecord, Store, StoreResult};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::mpsc::{Receiver, Sender, UnboundedSender};

/// A polled source and what to store of its poll.
type Polled = (Claim, PollRecord);

/// Most results stored in one transaction.
const WRITE_CHUNK: usize = 128;

/// Results waiting while a transaction is written: enough to keep the
/// database busy, few enough to bound the posts held in memory (a realistic
/// feed's first poll carries about twenty).
const QUEUED: usize = WRITE_CHUNK / 2;

/// A transaction waits for this many results (or `GATHER_FOR`, or the
/// lanes' end) before it is written. Each commit writes the pages it
/// touched (sources' rows, the indexes' leaves, the log's frames) and the
/// checkpoint copies them again: written as they came, the first poll of
/// 10,000 realistic feeds made 1,500–2,300 transactions of six polls on
/// average; gathered, about 170 of 56 or more.
const GATHER: usize = QUEUED - 8;

/// The longest a result waits for others before it is written: a daemon
/// polling a few sources at a time stores each within this.
const GATHER_FOR: std::time::Duration = std::time::Duration::from_millis(20);

/// Starts a poll's writer on the writers' own thread: a runtime of one
/// thread that runs nothing else. Each of a transaction's statements is a
/// round trip to the database's thread; on the runtime the lanes share, the
/// woken writer queued behind fetches and decompression at every one of
/// them, and the first poll of realistic feeds waited on that more than on
/// the database. Writers of several pollers in one process take turns there
/// (the database lets one write at a time anyway). Should the thread not
/// start, the writer runs where it was asked for, as before.
pub(super) fn spawn<F>(writer: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    static WRITERS: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    let runtime = WRITERS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rapport-poll-writer")
            .enable_all()
            .build()
            .map_err(|e| tracing::warn!(error = %e, "no thread of its own for the poll writer; it shares the runtime"))
            .ok()
    });
    match runtime {
        Some(runtime) => runtime.spawn(writer),
        None => tokio::spawn(writer),
    }
}

/// Sources a poller claimed and has not written back yet, shared by the
/// poller (claims, heartbeats, giving back) and its writer (written back).
#[derive(Clone, Default)]
pub(super) struct Unwritten(Arc<Mutex<BTreeSet<Claim>>>);

impl Unwritten {
    pub(super) fn lock(&self) -> MutexGuard<'_, BTreeSet<Claim>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(super) struct PollWriter {
    pub(super) store: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) unwritten: Unwritten,
}

impl PollWriter {
    /// The lanes' side and the writer's side of the results channel.
    pub(super) fn channel() -> (Sender<Polled>, Receiver<Polled>) {
        tokio::sync::mpsc::channel(QUEUED)
    }

    /// Writes until the lanes are done (the channel closes), telling
    /// `written` how many polls each transaction stored.
    pub(super) async fn write_all(
        self,
        mut receiver: Receiver<Polled>,
        written: UnboundedSender<u64>,
    ) -> StoreResult<PollReport> {
        let mut report = PollReport::default();
        let mut chunk = Vec::with_capacity(WRITE_CHUNK);
        while receiver.recv_many(&mut chunk, WRITE_CHUNK).await > 0 {
            gather(&mut receiver, &mut chunk, tokio::time::Instant::now() + GATHER_FOR).await;
            let records = std::mem::take(&mut chunk);
            self.write(&records, &mut report).await?;
            // The poller may have stopped listening; the work is stored all the same.
            let _ = written.send(records.len() as u64);
        }
        Ok(report)
    }

    /// Stores a batch in one transaction and adds it to the report.
    async fn write(&self, records: &[Polled], report: &mut PollReport) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let added = self.store.record_polls(records, self.clock.now()).await?;
        {
            let mut unwritten = self.unwritten.lock();
            for (claim, _) in records {
                unwritten.remove(claim);
            }
        }
        for ((claim, record), new_posts) in records.iter().zip(added) {
            let Some(new_posts) = new_posts else {
                tracing::warn!(
                    source = claim.id,
                    "a poll was not written: the source's lease ran out and another worker took it over"
                );
                ::metrics::counter!(crate::metrics::names::FENCED_WRITES, "work" => "poll").increment(1);
                report.fenced += 1;
                continue;
            };
            report.polled += 1;
            report.new_posts += new_posts;
            if record.error.is_some() {
                report.failed += 1;
            } else if new_posts == 0 {
                report.unchanged += 1;
            }
            report.broken += u64::from(record.if_not_new.broken);
        }
        Ok(())
    }
}

/// Adds results to `chunk` until it holds `GATHER`, `until` has come or
/// the channel is closed.
async fn gather<T>(receiver: &mut Receiver<T>, chunk: &mut Vec<T>, until: tokio::time::Instant) {
    while chunk.len() < GATHER {
        let room = WRITE_CHUNK - chunk.len();
        match tokio::time::timeout_at(until, receiver.recv_many(chunk, room)).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_writer_runs_on_the_writers_own_thread() {
        let thread = super::spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .expect("the writer ran");
        assert_eq!(thread.as_deref(), Some("rapport-poll-writer"));
    }

    /// Results are written in batches of `GATHER` as they come; a lone
    /// result waits until the deadline, and none waits once the lanes are
    /// done.
    #[tokio::test]
    async fn a_transaction_gathers_results_but_none_waits_long() {
        use super::{gather, GATHER, WRITE_CHUNK};
        use tokio::time::{timeout, Duration, Instant};
        let far = || Instant::now() + Duration::from_secs(3600);
        let (sender, mut receiver) = tokio::sync::mpsc::channel(WRITE_CHUNK);
        sender.send(0).await.unwrap();
        let mut chunk = Vec::new();
        receiver.recv_many(&mut chunk, WRITE_CHUNK).await;
        let more = sender.clone();
        tokio::spawn(async move {
            for n in 1..GATHER + 10 {
                more.send(n).await.unwrap();
            }
        });
        timeout(Duration::from_secs(60), gather(&mut receiver, &mut chunk, far()))
            .await
            .expect("a full batch is written without waiting for the deadline");
        assert!(chunk.len() >= GATHER && chunk.starts_with(&[0, 1, 2]), "{chunk:?}");

        let mut lone = vec![1];
        gather(&mut receiver, &mut lone, Instant::now()).await;
        assert!(lone.len() < GATHER, "past the deadline, what has come is written");

        drop(sender);
        let mut rest = Vec::new();
        timeout(Duration::from_secs(60), gather(&mut receiver, &mut rest, far()))
            .await
            .expect("the lanes are done: nothing waits for the deadline");
    }
}
