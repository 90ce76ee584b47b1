//! The reps' mailboxes from a seat at the board: the mail sync of this
//! install (one pass, or the watchers the daemon runs), how far each folder
//! has been read, and the reports that named a prospect but could not be
//! tied to mail sent to them (they changed nothing; shown so a person looks).

use super::{invalid, Actor, AppResult, Core};
use crate::domain::event::kinds::EMAIL_UNVERIFIED;
use crate::domain::event::payload::Unverified;
use crate::sources::mail::sync::MailSync;
use crate::store::{MailFolderState, ProspectFilter};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// How far back the unverified reports are listed.
pub const UNVERIFIED_DAYS: i64 = 30;

/// The mail sync of this install; an error naming the section to add when
/// no mailbox is configured.
pub fn sync(core: &Core) -> AppResult<MailSync> {
    if core.settings.config.mailboxes.is_empty() {
        return Err(invalid(
            "no mailbox is configured; add a [mailboxes.NAME] section to the config (see config/rapport.toml)",
        ));
    }
    Ok(syncer(core))
}

/// The mail sync of this install, whatever is configured (the daemon's jobs).
pub fn syncer(core: &Core) -> MailSync {
    MailSync::new(core.store.clone(), core.clock.clone(), core.settings.clone())
}

/// A report that named a prospect but was not tied to mail sent to them.
#[derive(Debug, Clone, Serialize)]
pub struct UnverifiedReport {
    pub prospect_id: i64,
    pub prospect_email: Option<String>,
    pub received_at: DateTime<Utc>,
    pub report: String,
    pub from: String,
    pub subject: String,
    /// What the sender's Date header said (shown, never trusted).
    pub date: Option<String>,
    pub why: String,
}

/// Each watched folder's state, and the unverified reports of the last
/// [`UNVERIFIED_DAYS`] days about the actor's prospects, newest first.
pub async fn status(core: &Core, actor: &Actor) -> AppResult<(Vec<MailFolderState>, Vec<UnverifiedReport>)> {
    let folders = core.store.list_mail_folders().await?;
    let now = core.clock.now();
    let since = now - chrono::Duration::days(UNVERIFIED_DAYS);
    let scope = actor.scope();
    let events = core
        .store
        .events_between(scope, &[EMAIL_UNVERIFIED], since, now + chrono::Duration::seconds(1))
        .await?;
    let emails: HashMap<i64, Option<String>> = core
        .store
        .list_prospects(scope, &ProspectFilter::default())
        .await?
        .into_iter()
        .map(|p| (p.id, p.data.email))
        .collect();
    let unverified = events
        .iter()
        .rev()
        .map(|e| {
            let said: Unverified = e.read();
            UnverifiedReport {
                prospect_id: e.prospect_id,
                prospect_email: emails.get(&e.prospect_id).cloned().flatten(),
                received_at: e.occurred_at,
                report: said.report,
                from: said.from.unwrap_or_default(),
                subject: said.subject.unwrap_or_default(),
                date: said.date,
                why: said.unverified,
            }
        })
        .collect();
    Ok((folders, unverified))
}
