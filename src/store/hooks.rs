//! Webhook deliveries that named nobody rapport knows: kept for a rep or a
//! manager to review (make the prospect, or attach to one), dropped after
//! `[hooks] keep_unmatched_days`.

use super::{RepScope, StoreResult};
use crate::domain::prospect::RepId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One fact of a delivery, for one address nobody in rapport has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedDelivery {
    pub id: i64,
    /// `calendly`, `calcom`, `docusign`, `pandadoc`.
    pub provider: String,
    /// The event it becomes: `meeting.booked`, `proposal.signed`, ...
    pub kind: String,
    pub email: String,
    /// The delivery's key (the event's source key is this and the prospect).
    pub source_key: String,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
    pub starts_at: Option<DateTime<Utc>>,
    /// The rep who organised or sent it, when that is a rep.
    pub rep_id: Option<RepId>,
    pub received_at: DateTime<Utc>,
}

#[async_trait]
pub trait HookStore: Send + Sync {
    /// Keeps a delivery for review (`id` is ignored); false when the same
    /// fact for the same address is kept already.
    async fn keep_unmatched(&self, delivery: &UnmatchedDelivery) -> StoreResult<bool>;
    /// The deliveries the scope may review (a rep: the ones they organised), oldest first.
    async fn list_unmatched(&self, scope: RepScope) -> StoreResult<Vec<UnmatchedDelivery>>;
    /// One of them, or NotFound when it is not there or not the scope's.
    async fn find_unmatched(&self, scope: RepScope, id: i64) -> StoreResult<UnmatchedDelivery>;
    /// Forgets a reviewed delivery; false when it was not there.
    async fn drop_unmatched(&self, scope: RepScope, id: i64) -> StoreResult<bool>;
    /// Forgets deliveries received before `before`; how many.
    async fn drop_unmatched_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
