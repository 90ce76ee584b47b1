//! Stage changes the rules suggest: the open ones, and the rep's answer. An
//! approval moves the prospect (recorded as the rep's doing, with the rule's
//! reason) and stops their sequences at once if they left its stages.

use super::{Actor, AppError, AppResult, Core};
use crate::domain::event::stage_change;
use crate::sequences::stops::stop_ended;
use crate::store::{StoreError, Suggestion, SuggestionDecision};

pub async fn open(core: &Core, actor: &Actor) -> AppResult<Vec<Suggestion>> {
    Ok(core.store.open_suggestions(actor.scope()).await?)
}

pub async fn decide(core: &Core, actor: &Actor, id: i64, approve: bool) -> AppResult<Suggestion> {
    let scope = actor.scope();
    let now = core.clock.now();
    let by = actor.recorded_as();
    let waiting = core.store.open_suggestions(scope).await?;
    let Some(suggestion) = waiting.iter().find(|s| s.id == id) else {
        // Decided already, never made, or another rep's: not found either way.
        return Err(AppError::Store(StoreError::NotFound(format!(
            "there is no open suggestion #{id}; `rapport suggestions` lists the open ones"
        ))));
    };
    let decision = match approve {
        true => SuggestionDecision::Approve {
            by: by.name().to_string(),
            move_event: stage_change(
                suggestion.prospect_id,
                Some(&suggestion.from_stage),
                &suggestion.to_stage,
                now,
                by.clone(),
                Some(&format!("approved suggestion #{id}: {}", suggestion.reason)),
            ),
        },
        false => SuggestionDecision::Reject {
            by: by.name().to_string(),
        },
    };
    let decided = core.store.decide_suggestion(scope, id, decision, now).await?;
    if approve {
        stop_ended(core.store.as_ref(), &core.settings, &[decided.prospect_id], now).await?;
    }
    Ok(decided)
}
