//! rapport: a self-hosted social-selling engagement tracker and sync daemon.
//!
//! - [`app`]: the use cases every door calls, with the actor's scope.
//! - [`domain`]: the pure core (stages, forecast, import rules, schedules), no IO.
//! - [`clock`]: the system's clocks (the domain is handed a `Clock`, never reads one).
//! - [`config`]: loading and validating configuration.
//! - [`rules`]: the stage rules run over the event log.
//! - [`sequences`]: enrolling, the sending pass, the outbox, settling cut-off sends, stops.
//! - [`digest`]: each rep's morning digest, gathered and mailed.
//! - [`store`]: persistence behind the [`store::Store`] trait (SQLite now).
//! - [`outbound`]: outgoing mail transport (SMTP or the `.eml` outbox) and mail to a rep.
//! - [`memory`]: bounds the allocator's arenas at start (the daemon's memory budget).
//! - [`metrics`]: the operator's `/metrics` (Prometheus text): counters and the store's counts.
//! - [`net`]: outbound HTTP with the SSRF guard.
//! - [`sources`]: prospects' public feeds and reps' mailboxes.
//! - [`web`]: the daemon's HTTP listener (one-click unsubscribe).
//! - [`webhooks`]: outgoing webhooks, queued from the event log and delivered signed.
//! - [`daemon`]: the job scheduler and its jobs.
//! - [`cli`]: the command line, the binary's edge.
//! - [`robustness`]: hostile input's paths as functions of bytes, for the fuzzers.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod domain;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod outbound;
pub mod robustness;
pub mod rules;
pub mod sequences;
pub mod sources;
pub mod store;
pub mod web;
pub mod webhooks;
