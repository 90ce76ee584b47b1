//! `[hooks.PROVIDER]`: the secrets incoming webhooks are verified with (the
//! current one, and the previous one while a rotation is under way), each
//! given inline, from a file, or from `RAPPORT__HOOKS__PROVIDER__SECRET`; a
//! provider without a section has its deliveries refused. Unmatched
//! deliveries are kept for review `keep_unmatched_days`.

use super::{resolve_secret, ConfigError, Secret};
use crate::domain::hooks::Provider;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HooksConfig {
    pub calendly: Option<HookConfig>,
    pub calcom: Option<HookConfig>,
    pub docusign: Option<HookConfig>,
    pub pandadoc: Option<HookConfig>,
    /// Deliveries that matched no prospect are kept this long for review.
    pub keep_unmatched_days: u32,
    /// The largest delivery read (a provider's JSON without documents is far smaller).
    pub max_body_bytes: usize,
}

impl Default for HooksConfig {
    fn default() -> Self {
        HooksConfig {
            calendly: None,
            calcom: None,
            docusign: None,
            pandadoc: None,
            keep_unmatched_days: 30,
            max_body_bytes: 256 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HookConfig {
    pub secret: Option<Secret>,
    pub secret_file: Option<PathBuf>,
    /// The secret being rotated out: accepted too until it is removed.
    pub previous_secret: Option<Secret>,
    pub previous_secret_file: Option<PathBuf>,
    /// How far a signed timestamp may be from now (Calendly signs one).
    pub tolerance_secs: u32,
}

impl Default for HookConfig {
    fn default() -> Self {
        HookConfig {
            secret: None,
            secret_file: None,
            previous_secret: None,
            previous_secret_file: None,
            tolerance_secs: 180,
        }
    }
}

impl HooksConfig {
    pub fn get(&self, provider: Provider) -> Option<&HookConfig> {
        match provider {
            Provider::Calendly => self.calendly.as_ref(),
            Provider::Calcom => self.calcom.as_ref(),
            Provider::Docusign => self.docusign.as_ref(),
            Provider::Pandadoc => self.pandadoc.as_ref(),
        }
    }

    fn slot(&mut self, provider: Provider) -> &mut Option<HookConfig> {
        match provider {
            Provider::Calendly => &mut self.calendly,
            Provider::Calcom => &mut self.calcom,
            Provider::Docusign => &mut self.docusign,
            Provider::Pandadoc => &mut self.pandadoc,
        }
    }

    /// Sets the secrets given raw in the environment (a section is made
    /// for them when the file has none), then reads the secret files.
    pub(super) fn resolve(&mut self, file: &str) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        for provider in Provider::ALL {
            let name = provider.name();
            let from_env = |which: &str| {
                std::env::var(format!(
                    "RAPPORT__HOOKS__{}__{}",
                    name.to_uppercase(),
                    which.to_uppercase()
                ))
                .ok()
                .map(Secret::new)
            };
            let (current, previous) = (from_env("secret"), from_env("previous_secret"));
            let slot = self.slot(provider);
            if slot.is_none() && (current.is_some() || previous.is_some()) {
                *slot = Some(HookConfig::default());
            }
            let Some(hook) = slot.as_mut() else { continue };
            if current.is_some() {
                hook.secret = current;
            }
            if previous.is_some() {
                hook.previous_secret = previous;
            }
            for (key, value, path) in [
                ("secret", &mut hook.secret, &hook.secret_file),
                ("previous_secret", &mut hook.previous_secret, &hook.previous_secret_file),
            ] {
                let full = format!("hooks.{name}.{key}");
                match resolve_secret(file, &full, value.take(), path.as_deref()) {
                    Ok(resolved) => *value = resolved,
                    Err(e) => problems.push(e),
                }
            }
            if hook.secret.as_ref().is_none_or(|s| s.expose().is_empty()) {
                problems.push(ConfigError::new(
                    file,
                    format!("hooks.{name}.secret"),
                    format!(
                        "[hooks.{name}] has no secret: paste the signing secret {} shows as `secret`, \
                         or name a file with `secret_file`, or set RAPPORT__HOOKS__{}__SECRET",
                        provider.title(),
                        name.to_uppercase()
                    ),
                ));
            }
        }
        ConfigError::all(problems)
    }

    /// The keys whose environment variables are read raw (never parsed as values).
    pub(super) fn secret_keys() -> Vec<String> {
        Provider::ALL
            .iter()
            .flat_map(|p| ["secret", "previous_secret"].map(|which| format!("hooks.{}.{which}", p.name())))
            .collect()
    }
}
