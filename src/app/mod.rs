//! The application layer: one function per use case, with typed inputs and
//! outputs (what the CLI prints as JSON and the API will serve, never store
//! rows), each called with the [`Actor`] doing it, whose scope goes down to
//! SQL. The doors (CLI, web, API, webhooks, daemon jobs) parse, call one use
//! case, and render; the rules are written here once.
//!
//! Calls point inward: app uses the features (sequences, rules, digest,
//! sources), the mail transport, the settings, the store and the domain;
//! only the doors use app (`cargo test --test layers`).

pub mod accounts;
pub mod board;
pub mod calendar;
pub mod digest;
pub mod hooks;
pub mod idempotency;
pub mod mail;
pub mod pipeline;
pub mod prospect_edit;
pub mod prospect_lists;
pub mod prospects;
pub mod reps;
pub mod rules;
pub mod sequences;
pub mod sources;
pub mod status;
pub mod suggestions;
pub mod tasks;
pub mod today;
pub mod unsubscribe;
pub mod webhooks;

use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::domain::prospect::RepId;
use crate::store::{RepScope, Store, StoreError};
use std::sync::Arc;

/// What every use case works with. Cloning is cheap.
#[derive(Clone)]
pub struct Core {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
}

/// Who is acting: what they may see and change, and how their doing is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A rep: their own prospects only.
    Rep { id: RepId, name: String },
    /// A person acting for the whole team (a manager, an admin, the operator at the CLI).
    Team { name: String },
    /// rapport's own jobs.
    System { job: String },
}

impl Actor {
    /// The prospects this actor may read and change.
    pub fn scope(&self) -> RepScope {
        match self {
            Actor::Rep { id, .. } => RepScope::Rep(*id),
            Actor::Team { .. } | Actor::System { .. } => RepScope::Team,
        }
    }

    /// Whether this actor may act for the rep (their own, or the team's).
    pub fn may_act_for(&self, rep: RepId) -> bool {
        match self {
            Actor::Rep { id, .. } => *id == rep,
            Actor::Team { .. } | Actor::System { .. } => true,
        }
    }

    /// How events this actor causes name them.
    pub fn recorded_as(&self) -> crate::domain::event::Actor {
        match self {
            Actor::Rep { name, .. } | Actor::Team { name } => crate::domain::event::Actor::User(name.clone()),
            Actor::System { job } => crate::domain::event::Actor::System(job.clone()),
        }
    }
}

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is wrong; the message names it and the fix.
    #[error("{0}")]
    Invalid(String),
    /// A file with problems, each naming its place and fix.
    #[error("{} problem(s) in {what}: {}", problems.len(), problems.join("; "))]
    Problems { what: String, problems: Vec<String> },
    /// Something on rapport's side (a mail transport that cannot be set up,
    /// a template that does not render): not the caller's input.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// Nothing the actor may see is there (another rep's prospects read the same).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AppError::Store(StoreError::NotFound(_)))
    }

    /// The caller's doing (bad input, not found, a conflict), not the system's.
    pub fn is_input_error(&self) -> bool {
        match self {
            AppError::Invalid(_) | AppError::Problems { .. } => true,
            AppError::Internal(_) => false,
            AppError::Store(e) => e.is_input_error(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Told how long work goes (a bar on a terminal, nothing elsewhere).
pub trait Progress: Sync {
    fn start(&self, _total: u64) {}
    fn advance(&self, _steps: u64) {}
    fn finish(&self) {}
}

/// No progress shown.
impl Progress for () {}

/// An input problem, from the domain's checks.
pub(crate) fn invalid(message: impl Into<String>) -> AppError {
    AppError::Invalid(message.into())
}
