//! The team's reps: who they are, their zone, digest hour and language.

use super::StoreResult;
use crate::domain::prospect::{Language, NewRep, Rep, RepId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait RepStore: Send + Sync {
    /// Adds a rep; a `Conflict` when one has that address already.
    async fn create_rep(&self, rep: &NewRep, now: DateTime<Utc>) -> StoreResult<Rep>;
    /// Every rep, in the order they were added.
    async fn list_reps(&self) -> StoreResult<Vec<Rep>>;
    /// A rep's time zone (UTC for a rep not found: days still resolve).
    async fn rep_zone(&self, rep: RepId) -> StoreResult<chrono_tz::Tz> {
        Ok(self
            .list_reps()
            .await?
            .into_iter()
            .find(|r| r.id == rep)
            .map_or(chrono_tz::UTC, |r| r.zone()))
    }
    /// A rep's own settings: zone, digest hour, language.
    async fn set_rep_preferences(
        &self,
        rep: RepId,
        time_zone: &str,
        digest_hour: u8,
        language: Language,
    ) -> StoreResult<Rep>;
}
