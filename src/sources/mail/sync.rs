//! Incremental sync of a mailbox's folders by UID.
//!
//! Per folder: claim it (a lease, so one worker reads it at a time), EXAMINE
//! it, and read the UIDs above the stored cursor in batches. For each batch
//! only the headers are fetched first; the whole message (up to
//! `mail.max_message_bytes`) only when the headers tie it to a prospect or it
//! may be a bounce. Each batch's events are stored with the new cursor in one
//! transaction, so a crash or a dropped connection resumes after the last
//! stored batch, and events keyed by Message-ID are never stored twice.
//! A changed UIDVALIDITY makes the folder be read again from the start.

use super::connection::ImapConnection;
use super::MailError;
use crate::config::{MailboxConfig, Settings};
use crate::domain::clock::Clock;
use crate::domain::event::Actor;
use crate::domain::mail::envelope::{Envelope, ENVELOPE_FIELDS};
use crate::domain::mail::{self, classify_in_zone, Classification, MailEffect};
use crate::domain::prospect::RepId;
use crate::domain::sequence::stop::may_stop;
use crate::store::{FolderCursor, MailBatch, Store, StoreError};
use chrono::Duration as ChronoDuration;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Reconnection attempts within one sync pass before it gives up until the next.
const ATTEMPTS_PER_PASS: u32 = 4;
/// Whole messages fetched per command.
const BODIES_PER_FETCH: usize = 25;

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub mailboxes: u32,
    pub folders: u32,
    /// Folders another worker was reading at the time.
    pub folders_busy: u32,
    pub resynced_folders: u32,
    pub headers_fetched: u64,
    pub messages_fetched: u64,
    pub new_events: u64,
    pub unreadable: u64,
    pub errors: Vec<String>,
    /// Each folder's UIDNEXT when it was read: a watcher compares it before
    /// it IDLEs, so mail that arrived during the sync is not left waiting.
    #[serde(skip)]
    pub uid_next: std::collections::HashMap<String, u32>,
}

/// Reads mailboxes into events.
#[derive(Clone)]
pub struct MailSync {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    /// This worker's token on the folder leases it holds.
    owner: String,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// A token no other worker has: process, time and a counter.
fn lease_token() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:x}-{nanos:x}-{count}", std::process::id())
}

/// One mailbox as read over one connection: whose it is, how to tell the
/// rep's own mail, and its folders (sent mail first), worked out once.
pub struct Prepared {
    name: String,
    rep: RepId,
    zone: chrono_tz::Tz,
    own_addresses: Vec<String>,
    actor: Actor,
    folders: Vec<(String, bool)>,
}

impl Prepared {
    /// Whether INBOX is among the folders read (what a watcher IDLEs on).
    pub fn reads_inbox(&self) -> bool {
        self.folders.iter().any(|(f, _)| f.eq_ignore_ascii_case("INBOX"))
    }
}

impl MailSync {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Arc<Settings>) -> MailSync {
        MailSync {
            store,
            clock,
            settings,
            owner: lease_token(),
            stop: None,
        }
    }

    /// Makes reading stop between batches once `stop` turns true (a daemon shutting down).
    pub fn with_stop(mut self, stop: tokio::sync::watch::Receiver<bool>) -> MailSync {
        self.stop = Some(stop);
        self
    }

    pub fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|stop| *stop.borrow())
    }

    /// Takes or renews this daemon's watch of a mailbox (its one IDLE
    /// connection across daemons sharing PostgreSQL); false while another
    /// daemon holds it, or while the database cannot say.
    pub async fn hold_watch(&self, mailbox: &str) -> bool {
        // One machine's database: one daemon, which watches at once (also
        // right after a crash, without waiting out the dead one's lease).
        if !self.store.shared_by_daemons() {
            return true;
        }
        let lease = chrono::Duration::seconds(self.settings.config.mail.watch_lease_secs as i64);
        let now = self.clock.now();
        let owner = crate::store::worker_name();
        match self.store.hold_mailbox_watch(mailbox, owner, now, now + lease).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(mailbox, error = %e, "could not hold the mailbox's watch");
                false
            }
        }
    }

    /// Gives the watch up, so a standing-by daemon takes it at once.
    pub async fn release_watch(&self, mailbox: &str) {
        if !self.store.shared_by_daemons() {
            return;
        }
        if let Err(e) = self
            .store
            .release_mailbox_watch(mailbox, crate::store::worker_name())
            .await
        {
            tracing::warn!(mailbox, error = %e, "could not give up the mailbox's watch");
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.config.mail.imap_timeout_secs)
    }

    /// One pass over every configured mailbox; a mailbox's failure is reported, not fatal.
    pub async fn sync_all(&self) -> SyncReport {
        let mut report = SyncReport::default();
        for (name, config) in &self.settings.config.mailboxes {
            report.mailboxes += 1;
            if let Err(e) = self.sync_mailbox(name, config, &mut report).await {
                tracing::warn!(mailbox = %name, error = %e, "mail sync failed");
                report.errors.push(e.to_string());
            }
        }
        report
    }

    /// Connects (reconnecting with backoff on network trouble) and reads every watched folder.
    pub async fn sync_mailbox(
        &self,
        name: &str,
        config: &MailboxConfig,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        let mut backoff = Duration::from_secs(1);
        let max_backoff = Duration::from_secs(self.settings.config.mail.reconnect_max_secs);
        for attempt in 1..=ATTEMPTS_PER_PASS {
            let result = async {
                let mut connection = ImapConnection::open(name, config, self.timeout()).await?;
                let result = self.sync_folders(&mut connection, config, report).await;
                connection.logout().await;
                result
            }
            .await;
            match result {
                Err(e) if e.is_transient() && attempt < ATTEMPTS_PER_PASS => {
                    tracing::warn!(mailbox = %name, error = %e, retry_in_secs = backoff.as_secs(), "reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(max_backoff);
                }
                other => return other,
            }
        }
        Ok(())
    }

    /// Reads every watched folder of an open connection.
    pub async fn sync_folders(
        &self,
        connection: &mut ImapConnection,
        config: &MailboxConfig,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        let prepared = self.prepare(connection, config).await?;
        self.sync_prepared(connection, &prepared, report).await
    }

    /// Reads the prepared folders. A folder the server refuses is reported
    /// and skipped; the others are still read.
    pub async fn sync_prepared(
        &self,
        connection: &mut ImapConnection,
        prepared: &Prepared,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        for (folder, is_sent) in &prepared.folders {
            report.folders += 1;
            match self.sync_folder(connection, prepared, folder, *is_sent, report).await {
                Err(e @ MailError::Folder { .. }) => {
                    tracing::warn!(mailbox = %prepared.name, error = %e, "folder skipped");
                    report.errors.push(e.to_string());
                }
                other => other?,
            }
        }
        Ok(())
    }

    /// Works out whose mailbox it is and which folders to read (once per connection).
    pub async fn prepare(
        &self,
        connection: &mut ImapConnection,
        config: &MailboxConfig,
    ) -> Result<Prepared, MailError> {
        let name = connection.mailbox().to_string();
        let (rep, zone) = self.rep_of(&name, config).await?;
        let mut folders = connection.watched_folders(&config.folders).await?;
        // Sent first, so a reply read from INBOX finds the message it answers.
        folders.sort_by_key(|(_, is_sent)| !is_sent);
        Ok(Prepared {
            actor: Actor::System(format!("mail-sync:{name}")),
            name,
            rep,
            zone,
            own_addresses: config.own_addresses(),
            folders,
        })
    }

    /// The mailbox's rep and their zone (days a reply names count from its day there).
    async fn rep_of(&self, name: &str, config: &MailboxConfig) -> Result<(RepId, chrono_tz::Tz), MailError> {
        let rep_email = config.rep.trim().to_lowercase();
        self.store
            .list_reps()
            .await?
            .into_iter()
            .find(|r| r.email.to_lowercase() == rep_email)
            .map(|r| (r.id, r.zone()))
            .ok_or_else(|| MailError::UnknownRep {
                mailbox: name.to_string(),
                rep: config.rep.clone(),
            })
    }

    async fn sync_folder(
        &self,
        connection: &mut ImapConnection,
        reader: &Prepared,
        folder: &str,
        is_sent: bool,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        let now = self.clock.now();
        let Some(cursor) = self
            .store
            .claim_mail_folder(&reader.name, folder, &self.owner, now, self.lease_until())
            .await?
        else {
            report.folders_busy += 1;
            return Ok(());
        };
        let result = self
            .read_folder(connection, reader, folder, is_sent, cursor, report)
            .await;
        if let Err(MailError::Store(StoreError::Conflict(reason))) = &result {
            // Another worker took the folder over while this one was slow; it carries on.
            tracing::warn!(mailbox = %reader.name, folder, reason, "stopped reading a folder");
            report.folders_busy += 1;
            return Ok(());
        }
        let error = result.as_ref().err().map(ToString::to_string);
        self.store
            .release_mail_folder(&reader.name, folder, &self.owner, error.as_deref(), self.clock.now())
            .await?;
        result
    }

    async fn read_folder(
        &self,
        connection: &mut ImapConnection,
        reader: &Prepared,
        folder: &str,
        is_sent: bool,
        cursor: FolderCursor,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        let status = connection.examine(folder).await?;
        if let Some(next) = status.uid_next {
            // IMAP names INBOX in any case.
            let key = if folder.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_string()
            } else {
                folder.to_string()
            };
            report.uid_next.insert(key, next);
        }
        let same_validity = cursor.uid_validity == Some(status.uid_validity);
        if cursor.uid_validity.is_some() && !same_validity {
            tracing::warn!(mailbox = %reader.name, folder, "UIDVALIDITY changed: reading the folder again (no event is stored twice)");
            report.resynced_folders += 1;
        }
        let after = if same_validity { cursor.last_uid } else { 0 };
        let nothing_new = status.uid_next.is_some_and(|next| next <= after.saturating_add(1));
        let uids = if same_validity && nothing_new {
            Vec::new()
        } else {
            connection.uids_after(after).await?
        };
        if uids.is_empty() && !same_validity {
            let cursor = FolderCursor {
                uid_validity: Some(status.uid_validity),
                last_uid: 0,
            };
            self.store_batch(reader, folder, cursor, Vec::new()).await?;
        }
        let batch_size = self.settings.config.mail.fetch_batch.max(1) as usize;
        for chunk in uids.chunks(batch_size) {
            if self.stopping() {
                break;
            }
            let effects = self.read_batch(connection, reader, is_sent, chunk, report).await?;
            let last_uid = chunk.last().copied().unwrap_or(after);
            let cursor = FolderCursor {
                uid_validity: Some(status.uid_validity),
                last_uid,
            };
            report.new_events += self.store_batch(reader, folder, cursor, effects).await?;
        }
        Ok(())
    }

    /// Headers first; whole messages only for those that may concern a prospect.
    async fn read_batch(
        &self,
        connection: &mut ImapConnection,
        reader: &Prepared,
        is_sent: bool,
        uids: &[u32],
        report: &mut SyncReport,
    ) -> Result<Vec<MailEffect>, MailError> {
        let headers = connection
            .fetch(
                uids,
                &format!("(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ({ENVELOPE_FIELDS})])"),
            )
            .await?;
        report.headers_fetched += headers.len() as u64;
        let mut envelopes: Vec<(u32, Envelope)> = Vec::with_capacity(headers.len());
        for (uid, fetch) in &headers {
            match Envelope::parse(fetch.header().unwrap_or_default()) {
                Some(mut envelope) => {
                    envelope.received_at = fetch.internal_date().map(|d| d.with_timezone(&chrono::Utc));
                    envelopes.push((*uid, envelope));
                }
                None => {
                    report.unreadable += 1;
                    tracing::warn!(mailbox = %reader.name, uid, "skipped a message without readable headers");
                }
            }
        }
        let (emails, ids) = mail::lookups(envelopes.iter().map(|(_, e)| e), std::iter::empty());
        let mut contacts = self.store.mail_contacts(reader.rep, &emails, &ids).await?;
        let now = self.clock.now();
        let mut effects = Vec::new();
        let mut to_read = Vec::new();
        for (uid, envelope) in &envelopes {
            if is_sent || mail::is_from_rep(envelope, &reader.own_addresses) {
                let sent = mail::sent_effects(envelope, &contacts, is_sent, &reader.actor, now);
                // A reply or report later in this same batch may answer it.
                for effect in &sent {
                    if let Some((id, prospect)) = &effect.sent_id {
                        let address = envelope
                            .to_and_cc
                            .iter()
                            .find(|a| contacts.by_email.get(*a) == Some(prospect))
                            .cloned();
                        contacts.add_sent(id, *prospect, address.as_deref(), effect.event.occurred_at);
                    }
                }
                effects.extend(sent);
            } else if mail::needs_body(envelope, &contacts) {
                to_read.push(*uid);
            }
        }
        let readings = self.read_messages(connection, reader, &to_read, report).await?;
        let (emails, ids) = mail::lookups(std::iter::empty(), readings.iter().map(|(_, r)| r));
        contacts.merge(self.store.mail_contacts(reader.rep, &emails, &ids).await?);
        let by_uid: std::collections::HashMap<u32, &Envelope> = envelopes.iter().map(|(u, e)| (*u, e)).collect();
        for (uid, reading) in &readings {
            if let Some(envelope) = by_uid.get(uid) {
                effects.extend(mail::received_effects(envelope, reading, &contacts, &reader.actor, now));
            }
        }
        Ok(effects)
    }

    /// Fetches and classifies messages; one that cannot be read is logged and skipped.
    async fn read_messages(
        &self,
        connection: &mut ImapConnection,
        reader: &Prepared,
        uids: &[u32],
        report: &mut SyncReport,
    ) -> Result<Vec<(u32, Classification)>, MailError> {
        let query = format!("(UID BODY.PEEK[]<0.{}>)", self.settings.config.mail.max_message_bytes);
        let today = self.clock.now().date_naive();
        let mut readings = Vec::new();
        // Whole messages in small groups: each fetch stays well inside the command timeout and memory.
        for group in uids.chunks(BODIES_PER_FETCH) {
            let fetched = connection.fetch(group, &query).await?;
            report.messages_fetched += fetched.len() as u64;
            readings.extend(self.classify_all(reader, &fetched, today, report));
        }
        Ok(readings)
    }

    /// Classifies fetched messages; one that cannot be read is logged and skipped.
    fn classify_all(
        &self,
        reader: &Prepared,
        fetched: &[(u32, async_imap::types::Fetch)],
        today: chrono::NaiveDate,
        report: &mut SyncReport,
    ) -> Vec<(u32, Classification)> {
        let mut readings = Vec::new();
        for (uid, fetch) in fetched {
            let raw = fetch.body().unwrap_or_default();
            match std::panic::catch_unwind(|| classify_in_zone(raw, today, reader.zone)) {
                Ok(Ok(reading)) => readings.push((*uid, reading)),
                Ok(Err(e)) => {
                    report.unreadable += 1;
                    tracing::warn!(mailbox = %reader.name, uid, error = %e, "skipped a message that cannot be read");
                }
                Err(_) => {
                    report.unreadable += 1;
                    tracing::error!(mailbox = %reader.name, uid, "skipped a message whose reading panicked");
                }
            }
        }
        readings
    }

    async fn store_batch(
        &self,
        reader: &Prepared,
        folder: &str,
        cursor: FolderCursor,
        effects: Vec<MailEffect>,
    ) -> Result<u64, MailError> {
        // What the prospect did (a reply, an unsubscribe, a bounce) stops
        // their sequences as soon as it is recorded, not at the next step.
        let answered: Vec<_> = effects
            .iter()
            .filter(|e| may_stop(&e.event.kind) || !e.suppress.is_empty())
            .map(|e| e.event.prospect_id)
            .collect();
        let batch = MailBatch {
            rep_id: reader.rep,
            owner: self.owner.clone(),
            cursor,
            lease_until: self.lease_until(),
            effects,
        };
        let now = self.clock.now();
        let recorded = self.store.record_mail(&reader.name, folder, &batch, now).await?;
        crate::sequences::stops::stop_ended(self.store.as_ref(), &self.settings, &answered, now).await?;
        Ok(recorded)
    }

    fn lease_until(&self) -> chrono::DateTime<chrono::Utc> {
        let lease = i64::try_from(self.settings.config.mail.sync_lease_secs).unwrap_or(86_400);
        self.clock.now() + ChronoDuration::seconds(lease)
    }
}
