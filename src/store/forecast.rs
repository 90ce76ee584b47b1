//! What the forecast reads: the open deals in a scope, and each prospect's
//! path through a pipeline's stages for learning stage probabilities.

use super::{PipelineDeal, RepScope, StoreResult};
use crate::domain::learned::Path;
use async_trait::async_trait;

#[async_trait]
pub trait ForecastStore: Send + Sync {
    /// Every deal in `scope`, with its pipeline and currency.
    async fn deals(&self, scope: RepScope) -> StoreResult<Vec<PipelineDeal>>;
    /// Each prospect of a pipeline's path through its stages, oldest first,
    /// for learning stage probabilities.
    async fn stage_paths(&self, scope: RepScope, pipeline: &str) -> StoreResult<Vec<Path>>;
}
