//! Looking a message up in a rep's Sent folder: how a send cut off by a
//! crash is settled when the SMTP server files what it accepts there.

use super::connection::ImapConnection;
use super::MailError;
use crate::config::MailboxConfig;
use std::collections::BTreeSet;
use std::time::Duration;

/// The reps' mailboxes as configured, searched over IMAP.
pub struct ImapSentFolder {
    settings: std::sync::Arc<crate::config::Settings>,
}

impl ImapSentFolder {
    pub fn new(settings: std::sync::Arc<crate::config::Settings>) -> ImapSentFolder {
        ImapSentFolder { settings }
    }
}

#[async_trait::async_trait]
impl crate::sequences::SentFolder for ImapSentFolder {
    async fn holds(&self, rep: &crate::domain::prospect::Rep, message_id: &str) -> Option<bool> {
        let settings = &self.settings.config;
        let timeout = Duration::from_secs(settings.mail.imap_timeout_secs);
        let ids = [message_id.to_string()];
        for (name, mailbox) in settings
            .mailboxes
            .iter()
            .filter(|(_, m)| m.rep.eq_ignore_ascii_case(&rep.email))
        {
            match find_sent(name, mailbox, timeout, &ids).await {
                Ok(found) if !found.is_empty() => return Some(true),
                Ok(_) => {}
                Err(e) => tracing::warn!(mailbox = %name, error = %e, "cannot search the Sent folder"),
            }
        }
        None
    }
}

/// Which of these Message-IDs (without angle brackets) the mailbox's sent
/// folders hold: the `\Sent` folder, or the configured folders that look like one.
pub async fn find_sent(
    name: &str,
    config: &MailboxConfig,
    timeout: Duration,
    message_ids: &[String],
) -> Result<BTreeSet<String>, MailError> {
    let mut connection = ImapConnection::open(name, config, timeout).await?;
    let folders = connection.watched_folders(&config.folders).await?;
    let mut found = BTreeSet::new();
    for (folder, _) in folders.iter().filter(|(_, is_sent)| *is_sent) {
        connection.examine(folder).await?;
        for id in message_ids {
            if !found.contains(id) && connection.holds_message_id(id).await? {
                found.insert(id.clone());
            }
        }
    }
    connection.logout().await;
    Ok(found)
}
