//! Outgoing webhook deliveries: queued per receiver from its cursor over the
//! events, claimed with a lease, settled as delivered, retried later, or
//! given up.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub event_id: i64,
    pub message_id: String,
    pub payload: String,
}

/// A queued delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutDelivery {
    pub id: i64,
    /// The fencing number of the latest claim on it.
    #[serde(skip)]
    pub fence: i64,
    pub endpoint: String,
    pub event_id: i64,
    pub message_id: String,
    pub payload: String,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl OutDelivery {
    pub fn claim(&self) -> super::Claim {
        super::Claim {
            id: self.id,
            fence: self.fence,
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered,
    /// Failed; try again then.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed, and the 24 hours are over.
    GaveUp {
        error: String,
    },
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// The receiver's cursor (the last event id queued for it), if it has one.
    async fn webhook_cursor(&self, endpoint: &str) -> StoreResult<Option<i64>>;
    /// Queues deliveries (a second one for the same event is ignored) and
    /// moves the receiver's cursor, in one transaction; how many were new.
    async fn queue_webhooks(
        &self,
        endpoint: &str,
        deliveries: &[NewDelivery],
        cursor: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<u32>;
    /// Claims up to `limit` pending deliveries due by `now` for `owner`,
    /// leased until `lease_until`, each with a new fencing number.
    async fn claim_webhooks(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutDelivery>>;
    /// Settles a claimed delivery's attempt; false (nothing written) when
    /// another worker has claimed the delivery since.
    async fn settle_webhook(&self, claim: super::Claim, attempt: &Attempt, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Deliveries by state (`pending`, `delivered`, `gave_up`), newest first.
    async fn list_webhooks(&self, state: Option<&str>, limit: u32) -> StoreResult<Vec<OutDelivery>>;
}
