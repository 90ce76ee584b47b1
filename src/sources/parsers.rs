//! The threads feeds are parsed on: one per core, taking parses from a
//! queue one after another, shared by every poller of the process.
//!
//! Parses used to go to tokio's blocking pool, at most one per core (a
//! semaphore). Each then waited for a blocking thread to wake, and its
//! permit stayed held until the lane's task was polled again: in the first
//! poll of 10,000 realistic feeds a permit was held 325 µs a feed, 137 of
//! them with no parse running. Here a thread that finishes a parse takes
//! the next queued one at once, and the lane is woken on its own time. The
//! queue holds at most one document per running lane (each waits for its
//! parse), and a parse runs on one of these threads only, so the documents
//! parsed at once stay one per core. They run at a lower priority than
//! the rest of the process (`yield_to_the_other_threads`).

use std::sync::OnceLock;

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the parse threads, started on first use; `None` when no
/// thread could be started (parses then go to the blocking pool).
fn queue() -> Option<&'static flume::Sender<Job>> {
    static QUEUE: OnceLock<Option<flume::Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = flume::unbounded::<Job>();
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let started = (0..threads)
                .filter(|n| {
                    let receiver = receiver.clone();
                    std::thread::Builder::new()
                        .name(format!("rapport-parse-{n}"))
                        .spawn(move || {
                            yield_to_the_other_threads();
                            // Ends when the process does (the queue's sender is never dropped).
                            while let Ok(job) = receiver.recv() {
                                job();
                            }
                        })
                        .map_err(|e| tracing::warn!(error = %e, "a feed parse thread did not start"))
                        .is_ok()
                })
                .count();
            (started > 0).then_some(sender)
        })
        .as_ref()
}

/// How much lower than the process's the parse threads' priority is (a
/// nice value, added to the process's own).
const NICENESS: libc::c_int = 10;

/// Lowers the calling parse thread's priority by `NICENESS`. The threads
/// that keep a poll's work coming and going (the lanes' fetches and
/// decompression on the async threads, the database's thread and the
/// writer) are then given a core first when they wake, and the parse
/// threads take most of what time is left; at equal priority they took their
/// turns from those, so fetches stalled, the parse queue ran dry and the
/// cores idled between. `cargo bench --bench poll`, the first poll of
/// 10,000 realistic feeds, five runs each in turns: 51–60 % of fetch-only
/// (mean 54) with 1.80 cores busy, against 46–52 % (mean 50) with 1.68.
/// The web and API doors answer as promptly during a first poll, too.
/// A parse still has all the CPU the machine does not need elsewhere.
fn yield_to_the_other_threads() {
    #[cfg(target_os = "linux")]
    // SAFETY: nice only changes the calling thread's scheduling priority
    // (on Linux a nice value is a thread's own); a refusal changes nothing.
    unsafe {
        libc::nice(NICENESS);
    }
}

/// Runs `work` (a parse) on a parse thread and gives its result; `None`
/// when it panicked (the thread goes on with the next).
pub(super) async fn parse<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let Some(queue) = queue() else {
        return tokio::task::spawn_blocking(work)
            .await
            .map_err(|stopped| tracing::error!(error = %stopped, "a feed parse failed (a parser bug)"))
            .ok();
    };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(
        move || match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(parsed) => {
                let _ = done.send(parsed);
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("(no message)");
                tracing::error!(panic = message, "a feed parse failed (a parser bug)");
            }
        },
    );
    queue.send(job).ok()?;
    result.await.ok()
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn parses_run_on_the_parse_threads_and_a_panic_is_only_a_failed_parse() {
        let thread = super::parse(|| std::thread::current().name().map(str::to_owned)).await;
        assert!(thread.flatten().is_some_and(|name| name.starts_with("rapport-parse-")));
        let failed: Option<()> = super::parse(|| panic!("a parser bug")).await;
        assert_eq!(failed, None);
        let after = super::parse(|| 2 + 2).await;
        assert_eq!(after, Some(4), "the threads go on after a panic");
    }

    /// A thread's nice value (Linux: field 19 of /proc/thread-self/stat).
    #[cfg(target_os = "linux")]
    fn niceness() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        fields[16].parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_parse_threads_run_below_the_others_priority() {
        let parsing = super::parse(niceness).await.unwrap();
        let here = niceness();
        assert_eq!(parsing, (here + i64::from(super::NICENESS)).min(19), "here {here}");
    }
}
