//! The event log: append-only, each event with a unique source key (so a
//! re-poll, retry or redelivery adds nothing), read per prospect, for many
//! prospects at once, by the time it was recorded, or as scored activity.

use super::{Recency, RepScope, StoreResult};
use crate::domain::event::{Event, NewEvent};
use crate::domain::prospect::ProspectId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends an event about a prospect in `scope`; returns false when its
    /// source key was already stored.
    async fn append_event(&self, scope: RepScope, event: &NewEvent, now: DateTime<Utc>) -> StoreResult<bool>;
    /// A prospect's events in time order; none for a prospect outside `scope`.
    async fn list_events(&self, scope: RepScope, prospect: ProspectId) -> StoreResult<Vec<Event>>;
    /// The events of many prospects (in time order each), in a few statements.
    async fn events_of(&self, prospects: &[ProspectId]) -> StoreResult<HashMap<ProspectId, Vec<Event>>>;
    /// Events of these kinds recorded in [from, to) (a reply read late still
    /// counts as news), in the order recorded.
    async fn events_between(
        &self,
        scope: RepScope,
        kinds: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Event>>;
    /// (prospect, kind, when) of every event since `since`, for engagement scores.
    async fn activity_since(
        &self,
        scope: RepScope,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ProspectId, String, DateTime<Utc>)>>;
    /// The id of the latest event about a prospect in `scope` (0 when none):
    /// what the board's live updates watch.
    async fn latest_event_id(&self, scope: RepScope) -> StoreResult<i64>;
    /// For each of these prospects in `scope`: since when they are in their
    /// stage, and their latest event of `activity` kinds (the board's cards).
    async fn recency(
        &self,
        scope: RepScope,
        prospects: &[ProspectId],
        activity: &[&str],
    ) -> StoreResult<HashMap<ProspectId, Recency>>;
}
