//! Waiting for new mail: a connection that syncs, then IDLEs on INBOX until
//! the server announces a change (or the IDLE is due for renewal), then
//! syncs again. Reconnects with backoff. Without IDLE on the server, it
//! either polls on an interval or leaves the mailbox to the daemon's
//! `sync-mail` schedule.

use super::connection::{within, ImapConnection};
use super::sync::{MailSync, SyncReport};
use super::MailError;
use crate::config::MailboxConfig;
use async_imap::extensions::idle::IdleResponse;
use std::time::Duration;

/// What to do when the server has no IDLE.
#[derive(Debug, Clone, Copy)]
pub enum WithoutIdle {
    /// Sync again after this long.
    Poll(Duration),
    /// Stop watching: the daemon's `sync-mail` schedule polls it.
    Stop,
}

/// Watches one mailbox until the task is dropped (or, without IDLE, per `without_idle`).
pub async fn watch(sync: MailSync, name: String, config: MailboxConfig, without_idle: WithoutIdle) {
    let max_backoff = Duration::from_secs(sync.settings().config.mail.reconnect_max_secs);
    let mut backoff = Duration::from_secs(1);
    loop {
        match watch_connection(&sync, &name, &config, without_idle, &mut backoff).await {
            Ok(()) => return,
            Err(e) if e.needs_user() => {
                tracing::error!(mailbox = %name, error = %e, "stopped watching the mailbox");
                return;
            }
            Err(e) => {
                tracing::warn!(mailbox = %name, error = %e, retry_in_secs = backoff.as_secs(), "mailbox unavailable; will retry");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(max_backoff);
            }
        }
    }
}

/// Syncs and waits on one connection until it fails; `Ok` only when there is
/// nothing to wait with. A completed sync resets the reconnection `backoff`.
async fn watch_connection(
    sync: &MailSync,
    name: &str,
    config: &MailboxConfig,
    without_idle: WithoutIdle,
    backoff: &mut Duration,
) -> Result<(), MailError> {
    let mut connection = ImapConnection::open(name, config, sync.timeout()).await?;
    let renew = Duration::from_secs(sync.settings().config.mail.idle_renew_mins * 60);
    loop {
        let mut report = SyncReport::default();
        sync.sync_folders(&mut connection, config, &mut report).await?;
        *backoff = Duration::from_secs(1);
        log_report(name, &report);
        if report.folders_busy > 0 {
            // Another worker holds a folder, or one that crashed does until its
            // lease runs out: try again soon rather than after the next IDLE.
            tokio::time::sleep(busy_retry(sync)).await;
            continue;
        }
        match (connection.can_idle && config.idle, without_idle) {
            (true, _) => {
                // Mail that arrived while the folders were read: sync again before waiting.
                let inbox = connection.examine("INBOX").await?;
                if inbox.uid_next.is_some() && inbox.uid_next != report.uid_next.get("INBOX").copied() {
                    continue;
                }
                connection = idle_once(connection, renew).await?;
            }
            (false, WithoutIdle::Poll(interval)) => tokio::time::sleep(interval).await,
            (false, WithoutIdle::Stop) => {
                tracing::info!(mailbox = %name, "no IDLE: the mailbox is synced on the sync-mail schedule");
                connection.logout().await;
                return Ok(());
            }
        }
    }
}

/// IDLEs on the open INBOX until the server reports something or `renew` passes.
async fn idle_once(connection: ImapConnection, renew: Duration) -> Result<ImapConnection, MailError> {
    let (name, timeout) = (connection.mailbox().to_string(), connection.timeout());
    let mut idle = connection.into_idle();
    within(timeout, &name, "IDLE", idle.init())
        .await?
        .map_err(|e| MailError::protocol(&name, "IDLE", e))?;
    let (wait, _stop) = idle.wait_with_timeout(renew);
    // The server may stay silent for the whole wait; the timeout above renew catches a dead link.
    let outcome = within(renew + timeout, &name, "IDLE wait", wait).await?;
    match outcome.map_err(|e| MailError::protocol(&name, "IDLE", e))? {
        IdleResponse::NewData(_) => tracing::debug!(mailbox = %name, "new mail announced"),
        IdleResponse::Timeout => tracing::debug!(mailbox = %name, "renewing IDLE"),
        IdleResponse::ManualInterrupt => {}
    }
    let session = within(timeout, &name, "DONE", idle.done())
        .await?
        .map_err(|e| MailError::protocol(&name, "DONE", e))?;
    Ok(ImapConnection::from_session(session, name, timeout))
}

fn busy_retry(sync: &MailSync) -> Duration {
    Duration::from_secs(sync.settings().config.mail.sync_lease_secs.clamp(1, 60))
}

pub fn log_report(name: &str, report: &SyncReport) {
    if report.headers_fetched > 0 || report.new_events > 0 || report.resynced_folders > 0 {
        tracing::info!(
            mailbox = %name,
            headers = report.headers_fetched,
            messages = report.messages_fetched,
            new_events = report.new_events,
            unreadable = report.unreadable,
            resynced_folders = report.resynced_folders,
            "mailbox synced"
        );
    }
}
