//! Configuration: `config/rapport.toml` (or `--config`/`RAPPORT_CONFIG`),
//! overridden key by key from `RAPPORT__SECTION__KEY` environment variables,
//! over built-in defaults that need nothing installed.
//!
//! Data paths (database, outbox) are relative to the working directory; the
//! `pipelines/` folder is looked up beside the config file.

mod check;
mod jobs;
mod mailbox;
mod rules;
mod secret;
mod sending;
mod sequences;
mod validate;

pub use check::Problem;
pub use jobs::{JobSpec, JOBS, JOB_NAMES};

pub use mailbox::{extra_roots, folder_leaf, is_never_read, Credential, MailboxConfig};
pub use rules::SHIPPED_RULES;
pub use secret::Secret;
pub use sending::SendingConfig;
pub use sequences::SequenceProblems;

use crate::domain::money::parse_currency;
use crate::domain::pipeline::{Pipeline, Pipelines};
use crate::domain::schedule::CronSchedule;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The commented default config, also what `rapport init` writes.
pub const STARTER_CONFIG: &str = include_str!("../../config/rapport.toml");
pub const ENV_PREFIX: &str = "RAPPORT__";
/// Secret keys and their environment variables.
const SECRET_KEYS: [(&str, &str); 1] = [("smtp.password", "RAPPORT__SMTP__PASSWORD")];

/// A bad value in the config, naming where it came from; with the other
/// problems found in the same check, so one run reports them all.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The file (or environment variable) the bad value came from.
    pub source_name: String,
    pub key: String,
    pub message: String,
    /// Further problems found in the same check.
    pub more: Vec<ConfigError>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "config error in {}: key `{}`: {}",
            self.source_name, self.key, self.message
        )?;
        for more in &self.more {
            write!(f, "\n{more}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    pub fn new(source_name: impl Into<String>, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            source_name: source_name.into(),
            key: key.into(),
            message: message.into(),
            more: Vec::new(),
        }
    }

    /// Ok when there is no problem, else one error carrying them all.
    pub fn all(problems: Vec<ConfigError>) -> Result<(), ConfigError> {
        let mut problems = problems.into_iter().flat_map(ConfigError::each);
        match problems.next() {
            None => Ok(()),
            Some(mut first) => {
                first.more = problems.collect();
                Err(first)
            }
        }
    }

    /// This problem and the ones it carries, one by one.
    pub fn each(mut self) -> Vec<ConfigError> {
        let more = std::mem::take(&mut self.more);
        std::iter::once(self)
            .chain(more.into_iter().flat_map(ConfigError::each))
            .collect()
    }

    pub fn count(&self) -> usize {
        1 + self.more.iter().map(ConfigError::count).sum::<usize>()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseConfig,
    pub pipelines: PipelinesConfig,
    pub prospects: ProspectsConfig,
    pub daemon: DaemonConfig,
    pub jobs: BTreeMap<String, JobConfig>,
    pub mail: MailConfig,
    pub smtp: SmtpConfig,
    /// Reps' mailboxes, by a name of the user's choosing.
    pub mailboxes: BTreeMap<String, MailboxConfig>,
    pub sequences: SequencesConfig,
    pub rules: RulesConfig,
    pub events: EventsConfig,
    pub digest: DigestConfig,
    pub sending: SendingConfig,
    pub http: HttpConfig,
    pub fetch: FetchConfig,
    pub feeds: FeedsConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelinesConfig {
    /// Folder of `SLUG.toml` files, beside the config file; unset = the shipped ones.
    pub dir: Option<PathBuf>,
    pub default: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProspectsConfig {
    pub default_currency: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    pub shutdown_grace_secs: u64,
    pub job_timeout_secs: u64,
    pub keep_job_runs_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    pub schedule: String,
    #[serde(default = "utc")]
    pub time_zone: String,
    pub timeout_secs: Option<u64>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Where outgoing mail is written as `.eml` files when no SMTP host is set.
    pub outbox_dir: PathBuf,
    /// Every IMAP command (and the connection) gets this long.
    pub imap_timeout_secs: u64,
    /// An IDLE is re-issued this often (servers drop idle clients after 30 minutes).
    pub idle_renew_mins: u64,
    /// Reconnection backoff doubles up to this.
    pub reconnect_max_secs: u64,
    /// A worker syncing a folder holds it this long, renewed as it goes.
    pub sync_lease_secs: u64,
    /// Messages fetched per IMAP command.
    pub fetch_batch: u32,
    /// At most this much of one message is read (enough to classify it).
    pub max_message_bytes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SequencesConfig {
    /// Folder of sequence files (`SLUG.toml`), beside the config file.
    pub dir: PathBuf,
}

/// Engagement kinds of the team's own, beside the built-in ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Kinds `rapport log` accepts beside the built-in ones (e.g. "webinar.attended").
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// The rules file, beside the config file; without it the shipped rules apply.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// On a day with nothing to say: a one-line digest (true) or none.
    pub send_empty: bool,
    /// A Slack-compatible incoming webhook that gets each digest's text too.
    pub slack_webhook_url: Option<Secret>,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            send_empty: true,
            slack_webhook_url: None,
        }
    }
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            file: PathBuf::from("rules.toml"),
        }
    }
}

impl Default for SequencesConfig {
    fn default() -> Self {
        SequencesConfig {
            dir: PathBuf::from("sequences"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (SMTP 465, IMAP 993).
    Implicit,
    /// Plain, upgraded with STARTTLS (SMTP 587, IMAP 143).
    Starttls,
    /// No TLS: only to a loopback address.
    #[serde(alias = "plain")]
    None,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Implicit => "implicit TLS",
            TlsMode::Starttls => "STARTTLS",
            TlsMode::None => "plain, no TLS",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Unset: mail goes to `mail.outbox_dir` instead.
    pub host: Option<String>,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// Connecting and every command get this long.
    pub timeout_secs: u64,
    /// PEM file of a private CA that signs the server's certificate.
    pub ca_file: Option<PathBuf>,
}

/// The daemon's HTTP listener: one-click unsubscribe links land here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address and port the daemon listens on.
    pub listen: String,
    /// The HTTPS address the listener is reached at from outside (behind a
    /// proxy), used in unsubscribe links. Sequence mail waits until it is set.
    pub public_url: Option<String>,
    pub enabled: bool,
    /// Connections served at once; more wait in the kernel's queue.
    pub max_connections: usize,
    /// A client must send a request's whole header within this time.
    pub header_timeout_secs: u64,
    /// A request must be answered within this time.
    pub request_timeout_secs: u64,
    /// No connection is kept longer, however busy (slow clients are closed).
    pub connection_max_secs: u64,
    /// Largest request body read.
    pub max_body_bytes: usize,
    /// Unsubscribe links that do not verify one client address may send per minute.
    pub unsubscribe_per_minute: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8025".into(),
            public_url: None,
            enabled: true,
            max_connections: 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            connection_max_secs: 120,
            max_body_bytes: 16 * 1024,
            unsubscribe_per_minute: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Where site owners can read what rapport is; sent in the User-Agent.
    pub contact_url: String,
    /// Lets requests reach loopback and private addresses (tests, intranets).
    pub allow_private_networks: bool,
    pub connect_timeout_secs: u64,
    /// For the whole request, body included.
    pub total_timeout_secs: u64,
    /// Counted after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Minimum time between two requests to one host.
    pub per_host_interval_ms: u64,
    pub max_concurrent: usize,
    /// Host → base URL to send its requests to instead (e.g. a platform's
    /// mirror, or a test server). These destinations are trusted.
    pub base_urls: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsConfig {
    /// How often a feed is polled, in minutes (adapted to how often it changes).
    pub interval_mins: u64,
    /// No feed waits longer than this between polls (at most 24 hours).
    pub max_interval_hours: u64,
    /// The first poll of a new source takes items this recent only.
    pub first_poll_window_days: u64,
    /// After this many failures in a row a source is marked broken...
    pub broken_after_failures: u32,
    /// ...and is then retried this rarely.
    pub broken_retry_hours: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            contact_url: "https://example.com/set-fetch-contact-url".into(),
            allow_private_networks: false,
            connect_timeout_secs: 10,
            total_timeout_secs: 30,
            max_body_bytes: 15 * 1024 * 1024,
            max_redirects: 5,
            per_host_interval_ms: 1000,
            max_concurrent: 16,
            base_urls: BTreeMap::new(),
        }
    }
}

impl Default for FeedsConfig {
    fn default() -> Self {
        FeedsConfig {
            interval_mins: 60,
            max_interval_hours: 24,
            first_poll_window_days: 30,
            broken_after_failures: 5,
            broken_retry_hours: 24,
        }
    }
}

impl FetchConfig {
    /// The HTTP client's settings; base URLs were checked by `validate`.
    pub fn client_settings(&self) -> crate::net::client::FetchSettings {
        crate::net::client::FetchSettings {
            contact_url: self.contact_url.clone(),
            allow_private_networks: self.allow_private_networks,
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout_secs),
            total_timeout: std::time::Duration::from_secs(self.total_timeout_secs),
            max_body_bytes: self.max_body_bytes,
            max_redirects: self.max_redirects,
            per_host_interval: std::time::Duration::from_millis(self.per_host_interval_ms),
            max_concurrent: self.max_concurrent,
            base_urls: self
                .base_urls
                .iter()
                .filter_map(|(host, base)| url::Url::parse(base).ok().map(|u| (host.to_ascii_lowercase(), u)))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `rapport=debug`; `RUST_LOG` wins.
    pub level: String,
    pub format: LogFormat,
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/rapport.db".into(),
            busy_timeout_ms: 10_000,
            max_connections: 4,
        }
    }
}

impl Default for PipelinesConfig {
    fn default() -> Self {
        PipelinesConfig {
            dir: None,
            default: "default".into(),
        }
    }
}

impl Default for ProspectsConfig {
    fn default() -> Self {
        ProspectsConfig {
            default_currency: "USD".into(),
        }
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            shutdown_grace_secs: 10,
            job_timeout_secs: 300,
            keep_job_runs_days: 30,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            outbox_dir: PathBuf::from("data/outbox"),
            imap_timeout_secs: 60,
            idle_renew_mins: 25,
            reconnect_max_secs: 300,
            sync_lease_secs: 120,
            fetch_batch: 250,
            max_message_bytes: 1024 * 1024,
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: 587,
            tls: TlsMode::Starttls,
            username: None,
            password: None,
            password_file: None,
            timeout_secs: 60,
            ca_file: None,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    /// The file it came from; `None` means built-in defaults.
    pub path: Option<PathBuf>,
    pub pipelines: Pipelines,
}

/// Where the config file is: `--config`, else `RAPPORT_CONFIG`, else
/// `./config/rapport.toml` if it exists, else none (built-in defaults).
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("RAPPORT_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| Some(PathBuf::from("config/rapport.toml")).filter(|p| p.is_file()))
}

/// Loads the file (if any), applies environment overrides, resolves secrets,
/// loads pipelines and validates everything.
pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
    let text = path
        .map(|path| {
            std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    path.display().to_string(),
                    "-",
                    format!("cannot read the file: {e}; check --config or RAPPORT_CONFIG"),
                )
            })
        })
        .transpose()?;
    load_text(text.as_deref(), path)
}

/// `load` for a config file's text (read from `path`, which places the
/// pipelines and rules beside it).
pub fn load_text(text: Option<&str>, path: Option<&Path>) -> Result<Settings, ConfigError> {
    let mut figment = Figment::new();
    if let Some(text) = text {
        figment = figment.merge(Toml::string(text));
    }
    // Secrets are read from the environment as they are: figment would parse
    // them as values (`007` → 7, `[x]` → a list).
    let secret_keys: Vec<&str> = SECRET_KEYS.iter().map(|(key, _)| *key).collect();
    figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__").ignore(&secret_keys));
    let mut config: Config = figment.extract().map_err(|e| from_figment(e, path))?;
    if let Ok(password) = std::env::var(SECRET_KEYS[0].1) {
        config.smtp.password = Some(Secret::new(password));
    }
    let file_name = path.map_or_else(|| "built-in defaults".to_string(), |p| p.display().to_string());
    config.smtp.password = resolve_secret(
        &file_name,
        "smtp.password",
        config.smtp.password.take(),
        config.smtp.password_file.as_deref(),
    )?;
    add_default_jobs(&mut config.jobs);
    // Both checked, so one run names every problem.
    let (checked, pipelines) = (
        validate::validate(&config, &file_name),
        load_pipelines(&config, path, &file_name),
    );
    let pipelines = match (checked, pipelines) {
        (Ok(()), Ok(pipelines)) => pipelines,
        (checked, pipelines) => {
            let problems = [checked.err(), pipelines.err()].into_iter().flatten().collect();
            return Err(ConfigError::all(problems).expect_err("one of them failed"));
        }
    };
    Ok(Settings {
        config,
        path: path.map(Path::to_path_buf),
        pipelines,
    })
}

/// Jobs the daemon always has unless the config says otherwise.
fn add_default_jobs(jobs: &mut BTreeMap<String, JobConfig>) {
    for spec in JOBS {
        jobs.entry(spec.name.into()).or_insert(JobConfig {
            schedule: spec.schedule.into(),
            time_zone: "UTC".into(),
            timeout_secs: spec.timeout_secs,
            enabled: true,
        });
    }
}

fn from_figment(error: figment::Error, path: Option<&Path>) -> ConfigError {
    let problems = error
        .into_iter()
        .map(|error| {
            let key = error.path.join(".");
            let source_name = match &error.metadata {
                Some(meta) if meta.name.contains("environment") => format!(
                    "environment variable {ENV_PREFIX}{}",
                    error.path.join("__").to_uppercase()
                ),
                _ => path.map_or_else(|| "environment".to_string(), |p| p.display().to_string()),
            };
            let key = if key.is_empty() { "-".to_string() } else { key };
            ConfigError::new(source_name, key, error.kind.to_string())
        })
        .collect();
    match ConfigError::all(problems) {
        Err(error) => error,
        Ok(()) => ConfigError::new(
            path.map_or_else(|| "environment".to_string(), |p| p.display().to_string()),
            "-",
            "the config could not be read",
        ),
    }
}

fn resolve_secret(
    file: &str,
    key: &str,
    value: Option<Secret>,
    from_file: Option<&Path>,
) -> Result<Option<Secret>, ConfigError> {
    match (value, from_file) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            file,
            key,
            format!("set either `{key}` or `{key}_file`, not both"),
        )),
        (value, None) => Ok(value),
        (None, Some(path)) => secret::read_secret_file(path).map(Some).map_err(|e| {
            ConfigError::new(
                file,
                format!("{key}_file"),
                format!("cannot read secret file {}: {e}", path.display()),
            )
        }),
    }
}

/// Where a key's value came from: its environment variable when one is set, else the file.
fn source_of(key: &str, file: &str) -> String {
    let variable = format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase());
    if std::env::var_os(&variable).is_some() {
        format!("environment variable {variable}")
    } else {
        file.to_string()
    }
}

/// A log filter (`log.level`, `RUST_LOG`). Only ASCII: tracing-subscriber's
/// parser panics on some other text instead of refusing it (found by fuzzing).
pub fn log_filter(text: &str) -> Result<tracing_subscriber::EnvFilter, String> {
    if !text.is_ascii() {
        return Err("it has characters that are not ASCII".into());
    }
    tracing_subscriber::EnvFilter::try_new(text).map_err(|e| e.to_string())
}

/// The public address of the listener: HTTPS (RFC 8058 one-click links must
/// be), except on loopback for trying rapport out and for tests.
pub fn public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("'{text}' is not a URL ({e})"))?;
    let loopback = url
        .host_str()
        .is_some_and(|h| is_loopback_host(h.trim_matches(['[', ']'])));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!(
            "'{text}' must be an https:// address (one-click unsubscribe links must be HTTPS)"
        )),
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn load_pipelines(config: &Config, path: Option<&Path>, file: &str) -> Result<Pipelines, ConfigError> {
    let pipelines = match &config.pipelines.dir {
        None => Pipelines::shipped(),
        Some(dir) => {
            let base = path.and_then(Path::parent).unwrap_or(Path::new("."));
            read_pipeline_dir(&base.join(dir), file)?
        }
    };
    pipelines
        .get(&config.pipelines.default)
        .map_err(|m| ConfigError::new(file, "pipelines.default", m))?;
    Ok(pipelines)
}

fn read_pipeline_dir(dir: &Path, config_file: &str) -> Result<Pipelines, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ConfigError::new(
            config_file,
            "pipelines.dir",
            format!("cannot read folder {}: {e}", dir.display()),
        )
    })?;
    let mut pipelines = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let slug = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(&path).map_err(|e| ConfigError::new(&shown, "-", format!("cannot read: {e}")))?;
        pipelines.push(Pipeline::from_toml(&slug, &text).map_err(|m| ConfigError::new(&shown, "stages", m))?);
    }
    if pipelines.is_empty() {
        return Err(ConfigError::new(
            config_file,
            "pipelines.dir",
            format!("{} holds no pipeline .toml files", dir.display()),
        ));
    }
    Ok(Pipelines::new(pipelines))
}
