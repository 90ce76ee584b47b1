//! `rapport sequence`: cold email sequences.

use super::{input_error, output, App};
use crate::domain::sequence::timing::Delay;
use crate::domain::sequence::{Sequence, StepAction};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SequenceCommand {
    /// Validate every sequence file in the sequences folder (config/sequences/):
    /// format, delays, stages, and every template's fields.
    Check,
}

pub async fn run(app: &App, command: SequenceCommand) -> anyhow::Result<()> {
    match command {
        SequenceCommand::Check => check(app),
    }
}

fn check(app: &App) -> anyhow::Result<()> {
    let dir = app.settings.sequences_dir();
    let (sequences, broken) = app.settings.load_sequences();
    if app.json {
        output::json(&serde_json::json!({
            "folder": dir.display().to_string(),
            "valid": sequences.iter().map(|s| serde_json::json!({ "slug": s.slug, "name": s.name, "steps": s.steps.len() })).collect::<Vec<_>>(),
            "invalid": broken,
        }))?;
    } else {
        if sequences.is_empty() && broken.is_empty() {
            println!(
                "no sequence files in {}; see config/sequences/example.toml for the format",
                dir.display()
            );
        }
        for sequence in &sequences {
            println!(
                "ok  {}: {} ({})",
                sequence.slug,
                sequence.name,
                describe_steps(sequence)
            );
        }
        for file in &broken {
            println!("BAD {}", file.file);
            for problem in &file.problems {
                println!("    {problem}");
            }
        }
    }
    match broken.len() {
        0 => Ok(()),
        n => Err(input_error(format!(
            "{n} sequence file(s) in {} need fixing (see above)",
            dir.display()
        ))),
    }
}

fn describe_steps(sequence: &Sequence) -> String {
    sequence
        .steps
        .iter()
        .map(|step| {
            let what = match &step.action {
                StepAction::Email(variants) if variants.len() > 1 => format!("email ({} variants)", variants.len()),
                StepAction::Email(_) => "email".to_string(),
                StepAction::Task(task) => format!("task {}", task.logs),
            };
            match step.after {
                Delay::Hours(0) => what,
                Delay::Hours(h) => format!("+{h}h {what}"),
                Delay::BusinessDays(d) => format!("+{d}bd {what}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
