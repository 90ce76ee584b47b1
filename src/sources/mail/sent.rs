//! Looking a message up in a rep's Sent folder: how a send cut off by a
//! crash is settled when the SMTP server files what it accepts there.

use super::connection::ImapConnection;
use super::MailError;
use crate::config::MailboxConfig;
use std::collections::BTreeSet;
use std::time::Duration;

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
