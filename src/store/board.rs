//! What the board reads, sized for a team: each stage's deals summed in the
//! database, only the cards a column shows loaded, and the recent activity
//! of those cards alone.

use super::{ProspectFilter, ProspectWork, RepScope, StageSum, StoreResult};
use crate::domain::prospect::{Prospect, ProspectId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait BoardStore: Send + Sync {
    /// The prospects `filter` finds in `scope`, summed by stage, currency and own probability.
    async fn stage_sums(&self, scope: RepScope, filter: &ProspectFilter) -> StoreResult<Vec<StageSum>>;
    /// The first `limit` of the prospects `filter` finds in `scope` in each
    /// stage named (largest deal first, then the oldest), with tags and profiles.
    async fn stage_cards(
        &self,
        scope: RepScope,
        filter: &ProspectFilter,
        stages: &[(String, u32)],
    ) -> StoreResult<Vec<Prospect>>;
    /// (prospect, kind, when) of these prospects' events since `since`, in `scope`.
    async fn activity_of(
        &self,
        scope: RepScope,
        prospects: &[ProspectId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ProspectId, String, DateTime<Utc>)>>;
    /// A prospect's open tasks, enrolments and open suggestions (none outside `scope`).
    async fn prospect_work(&self, scope: RepScope, prospect: ProspectId) -> StoreResult<ProspectWork>;
}
