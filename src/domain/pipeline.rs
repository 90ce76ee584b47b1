//! Pipelines: ordered stages, each with a win probability and a kind.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub slug: String,
    pub name: String,
    /// Chance, 0–100, that a deal in this stage is won.
    pub probability: u8,
    pub kind: StageKind,
    /// Days without a stage change after which a deal here is rotting (the
    /// board's badge); none: it does not rot (won, lost, or no limit set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotting_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pipeline {
    pub slug: String,
    pub name: String,
    pub stages: Vec<Stage>,
}

/// The file format of `config/pipelines/SLUG.toml`; the slug is the file name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    name: String,
    stages: Vec<Stage>,
}

impl Pipeline {
    /// Parses and validates one pipeline file's text.
    pub fn from_toml(slug: &str, text: &str) -> Result<Pipeline, String> {
        let file: PipelineFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let pipeline = Pipeline {
            slug: slug.to_string(),
            name: file.name,
            stages: file.stages,
        };
        pipeline.validate()?;
        Ok(pipeline)
    }

    fn validate(&self) -> Result<(), String> {
        if !is_slug(&self.slug) {
            return Err(format!(
                "pipeline slug '{}' must be lower-case letters, digits and '-'",
                self.slug
            ));
        }
        if !self.stages.iter().any(|s| s.kind == StageKind::Open) {
            return Err("a pipeline needs at least one stage of kind \"open\"".into());
        }
        let mut seen = HashSet::new();
        for stage in &self.stages {
            if !is_slug(&stage.slug) {
                return Err(format!(
                    "stage slug '{}' must be lower-case letters, digits and '-'",
                    stage.slug
                ));
            }
            if !seen.insert(stage.slug.as_str()) {
                return Err(format!("stage slug '{}' appears twice", stage.slug));
            }
            if stage.rotting_days == Some(0) {
                return Err(format!(
                    "stage '{}': rotting_days must be 1 or more (leave it out for no limit)",
                    stage.slug
                ));
            }
            if stage.probability > 100 {
                return Err(format!(
                    "stage '{}': probability {} is not between 0 and 100",
                    stage.slug, stage.probability
                ));
            }
        }
        Ok(())
    }

    pub fn stage(&self, slug: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.slug == slug)
    }

    /// Finds a stage by slug or display name, ignoring case, or says which exist.
    pub fn resolve_stage(&self, input: &str) -> Result<&Stage, String> {
        let wanted = input.trim();
        self.stages
            .iter()
            .find(|s| s.slug.eq_ignore_ascii_case(wanted) || s.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                format!(
                    "'{input}' is not a stage of pipeline '{}'; valid stages: {}",
                    self.slug,
                    self.stage_slugs().join(", ")
                )
            })
    }

    /// Where new prospects start: the first open stage.
    pub fn first_stage(&self) -> &Stage {
        self.stages
            .iter()
            .find(|s| s.kind == StageKind::Open)
            .unwrap_or(&self.stages[0])
    }

    pub fn stage_slugs(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.slug.as_str()).collect()
    }
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The pipelines in use, by slug.
#[derive(Debug, Clone, Default)]
pub struct Pipelines {
    by_slug: BTreeMap<String, Pipeline>,
}

impl Pipelines {
    pub fn new(pipelines: impl IntoIterator<Item = Pipeline>) -> Self {
        Self {
            by_slug: pipelines.into_iter().map(|p| (p.slug.clone(), p)).collect(),
        }
    }

    /// The pipelines that ship with rapport (`config/pipelines/`), built in.
    pub fn shipped() -> Self {
        Self::new(SHIPPED.iter().map(|(slug, text)| {
            Pipeline::from_toml(slug, text).unwrap_or_else(|e| panic!("shipped pipeline {slug} is invalid: {e}"))
        }))
    }

    pub fn get(&self, slug: &str) -> Result<&Pipeline, String> {
        self.by_slug.get(slug).ok_or_else(|| {
            format!(
                "'{slug}' is not a pipeline; valid pipelines: {}",
                self.slugs().join(", ")
            )
        })
    }

    pub fn slugs(&self) -> Vec<&str> {
        self.by_slug.keys().map(String::as_str).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pipeline> {
        self.by_slug.values()
    }

    pub fn is_empty(&self) -> bool {
        self.by_slug.is_empty()
    }
}

/// The shipped pipeline files, so an install with no config has them too.
pub const SHIPPED: [(&str, &str); 4] = [
    ("default", include_str!("../../config/pipelines/default.toml")),
    ("real-estate", include_str!("../../config/pipelines/real-estate.toml")),
    (
        "financial-services",
        include_str!("../../config/pipelines/financial-services.toml"),
    ),
    ("startup", include_str!("../../config/pipelines/startup.toml")),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pipeline_has_the_eight_stages_and_probabilities() {
        let shipped = Pipelines::shipped();
        let default = shipped.get("default").unwrap();
        let got: Vec<(&str, u8, StageKind)> = default
            .stages
            .iter()
            .map(|s| (s.slug.as_str(), s.probability, s.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                ("prospecting", 10, StageKind::Open),
                ("qualification", 20, StageKind::Open),
                ("meeting", 40, StageKind::Open),
                ("proposal", 60, StageKind::Open),
                ("negotiation", 80, StageKind::Open),
                ("won", 100, StageKind::Won),
                ("post-purchase", 100, StageKind::Won),
                ("lost", 0, StageKind::Lost),
            ]
        );
        assert_eq!(
            shipped.slugs(),
            vec!["default", "financial-services", "real-estate", "startup"]
        );
    }

    #[test]
    fn unknown_stages_are_refused_with_the_valid_list() {
        let shipped = Pipelines::shipped();
        let err = shipped.get("default").unwrap().resolve_stage("closing").unwrap_err();
        assert!(err.contains("prospecting, qualification, meeting"), "{err}");
        assert_eq!(
            shipped.get("default").unwrap().resolve_stage("Proposal").unwrap().slug,
            "proposal"
        );
        assert!(shipped.get("nope").unwrap_err().contains("valid pipelines: default"));
    }

    #[test]
    fn invalid_files_are_refused() {
        assert!(Pipeline::from_toml("x", "name = \"X\"\nstages = []").is_err());
        let dup = "name='X'\n[[stages]]\nslug='a'\nname='A'\nprobability=10\nkind='open'\n[[stages]]\nslug='a'\nname='B'\nprobability=10\nkind='open'";
        assert!(Pipeline::from_toml("x", dup).unwrap_err().contains("twice"));
        let high = "name='X'\n[[stages]]\nslug='a'\nname='A'\nprobability=101\nkind='open'";
        assert!(Pipeline::from_toml("x", high)
            .unwrap_err()
            .contains("between 0 and 100"));
    }
}
