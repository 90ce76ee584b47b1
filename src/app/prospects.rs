//! Use cases on one prospect: moving them between stages and recording
//! engagement done outside rapport. Each stops the prospect's sequences at
//! once when what it records is a reason to stop.

use super::{invalid, Actor, AppResult, Core};
use crate::automation::stops::stop_ended;
use crate::domain::event::{self, NewEvent};
use crate::domain::prospect::{required_text, ProspectId, ProspectRef};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Move a prospect to a stage (and optionally into another pipeline).
#[derive(Debug, Clone)]
pub struct MoveStage {
    pub prospect: ProspectRef,
    /// A stage slug or name.
    pub stage: String,
    pub pipeline: Option<String>,
    /// Why, recorded with the stage change.
    pub note: Option<String>,
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
    let now = core.clock.now();
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
    let event = NewEvent {
        prospect_id: prospect.id,
        kind: kind.clone(),
        occurred_at: at,
        source_key: format!(
            "log:{}:{kind}:{}:{}",
            prospect.id,
            at.timestamp_micros(),
            short_digest(&key_material)
        ),
        actor: actor.recorded_as(),
        data: match event::is_hand_loggable_reserved(&kind) {
            // Shown like a synced reply (its text), marked as typed in by a person.
            true => serde_json::json!({ "note": note, "url": url, "text": note, "hand_logged": true }),
            false => serde_json::json!({ "note": note, "url": url }),
        },
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
