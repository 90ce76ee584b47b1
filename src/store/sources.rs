//! Prospects' feeds: listing them, claiming the due ones with a lease (so
//! one worker polls each), giving back what could not be written, and
//! storing polls' outcomes with their new posts.

use super::{Claim, PollRecord, RepScope, Source, StoreResult};
use crate::domain::prospect::ProspectId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait SourceStore: Send + Sync {
    async fn list_sources(&self, scope: RepScope, broken_only: bool) -> StoreResult<Vec<Source>>;
    /// Claims up to `limit` sources due at `now` (or all of one prospect's)
    /// for `owner`, moving their next poll to `lease_until` so no other
    /// worker takes them, each with a new fencing number.
    async fn claim_due_sources(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        prospect: Option<ProspectId>,
        limit: u32,
    ) -> StoreResult<Vec<Source>>;
    /// Extends claims still being polled (claimed, not yet written) to
    /// `lease_until`; a claim taken over since is left alone. Returns how
    /// many were extended.
    async fn renew_source_claims(&self, claims: &[Claim], lease_until: DateTime<Utc>) -> StoreResult<u64>;
    /// Gives claimed sources back (due at `now`) whose polls could not be
    /// written; a source claimed again since is left to its new holder.
    async fn release_sources(&self, claims: &[Claim], now: DateTime<Utc>) -> StoreResult<()>;
    /// Gives claimed sources back unpolled, each due at its own time (a
    /// busy host's feeds laid out along its budget); a source claimed again
    /// since is left to its new holder. Returns how many were given back.
    async fn defer_sources(&self, deferrals: &[(Claim, DateTime<Utc>)]) -> StoreResult<u64>;
    /// Stores polls' outcomes and their new events in one transaction;
    /// returns, per record, how many of its events were new, or `None` when
    /// the claim's fence no longer holds (another worker took the source
    /// over): nothing of that record is written.
    async fn record_polls(&self, records: &[(Claim, PollRecord)], now: DateTime<Utc>) -> StoreResult<Vec<Option<u64>>>;
}
