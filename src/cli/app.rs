//! What every command starts from: settings, store, clock and output mode.

use super::{Cli, Command, RepArg};
use crate::clock::{ShiftedClock, SystemClock};
use crate::config::{self, LogFormat, Settings};
use crate::domain::clock::{Clock, FixedClock};
use crate::domain::prospect::Rep;
use crate::store::migrations::redacted;
use crate::store::Store;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// `--now` was given: the clock is the user's, not the system's.
    pub now_given: bool,
    pub json: bool,
}

impl App {
    pub async fn start(cli: &Cli) -> anyhow::Result<App> {
        let path = config::locate(cli.config.as_deref());
        let settings = config::load(path.as_deref())?;
        init_logging(&settings, cli.log_format);
        let store = match cli.command {
            Command::Daemon => open_store_patiently(&settings).await?,
            _ => open_store(&settings).await?,
        };
        let clock: Arc<dyn Clock> = match (cli.now, &cli.command) {
            (Some(now), Command::Daemon) => Arc::new(ShiftedClock::starting_at(now)),
            (Some(now), _) => Arc::new(FixedClock(now)),
            (None, _) => Arc::new(SystemClock),
        };
        Ok(App {
            settings: Arc::new(settings),
            store,
            clock,
            now_given: cli.now.is_some(),
            json: cli.json,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The rep a command acts for: `--rep`, or the only rep there is.
    pub async fn rep(&self, arg: &RepArg) -> anyhow::Result<Rep> {
        Ok(crate::app::reps::resolve(&self.core(), &self.actor(), arg.rep.as_deref()).await?)
    }

    /// The use cases' view of this command: store, settings and clock.
    pub fn core(&self) -> crate::app::Core {
        crate::app::Core {
            store: self.store.clone(),
            settings: self.settings.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Who is at the keyboard: the operator, acting for the whole team.
    pub fn actor(&self) -> crate::app::Actor {
        crate::app::Actor::Team {
            name: super::cli_user().name().to_string(),
        }
    }

    /// The operator narrowed to one rep's prospects with `--rep`, else acting for the team.
    pub async fn actor_for(&self, rep: Option<&str>) -> anyhow::Result<crate::app::Actor> {
        Ok(match rep {
            Some(_) => crate::app::Actor::Rep {
                id: self
                    .rep(&RepArg {
                        rep: rep.map(str::to_string),
                    })
                    .await?
                    .id,
                name: super::cli_user().name().to_string(),
            },
            None => self.actor(),
        })
    }

    /// The zone human-facing times are shown in: the rep `--rep` names, else
    /// the only rep's, else (a team with several zones) UTC.
    pub async fn zone(&self, rep: Option<&str>) -> anyhow::Result<chrono_tz::Tz> {
        if rep.is_some() {
            return Ok(self
                .rep(&RepArg {
                    rep: rep.map(str::to_string),
                })
                .await?
                .zone());
        }
        let reps = crate::app::reps::list(&self.core()).await?;
        let zones: Vec<chrono_tz::Tz> = reps.iter().map(Rep::zone).collect();
        Ok(match zones.first() {
            Some(first) if zones.iter().all(|z| z == first) => *first,
            _ => chrono_tz::UTC,
        })
    }

    /// The zone of the rep with this id (UTC if there is none).
    pub async fn zone_of_rep(&self, id: crate::domain::prospect::RepId) -> anyhow::Result<chrono_tz::Tz> {
        Ok(crate::app::reps::zone_of(&self.core(), id).await?)
    }
}

pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let db = &settings.config.database;
    let password = db.password.as_ref().map(|p| p.expose());
    crate::store::open(
        &db.url,
        Duration::from_millis(db.busy_timeout_ms),
        db.max_connections,
        password,
    )
    .await
    .with_context(|| format!("opening the database ({})", redacted(&db.url)))
}

/// The daemon's start on PostgreSQL: a database that is down, restarting
/// or out of connections is waited for (retried with backoff up to 30 s,
/// each wait logged) rather than ending the start; a wrong URL, password or
/// database name ends it at once, as on SQLite.
async fn open_store_patiently(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = &settings.config.database.url;
    if !crate::store::is_postgres_url(url) {
        return open_store(settings).await;
    }
    let mut wait = Duration::from_secs(1);
    let stop = super::daemon_cmd::shutdown_signal();
    tokio::pin!(stop);
    loop {
        match open_store(settings).await {
            Ok(store) => return Ok(store),
            Err(e) if !is_transient(&format!("{e:#}")) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_secs = wait.as_secs(), "the database is not reachable yet; waiting");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut stop => anyhow::bail!("stopped before the database could be reached"),
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Whether a failure to open PostgreSQL may pass by itself (not a mistake in the config).
fn is_transient(error: &str) -> bool {
    const MISTAKES: [&str; 4] = [
        "password authentication failed",
        "no pg_hba.conf entry",
        "does not exist",
        "write it like",
    ];
    !MISTAKES.iter().any(|m| error.contains(m))
}

/// Libraries whose debug and trace output is a protocol transcript, with the
/// credentials in it (IMAP LOGIN and AUTHENTICATE, SMTP AUTH): held at info
/// whatever level is asked for, even by a directive naming one of their
/// modules, so no credential reaches the log.
const TRANSCRIPT_TARGETS: [&str; 3] = ["async_imap", "imap_proto", "lettre"];

fn is_transcript(target: &str) -> bool {
    TRANSCRIPT_TARGETS.iter().any(|t| {
        target
            .strip_prefix(t)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Logs go to stderr: human-readable on a terminal, or JSON lines.
fn init_logging(settings: &Settings, format: Option<LogFormat>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{filter, fmt, EnvFilter, Layer};
    let levels = std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .and_then(|wanted| config::log_filter(&wanted).ok())
        .or_else(|| config::log_filter(&settings.config.log.level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let no_transcripts =
        filter::filter_fn(|meta| !(is_transcript(meta.target()) && *meta.level() > tracing::Level::INFO));
    // Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let layer = match format.unwrap_or(settings.config.log.format) {
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
        LogFormat::Text => fmt::layer().with_ansi(colour).with_writer(std::io::stderr).boxed(),
    };
    // A second initialisation (tests calling in-process) is harmless to skip.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(levels).with_filter(no_transcripts))
        .try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn protocol_transcripts_are_told_by_target() {
        for target in [
            "async_imap",
            "async_imap::imap_stream",
            "lettre::transport::smtp",
            "imap_proto::parser",
        ] {
            assert!(super::is_transcript(target), "{target}");
        }
        for target in ["rapport::sources::mail", "async_imapx", "lettres"] {
            assert!(!super::is_transcript(target), "{target}");
        }
    }
}
