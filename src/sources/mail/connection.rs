//! One IMAP connection: TLS (implicit or STARTTLS; plain only to loopback),
//! login with a password or an XOAUTH2 token, and the few read-only commands
//! sync needs, each under a timeout. Folders are opened with EXAMINE and
//! messages read with `BODY.PEEK`, so nothing rapport does changes the mailbox.

use super::MailError;
use crate::config::{Credential, MailboxConfig, TlsMode};
use async_imap::types::{Fetch, NameAttribute};
use async_imap::Session;
use futures::TryStreamExt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::either::Either;

pub type ImapStream = Either<TcpStream, tokio_rustls::client::TlsStream<TcpStream>>;

/// A logged-in session with a mailbox.
pub struct ImapConnection {
    session: Session<ImapStream>,
    mailbox: String,
    timeout: Duration,
    pub can_idle: bool,
}

/// A folder as EXAMINE reports it.
#[derive(Debug, Clone, Copy)]
pub struct FolderStatus {
    pub uid_validity: u32,
    pub uid_next: Option<u32>,
}

struct XOAuth2 {
    user: String,
    token: String,
}

impl async_imap::Authenticator for &XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
    }
}

impl ImapConnection {
    /// Connects and logs in to mailbox `name`.
    pub async fn open(name: &str, config: &MailboxConfig, timeout: Duration) -> Result<ImapConnection, MailError> {
        let credential = config.credential(name)?;
        let address = format!("{}:{}", config.host, config.port());
        let failed = |reason: String| MailError::Connect {
            mailbox: name.to_string(),
            address: address.clone(),
            reason,
        };
        let tls_failed = |reason: String| MailError::Tls {
            mailbox: name.to_string(),
            address: address.clone(),
            reason,
        };
        let tcp = within(timeout, name, "connecting", TcpStream::connect(&address))
            .await?
            .map_err(|e| failed(e.to_string()))?;
        let stream = match config.tls {
            TlsMode::Implicit => Either::Right(tls(tcp, config, timeout).await.map_err(tls_failed)?),
            TlsMode::None => Either::Left(tcp),
            TlsMode::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                greeting(&mut client, name, timeout).await?;
                within(
                    timeout,
                    name,
                    "STARTTLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await?
                .map_err(|e| failed(format!("STARTTLS refused: {e}")))?;
                Either::Right(tls(client.into_inner(), config, timeout).await.map_err(tls_failed)?)
            }
        };
        let mut client = async_imap::Client::new(stream);
        if config.tls != TlsMode::Starttls {
            greeting(&mut client, name, timeout).await?;
        }
        let mut session = login(client, name, &config.username, credential, timeout).await?;
        let capabilities = within(timeout, name, "CAPABILITY", session.capabilities())
            .await?
            .map_err(|e| MailError::protocol(name, "CAPABILITY", e))?;
        Ok(ImapConnection {
            session,
            mailbox: name.to_string(),
            timeout,
            can_idle: capabilities.has_str("IDLE"),
        })
    }

    /// The folders to read, each with whether it holds the rep's sent mail:
    /// the configured ones, else the `\Sent` folder (by SPECIAL-USE, else by
    /// its usual names) and INBOX. Sent comes first, so a reply read from
    /// INBOX finds the message it answers.
    pub async fn watched_folders(&mut self, configured: &[String]) -> Result<Vec<(String, bool)>, MailError> {
        if !configured.is_empty() {
            return Ok(configured
                .iter()
                .filter(|f| !crate::config::is_never_read(f))
                .map(|f| (f.clone(), is_usual_sent_name(f)))
                .collect());
        }
        let names = self
            .run("LIST", |s| async move {
                s.list(Some(""), Some("*")).await?.try_collect::<Vec<_>>().await
            })
            .await?;
        let sent = names
            .iter()
            .find(|n| n.attributes().contains(&NameAttribute::Sent))
            .or_else(|| names.iter().find(|n| is_usual_sent_name(n.name())));
        let mut folders: Vec<(String, bool)> = sent.map(|n| (n.name().to_string(), true)).into_iter().collect();
        folders.push(("INBOX".into(), false));
        Ok(folders)
    }

    /// Opens a folder read-only.
    pub async fn examine(&mut self, folder: &str) -> Result<FolderStatus, MailError> {
        let name = self.mailbox.clone();
        let mailbox = match within(self.timeout, &name, "EXAMINE", self.session.examine(folder)).await? {
            Ok(mailbox) => mailbox,
            Err(async_imap::error::Error::No(reason)) => {
                return Err(MailError::Folder {
                    mailbox: name,
                    folder: folder.to_string(),
                    reason,
                })
            }
            Err(e) => return Err(MailError::protocol(&name, "EXAMINE", e)),
        };
        let uid_validity = mailbox.uid_validity.ok_or_else(|| MailError::Protocol {
            mailbox: self.mailbox.clone(),
            command: "EXAMINE".into(),
            reason: format!("the server reported no UIDVALIDITY for folder {folder}"),
        })?;
        Ok(FolderStatus {
            uid_validity,
            uid_next: mailbox.uid_next,
        })
    }

    /// UIDs above `after` in the open folder, ascending.
    pub async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailError> {
        let query = format!("UID {}:*", after.saturating_add(1));
        let found = self
            .run("UID SEARCH", |s| async move { s.uid_search(&query).await })
            .await?;
        // `N:*` always matches the last message, even when its UID is below N.
        let mut uids: Vec<u32> = found.into_iter().filter(|uid| *uid > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Whether the open folder holds a message with this Message-ID (given
    /// without angle brackets, as rapport makes them: no quotes or backslashes).
    pub async fn holds_message_id(&mut self, message_id: &str) -> Result<bool, MailError> {
        if message_id.contains(['"', '\\', '\r', '\n']) {
            return Ok(false);
        }
        let query = format!("HEADER Message-ID \"<{message_id}>\"");
        let found = self
            .run("UID SEARCH", |s| async move { s.uid_search(&query).await })
            .await?;
        Ok(!found.is_empty())
    }

    /// Fetches `query` for these UIDs; returns (uid, fetch) pairs.
    pub async fn fetch(&mut self, uids: &[u32], query: &str) -> Result<Vec<(u32, Fetch)>, MailError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let fetched = self
            .run("UID FETCH", |s| async move {
                s.uid_fetch(&set, query).await?.try_collect::<Vec<_>>().await
            })
            .await?;
        Ok(fetched.into_iter().filter_map(|f| f.uid.map(|uid| (uid, f))).collect())
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }

    /// Runs one command under the timeout, naming it in any error.
    async fn run<'s, T, F, Fut>(&'s mut self, command: &str, call: F) -> Result<T, MailError>
    where
        F: FnOnce(&'s mut Session<ImapStream>) -> Fut,
        Fut: Future<Output = async_imap::error::Result<T>> + 's,
    {
        let mailbox = self.mailbox.clone();
        within(self.timeout, &mailbox, command, call(&mut self.session))
            .await?
            .map_err(|e| MailError::protocol(&mailbox, command, e))
    }

    /// Hands the session to IDLE; [`ImapConnection::from_session`] takes it back.
    pub fn into_idle(self) -> async_imap::extensions::idle::Handle<ImapStream> {
        self.session.idle()
    }

    /// A session back from IDLE (IDLE needs the server's IDLE capability, so `can_idle` holds).
    pub fn from_session(session: Session<ImapStream>, mailbox: String, timeout: Duration) -> ImapConnection {
        ImapConnection {
            session,
            mailbox,
            timeout,
            can_idle: true,
        }
    }

    pub fn mailbox(&self) -> &str {
        &self.mailbox
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

fn is_usual_sent_name(folder: &str) -> bool {
    [
        "sent",
        "sent items",
        "sent messages",
        "sent mail",
        "sendt",
        "sendte elementer",
        "gesendet",
    ]
    .contains(&crate::config::folder_leaf(folder).as_str())
}

/// A UID set such as `3:7,9,12:13` (sorted input).
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    for &uid in uids {
        run = match run {
            Some((start, end)) if Some(uid) == end.checked_add(1) => Some((start, uid)),
            Some(done) => {
                parts.push(range_text(done));
                Some((uid, uid))
            }
            None => Some((uid, uid)),
        };
    }
    parts.extend(run.map(range_text));
    parts.join(",")
}

fn range_text((start, end): (u32, u32)) -> String {
    if start == end {
        start.to_string()
    } else {
        format!("{start}:{end}")
    }
}

pub(super) async fn within<T>(
    timeout: Duration,
    mailbox: &str,
    what: &str,
    work: impl Future<Output = T>,
) -> Result<T, MailError> {
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| MailError::Timeout {
            mailbox: mailbox.to_string(),
            what: what.to_string(),
            secs: timeout.as_secs(),
        })
}

async fn greeting<T>(client: &mut async_imap::Client<T>, mailbox: &str, timeout: Duration) -> Result<(), MailError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match within(timeout, mailbox, "reading the greeting", client.read_response()).await? {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(MailError::protocol(
            mailbox,
            "greeting",
            "the server closed the connection",
        )),
        Err(e) => Err(MailError::protocol(mailbox, "greeting", e)),
    }
}

async fn login(
    client: async_imap::Client<ImapStream>,
    mailbox: &str,
    username: &str,
    credential: Credential,
    timeout: Duration,
) -> Result<Session<ImapStream>, MailError> {
    let refused = |reason: String| MailError::Login {
        mailbox: mailbox.to_string(),
        username: username.to_string(),
        reason,
    };
    match credential {
        Credential::Password(password) => within(timeout, mailbox, "LOGIN", client.login(username, password))
            .await?
            .map_err(|(e, _)| refused(e.to_string())),
        Credential::OAuth2Token(token) => {
            let auth = XOAuth2 {
                user: username.to_string(),
                token,
            };
            within(
                timeout,
                mailbox,
                "AUTHENTICATE XOAUTH2",
                client.authenticate("XOAUTH2", &auth),
            )
            .await?
            .map_err(|(e, _)| refused(e.to_string()))
        }
    }
}

async fn tls(
    tcp: TcpStream,
    config: &MailboxConfig,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let host = config.host.as_str();
    let mut roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &config.ca_file {
        for certificate in crate::config::extra_roots(path)? {
            roots
                .add(certificate)
                .map_err(|e| format!("{} is not a usable CA certificate: {e}", path.display()))?;
        }
    }
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let server_name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("'{host}' is not a valid TLS server name: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    tokio::time::timeout(timeout, connector.connect(server_name, tcp))
        .await
        .map_err(|_| "the TLS handshake timed out".to_string())?
        .map_err(|e| format!("TLS handshake failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[42]), "42");
        assert_eq!(uid_set(&[]), "");
    }
}
