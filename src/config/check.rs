//! Everything the daemon will load, checked at once: the rules file, the
//! sequence files with their templates, the mailboxes' credentials, and how
//! they refer to each other. `rapport config check` prints it, `rapport
//! status` and the digest show it, and the daemon logs it when it changes.

use super::Settings;
use crate::domain::rules::RuleAction;

/// One problem: the file (or environment variable) and key, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// What part of the setup it stops: "config", "rules", "sequences", "mailboxes".
    pub area: &'static str,
    /// Where: file and key, as the user would look for it.
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl Settings {
    /// Problems in what the config refers to (the config's own values were
    /// checked when it loaded). Reads the files and secrets as they are now.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let rules = match self.load_rules(None) {
            Ok((rules, _)) => Some(rules),
            Err(found) => {
                problems.extend(found.into_iter().map(|text| split("rules", &text)));
                None
            }
        };
        let (sequences, broken) = self.load_sequences();
        for file in broken {
            problems.extend(file.problems.into_iter().map(|message| Problem {
                area: "sequences",
                place: file.file.clone(),
                message,
            }));
        }
        if let Some(rules) = rules {
            let file = self.rules_file();
            for rule in &rules.rules {
                if let RuleAction::Enroll { sequence } = &rule.action {
                    let known = sequences.iter().any(|s| &s.slug == sequence)
                        || self.sequences_dir().join(format!("{sequence}.toml")).is_file();
                    if !known {
                        problems.push(Problem {
                            area: "rules",
                            place: format!("{}: rule {}", file.display(), rule.name),
                            message: format!(
                                "enrols in sequence '{sequence}', but there is no {}",
                                self.sequences_dir().join(format!("{sequence}.toml")).display()
                            ),
                        });
                    }
                }
            }
        }
        let config_file = self
            .path
            .as_ref()
            .map_or_else(|| "built-in defaults".to_string(), |p| p.display().to_string());
        for (name, mailbox) in &self.config.mailboxes {
            if let Err(e) = mailbox.credential(name) {
                problems.push(Problem {
                    area: "mailboxes",
                    place: format!("{config_file}: key `{}`", e.key),
                    message: e.message,
                });
            }
        }
        problems
    }

    /// Why sequence mail cannot go out yet, naming the key to set; empty when it can.
    pub fn sending_blockers(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self
            .config
            .sending
            .postal_address
            .as_deref()
            .is_none_or(|a| a.trim().is_empty())
        {
            missing.push(
                "`sending.postal_address` is not set: every email must carry the sender's postal address (CAN-SPAM)"
                    .to_string(),
            );
        }
        if self.config.http.public_url.is_none() {
            missing.push(
                "`http.public_url` is not set: every email carries a one-click unsubscribe link on it".to_string(),
            );
        }
        missing
    }
}

/// "FILE: rules[2] (x).stage: message" into place and message, at the last
/// ": " before the message; text without one is all message.
fn split(area: &'static str, text: &str) -> Problem {
    match text.split_once(": ") {
        Some((file, rest)) => match rest.split_once(": ") {
            Some((key, message)) => Problem {
                area,
                place: format!("{file}: {key}"),
                message: message.to_string(),
            },
            None => Problem {
                area,
                place: file.to_string(),
                message: rest.to_string(),
            },
        },
        None => Problem {
            area,
            place: String::new(),
            message: text.to_string(),
        },
    }
}
