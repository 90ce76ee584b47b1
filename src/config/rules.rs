//! Loading the rules file (`[rules] file`, beside the config file).

use super::Settings;
use crate::domain::rules::RuleSet;
use std::path::{Path, PathBuf};

/// The rules shipped with rapport: what applies without a rules file.
pub const SHIPPED_RULES: &str = include_str!("../../config/rules.toml");

impl Settings {
    pub fn rules_file(&self) -> PathBuf {
        let base = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("config"));
        base.join(&self.config.rules.file)
    }

    /// The rules from `file` (else the configured file, else the shipped
    /// rules), with where they came from; or every problem found.
    pub fn load_rules(&self, file: Option<&Path>) -> Result<(RuleSet, String), Vec<String>> {
        let path = file.map_or_else(|| self.rules_file(), Path::to_path_buf);
        let (text, origin) = match std::fs::read_to_string(&path) {
            Ok(text) => (text, path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.is_none() => {
                (SHIPPED_RULES.to_string(), "the shipped rules".to_string())
            }
            Err(e) => return Err(vec![format!("cannot read {}: {e}", path.display())]),
        };
        RuleSet::from_toml(&text, &self.pipelines)
            .map(|rules| (rules, origin.clone()))
            .map_err(|problems| problems.into_iter().map(|p| format!("{origin}: {p}")).collect())
    }

    /// Kinds `rapport log` accepts beside the built-in ones: declared under
    /// `[events]`, named in the rules' `on` lists and in sequence tasks' `logs`.
    pub fn declared_kinds(&self) -> Vec<String> {
        let mut kinds = self.config.events.kinds.clone();
        if let Ok((rules, _)) = self.load_rules(None) {
            for rule in &rules.rules {
                if let crate::domain::rules::Trigger::Events { kinds: on, .. } = &rule.trigger {
                    kinds.extend(on.iter().cloned());
                }
            }
        }
        for sequence in self.load_sequences().0 {
            for step in &sequence.steps {
                if let crate::domain::sequence::StepAction::Task(task) = &step.action {
                    kinds.push(task.logs.clone());
                }
            }
        }
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }
}
