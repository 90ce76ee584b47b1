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
use crate::domain::mail::{self, classify, Classification, MailContacts, MailEffect};
use crate::domain::prospect::RepId;
use crate::store::{FolderCursor, MailBatch, Store};
use chrono::Duration as ChronoDuration;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Reconnection attempts within one sync pass before it gives up until the next.
const ATTEMPTS_PER_PASS: u32 = 4;

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
}

/// One mailbox being read: who it belongs to and how to tell the rep's own mail.
struct Reader<'a> {
    name: &'a str,
    rep: RepId,
    own_addresses: Vec<String>,
    actor: Actor,
}

impl MailSync {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Arc<Settings>) -> MailSync {
        MailSync { store, clock, settings }
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
        let name = connection.mailbox().to_string();
        let reader = self.reader(&name, config).await?;
        for (folder, is_sent) in connection.watched_folders(&config.folders).await? {
            report.folders += 1;
            self.sync_folder(connection, &reader, &folder, is_sent, report).await?;
        }
        Ok(())
    }

    async fn reader<'a>(&self, name: &'a str, config: &MailboxConfig) -> Result<Reader<'a>, MailError> {
        let rep_email = config.rep.trim().to_lowercase();
        let rep = self
            .store
            .list_reps()
            .await?
            .into_iter()
            .find(|r| r.email.to_lowercase() == rep_email)
            .ok_or_else(|| MailError::UnknownRep {
                mailbox: name.to_string(),
                rep: config.rep.clone(),
            })?;
        Ok(Reader {
            name,
            rep: rep.id,
            own_addresses: config.own_addresses(),
            actor: Actor::System(format!("mail-sync:{name}")),
        })
    }

    async fn sync_folder(
        &self,
        connection: &mut ImapConnection,
        reader: &Reader<'_>,
        folder: &str,
        is_sent: bool,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        let now = self.clock.now();
        let Some(cursor) = self
            .store
            .claim_mail_folder(reader.name, folder, now, self.lease_until())
            .await?
        else {
            report.folders_busy += 1;
            return Ok(());
        };
        let result = self
            .read_folder(connection, reader, folder, is_sent, cursor, report)
            .await;
        let error = result.as_ref().err().map(ToString::to_string);
        self.store
            .release_mail_folder(reader.name, folder, error.as_deref(), self.clock.now())
            .await?;
        result
    }

    async fn read_folder(
        &self,
        connection: &mut ImapConnection,
        reader: &Reader<'_>,
        folder: &str,
        is_sent: bool,
        cursor: FolderCursor,
        report: &mut SyncReport,
    ) -> Result<(), MailError> {
        let status = connection.examine(folder).await?;
        if let Some(next) = status.uid_next {
            report.uid_next.insert(folder.to_string(), next);
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
        reader: &Reader<'_>,
        is_sent: bool,
        uids: &[u32],
        report: &mut SyncReport,
    ) -> Result<Vec<MailEffect>, MailError> {
        let headers = connection
            .fetch(uids, &format!("(UID BODY.PEEK[HEADER.FIELDS ({ENVELOPE_FIELDS})])"))
            .await?;
        report.headers_fetched += headers.len() as u64;
        let mut envelopes: Vec<(u32, Envelope)> = Vec::with_capacity(headers.len());
        for (uid, fetch) in &headers {
            match Envelope::parse(fetch.header().unwrap_or_default()) {
                Some(envelope) => envelopes.push((*uid, envelope)),
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
                effects.extend(mail::sent_effects(envelope, &contacts, &reader.actor, now));
            } else if mail::needs_body(envelope, &contacts) {
                to_read.push(*uid);
            }
        }
        let readings = self.read_messages(connection, reader, &to_read, report).await?;
        let (emails, ids) = mail::lookups(std::iter::empty(), readings.iter().map(|(_, r)| r));
        merge(
            &mut contacts,
            self.store.mail_contacts(reader.rep, &emails, &ids).await?,
        );
        for (uid, reading) in &readings {
            if let Some((_, envelope)) = envelopes.iter().find(|(u, _)| u == uid) {
                effects.extend(mail::received_effects(envelope, reading, &contacts, &reader.actor, now));
            }
        }
        Ok(effects)
    }

    /// Fetches and classifies messages; one that cannot be read is logged and skipped.
    async fn read_messages(
        &self,
        connection: &mut ImapConnection,
        reader: &Reader<'_>,
        uids: &[u32],
        report: &mut SyncReport,
    ) -> Result<Vec<(u32, Classification)>, MailError> {
        let query = format!("(UID BODY.PEEK[]<0.{}>)", self.settings.config.mail.max_message_bytes);
        let fetched = connection.fetch(uids, &query).await?;
        report.messages_fetched += fetched.len() as u64;
        let today = self.clock.now().date_naive();
        let mut readings = Vec::new();
        for (uid, fetch) in &fetched {
            let raw = fetch.body().unwrap_or_default();
            match std::panic::catch_unwind(|| classify(raw, today)) {
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
        Ok(readings)
    }

    async fn store_batch(
        &self,
        reader: &Reader<'_>,
        folder: &str,
        cursor: FolderCursor,
        effects: Vec<MailEffect>,
    ) -> Result<u64, MailError> {
        let batch = MailBatch {
            rep_id: reader.rep,
            cursor,
            lease_until: self.lease_until(),
            effects,
        };
        Ok(self
            .store
            .record_mail(reader.name, folder, &batch, self.clock.now())
            .await?)
    }

    fn lease_until(&self) -> chrono::DateTime<chrono::Utc> {
        let lease = self.settings.config.mail.sync_lease_secs.min(i64::MAX as u64) as i64;
        self.clock.now() + ChronoDuration::seconds(lease)
    }
}

fn merge(contacts: &mut MailContacts, more: MailContacts) {
    contacts.by_email.extend(more.by_email);
    contacts.by_sent_id.extend(more.by_sent_id);
}
