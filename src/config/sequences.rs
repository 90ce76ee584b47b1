//! Loading the sequence files of `config/sequences/` (beside the config file).

use super::Settings;
use crate::domain::sequence::Sequence;
use std::path::{Path, PathBuf};

/// A sequence file that could not be used, with every problem found in it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SequenceProblems {
    pub file: String,
    pub problems: Vec<String>,
}

impl Settings {
    /// The sequence folder: `[sequences] dir` beside the config file (`./config` without one).
    pub fn sequences_dir(&self) -> PathBuf {
        let base = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("config"));
        base.join(&self.config.sequences.dir)
    }

    /// Every sequence file, checked; the good ones and the problems of the rest.
    pub fn load_sequences(&self) -> (Vec<Sequence>, Vec<SequenceProblems>) {
        let dir = self.sequences_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
            Err(e) => {
                let problem = format!("cannot read the folder: {e}");
                return (
                    Vec::new(),
                    vec![SequenceProblems {
                        file: dir.display().to_string(),
                        problems: vec![problem],
                    }],
                );
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        let (mut sequences, mut broken) = (Vec::new(), Vec::new());
        for path in paths {
            match self.load_sequence(&path) {
                Ok(sequence) => sequences.push(sequence),
                Err(problems) => broken.push(SequenceProblems {
                    file: path.display().to_string(),
                    problems,
                }),
            }
        }
        (sequences, broken)
    }

    fn load_sequence(&self, path: &Path) -> Result<Sequence, Vec<String>> {
        let slug = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let text = std::fs::read_to_string(path).map_err(|e| vec![format!("cannot read: {e}")])?;
        Sequence::from_toml(slug, &text, &self.pipelines, &self.config.pipelines.default)
    }
}
