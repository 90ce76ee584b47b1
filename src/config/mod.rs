//! Configuration: `config/rapport.toml` (or `--config`/`RAPPORT_CONFIG`),
//! overridden key by key from `RAPPORT__SECTION__KEY` environment variables,
//! over built-in defaults that need nothing installed.
//!
//! Data paths (database, outbox) are relative to the working directory; the
//! `pipelines/` folder is looked up beside the config file.

mod check;
mod hooks;
mod host_budgets;
mod jobs;
mod mailbox;
mod rules;
mod secret;
mod sections;
mod sending;
mod sequences;
mod validate;
mod webhooks;

pub use check::Problem;
pub use hooks::{HookConfig, HooksConfig};
pub use jobs::{JobSpec, JOBS, JOB_NAMES};
pub use webhooks::{OutWebhook, WebhooksConfig};

pub use mailbox::{extra_roots, folder_leaf, is_never_read, Credential, MailboxConfig};
pub use rules::SHIPPED_RULES;
pub use secret::{read_secret_file, Secret};
pub use sections::*;
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
    let hook_keys = HooksConfig::secret_keys();
    let secret_keys: Vec<&str> = SECRET_KEYS
        .iter()
        .map(|(key, _)| *key)
        .chain(hook_keys.iter().map(String::as_str))
        .collect();
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
    config.database.password = resolve_secret(
        &file_name,
        "database.password",
        None,
        config.database.password_file.as_deref(),
    )?;
    config.hooks.resolve(&file_name)?;
    config.webhooks.resolve(&file_name)?;
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
