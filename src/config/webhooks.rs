//! `[[webhooks.out]]`: other systems that follow rapport's events (a CRM, a
//! chat bot): each a URL, a signing secret (`secret`, or `secret_file`) and
//! the event kinds it gets (`stage.changed`, `meeting.booked`, ...).

use super::{resolve_secret, ConfigError, Secret};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    pub out: Vec<OutWebhook>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutWebhook {
    pub url: String,
    pub secret: Option<Secret>,
    pub secret_file: Option<PathBuf>,
    /// The event kinds delivered.
    pub events: Vec<String>,
}

impl OutWebhook {
    /// The endpoint's name in the store and in `webhook-id`s: a digest of its
    /// URL (whose path may be a secret of its own).
    pub fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(self.url.trim().as_bytes())[..6])
    }

    /// The address shown in logs: scheme and host only.
    pub fn shown(&self) -> String {
        url::Url::parse(&self.url).map_or_else(
            |_| "(not a URL)".into(),
            |u| format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        )
    }
}

impl WebhooksConfig {
    /// Reads secret files and checks each endpoint; every problem at once.
    pub(super) fn resolve(&mut self, file: &str) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        for (n, hook) in self.out.iter_mut().enumerate() {
            let key = format!("webhooks.out[{n}]");
            match resolve_secret(
                file,
                &format!("{key}.secret"),
                hook.secret.take(),
                hook.secret_file.as_deref(),
            ) {
                Ok(secret) => hook.secret = secret,
                Err(e) => problems.push(e),
            }
            match &hook.secret {
                None => problems.push(ConfigError::new(
                    file,
                    format!("{key}.secret"),
                    "each outgoing webhook needs a signing secret (`secret` or `secret_file`): \
                     the receiver checks the webhook-signature header with it",
                )),
                Some(secret) => {
                    if let Err(message) = crate::domain::hooks::outgoing::signing_key(secret.expose()) {
                        problems.push(ConfigError::new(file, format!("{key}.secret"), message));
                    }
                }
            }
            let loopback = |url: &url::Url| match url.host() {
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            match url::Url::parse(hook.url.trim()) {
                Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && loopback(&url)) => {}
                Ok(url) if url.scheme() == "http" => problems.push(ConfigError::new(
                    file,
                    format!("{key}.url"),
                    format!(
                        "'{}' is plain http: deliveries carry your prospects' data, so give an https:// URL \
                         (plain http only to this machine)",
                        url.host_str().unwrap_or("?")
                    ),
                )),
                _ => problems.push(ConfigError::new(
                    file,
                    format!("{key}.url"),
                    "not a web address; give the receiver's https:// URL",
                )),
            }
            if hook.events.is_empty() {
                problems.push(ConfigError::new(
                    file,
                    format!("{key}.events"),
                    "name the event kinds to deliver, e.g. events = [\"stage.changed\", \"meeting.booked\"]",
                ));
            }
            for kind in &hook.events {
                let well_formed = !kind.is_empty()
                    && kind
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
                if !well_formed {
                    problems.push(ConfigError::new(
                        file,
                        format!("{key}.events"),
                        format!("'{kind}' is not an event kind; write kinds like stage.changed or meeting.booked"),
                    ));
                }
            }
        }
        ConfigError::all(problems)
    }
}
