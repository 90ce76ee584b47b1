//! What the rules suggest: stage changes and people to add, the open ones,
//! and the rep's answer. Approving a stage change moves the prospect
//! (recorded as the rep's doing, with the rule's reason) and stops their
//! sequences at once if they left its stages. Approving a person adds them
//! as a prospect of the same rep, pipeline and account, prefilled from the
//! reply, and links them to the prospect who referred them.

use super::prospect_edit::{self, AddProspect};
use super::{invalid, Actor, AppError, AppResult, Core};
use crate::domain::event::stage_change;
use crate::domain::prospect::{normalize_email, ProspectId, ProspectRef};
use crate::sequences::stops::stop_ended;
use crate::store::{RepScope, StoreError, SuggestedPerson, Suggestion, SuggestionDecision};

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
    let decision = match (approve, &suggestion.person) {
        (true, Some(person)) => SuggestionDecision::Added {
            by: by.name().to_string(),
            prospect: add_person(core, actor, suggestion, person).await?,
        },
        (true, None) => SuggestionDecision::Approve {
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
        (false, _) => SuggestionDecision::Reject {
            by: by.name().to_string(),
        },
    };
    let decided = core.store.decide_suggestion(scope, id, decision, now).await?;
    if approve && decided.person.is_none() {
        stop_ended(core.store.as_ref(), &core.settings, &[decided.prospect_id], now).await?;
    }
    Ok(decided)
}

/// Adds the person a suggestion names as a prospect of the referrer's rep
/// and pipeline; someone already held under their address is linked as
/// they are (approving twice, or after a crash, adds no one twice).
async fn add_person(
    core: &Core,
    actor: &Actor,
    suggestion: &Suggestion,
    person: &SuggestedPerson,
) -> AppResult<ProspectId> {
    let referrer = core
        .store
        .find_prospect(actor.scope(), &ProspectRef::Id(suggestion.prospect_id))
        .await?;
    // The address came from a reply: checked like one typed in.
    let email = person
        .email
        .as_deref()
        .map(normalize_email)
        .transpose()
        .map_err(|why| invalid(format!("suggestion #{}: {why}; reject it", suggestion.id)))?;
    if let Some(email) = &email {
        match core
            .store
            .find_prospect(RepScope::Team, &ProspectRef::Email(email.clone()))
            .await
        {
            Ok(held) if actor.may_act_for(held.data.rep_id) => return Ok(held.id),
            Ok(_) => {
                return Err(AppError::Store(StoreError::Conflict(format!(
                    "{email} is another rep's prospect already; reject suggestion #{} and talk to them",
                    suggestion.id
                ))))
            }
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let name = person.name_to_file().ok_or_else(|| {
        invalid(format!(
            "suggestion #{} names nobody to add; reject it and add the person with `rapport prospect add`",
            suggestion.id
        ))
    })?;
    let rep = core
        .store
        .list_reps()
        .await?
        .into_iter()
        .find(|r| r.id == referrer.data.rep_id)
        .ok_or_else(|| invalid("the referring prospect's rep no longer exists"))?;
    let added = prospect_edit::add(
        core,
        actor,
        AddProspect {
            rep: Some(rep.email),
            name,
            email,
            company: person.company.clone(),
            pipeline: Some(referrer.data.pipeline.clone()),
            currency: Some(referrer.data.currency.to_string()),
            tags: vec!["referral".into()],
            notes: Some(format!(
                "Referred by {} (#{}): {}",
                referrer.data.name, referrer.id, suggestion.reason
            )),
            ..AddProspect::default()
        },
    )
    .await?;
    Ok(added.prospect.id)
}
