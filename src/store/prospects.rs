//! Prospects: adding one or importing many (people already held are
//! skipped), finding and listing them within a scope, changing, moving and
//! erasing them (each checked against the actor's scope in its
//! transaction), and the suppression list erased and bounced addresses join.

use super::{ImportOutcome, ProspectFilter, RepScope, StoreResult};
use crate::domain::event::{Actor, NewEvent};
use crate::domain::import::ImportRow;
use crate::domain::prospect::{Prospect, ProspectData, ProspectEdit, ProspectId, ProspectRef};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

#[async_trait]
pub trait ProspectStore: Send + Sync {
    /// Creates a prospect with its tags, profiles and a `prospect.created` event.
    async fn create_prospect(
        &self,
        prospect: &ProspectData,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<ProspectId>;
    /// Imports rows in batched transactions, skipping people already held
    /// (same email, else same profile URL), each with a `prospect.created` event.
    async fn import_prospects(
        &self,
        rows: &[ImportRow],
        actor: &Actor,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> StoreResult<ImportOutcome>;
    async fn find_prospect(&self, scope: RepScope, prospect: &ProspectRef) -> StoreResult<Prospect>;
    async fn list_prospects(&self, scope: RepScope, filter: &ProspectFilter) -> StoreResult<Vec<Prospect>>;
    /// Changes a prospect in `scope` (another rep's is not found).
    async fn edit_prospect(
        &self,
        scope: RepScope,
        id: ProspectId,
        edit: &ProspectEdit,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Moves a prospect to a stage (and pipeline) if it is still in
    /// `from_stage`, recording the stage-change event in the same transaction.
    #[allow(clippy::too_many_arguments)]
    async fn move_prospect(
        &self,
        scope: RepScope,
        id: ProspectId,
        from_stage: &str,
        pipeline: &str,
        stage: &str,
        event: NewEvent,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes a prospect and everything about them, keeping only a hash of
    /// their address on the suppression list.
    async fn erase_prospect(&self, scope: RepScope, id: ProspectId, now: DateTime<Utc>) -> StoreResult<()>;
    async fn is_suppressed(&self, email: &str) -> StoreResult<bool>;
    /// Which of these addresses are on the suppression list.
    async fn suppressed_among(&self, emails: &[String]) -> StoreResult<HashSet<String>>;
}
