//! What every command starts from: settings, store, clock and output mode.

use super::{input_error, Cli, Command, RepArg};
use crate::config::{self, LogFormat, Settings};
use crate::domain::clock::{Clock, FixedClock, ShiftedClock, SystemClock};
use crate::domain::prospect::Rep;
use crate::store::{RepScope, SqliteStore, Store};
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub json: bool,
}

impl App {
    pub async fn start(cli: &Cli) -> anyhow::Result<App> {
        let path = config::locate(cli.config.as_deref());
        let settings = config::load(path.as_deref())?;
        init_logging(&settings, cli.log_format);
        let store = open_store(&settings).await?;
        let clock: Arc<dyn Clock> = match (cli.now, &cli.command) {
            (Some(now), Command::Daemon) => Arc::new(ShiftedClock::starting_at(now)),
            (Some(now), _) => Arc::new(FixedClock(now)),
            (None, _) => Arc::new(SystemClock),
        };
        Ok(App {
            settings: Arc::new(settings),
            store: Arc::new(store),
            clock,
            json: cli.json,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The rep a command acts for: `--rep`, or the only rep there is.
    pub async fn rep(&self, arg: &RepArg) -> anyhow::Result<Rep> {
        let reps = self.store.list_reps().await?;
        let listing = || {
            reps.iter()
                .map(|r| format!("{} (#{})", r.email, r.id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &arg.rep {
            Some(wanted) => {
                let wanted = wanted.trim();
                reps.iter()
                    .find(|r| {
                        r.id.to_string() == wanted
                            || r.email.eq_ignore_ascii_case(wanted)
                            || r.name.eq_ignore_ascii_case(wanted)
                    })
                    .cloned()
                    .ok_or_else(|| input_error(format!("no rep '{wanted}'; reps: {}", listing())))
            }
            None => match reps.as_slice() {
                [only] => Ok(only.clone()),
                [] => Err(input_error(
                    "there is no rep yet; create one with `rapport init --rep-name NAME --rep-email EMAIL`",
                )),
                _ => Err(input_error(format!(
                    "there are several reps; say which with --rep ({})",
                    listing()
                ))),
            },
        }
    }

    /// One rep's prospects when `--rep` names one, else the whole team's.
    pub async fn scope(&self, rep: Option<&str>) -> anyhow::Result<RepScope> {
        match rep {
            Some(rep) => Ok(RepScope::Rep(
                self.rep(&RepArg {
                    rep: Some(rep.to_string()),
                })
                .await?
                .id,
            )),
            None => Ok(RepScope::Team),
        }
    }

    pub fn config_check(&self) -> anyhow::Result<()> {
        let s = &self.settings;
        // Secrets are read only when a mailbox connects; a check reads them all now.
        let missing: Vec<String> = s
            .config
            .mailboxes
            .iter()
            .filter_map(|(name, mailbox)| mailbox.credential(name).err().map(|e| e.to_string()))
            .collect();
        if !missing.is_empty() {
            return Err(input_error(missing.join("\n")));
        }
        let report = serde_json::json!({
            "config_file": s.path.as_ref().map(|p| p.display().to_string()),
            "database": s.config.database.url,
            "pipelines": s.pipelines.slugs(),
            "default_pipeline": s.config.pipelines.default,
            "jobs": s.config.jobs.iter().map(|(name, job)| serde_json::json!({
                "name": name, "schedule": job.schedule, "time_zone": job.time_zone, "enabled": job.enabled
            })).collect::<Vec<_>>(),
            "mail": match &s.config.smtp.host {
                Some(host) => format!("SMTP via {host}:{}", s.config.smtp.port),
                None => format!(".eml files in {}", s.config.mail.outbox_dir.display()),
            },
            "mailboxes": s.config.mailboxes.iter().map(|(name, m)| serde_json::json!({
                "name": name, "rep": m.rep, "server": format!("{}:{}", m.host, m.port()),
                "tls": m.tls.as_str(), "username": m.username, "idle": m.idle,
            })).collect::<Vec<_>>(),
        });
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "config ok: {}",
                s.path
                    .as_ref()
                    .map_or("built-in defaults".into(), |p| p.display().to_string())
            );
            println!("database:  {}", s.config.database.url);
            println!(
                "pipelines: {} (default {})",
                s.pipelines.slugs().join(", "),
                s.config.pipelines.default
            );
            for (name, job) in &s.config.jobs {
                let state = if job.enabled { "" } else { " (disabled)" };
                println!("job:       {name} \"{}\" {}{state}", job.schedule, job.time_zone);
            }
            println!("mail:      {}", report["mail"].as_str().unwrap_or_default());
            for (name, m) in &s.config.mailboxes {
                println!(
                    "mailbox:   {name} for {}: {}@{}:{} ({})",
                    m.rep,
                    m.username,
                    m.host,
                    m.port(),
                    m.tls.as_str()
                );
            }
        }
        Ok(())
    }
}

pub async fn open_store(settings: &Settings) -> anyhow::Result<SqliteStore> {
    let db = &settings.config.database;
    SqliteStore::open(&db.url, Duration::from_millis(db.busy_timeout_ms), db.max_connections)
        .await
        .with_context(|| format!("opening the database ({})", db.url))
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
