//! Outgoing mail. With an SMTP host configured, mail goes out through it;
//! otherwise it is written as `.eml` files into the outbox folder, so a fresh
//! install can be tried with nothing else running.

pub mod compose;

use crate::config::{Settings, TlsMode};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot prepare the outbox folder {path}: {source}")]
    Outbox { path: PathBuf, source: std::io::Error },
    #[error("SMTP server {host}: {reason}")]
    Smtp { host: String, reason: String },
    #[error("writing to the outbox failed: {0}")]
    File(String),
}

pub enum Mailer {
    Smtp {
        host: String,
        transport: AsyncSmtpTransport<Tokio1Executor>,
    },
    Outbox {
        dir: PathBuf,
        transport: AsyncFileTransport<Tokio1Executor>,
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
            return Ok(Mailer::Outbox {
                transport: AsyncFileTransport::new(&dir),
                dir,
            });
        };
        let smtp_error = |e: lettre::transport::smtp::Error| MailError::Smtp {
            host: host.clone(),
            reason: e.to_string(),
        };
        let mut builder = match smtp.tls {
            TlsMode::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&host).map_err(smtp_error)?,
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host).map_err(smtp_error)?,
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
        }
        .port(smtp.port);
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
        }
        Ok(Mailer::Smtp {
            host,
            transport: builder.build(),
        })
    }

    /// A line for the start-up log: where mail will go.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { host, .. } => format!("SMTP via {host}"),
            Mailer::Outbox { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        match self {
            Mailer::Smtp { host, transport } => {
                transport.send(message).await.map(|_| ()).map_err(|e| MailError::Smtp {
                    host: host.clone(),
                    reason: e.to_string(),
                })
            }
            Mailer::Outbox { transport, .. } => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::File(e.to_string())),
        }
    }
}
