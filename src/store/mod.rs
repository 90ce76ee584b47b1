//! Persistence. All SQL lives behind the [`Store`] trait, implemented once
//! per backend (`sqlite/` for the embedded default, `postgres/` for a team
//! with several daemons), each with its own SQL and migrations, so both serve
//! the same callers. Every prospect query takes the rep scope it runs in.

mod accounts;
mod board;
mod calendar;
pub mod copy;
mod digests;
mod events;
mod forecast;
pub mod hooks;
pub mod hosts;
mod idempotency;
mod jobs;
pub mod lockouts;
mod mail;
pub mod migrations;
pub mod ops;
mod postgres;
mod prospects;
mod reps;
mod rules;
mod sending;
mod sequences;
mod sources;
mod sqlite;
mod tasks;
pub mod webhooks;

pub use accounts::AccountStore;
pub use board::BoardStore;
pub use calendar::CalendarStore;
pub use digests::DigestStore;
pub use events::EventStore;
pub use forecast::ForecastStore;
pub use hooks::{HookStore, UnmatchedDelivery};
pub use hosts::{HostStore, StoredRobots};
pub use idempotency::IdempotencyStore;
pub use jobs::{JobRun, JobStore};
pub use lockouts::{LockoutKind, LockoutStore};
pub use mail::MailStore;
pub use ops::{OpsSnapshot, OpsStore};
pub use postgres::PgStore;
pub use prospects::ProspectStore;
pub use reps::RepStore;
pub use rules::{NewSuggestion, RulesStore, SuggestedPerson, Suggestion, SuggestionDecision};
pub use sending::{
    EnrolmentUpdate, NewSend, OutboxEntry, PacingGuard, SendStart, SendingLoad, SendingPause, SendingStore,
};
pub use sequences::SequenceStore;
pub use sources::SourceStore;
pub use sqlite::SqliteStore;
pub use tasks::{NewTask, Task, TaskStore};
pub use webhooks::{Attempt, NewDelivery, OutDelivery, WebhookStore};

use crate::domain::event::{Event, NewEvent};
use crate::domain::forecast::Deal;
use crate::domain::import::ImportRow;
use crate::domain::mail::MailEffect;
use crate::domain::polling::Validators;
use crate::domain::prospect::{NewRep, Prospect, ProspectData, ProspectEdit, ProspectId, ProspectRef, Rep, RepId};
pub use crate::domain::records::{
    Claim, Enrolment, IdempotentClaim, ImportOutcome, MailFolderState, ProspectWork, Recency, Source, StageSum,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("database error while trying to {action}: {source}")]
    Database { action: &'static str, source: sqlx::Error },
    #[error("could not open the database at {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("stored data is not readable ({0}); was the database written by a newer rapport?")]
    Corrupt(String),
}

impl StoreError {
    /// Not found and conflicts are the caller's input; the rest is the system's.
    pub fn is_input_error(&self) -> bool {
        matches!(self, StoreError::NotFound(_) | StoreError::Conflict(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which prospects a query may see: one rep's, or (for team-wide commands) all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepScope {
    Rep(RepId),
    Team,
}

#[derive(Debug, Clone, Default)]
pub struct ProspectFilter {
    pub pipeline: Option<String>,
    pub stage: Option<String>,
    pub tag: Option<String>,
    /// Text anywhere in the name, email, company or title (any case).
    pub search: Option<String>,
    /// At most this many, in id order.
    pub limit: Option<u32>,
    /// Only these prospects.
    pub ids: Option<Vec<ProspectId>>,
    /// Only this rep's (within the scope: a rep's scope stays theirs).
    pub rep: Option<RepId>,
    /// Only prospects with a greater id (the cursor of a paged list).
    pub after: Option<ProspectId>,
}

/// A deal with what the forecast groups it by.
#[derive(Debug, Clone)]
pub struct PipelineDeal {
    pub pipeline: String,
    pub currency: String,
    pub deal: Deal,
}

/// When a source is polled next, and the health that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSchedule {
    pub interval_secs: i64,
    pub consecutive_failures: u32,
    pub broken: bool,
    pub next_poll_at: DateTime<Utc>,
}

/// What one poll of a source found, to store in one transaction.
#[derive(Debug, Clone)]
pub struct PollRecord {
    pub feed_url: Option<String>,
    pub validators: Validators,
    pub status: String,
    pub error: Option<String>,
    pub first_poll_done: bool,
    /// `post` events for the items seen; ones already stored (same key) are skipped.
    pub events: Vec<NewEvent>,
    /// The schedule when any event was new...
    pub if_new: PollSchedule,
    /// ...and when none was.
    pub if_not_new: PollSchedule,
}

/// How far a mail folder has been read. UIDs only compare within one UIDVALIDITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FolderCursor {
    pub uid_validity: Option<u32>,
    pub last_uid: u32,
}

/// What one batch of a folder's messages gave, stored with the folder's new cursor.
#[derive(Debug, Clone)]
pub struct MailBatch {
    pub rep_id: RepId,
    /// The worker's lease token.
    pub owner: String,
    pub cursor: FolderCursor,
    /// The worker's lease on the folder, renewed with each batch.
    pub lease_until: DateTime<Utc>,
    pub effects: Vec<MailEffect>,
}

/// A prospect about to be enrolled in a sequence.
#[derive(Debug, Clone)]
pub struct NewEnrolment {
    pub prospect_id: ProspectId,
    pub sequence: String,
    pub variant: u32,
    pub next_due_at: DateTime<Utc>,
}

#[async_trait]
pub trait Store:
    RepStore
    + AccountStore
    + BoardStore
    + ForecastStore
    + IdempotencyStore
    + HookStore
    + HostStore
    + CalendarStore
    + OpsStore
    + WebhookStore
    + LockoutStore
    + SendingStore
    + TaskStore
    + RulesStore
    + DigestStore
    + JobStore
    + MailStore
    + SourceStore
    + SequenceStore
    + EventStore
    + ProspectStore
    + Send
    + Sync
{
    /// A clean stop: writes everything back into the database file (SQLite's
    /// write-ahead log is emptied) and closes the connections.
    async fn close(&self);
    /// Whether several daemons may share this store (PostgreSQL): then
    /// politeness towards hosts goes through it too.
    fn shared_by_daemons(&self) -> bool {
        false
    }
}

/// Who this process is when it claims work: host and process id, shown as
/// a lease's owner.
pub fn worker_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}", std::process::id())
    })
}

/// Whether `url` names a backend rapport has: `sqlite:` or `postgres://`.
pub fn is_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || is_postgres_url(url)
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the store the URL names (applying its migrations): SQLite waits up
/// to `wait` for another writer, PostgreSQL up to `wait` for a connection.
pub async fn open(
    url: &str,
    wait: std::time::Duration,
    max_connections: u32,
    password: Option<&str>,
) -> StoreResult<std::sync::Arc<dyn Store>> {
    if is_postgres_url(url) {
        Ok(std::sync::Arc::new(
            PgStore::open(url, wait, max_connections, password).await?,
        ))
    } else {
        Ok(std::sync::Arc::new(
            SqliteStore::open(url, wait, max_connections).await?,
        ))
    }
}

/// The stored form of an address on the suppression list.
pub fn email_hash(email: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}
