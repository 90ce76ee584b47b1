//! Reps' calendar feed tokens: only each token's SHA-256 and its generation
//! (a rotation raises it; the old token then opens nothing).

use super::StoreResult;
use crate::domain::prospect::RepId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// The rep's current generation, if they have a feed.
    async fn calendar_generation(&self, rep: RepId) -> StoreResult<Option<u32>>;
    /// Sets the rep's token (its hash) and generation, replacing any before.
    async fn set_calendar_token(
        &self,
        rep: RepId,
        generation: u32,
        sha256: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whose feed a token hash opens.
    async fn calendar_owner(&self, sha256: &str) -> StoreResult<Option<RepId>>;
    /// Ends the rep's feed; false when they had none.
    async fn revoke_calendar_token(&self, rep: RepId) -> StoreResult<bool>;
}
