//! The team's reps: who they are, their zone, digest hour and language.

use super::StoreResult;
use crate::domain::prospect::{NewRep, Rep};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait RepStore: Send + Sync {
    /// Adds a rep; a `Conflict` when one has that address already.
    async fn create_rep(&self, rep: &NewRep, now: DateTime<Utc>) -> StoreResult<Rep>;
    /// Every rep, in the order they were added.
    async fn list_reps(&self) -> StoreResult<Vec<Rep>>;
}
