//! A rep's calendar feed as use cases: `link` gives the feed's address
//! (`--rotate` makes a new token, and the old one opens nothing), `revoke`
//! ends it, `feed` answers a calendar app's fetch of `/ical/TOKEN.ics`. The
//! token is an HMAC of the rep and the generation under rapport's own key,
//! so it can be printed again while only its SHA-256 is stored.

use super::{Actor, AppResult, Core};
use crate::domain::calendar::{self, Entry};
use crate::domain::event::{kinds, payload::Hooked};
use crate::domain::prospect::RepId;
use crate::store::RepScope;
use chrono::Duration;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How far back a booked meeting is still shown.
const MEETINGS_BACK_DAYS: i64 = 90;

/// A rep's feed address.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarLink {
    pub rep: String,
    pub url: String,
    /// Raised by each rotation.
    pub generation: u32,
}

/// The rep's feed address, made on first use; `rotate` makes a new token
/// (the old one opens nothing from then on).
pub async fn link(core: &Core, actor: &Actor, rep: Option<&str>, rotate: bool) -> AppResult<CalendarLink> {
    let rep = super::reps::resolve(core, actor, rep).await?;
    let current = core.store.calendar_generation(rep.id).await?;
    let generation = match (current, rotate) {
        (Some(g), false) => g,
        (Some(g), true) => g + 1,
        (None, _) => 1,
    };
    let token = token(core, rep.id, generation).await?;
    if current != Some(generation) {
        core.store
            .set_calendar_token(rep.id, generation, &digest(&token), core.clock.now())
            .await?;
    }
    Ok(CalendarLink {
        rep: rep.email,
        url: format!("{}/ical/{token}.ics", base_url(core)),
        generation,
    })
}

/// Ends the rep's feed; false when they had none.
pub async fn revoke(core: &Core, actor: &Actor, rep: Option<&str>) -> AppResult<bool> {
    let rep = super::reps::resolve(core, actor, rep).await?;
    Ok(core.store.revoke_calendar_token(rep.id).await?)
}

/// The feed a token opens, or `None` (an unknown or revoked token).
pub async fn feed(core: &Core, token: &str) -> AppResult<Option<String>> {
    let Some(rep_id) = core.store.calendar_owner(&digest(token)).await? else {
        return Ok(None);
    };
    let Some(rep) = core.store.list_reps().await?.into_iter().find(|r| r.id == rep_id) else {
        return Ok(None);
    };
    let scope = RepScope::Rep(rep.id);
    let now = core.clock.now();
    let page = |prospect: i64| {
        core.settings
            .config
            .http
            .public_url
            .as_ref()
            .map(|u| format!("{}/prospects/{prospect}", u.trim_end_matches('/')))
    };
    let mut entries: Vec<Entry> = core
        .store
        .due_tasks(scope, now + Duration::days(366))
        .await?
        .into_iter()
        .map(|task| Entry {
            uid: format!("task-{}@rapport", task.id),
            sequence: task.revision,
            last_modified: task.modified_at,
            starts: task.due_at,
            minutes: 15,
            summary: format!("{}: {}", task.prospect_name, task.instruction),
            description: [task.reason, task.link]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a}\n{b}")),
            url: page(task.prospect_id),
        })
        .collect();
    entries.extend(
        meetings(core, scope, now)
            .await?
            .into_iter()
            .map(|(prospect, name, event, hooked)| Entry {
                uid: format!("meeting-{}@rapport", event.id),
                sequence: 0,
                last_modified: Some(event.recorded_at),
                starts: hooked.starts_at.unwrap_or(event.occurred_at),
                minutes: 30,
                summary: format!("Meeting: {name}"),
                description: Some(hooked.note),
                url: page(prospect),
            }),
    );
    Ok(Some(calendar::render(
        &format!("rapport — {}", rep.name),
        &entries,
        now,
    )))
}

type Meeting = (i64, String, crate::domain::event::Event, Hooked);

/// Booked meetings still on: per prospect and provider the latest booking
/// (a reschedule books anew), unless a cancellation names the same start.
async fn meetings(core: &Core, scope: RepScope, now: chrono::DateTime<chrono::Utc>) -> AppResult<Vec<Meeting>> {
    let events = core
        .store
        .events_between(
            scope,
            &[kinds::MEETING_BOOKED, "meeting.canceled"],
            now - Duration::days(MEETINGS_BACK_DAYS),
            now + Duration::seconds(1),
        )
        .await?;
    let mut canceled = Vec::new();
    let mut latest: BTreeMap<(i64, String), crate::domain::event::Event> = BTreeMap::new();
    for event in events {
        let hooked: Hooked = crate::domain::event::payload::from_data(&event.data);
        if event.kind == kinds::MEETING_BOOKED {
            latest.insert((event.prospect_id, hooked.provider.clone()), event);
        } else {
            canceled.push((event.prospect_id, hooked.starts_at));
        }
    }
    let mut names = BTreeMap::new();
    let mut shown = Vec::new();
    for ((prospect, _), event) in latest {
        let hooked: Hooked = crate::domain::event::payload::from_data(&event.data);
        if hooked.starts_at.is_none() || canceled.contains(&(prospect, hooked.starts_at)) {
            continue;
        }
        let name = match names.get(&prospect) {
            Some(name) => String::clone(name),
            None => {
                let found = core
                    .store
                    .find_prospect(scope, &crate::domain::prospect::ProspectRef::Id(prospect))
                    .await;
                let name = found.map(|p| p.data.name).unwrap_or_default();
                names.insert(prospect, name.clone());
                name
            }
        };
        shown.push((prospect, name, event, hooked));
    }
    Ok(shown)
}

async fn token(core: &Core, rep: RepId, generation: u32) -> AppResult<String> {
    let key = super::unsubscribe::key(core).await?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|e| super::AppError::Internal(format!("the calendar key: {e}")))?;
    mac.update(format!("calendar:{rep}:{generation}").as_bytes());
    Ok(hex::encode(&mac.finalize().into_bytes()[..20]))
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Where calendar apps reach the listener: `http.public_url`, else the listen address.
fn base_url(core: &Core) -> String {
    let http = &core.settings.config.http;
    match &http.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("http://{}", http.listen),
    }
}
