//! Reps' mailboxes over IMAP: a connection with timeouts and read-only
//! commands, an incremental sync by UID, and a watcher that waits with IDLE.

pub mod connection;
pub mod saved;
pub mod sent;
pub mod sync;
pub mod watch;

use crate::config::ConfigError;
use crate::store::StoreError;
use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mailbox {mailbox}: cannot connect to {address}: {reason}; check mailboxes.{mailbox}.host, port and tls")]
    Connect {
        mailbox: String,
        address: String,
        reason: String,
    },
    #[error("mailbox {mailbox}: TLS with {address} failed: {reason}; if the server's certificate comes from a private CA, set mailboxes.{mailbox}.ca_file")]
    Tls {
        mailbox: String,
        address: String,
        reason: String,
    },
    #[error("mailbox {mailbox}: folder '{folder}' cannot be opened ({reason}); check mailboxes.{mailbox}.folders")]
    Folder {
        mailbox: String,
        folder: String,
        reason: String,
    },
    #[error("mailbox {mailbox}: login as {username} was refused ({reason}); check mailboxes.{mailbox}.username and its password or token (password_env/_file, oauth2_token_env/_file)")]
    Login {
        mailbox: String,
        username: String,
        reason: String,
    },
    #[error("mailbox {mailbox}: {what} took longer than {secs} s (mail.imap_timeout_secs)")]
    Timeout { mailbox: String, what: String, secs: u64 },
    #[error("mailbox {mailbox}: {command} failed: {reason}")]
    Protocol {
        mailbox: String,
        command: String,
        reason: String,
    },
    #[error("mailbox {mailbox}: no rep has the address {rep}; add the rep with `rapport rep add` or fix mailboxes.{mailbox}.rep")]
    UnknownRep { mailbox: String, rep: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MailError {
    pub(crate) fn protocol(mailbox: &str, command: &str, reason: impl Display) -> MailError {
        MailError::Protocol {
            mailbox: mailbox.to_string(),
            command: command.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Worth reconnecting for at once: the network or the server, not the setup.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MailError::Connect { .. } | MailError::Timeout { .. } | MailError::Protocol { .. }
        )
    }

    /// Only the user can fix it (the config names a rep or a secret that is not there);
    /// anything else, a long-running watcher retries with backoff.
    pub fn needs_user(&self) -> bool {
        matches!(self, MailError::UnknownRep { .. } | MailError::Config(_))
    }
}
