//! Incoming webhooks, as use cases: `receive` verifies a delivery with its
//! provider's secret, reads it, and records each fact for every prospect it
//! names (exactly once: the event's key is the delivery's and the
//! prospect's); addresses nobody has are kept for review, where a person
//! `attach`es one to a prospect, `create`s the prospect from it, or
//! `dismiss`es it. Old unmatched deliveries are dropped by `forget_old`.

use super::{invalid, Actor, AppError, AppResult, Core};
use crate::domain::event::{self, payload::Hooked, NewEvent};
use crate::domain::hooks::{self, Happened, Incoming, Provider, Secrets};
use crate::domain::prospect::{Prospect, ProspectRef, RepId};
use crate::sequences::stops::stop_ended;
use crate::store::{RepScope, StoreError, UnmatchedDelivery};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A delivery as it arrived: header names lower-cased, the raw query and body.
pub struct Delivery<'a> {
    pub provider: &'a str,
    pub headers: &'a [(String, String)],
    pub query: &'a str,
    pub body: &'a [u8],
}

/// What a delivery did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Received {
    /// Events added (a redelivery adds none).
    pub recorded: u32,
    /// Addresses kept for review.
    pub unmatched: u32,
    pub sequences_stopped: u32,
    /// Why nothing was recorded, when the delivery is of a kind rapport does not record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

/// Why a delivery was not taken.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("there is no webhook provider '{0}'; rapport takes calendly, calcom, docusign and pandadoc")]
    UnknownProvider(String),
    /// Answered 401; the reason is logged, never the secret.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Verifies, reads and records one delivery.
pub async fn receive(core: &Core, delivery: Delivery<'_>) -> Result<Received, HookError> {
    let provider =
        Provider::parse(delivery.provider).ok_or_else(|| HookError::UnknownProvider(delivery.provider.into()))?;
    let Some(config) = core.settings.config.hooks.get(provider) else {
        return Err(HookError::Refused(format!(
            "no [hooks.{}] section in the config: deliveries are refused until its secret is set",
            provider.name()
        )));
    };
    let current = config
        .secret
        .as_ref()
        .map(|s| s.expose().as_bytes())
        .unwrap_or_default();
    let secrets = Secrets {
        current,
        previous: config.previous_secret.as_ref().map(|s| s.expose().as_bytes()),
    };
    let now = core.clock.now();
    let incoming = Incoming {
        headers: delivery.headers,
        query: delivery.query,
        body: delivery.body,
        received_at: now,
    };
    hooks::verify(provider, secrets, &incoming, i64::from(config.tolerance_secs))
        .map_err(|refusal| HookError::Refused(refusal.to_string()))?;
    let facts = match hooks::read(provider, &incoming) {
        Ok(facts) => facts,
        Err(reason) => {
            return Ok(Received {
                ignored: Some(reason),
                ..Received::default()
            })
        }
    };
    let mut received = Received::default();
    let mut touched = Vec::new();
    for fact in &facts {
        let organizer = organizer_rep(core, fact).await?;
        for email in &fact.emails {
            match core
                .store
                .find_prospect(RepScope::Team, &ProspectRef::Email(email.clone()))
                .await
            {
                Ok(prospect) => {
                    if record(core, &prospect, provider.name(), fact_parts(fact), now).await? {
                        received.recorded += 1;
                    }
                    touched.push(prospect.id);
                }
                Err(StoreError::NotFound(_)) => {
                    let kept = core
                        .store
                        .keep_unmatched(&UnmatchedDelivery {
                            id: 0,
                            provider: provider.name().into(),
                            kind: fact.kind.into(),
                            email: email.clone(),
                            source_key: fact.key.clone(),
                            summary: fact.summary.clone(),
                            occurred_at: fact.at,
                            starts_at: fact.starts_at,
                            rep_id: organizer,
                            received_at: now,
                        })
                        .await
                        .map_err(AppError::from)?;
                    received.unmatched += u32::from(kept);
                }
                Err(e) => return Err(AppError::from(e).into()),
            }
        }
    }
    received.sequences_stopped = stop_ended(core.store.as_ref(), &core.settings, &touched, now)
        .await
        .map_err(AppError::from)?;
    Ok(received)
}

/// The rep who organised or sent it, when the address is a rep's.
async fn organizer_rep(core: &Core, fact: &Happened) -> AppResult<Option<RepId>> {
    let Some(organizer) = &fact.organizer else {
        return Ok(None);
    };
    let reps = core.store.list_reps().await?;
    Ok(reps
        .iter()
        .find(|r| r.email.eq_ignore_ascii_case(organizer))
        .map(|r| r.id))
}

/// What is recorded of a fact, whether it arrived matched or was attached later.
struct Fact<'a> {
    kind: &'a str,
    key: &'a str,
    at: DateTime<Utc>,
    summary: &'a str,
    starts_at: Option<DateTime<Utc>>,
    organizer: Option<&'a str>,
}

fn fact_parts(fact: &Happened) -> Fact<'_> {
    Fact {
        kind: fact.kind,
        key: &fact.key,
        at: fact.at,
        summary: &fact.summary,
        starts_at: fact.starts_at,
        organizer: fact.organizer.as_deref(),
    }
}

/// Appends the fact's event for the prospect; false when it was recorded before.
async fn record(
    core: &Core,
    prospect: &Prospect,
    provider: &str,
    fact: Fact<'_>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let event = NewEvent {
        prospect_id: prospect.id,
        kind: fact.kind.into(),
        occurred_at: fact.at,
        source_key: event::keys::hook(prospect.id, fact.key),
        actor: event::Actor::Webhook(provider.into()),
        data: event::EventData::of(&Hooked {
            note: fact.summary.into(),
            provider: provider.into(),
            starts_at: fact.starts_at,
            organizer: fact.organizer.map(str::to_string),
        }),
    };
    Ok(core.store.append_event(RepScope::Team, &event, now).await?)
}

/// The deliveries the actor may review, oldest first.
pub async fn unmatched(core: &Core, actor: &Actor) -> AppResult<Vec<UnmatchedDelivery>> {
    Ok(core.store.list_unmatched(review_scope(actor)).await?)
}

/// A rep reviews what they organised; the team's people review everything.
fn review_scope(actor: &Actor) -> RepScope {
    actor.scope()
}

/// What reviewing did.
#[derive(Debug, Clone, Serialize)]
pub struct Reviewed {
    pub delivery: i64,
    pub prospect: crate::domain::prospect::ProspectId,
    pub name: String,
    pub kind: String,
    /// False when the prospect had this fact already.
    pub added: bool,
    pub sequences_stopped: u32,
}

/// Records an unmatched delivery's fact for one of the actor's prospects
/// (someone who booked with another address), and forgets the delivery.
pub async fn attach(core: &Core, actor: &Actor, delivery: i64, prospect: &ProspectRef) -> AppResult<Reviewed> {
    let scope = review_scope(actor);
    let kept = core.store.find_unmatched(scope, delivery).await?;
    let prospect = core.store.find_prospect(actor.scope(), prospect).await?;
    settle(core, scope, kept, prospect).await
}

/// Makes a prospect of an unmatched delivery's address (for a rep, their
/// own; for the team's people, `rep`, else the rep who organised it),
/// records the fact for them and forgets the delivery.
pub async fn create(core: &Core, actor: &Actor, delivery: i64, name: &str, rep: Option<String>) -> AppResult<Reviewed> {
    let scope = review_scope(actor);
    let kept = core.store.find_unmatched(scope, delivery).await?;
    if name.trim().is_empty() {
        return Err(invalid(format!(
            "give the new prospect a name (the delivery names only {})",
            kept.email
        )));
    }
    let rep = match actor {
        Actor::Rep { .. } => rep,
        _ => rep.or(kept.rep_id.map(|id| id.to_string())),
    };
    let added = super::prospect_edit::add(
        core,
        actor,
        super::prospect_edit::AddProspect {
            rep,
            name: name.into(),
            email: Some(kept.email.clone()),
            ..Default::default()
        },
    )
    .await?;
    settle(core, scope, kept, added.prospect).await
}

async fn settle(core: &Core, scope: RepScope, kept: UnmatchedDelivery, prospect: Prospect) -> AppResult<Reviewed> {
    let now = core.clock.now();
    let added = record(
        core,
        &prospect,
        &kept.provider,
        Fact {
            kind: &kept.kind,
            key: &kept.source_key,
            at: kept.occurred_at,
            summary: &kept.summary,
            starts_at: kept.starts_at,
            organizer: None,
        },
        now,
    )
    .await?;
    core.store.drop_unmatched(scope, kept.id).await?;
    let sequences_stopped = stop_ended(core.store.as_ref(), &core.settings, &[prospect.id], now).await?;
    Ok(Reviewed {
        delivery: kept.id,
        prospect: prospect.id,
        name: prospect.data.name,
        kind: kept.kind,
        added,
        sequences_stopped,
    })
}

/// Forgets a delivery without recording it (spam, a colleague, a test booking).
pub async fn dismiss(core: &Core, actor: &Actor, delivery: i64) -> AppResult<()> {
    match core.store.drop_unmatched(review_scope(actor), delivery).await? {
        true => Ok(()),
        false => Err(StoreError::NotFound(format!(
            "no unmatched delivery {delivery}; see `rapport hooks unmatched`"
        ))
        .into()),
    }
}

/// Drops unmatched deliveries older than `[hooks] keep_unmatched_days`.
pub async fn forget_old(core: &Core) -> AppResult<u64> {
    let days = i64::from(core.settings.config.hooks.keep_unmatched_days);
    Ok(core
        .store
        .drop_unmatched_before(core.clock.now() - Duration::days(days))
        .await?)
}
