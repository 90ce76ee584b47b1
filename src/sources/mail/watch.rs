//! Waiting for new mail: a connection that syncs, then IDLEs on INBOX until
//! the server announces a change (or the IDLE is due for renewal), then
//! syncs again. Reconnects with backoff. Without IDLE on the server (or
//! without INBOX among the folders), it either polls on an interval or
//! leaves the mailbox to the daemon's `sync-mail` schedule.
//!
//! A watcher stops when its `stop` signal turns true: between batches of a
//! sync (so the folder's lease is released) or at once while waiting.
//!
//! With several daemons on one PostgreSQL database, one of them watches each mailbox:
//! the watch is a lease renewed every third of `[mail] watch_lease_secs`;
//! the others stand by and take over when it runs out (its holder died or
//! lost the database).

use super::connection::{within, ImapConnection};
use super::sync::{MailSync, Prepared, SyncReport};
use super::MailError;
use crate::config::MailboxConfig;
use async_imap::extensions::idle::IdleResponse;
use std::time::Duration;
use tokio::sync::watch;

/// What to do when the server has no IDLE.
#[derive(Debug, Clone, Copy)]
pub enum WithoutIdle {
    /// Sync again after this long.
    Poll(Duration),
    /// Stop watching: the daemon's `sync-mail` schedule polls it.
    Stop,
}

/// Watches one mailbox until `stop` turns true (or, without IDLE, per `without_idle`).
pub async fn watch(
    sync: MailSync,
    name: String,
    config: MailboxConfig,
    without_idle: WithoutIdle,
    mut stop: watch::Receiver<bool>,
) {
    let sync = sync.with_stop(stop.clone());
    let max_backoff = Duration::from_secs(sync.settings().config.mail.reconnect_max_secs);
    let lease = Duration::from_secs(sync.settings().config.mail.watch_lease_secs.max(3));
    let mut backoff = Duration::from_secs(1);
    let mut standing_by = false;
    while !*stop.borrow() {
        if !sync.hold_watch(&name).await {
            if !standing_by {
                tracing::info!(mailbox = %name, "another daemon watches the mailbox; standing by to take over");
                standing_by = true;
            }
            wait_or_stop(lease / 3, &mut stop).await;
            continue;
        }
        standing_by = false;
        tracing::info!(mailbox = %name, "watching the mailbox");
        let mut watcher_stop = stop.clone();
        let watched = tokio::select! {
            done = watch_connection(&sync, &name, &config, without_idle, &mut backoff, &mut watcher_stop) => Some(done),
            () = keep_watch(&sync, &name, lease) => None,
        };
        match watched {
            None => {
                tracing::warn!(mailbox = %name, "lost the mailbox's watch (its lease ran out); another daemon took over");
            }
            Some(Ok(())) => break,
            Some(Err(e)) if e.needs_user() => {
                tracing::error!(mailbox = %name, error = %e, "stopped watching the mailbox");
                break;
            }
            Some(Err(e)) => {
                tracing::warn!(mailbox = %name, error = %e, retry_in_secs = backoff.as_secs(), "mailbox unavailable; will retry");
                wait_or_stop(backoff, &mut stop).await;
                backoff = (backoff * 2).min(max_backoff);
            }
        }
    }
    sync.release_watch(&name).await;
}

/// Renews the watch every third of its lease; returns when it is lost.
async fn keep_watch(sync: &MailSync, name: &str, lease: Duration) {
    loop {
        tokio::time::sleep(lease / 3).await;
        if !sync.hold_watch(name).await {
            return;
        }
    }
}

/// Sleeps for `pause`, or less if `stop` turns true.
async fn wait_or_stop(pause: Duration, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = stop.wait_for(|stopping| *stopping) => {}
    }
}

/// Syncs and waits on one connection until it fails or `stop` turns true;
/// `Ok` when done. A completed sync resets the reconnection `backoff`.
async fn watch_connection(
    sync: &MailSync,
    name: &str,
    config: &MailboxConfig,
    without_idle: WithoutIdle,
    backoff: &mut Duration,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), MailError> {
    let mut connection = ImapConnection::open(name, config, sync.timeout()).await?;
    let prepared = sync.prepare(&mut connection, config).await?;
    let renew = Duration::from_secs(sync.settings().config.mail.idle_renew_mins * 60);
    loop {
        let mut report = SyncReport::default();
        sync.sync_prepared(&mut connection, &prepared, &mut report).await?;
        *backoff = Duration::from_secs(1);
        log_report(name, &report);
        if *stop.borrow() {
            connection.logout().await;
            return Ok(());
        }
        if report.folders_busy > 0 {
            // Another worker holds a folder, or one that crashed does until its
            // lease runs out: try again soon rather than after the next IDLE.
            wait_or_stop(busy_retry(sync), stop).await;
            continue;
        }
        match (can_idle(&connection, &prepared, config), without_idle) {
            (true, _) => {
                // Mail that arrived while the folders were read: sync again before waiting.
                let inbox = connection.examine("INBOX").await?;
                if inbox.uid_next != report.uid_next.get("INBOX").copied() {
                    continue;
                }
                connection = idle_once(connection, renew, stop).await?;
            }
            (false, WithoutIdle::Poll(interval)) => wait_or_stop(interval, stop).await,
            (false, WithoutIdle::Stop) => {
                tracing::info!(mailbox = %name, "no IDLE: the mailbox is synced on the sync-mail schedule");
                connection.logout().await;
                return Ok(());
            }
        }
    }
}

fn can_idle(connection: &ImapConnection, prepared: &Prepared, config: &MailboxConfig) -> bool {
    connection.can_idle && config.idle && prepared.reads_inbox()
}

/// IDLEs on the open INBOX until the server reports something, `renew`
/// passes (servers keep the line alive with `* OK Still here`, so renewal is
/// timed here), or `stop` turns true.
async fn idle_once(
    connection: ImapConnection,
    renew: Duration,
    stop: &mut watch::Receiver<bool>,
) -> Result<ImapConnection, MailError> {
    let (name, timeout) = (connection.mailbox().to_string(), connection.timeout());
    let mut idle = connection.into_idle();
    within(timeout, &name, "IDLE", idle.init())
        .await?
        .map_err(|e| MailError::protocol(&name, "IDLE", e))?;
    let (wait, _interrupt) = idle.wait_with_timeout(renew);
    tokio::select! {
        outcome = tokio::time::timeout(renew, wait) => match outcome {
            Ok(Ok(IdleResponse::NewData(_))) => tracing::debug!(mailbox = %name, "new mail announced"),
            Ok(Ok(_)) | Err(_) => tracing::debug!(mailbox = %name, "renewing IDLE"),
            Ok(Err(e)) => return Err(MailError::protocol(&name, "IDLE", e)),
        },
        _ = stop.wait_for(|stopping| *stopping) => {}
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
