//! What the daily digests keep: one row per rep and local date.

use super::StoreResult;
use crate::domain::money::Amount;
use crate::domain::prospect::RepId;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

#[async_trait]
pub trait DigestStore: Send + Sync {
    /// Takes the digest of `date` for `rep`; false when it was taken before
    /// (sent, or being sent by another worker), so it is never sent twice.
    async fn claim_digest(
        &self,
        rep: RepId,
        date: NaiveDate,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// How the digest ended: sent, skipped or failed, with the weighted
    /// pipeline it showed.
    async fn finish_digest(
        &self,
        rep: RepId,
        date: NaiveDate,
        state: &str,
        weighted: Option<(Amount, &str)>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The local date of the rep's last digest sent before `date`.
    async fn last_digest_date(&self, rep: RepId, date: NaiveDate) -> StoreResult<Option<NaiveDate>>;
    /// The weighted pipeline (in `currency`) shown by the rep's last digest before `date`.
    async fn last_digest_weighted(&self, rep: RepId, date: NaiveDate, currency: &str) -> StoreResult<Option<Amount>>;
}
