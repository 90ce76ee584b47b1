//! What the stage rules keep: where they are in the event log, and the
//! suggestions waiting for reps.

use super::StoreResult;
use crate::domain::event::{Event, NewEvent};
use crate::domain::prospect::ProspectId;
pub use crate::domain::records::{SuggestedPerson, Suggestion};
use crate::store::RepScope;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct NewSuggestion {
    pub prospect_id: ProspectId,
    pub rule: String,
    pub from_stage: String,
    pub to_stage: String,
    pub reason: String,
    pub key: String,
    /// A new prospect to add (then `to_stage` is empty).
    pub person: Option<SuggestedPerson>,
}

#[async_trait]
pub trait RulesStore: Send + Sync {
    /// Events after `after_id` in the order they were stored, at most `limit`.
    async fn events_after(&self, after_id: i64, limit: u32) -> StoreResult<Vec<Event>>;
    async fn rule_cursor(&self) -> StoreResult<i64>;
    async fn set_rule_cursor(&self, last_event_id: i64) -> StoreResult<()>;
    /// False when this firing was suggested before.
    async fn add_suggestion(&self, suggestion: &NewSuggestion, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn open_suggestions(&self, scope: RepScope) -> StoreResult<Vec<Suggestion>>;
    /// Marks a waiting suggestion approved (with the stage change `move_event`
    /// records, if the prospect is still where the rule saw them; for a
    /// person, with the prospect added) or rejected.
    async fn decide_suggestion(
        &self,
        scope: RepScope,
        id: i64,
        decision: SuggestionDecision,
        now: DateTime<Utc>,
    ) -> StoreResult<Suggestion>;
    /// Records a firing about to be carried out (pending until
    /// `finish_firing`) and counts the attempt: `Some(n)` for the n-th try,
    /// `None` when it was carried out (or given up) before. A pending one,
    /// whose action was lost, is tried again.
    async fn record_firing(
        &self,
        key: &str,
        rule: &str,
        prospect: ProspectId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u32>>;
    /// Marks a firing's action committed.
    async fn finish_firing(&self, key: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Stops the prospect's running sequence, with the reason.
    async fn stop_sequences_of(
        &self,
        scope: RepScope,
        prospect: ProspectId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// The rep's answer to a suggestion.
#[derive(Debug, Clone)]
pub enum SuggestionDecision {
    /// With the stage-change event to record.
    Approve {
        by: String,
        move_event: NewEvent,
    },
    Reject {
        by: String,
    },
    /// A person's suggestion approved: the prospect added for them (or the
    /// one already held with their address).
    Added {
        by: String,
        prospect: ProspectId,
    },
}

/// A suggested person as both stores keep it: JSON, so the prefill can grow.
pub(crate) fn person_json(person: &SuggestedPerson) -> String {
    serde_json::to_string(person).unwrap_or_default()
}

/// A stored suggested person read back (none for a stage change).
pub(crate) fn person_from_json(text: Option<String>) -> super::StoreResult<Option<SuggestedPerson>> {
    text.map(|text| {
        serde_json::from_str(&text).map_err(|e| super::StoreError::Corrupt(format!("suggested person: {e}")))
    })
    .transpose()
}
