//! Idempotency keys of the API's creating requests: claimed before the
//! work, answered after it, so a retried request is answered once.

use super::{IdempotentClaim, StoreResult};
use crate::domain::prospect::RepId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for the rep's request (its digest); keys older than
    /// `forget_before` are forgotten first.
    async fn claim_idempotency_key(
        &self,
        rep: RepId,
        key: &str,
        request_digest: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<IdempotentClaim>;
    /// Keeps the answer to a claimed key.
    async fn answer_idempotency_key(&self, rep: RepId, key: &str, status: u16, body: &str) -> StoreResult<()>;
    /// Lets a claimed key go unanswered (the work failed on rapport's side: a retry may try again).
    async fn release_idempotency_key(&self, rep: RepId, key: &str) -> StoreResult<()>;
}
