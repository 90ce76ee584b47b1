//! Use cases on one prospect: showing them, moving them between stages,
//! recording engagement done outside rapport, and erasing them. Moving and
//! logging stop the prospect's sequences at once when what they record is a
//! reason to stop. (Adding and editing: `prospect_edit.rs`.)

use super::{invalid, Actor, AppResult, Core};
use crate::domain::event::payload::Logged as LoggedNote;
use crate::domain::event::{self, Event, NewEvent};
use crate::domain::money::value_and_currency;
use crate::domain::pipeline::StageKind;
use crate::domain::prospect::{required_text, Prospect, ProspectEdit, ProspectId, ProspectRef};
use crate::sequences::stops::stop_ended;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A prospect with their whole timeline.
#[derive(Debug, Clone, Serialize)]
pub struct ProspectView {
    pub prospect: Prospect,
    /// Their address is never mailed (unsubscribed, bounced, erased before).
    pub suppressed: bool,
    /// Oldest first.
    pub events: Vec<Event>,
    /// The kinds a person may log for them (built in, then the config's own).
    #[serde(skip)]
    pub loggable: Vec<String>,
    /// Their open tasks, enrolments and open suggestions.
    #[serde(skip)]
    pub work: crate::store::ProspectWork,
}

pub async fn show(core: &Core, actor: &Actor, prospect: &ProspectRef) -> AppResult<ProspectView> {
    let prospect = core.store.find_prospect(actor.scope(), prospect).await?;
    let events = core.store.list_events(actor.scope(), prospect.id).await?;
    let suppressed = match &prospect.data.email {
        Some(email) => core.store.is_suppressed(email).await?,
        None => false,
    };
    let mut loggable: Vec<String> = event::LOGGABLE_KINDS.iter().map(|k| k.to_string()).collect();
    for kind in &core.settings.config.events.kinds {
        if !loggable.contains(kind) {
            loggable.push(kind.clone());
        }
    }
    let work = core.store.prospect_work(actor.scope(), prospect.id).await?;
    Ok(ProspectView {
        prospect,
        suppressed,
        events,
        loggable,
        work,
    })
}

/// Who was erased.
#[derive(Debug, Clone, Serialize)]
pub struct Erased {
    pub id: ProspectId,
    pub name: String,
    /// Their address stays on the suppression list, as a hash.
    pub had_email: bool,
}

/// Erases a prospect and everything about them; only `confirmed` does it.
pub async fn erase(core: &Core, actor: &Actor, prospect: &ProspectRef, confirmed: bool) -> AppResult<Erased> {
    let scope = actor.scope();
    let found = core.store.find_prospect(scope, prospect).await?;
    if !confirmed {
        return Err(invalid(format!(
            "this erases #{} {} and their whole history; run again with --yes to confirm",
            found.id, found.data.name
        )));
    }
    core.store.erase_prospect(scope, found.id, core.clock.now()).await?;
    Ok(Erased {
        id: found.id,
        name: found.data.name,
        had_email: found.data.email.is_some(),
    })
}

/// Move a prospect to a stage (and optionally into another pipeline).
#[derive(Debug, Clone)]
pub struct MoveStage {
    pub prospect: ProspectRef,
    /// A stage slug or name.
    pub stage: String,
    pub pipeline: Option<String>,
    /// Why, recorded with the stage change.
    pub note: Option<String>,
    /// What the deal closed at (like `120000` or `120000 USD`), when it moves
    /// to a won stage: the prospect's value becomes it.
    pub final_value: Option<String>,
    /// Ask rather than move when a move to a won stage has no final value
    /// or one to a lost stage has no reason (the board asks; the CLI does not).
    pub ask_for_outcome: bool,
}

/// What a move waits for before it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Needed {
    FinalValue,
    Reason,
}

#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub id: ProspectId,
    #[serde(skip)]
    pub name: String,
    pub from: String,
    pub to: String,
    pub pipeline: String,
    /// It already was there: nothing changed.
    #[serde(skip)]
    pub unchanged: bool,
    pub sequences_stopped: u32,
    /// Not moved yet: the move waits for this (see `ask_for_outcome`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<Needed>,
    #[serde(skip)]
    pub stage_name: String,
    /// The deal's value and currency before the move.
    #[serde(skip)]
    pub value: (crate::domain::money::Amount, String),
}

pub async fn move_stage(core: &Core, actor: &Actor, input: MoveStage) -> AppResult<Moved> {
    let scope = actor.scope();
    let prospect = core.store.find_prospect(scope, &input.prospect).await?;
    let pipeline_slug = input.pipeline.as_deref().unwrap_or(&prospect.data.pipeline);
    let pipeline = core.settings.pipelines.get(pipeline_slug).map_err(invalid)?;
    let stage = pipeline.resolve_stage(&input.stage).map_err(invalid)?;
    let mut moved = Moved {
        id: prospect.id,
        name: prospect.data.name.clone(),
        from: prospect.data.stage.clone(),
        to: stage.slug.clone(),
        pipeline: pipeline.slug.clone(),
        unchanged: false,
        sequences_stopped: 0,
        needs: None,
        stage_name: stage.name.clone(),
        value: (prospect.data.value, prospect.data.currency.clone()),
    };
    if stage.slug == prospect.data.stage && pipeline.slug == prospect.data.pipeline {
        moved.unchanged = true;
        return Ok(moved);
    }
    let note = input
        .note
        .as_deref()
        .map(|n| required_text("note", n))
        .transpose()
        .map_err(invalid)?;
    let blank = |t: &Option<String>| t.as_deref().is_none_or(|t| t.trim().is_empty());
    if input.ask_for_outcome {
        moved.needs = match stage.kind {
            StageKind::Won if blank(&input.final_value) => Some(Needed::FinalValue),
            StageKind::Lost if blank(&input.note) => Some(Needed::Reason),
            _ => None,
        };
        if moved.needs.is_some() {
            return Ok(moved);
        }
    }
    let now = core.clock.now();
    if let Some(text) = input.final_value.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if stage.kind != StageKind::Won {
            return Err(invalid(format!(
                "a final value is for a move to a won stage; '{}' is not one",
                stage.slug
            )));
        }
        let (value, currency) = value_and_currency(text, None, &prospect.data.currency)
            .map_err(|e| invalid(format!("final value: {e}")))?;
        let edit = ProspectEdit {
            value: Some(value),
            currency: Some(currency),
            ..ProspectEdit::default()
        };
        core.store.edit_prospect(scope, prospect.id, &edit, now).await?;
    }
    let event = event::stage_change(
        prospect.id,
        Some(&prospect.data.stage),
        &stage.slug,
        now,
        actor.recorded_as(),
        note.as_deref(),
    );
    core.store
        .move_prospect(
            scope,
            prospect.id,
            &prospect.data.stage,
            &pipeline.slug,
            &stage.slug,
            event,
            now,
        )
        .await?;
    moved.sequences_stopped = stop_ended(core.store.as_ref(), &core.settings, &[prospect.id], now).await?;
    Ok(moved)
}

/// Record engagement done outside rapport (a LinkedIn comment, a call, a
/// reply the mailbox sync cannot see).
#[derive(Debug, Clone)]
pub struct LogEngagement {
    pub prospect: ProspectRef,
    /// A built-in kind, one the config declares, or one the rules or sequences name.
    pub kind: String,
    pub note: Option<String>,
    /// A link to the post, comment or recording.
    pub url: Option<String>,
    /// When it happened (default: now).
    pub at: Option<DateTime<Utc>>,
    /// The logging tool's own id for it: the same id again is the same event
    /// (a retried webhook), whatever its time or note.
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Logged {
    pub prospect: ProspectId,
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub rep_id: crate::domain::prospect::RepId,
    pub kind: String,
    pub at: DateTime<Utc>,
    /// False when the same thing was already logged (same moment, note and link).
    pub added: bool,
    pub sequences_stopped: u32,
}

pub async fn log_engagement(core: &Core, actor: &Actor, input: LogEngagement) -> AppResult<Logged> {
    let scope = actor.scope();
    let prospect = core.store.find_prospect(scope, &input.prospect).await?;
    let kind = event::known_logged_kind(&input.kind, &core.settings.declared_kinds()).map_err(invalid)?;
    let url = input.url.as_deref().map(web_link).transpose().map_err(invalid)?;
    let now = core.clock.now();
    let at = input.at.unwrap_or(now);
    let note = input.note.filter(|n| !n.trim().is_empty());
    let key_material = format!("{}|{}", note.as_deref().unwrap_or(""), url.as_deref().unwrap_or(""));
    let external_id = input.external_id.map(|id| id.trim().to_string());
    // A typed-in reply's named days ("next week") count from its day for the rep.
    let zone = core.store.rep_zone(prospect.data.rep_id).await?;
    if let Some(id) = &external_id {
        if id.is_empty() || id.len() > 200 {
            return Err(invalid(format!(
                "external_id '{}' must be 1 to 200 characters: the sending tool's id for this engagement",
                crate::domain::text::printable(id.get(..40).unwrap_or(id))
            )));
        }
    }
    let event = NewEvent {
        prospect_id: prospect.id,
        kind: kind.clone(),
        occurred_at: at,
        source_key: match external_id {
            Some(id) => event::keys::external(prospect.id, &short_digest(&id)),
            None => event::keys::logged(prospect.id, &kind, at, &short_digest(&key_material)),
        },
        actor: actor.recorded_as(),
        data: event::EventData::of(&match event::is_hand_loggable_reserved(&kind) {
            // Shown like a synced reply (its text), marked as typed in by a person.
            true => LoggedNote {
                text: note.clone(),
                hand_logged: true,
                intent: note
                    .as_deref()
                    .filter(|_| kind == event::kinds::EMAIL_REPLIED)
                    .map(|text| crate::domain::intent::reply_intent(text, at.with_timezone(&zone).date_naive())),
                note,
                url,
            },
            false => LoggedNote {
                note,
                url,
                ..LoggedNote::default()
            },
        }),
    };
    let added = core.store.append_event(scope, &event, now).await?;
    let sequences_stopped = stop_ended(core.store.as_ref(), &core.settings, &[prospect.id], now).await?;
    Ok(Logged {
        prospect: prospect.id,
        name: prospect.data.name,
        rep_id: prospect.data.rep_id,
        kind,
        at,
        added,
        sequences_stopped,
    })
}

/// A link to a post or recording, kept exactly as given (its query string
/// often is the post), once it is known to be a web address.
fn web_link(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("'{text}' is not a URL ({e}); write it like https://www.linkedin.com/feed/update/..."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{text}' is not a web address; give an http or https link"));
    }
    Ok(url.to_string())
}

/// A short stable digest, so logging the same thing twice at the same moment is one event.
fn short_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}
