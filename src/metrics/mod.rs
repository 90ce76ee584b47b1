//! Operations metrics in Prometheus' text format, served on `[metrics]
//! listen` (loopback by default). Two sources: counters kept in the process
//! where things happen (feeds polled by outcome, fetch errors by class,
//! webhook deliveries by provider and result, outgoing webhooks), through
//! the `metrics` facade; and counts read from the store at each scrape
//! (events by kind, outbox by state, bounces by class, mail sync lag per
//! folder, job runs and durations, the database's size), which every daemon
//! sharing the database agrees on.

use crate::store::OpsSnapshot;
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::fmt::Write;
use std::sync::OnceLock;

/// The names of the in-process counters.
pub mod names {
    pub const FEEDS_POLLED: &str = "rapport_feeds_polled_total";
    pub const FETCH_ERRORS: &str = "rapport_fetch_errors_total";
    pub const WEBHOOKS: &str = "rapport_webhooks_total";
    pub const WEBHOOKS_OUT: &str = "rapport_webhooks_out_total";
    pub const FENCED_WRITES: &str = "rapport_fenced_writes_total";
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
            ::metrics::describe_counter!(
                names::FEEDS_POLLED,
                "Feed polls, by outcome (changed, not_modified, failed, held: its host asked for a pause)."
            );
            ::metrics::describe_counter!(names::FETCH_ERRORS, "Failed feed fetches, by class of error.");
            ::metrics::describe_counter!(
                names::FENCED_WRITES,
                "Writes refused because another worker took the work over (the lease ran out), by kind of work."
            );
            ::metrics::describe_counter!(names::WEBHOOKS, "Incoming webhook deliveries, by provider and result.");
            ::metrics::describe_counter!(
                names::WEBHOOKS_OUT,
                "Outgoing webhook delivery attempts, by result (delivered, failed, gave_up)."
            );
            Some(handle)
        })
        .as_ref()
}

/// The whole text: the process's counters, then the store's counts.
pub fn render(snapshot: &OpsSnapshot, now: DateTime<Utc>) -> String {
    let mut text = install().map(PrometheusHandle::render).unwrap_or_default();
    type Samples = Vec<(Vec<(&'static str, String)>, f64)>;
    let mut family = |name: &str, kind: &str, help: &str, samples: Samples| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            match labels.is_empty() {
                true => {
                    let _ = writeln!(text, "{name} {value}");
                }
                false => {
                    let _ = writeln!(text, "{name}{{{}}} {value}", labels.join(","));
                }
            }
        }
    };
    let counts = |pairs: &[(String, i64)], label: &'static str| -> Samples {
        pairs
            .iter()
            .map(|(k, n)| (vec![(label, k.clone())], *n as f64))
            .collect()
    };
    let events = counts(&snapshot.events_by_kind, "kind");
    family("rapport_events", "gauge", "Events stored, by kind.", events);
    let outbox = counts(&snapshot.outbox_by_state, "state");
    family(
        "rapport_outbox_messages",
        "gauge",
        "Sequence mail in the outbox, by state (sent, refused, unknown, sending).",
        outbox,
    );
    let bounces = counts(&snapshot.bounces_by_class, "class");
    family(
        "rapport_bounces",
        "gauge",
        "Bounces recorded, by class (hard, soft).",
        bounces,
    );
    let lag: Samples = snapshot
        .folders
        .iter()
        .filter_map(|(mailbox, folder, synced)| {
            let synced = (*synced)?;
            let secs = (now - synced).num_milliseconds().max(0) as f64 / 1000.0;
            Some((vec![("mailbox", mailbox.clone()), ("folder", folder.clone())], secs))
        })
        .collect();
    family(
        "rapport_mail_sync_lag_seconds",
        "gauge",
        "Seconds since each mailbox folder was last read.",
        lag,
    );
    let runs: Samples = snapshot
        .job_runs
        .iter()
        .map(|(job, outcome, n)| (vec![("job", job.clone()), ("outcome", outcome.clone())], *n as f64))
        .collect();
    family(
        "rapport_job_runs",
        "gauge",
        "Job runs kept ([daemon] keep_job_runs_days), by job and outcome.",
        runs,
    );
    let last: Samples = snapshot
        .job_last_seconds
        .iter()
        .map(|(job, secs)| (vec![("job", job.clone())], *secs))
        .collect();
    family(
        "rapport_job_last_duration_seconds",
        "gauge",
        "How long each job's latest finished run took.",
        last,
    );
    family(
        "rapport_unmatched_deliveries",
        "gauge",
        "Webhook deliveries that matched no prospect, waiting for review.",
        vec![(vec![], snapshot.unmatched_deliveries as f64)],
    );
    family(
        "rapport_database_bytes",
        "gauge",
        "The database's size.",
        vec![(vec![], snapshot.database_bytes as f64)],
    );
    text
}

/// A label value as the text format writes it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_counts_are_written_as_labelled_gauges_with_hostile_names_escaped() {
        let snapshot = OpsSnapshot {
            events_by_kind: vec![("post".into(), 3)],
            folders: vec![(
                "ann".into(),
                "INBOX \"x\"\\\n".into(),
                Some("2026-12-01T08:59:30Z".parse().unwrap()),
            )],
            database_bytes: 4096,
            ..OpsSnapshot::default()
        };
        let text = render(&snapshot, "2026-12-01T09:00:00Z".parse().unwrap());
        assert!(
            text.contains("# TYPE rapport_events gauge\nrapport_events{kind=\"post\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("rapport_mail_sync_lag_seconds{mailbox=\"ann\",folder=\"INBOX \\\"x\\\"\\\\\\n\"} 30\n"),
            "{text}"
        );
        assert!(text.contains("rapport_database_bytes 4096\n"));
    }
}
