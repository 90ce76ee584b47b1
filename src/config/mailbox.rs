//! Reps' mailboxes, read over IMAP: where they are, how to log in, which
//! folders to watch. Secrets come from an environment variable or a file and
//! are read at each connection, so a token refreshed on disk is picked up.

use super::{ConfigError, Secret, TlsMode};
use serde::Deserialize;
use std::path::PathBuf;

/// One rep's mailbox, `[mailboxes.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// The rep (by email) whose prospects this mailbox's messages are matched to.
    pub rep: String,
    pub host: String,
    /// Default: 993 for implicit TLS, 143 otherwise.
    pub port: Option<u16>,
    #[serde(default = "implicit")]
    pub tls: TlsMode,
    /// PEM file of extra certificate authorities to trust (a company's private CA);
    /// the public web roots are always trusted.
    pub ca_file: Option<PathBuf>,
    pub username: String,
    /// Name of an environment variable holding the password.
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// An OAuth2 access token for XOAUTH2 (Gmail, Microsoft 365) instead of a password.
    pub oauth2_token_env: Option<String>,
    pub oauth2_token_file: Option<PathBuf>,
    /// Folders to read; empty = INBOX and the folder the server marks `\Sent`.
    #[serde(default)]
    pub folders: Vec<String>,
    /// The rep's other addresses (besides `rep` and `username`): mail from them is the rep's own.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Wait for new mail with IMAP IDLE where the server offers it.
    #[serde(default = "super::sections::yes")]
    pub idle: bool,
}

/// How the mailbox authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Password(String),
    OAuth2Token(String),
}

fn implicit() -> TlsMode {
    TlsMode::Implicit
}

impl MailboxConfig {
    pub fn port(&self) -> u16 {
        self.port
            .unwrap_or(if self.tls == TlsMode::Implicit { 993 } else { 143 })
    }

    /// The rep's own addresses, lower-cased: mail from them is the rep's touch.
    pub fn own_addresses(&self) -> Vec<String> {
        let mut own: Vec<String> = [&self.rep, &self.username]
            .into_iter()
            .chain(&self.aliases)
            .filter(|a| a.contains('@'))
            .map(|a| a.trim().to_lowercase())
            .collect();
        own.sort();
        own.dedup();
        own
    }

    /// Reads the password or token now (tokens are refreshed on disk by other tools).
    pub fn credential(&self, name: &str) -> Result<Credential, ConfigError> {
        let key = |k: &str| format!("mailboxes.{name}.{k}");
        if let Some(secret) = read_secret(&key("password"), &self.password_env, &self.password_file)? {
            return Ok(Credential::Password(secret.expose().to_string()));
        }
        if let Some(secret) = read_secret(&key("oauth2_token"), &self.oauth2_token_env, &self.oauth2_token_file)? {
            return Ok(Credential::OAuth2Token(secret.expose().to_string()));
        }
        Err(ConfigError::new(
            "mailbox config",
            key("password_env"),
            "no credential: set password_env or password_file (or oauth2_token_env / oauth2_token_file)",
        ))
    }
}

fn read_secret(key: &str, env: &Option<String>, file: &Option<PathBuf>) -> Result<Option<Secret>, ConfigError> {
    match (env, file) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            "mailbox config",
            key,
            format!("set either `{key}_env` or `{key}_file`, not both"),
        )),
        (Some(variable), None) => std::env::var(variable).map(|v| Some(Secret::new(v))).map_err(|_| {
            ConfigError::new(
                "environment",
                format!("{key}_env"),
                format!("the environment variable {variable} is not set; export it or use {key}_file"),
            )
        }),
        (None, Some(path)) => super::secret::read_secret_file(path).map(Some).map_err(|e| {
            ConfigError::new(
                "mailbox config",
                format!("{key}_file"),
                format!("cannot read secret file {}: {e}", path.display()),
            )
        }),
        (None, None) => Ok(None),
    }
}

/// Checks one mailbox's settings; `bad(key, message)` names where the value came from.
pub(super) fn validate_mailbox(
    name: &str,
    mailbox: &MailboxConfig,
    bad: &dyn Fn(&str, String) -> ConfigError,
    problems: &mut Vec<ConfigError>,
) {
    let key = |k: &str| format!("mailboxes.{name}.{k}");
    if !mailbox.rep.contains('@') {
        problems.push(bad(
            &key("rep"),
            format!("'{}' is not an email address; name the rep by their email", mailbox.rep),
        ));
    }
    if mailbox.host.trim().is_empty() || mailbox.host.contains(['/', ' ']) {
        problems.push(bad(
            &key("host"),
            format!("'{}' is not a host name; write it like imap.example.com", mailbox.host),
        ));
    }
    if mailbox.tls == TlsMode::None && !super::is_loopback_host(&mailbox.host) {
        problems.push(bad(
            &key("tls"),
            format!(
                "plain IMAP is only allowed to a loopback address, not '{}'; use implicit or starttls",
                mailbox.host
            ),
        ));
    }
    if let Some(path) = &mailbox.ca_file {
        if let Err(m) = extra_roots(path) {
            problems.push(bad(&key("ca_file"), m));
        }
    }
    let has_password = mailbox.password_env.is_some() || mailbox.password_file.is_some();
    let has_token = mailbox.oauth2_token_env.is_some() || mailbox.oauth2_token_file.is_some();
    if has_password == has_token {
        problems.push(bad(
            &key("password_env"),
            "set exactly one credential: password_env or password_file, or oauth2_token_env or oauth2_token_file"
                .into(),
        ));
    }
    for (kind, env, file) in [
        ("password", &mailbox.password_env, &mailbox.password_file),
        ("oauth2_token", &mailbox.oauth2_token_env, &mailbox.oauth2_token_file),
    ] {
        if env.is_some() && file.is_some() {
            problems.push(bad(
                &key(&format!("{kind}_env")),
                format!("set either `{kind}_env` or `{kind}_file`, not both"),
            ));
        }
    }
    for folder in &mailbox.folders {
        if is_never_read(folder) {
            problems.push(bad(
                &key("folders"),
                format!("'{folder}' is never read (spam, junk, trash and drafts are not the rep's conversations)"),
            ));
        }
    }
    // The secret itself is read where it is used (each connection), so one
    // mailbox whose variable or file is missing breaks only that mailbox;
    // `config check` reads every one.
}

/// The certificates in a PEM file, or what is wrong with it.
pub fn extra_roots(
    path: &std::path::Path,
) -> Result<Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>, String> {
    use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer};
    let unreadable = |e: &dyn std::fmt::Display| format!("cannot read certificates from {}: {e}", path.display());
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certificates.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certificates)
}

/// Spam, Junk, Trash and Drafts are never read, whatever the config says.
pub fn is_never_read(folder: &str) -> bool {
    [
        "spam",
        "junk",
        "junk e-mail",
        "junk email",
        "trash",
        "deleted items",
        "deleted messages",
        "bin",
        "drafts",
    ]
    .contains(&folder_leaf(folder).as_str())
}

/// A folder's own name, lower-cased, without its parents (`INBOX.Junk` → `junk`).
pub fn folder_leaf(folder: &str) -> String {
    folder.rsplit(['/', '.']).next().unwrap_or(folder).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_trash_and_drafts_are_never_read() {
        for folder in ["Spam", "INBOX.Junk", "[Gmail]/Trash", "Drafts", "Deleted Items"] {
            assert!(is_never_read(folder), "{folder}");
        }
        for folder in ["INBOX", "Sent", "Sent Items", "[Gmail]/Sent Mail", "Clients/Acme"] {
            assert!(!is_never_read(folder), "{folder}");
        }
    }
}
