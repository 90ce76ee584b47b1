//! Reading the reps' mailboxes: each folder's cursor, claimed with a lease
//! by one worker at a time; who the addresses and Message-IDs in a batch of
//! mail belong to; and a batch's events and effects, stored with the cursor.

use super::{FolderCursor, MailBatch, MailFolderState, StoreResult};
use crate::domain::mail::MailContacts;
use crate::domain::prospect::RepId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait MailStore: Send + Sync {
    /// Claims a mail folder for `owner` (a worker's own token) until
    /// `lease_until`; `None` while another worker holds it.
    async fn claim_mail_folder(
        &self,
        mailbox: &str,
        folder: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<FolderCursor>>;
    /// Lets go of a folder `owner` holds, noting the error that ended the sync, if any.
    async fn release_mail_folder(
        &self,
        mailbox: &str,
        folder: &str,
        owner: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn list_mail_folders(&self) -> StoreResult<Vec<MailFolderState>>;
    /// Takes or renews the watch of a mailbox (its one IDLE connection
    /// across daemons) for `owner` until `lease_until`; false while another
    /// owner's lease runs.
    async fn hold_mailbox_watch(
        &self,
        mailbox: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Gives up `owner`'s watch of a mailbox, so another daemon takes it at once.
    async fn release_mailbox_watch(&self, mailbox: &str, owner: &str) -> StoreResult<()>;
    /// Which of the rep's prospects own these addresses, and were sent these Message-IDs.
    async fn mail_contacts(&self, rep: RepId, emails: &[String], sent_ids: &[String]) -> StoreResult<MailContacts>;
    /// Stores a batch's events, sent ids, suppressions and away dates with the
    /// folder's new cursor in one transaction, if `batch.owner` still holds the
    /// folder (else nothing is stored: a `Conflict`); returns how many events were new.
    async fn record_mail(&self, mailbox: &str, folder: &str, batch: &MailBatch, now: DateTime<Utc>)
        -> StoreResult<u64>;
}
