//! Outgoing mail. With an SMTP host configured, mail goes out through it;
//! otherwise it is written as `.eml` files into the outbox folder, so a fresh
//! install can be tried with nothing else running.
//!
//! Sending is done in sessions: the connection (TLS, AUTH) is made first, so
//! the outbox row for a message can be committed right before its SMTP
//! transaction begins, and a failure is known to be before or inside it.

pub mod compose;
pub mod notify;

use crate::config::{Settings, TlsMode};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot prepare the outbox folder {path}: {source}")]
    Outbox { path: PathBuf, source: std::io::Error },
    #[error("SMTP server {host}: {reason}")]
    Smtp { host: String, reason: String },
    #[error("writing to the outbox failed: {0}")]
    File(String),
    #[error("smtp.ca_file {path}: {reason}; point it at the PEM certificate of the CA that signed the server's")]
    CaFile { path: PathBuf, reason: String },
}

/// How a message went out, as the outbox records it.
pub const SMTP_TRANSPORT: &str = "smtp";
pub const FILE_TRANSPORT: &str = "file";

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Accepted,
    /// The server answered no (nothing was delivered).
    Refused {
        code: u16,
        text: String,
    },
    /// The connection failed inside the transaction: the server may or may not have taken it.
    Interrupted(String),
    /// Refused before a byte went out (e.g. an address the server cannot take).
    NotSent(String),
}

/// An SMTP server's settings, ready to connect.
pub struct SmtpServer {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<Credentials>,
    timeout: Duration,
    tls_parameters: Option<TlsParameters>,
}

pub enum Mailer {
    Smtp(Box<SmtpServer>),
    Outbox { dir: PathBuf },
}

/// An open way to send: a logged-in SMTP connection, or the outbox folder.
pub enum Session {
    Smtp {
        connection: Box<AsyncSmtpConnection>,
        /// For one whole transaction.
        timeout: Duration,
    },
    Outbox {
        dir: PathBuf,
    },
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Mailer, MailError> {
        let smtp = &settings.config.smtp;
        let Some(host) = smtp.host.clone() else {
            let dir = settings.config.mail.outbox_dir.clone();
            std::fs::create_dir_all(&dir).map_err(|source| MailError::Outbox {
                path: dir.clone(),
                source,
            })?;
            return Ok(Mailer::Outbox { dir });
        };
        let tls_parameters = match smtp.tls {
            TlsMode::None => None,
            TlsMode::Implicit | TlsMode::Starttls => Some(tls_parameters(&host, smtp.ca_file.as_deref())?),
        };
        let credentials = match (&smtp.username, &smtp.password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.expose().to_string())),
            _ => None,
        };
        Ok(Mailer::Smtp(Box::new(SmtpServer {
            host,
            port: smtp.port,
            tls: smtp.tls,
            credentials,
            timeout: Duration::from_secs(smtp.timeout_secs),
            tls_parameters,
        })))
    }

    /// A line for the start-up log: where mail will go.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(server) => format!("SMTP via {}", server.host),
            Mailer::Outbox { dir } => format!(".eml files in {}", dir.display()),
        }
    }

    /// Connects (TLS, AUTH) so the next message can go at once.
    pub async fn open(&self) -> Result<Session, MailError> {
        match self {
            Mailer::Outbox { dir } => Ok(Session::Outbox { dir: dir.clone() }),
            Mailer::Smtp(server) => {
                // lettre's own timeout covers connecting only; a server that
                // stalls later must not hold the pass forever.
                let limit = server.timeout * 3;
                tokio::time::timeout(limit, server.connect()).await.unwrap_or_else(|_| {
                    Err(MailError::Smtp {
                        host: server.host.clone(),
                        reason: format!("no answer within {} s while connecting and logging in", limit.as_secs()),
                    })
                })
            }
        }
    }

    /// Sends one message in a session of its own.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        let mut session = self.open().await?;
        let delivery = session.send(&message).await;
        session.close().await;
        match delivery {
            Delivery::Accepted => Ok(()),
            Delivery::Refused { text, .. } | Delivery::Interrupted(text) | Delivery::NotSent(text) => {
                Err(MailError::Smtp {
                    host: self.describe(),
                    reason: text,
                })
            }
        }
    }

    /// What the outbox records as the message's transport.
    pub fn transport(&self) -> &'static str {
        match self {
            Mailer::Smtp(_) => SMTP_TRANSPORT,
            Mailer::Outbox { .. } => FILE_TRANSPORT,
        }
    }
}

/// Whether the outbox folder holds a message: how a crash while writing one is settled.
pub fn outbox_holds(dir: &Path, message_id: &str) -> bool {
    dir.join(outbox_file_name(message_id)).exists()
}

impl SmtpServer {
    async fn connect(&self) -> Result<Session, MailError> {
        let failed = |e: lettre::transport::smtp::Error| MailError::Smtp {
            host: self.host.clone(),
            reason: e.to_string(),
        };
        let hello = ClientId::default();
        let implicit = match self.tls {
            TlsMode::Implicit => self.tls_parameters.clone(),
            _ => None,
        };
        let mut connection = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            implicit,
            None,
        )
        .await
        .map_err(failed)?;
        if let (TlsMode::Starttls, Some(parameters)) = (self.tls, &self.tls_parameters) {
            connection.starttls(parameters.clone(), &hello).await.map_err(failed)?;
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(failed)?;
        }
        Ok(Session::Smtp {
            connection: Box::new(connection),
            timeout: self.timeout * 2,
        })
    }
}

impl Session {
    pub async fn send(&mut self, message: &Message) -> Delivery {
        match self {
            Session::Outbox { dir } => write_to_outbox(dir, message).await,
            Session::Smtp { connection, timeout } => {
                let bytes = message.formatted();
                let sending = connection.send(message.envelope(), &bytes);
                match tokio::time::timeout(*timeout, sending).await {
                    Ok(Ok(_)) => Delivery::Accepted,
                    Ok(Err(e)) => match e.status() {
                        Some(code) => Delivery::Refused {
                            code: code.to_string().parse().unwrap_or(554),
                            text: e.to_string(),
                        },
                        // lettre's own checks, made before any command is written.
                        None if e.is_client() => Delivery::NotSent(e.to_string()),
                        None => Delivery::Interrupted(e.to_string()),
                    },
                    Err(_) => Delivery::Interrupted(format!(
                        "no answer within {} s during the transaction",
                        timeout.as_secs()
                    )),
                }
            }
        }
    }

    /// Whether the connection still answers (NOOP), so the next message's
    /// outbox row is written only when its transaction can begin at once.
    pub async fn is_ready(&mut self) -> bool {
        match self {
            Session::Smtp { connection, timeout } => {
                !connection.has_broken()
                    && tokio::time::timeout(*timeout, connection.test_connected())
                        .await
                        .unwrap_or(false)
            }
            Session::Outbox { .. } => true,
        }
    }

    pub async fn close(self) {
        if let Session::Smtp {
            mut connection,
            timeout,
        } = self
        {
            let _ = tokio::time::timeout(timeout, connection.quit()).await;
        }
    }
}

fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let ca_error = |reason: String| MailError::CaFile {
            path: path.to_path_buf(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| MailError::Smtp {
        host: host.to_string(),
        reason: format!("TLS settings: {e}"),
    })
}

/// The file a message is written to: named by its Message-ID, so a crash can
/// be settled by looking for it.
fn outbox_file_name(message_id: &str) -> String {
    let safe: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.eml")
}

/// Written to a temporary name and renamed, so the folder never holds half a message.
async fn write_to_outbox(dir: &Path, message: &Message) -> Delivery {
    let id = message
        .headers()
        .get_raw("Message-ID")
        .map(str::to_string)
        .unwrap_or_else(|| format!("no-id-{}", rand::random::<u64>()));
    let path = dir.join(outbox_file_name(&id));
    let partial = path.with_extension("eml.partial");
    let written = async {
        tokio::fs::write(&partial, message.formatted()).await?;
        tokio::fs::rename(&partial, &path).await
    };
    match written.await {
        Ok(()) => Delivery::Accepted,
        Err(e) => Delivery::Refused {
            code: 451,
            text: format!("cannot write {}: {e}", path.display()),
        },
    }
}
