//! A sequence file (`config/sequences/SLUG.toml`): its steps, the stages it
//! runs in, and every template checked, so a mistake is found by
//! `rapport sequence check` rather than at send time.

use super::template;
use super::timing::Delay;
use crate::domain::event::validate_logged_kind;
use crate::domain::pipeline::{Pipelines, StageKind};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    pub slug: String,
    pub name: String,
    pub pipeline: String,
    /// A prospect moved out of these stages leaves the sequence.
    pub stages: Vec<String>,
    /// Follow-up emails answer the first one (In-Reply-To/References).
    pub thread: bool,
    /// A reply from someone else at the prospect's company domain stops it too.
    pub stop_on_colleague_reply: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// After the previous step (the first: after enrolment).
    pub after: Delay,
    pub action: StepAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    /// The first variant is the main text; others are A/B alternatives.
    Email(Vec<EmailTemplate>),
    Task(TaskTemplate),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmailTemplate {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// A manual action: what to do, where, and the engagement it logs when done.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTemplate {
    pub logs: String,
    pub instruction: String,
    pub link: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SequenceFile {
    name: String,
    pipeline: Option<String>,
    stages: Option<Vec<String>>,
    #[serde(default)]
    thread: bool,
    #[serde(default)]
    stop_on_colleague_reply: bool,
    steps: Vec<StepFile>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum StepFile {
    Email {
        after: String,
        subject: String,
        text: String,
        html: Option<String>,
        #[serde(default)]
        variants: Vec<VariantFile>,
    },
    Task {
        after: String,
        logs: String,
        instruction: String,
        link: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantFile {
    subject: String,
    text: String,
    html: Option<String>,
}

impl Sequence {
    /// Parses and checks a sequence file; every problem found is returned, each naming its place.
    pub fn from_toml(
        slug: &str,
        text: &str,
        pipelines: &Pipelines,
        default_pipeline: &str,
    ) -> Result<Sequence, Vec<String>> {
        let file: SequenceFile = toml::from_str(text).map_err(|e| vec![e.message().to_string()])?;
        let mut problems = Vec::new();
        let pipeline = file.pipeline.clone().unwrap_or_else(|| default_pipeline.to_string());
        let stages = check_stages(&file, &pipeline, pipelines, &mut problems);
        if file.name.trim().is_empty() {
            problems.push("name: give the sequence a name".into());
        }
        if file.steps.is_empty() {
            problems.push("steps: a sequence needs at least one [[steps]]".into());
        }
        let steps: Vec<Step> = file
            .steps
            .into_iter()
            .enumerate()
            .filter_map(|(i, step)| check_step(i + 1, step, &mut problems))
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Sequence {
            slug: slug.to_string(),
            name: file.name.trim().to_string(),
            pipeline,
            stages,
            thread: file.thread,
            stop_on_colleague_reply: file.stop_on_colleague_reply,
            steps,
        })
    }
}

/// The stages named (default: the pipeline's first open stage); each must be open.
fn check_stages(file: &SequenceFile, pipeline: &str, pipelines: &Pipelines, problems: &mut Vec<String>) -> Vec<String> {
    let pipeline = match pipelines.get(pipeline) {
        Ok(p) => p,
        Err(message) => {
            problems.push(format!("pipeline: {message}"));
            return Vec::new();
        }
    };
    let named = file
        .stages
        .clone()
        .unwrap_or_else(|| vec![pipeline.first_stage().slug.clone()]);
    for slug in &named {
        match pipeline.stage(slug) {
            None => problems.push(format!(
                "stages: '{slug}' is not a stage of pipeline '{}'; valid stages: {}",
                pipeline.slug,
                pipeline.stage_slugs().join(", ")
            )),
            Some(stage) if stage.kind != StageKind::Open => problems.push(format!(
                "stages: '{slug}' closes a deal; a sequence runs in open stages only"
            )),
            Some(_) => {}
        }
    }
    named
}

fn check_step(number: usize, step: StepFile, problems: &mut Vec<String>) -> Option<Step> {
    let place = |field: &str| format!("steps[{number}].{field}");
    let mut template_field = |field: &str, source: &str| {
        if let Err(message) = template::check(source) {
            problems.push(format!("{}: {message}", place(field)));
        }
    };
    let (after, action) = match step {
        StepFile::Email {
            after,
            subject,
            text,
            html,
            variants,
        } => {
            let main = VariantFile { subject, text, html };
            let mut templates = Vec::new();
            for (v, variant) in std::iter::once(main).chain(variants).enumerate() {
                let prefix = if v == 0 {
                    String::new()
                } else {
                    format!("variants[{v}].")
                };
                template_field(&format!("{prefix}subject"), &variant.subject);
                template_field(&format!("{prefix}text"), &variant.text);
                if let Some(html) = &variant.html {
                    template_field(&format!("{prefix}html"), html);
                }
                templates.push(EmailTemplate {
                    subject: variant.subject,
                    text: variant.text,
                    html: variant.html,
                });
            }
            (after, StepAction::Email(templates))
        }
        StepFile::Task {
            after,
            logs,
            instruction,
            link,
        } => {
            template_field("instruction", &instruction);
            if let Some(link) = &link {
                template_field("link", link);
            }
            let logs = validate_logged_kind(&logs)
                .map_err(|m| problems.push(format!("{}: {m}", place("logs"))))
                .ok()?;
            (
                after,
                StepAction::Task(TaskTemplate {
                    logs,
                    instruction,
                    link,
                }),
            )
        }
    };
    let after = Delay::parse(&after)
        .map_err(|m| problems.push(format!("{}: {m}", place("after"))))
        .ok()?;
    Some(Step { after, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../config/sequences/example.toml");

    fn load(text: &str) -> Result<Sequence, Vec<String>> {
        Sequence::from_toml("intro", text, &Pipelines::shipped(), "default")
    }

    #[test]
    fn the_shipped_example_is_valid_and_starts_with_an_email() {
        let sequence = load(EXAMPLE).unwrap();
        assert!(matches!(sequence.steps[0].action, StepAction::Email(_)));
        assert!(sequence.steps.iter().any(|s| matches!(s.action, StepAction::Task(_))));
        assert_eq!(sequence.stages, ["prospecting"]);
    }

    #[test]
    fn every_problem_is_named_by_its_place() {
        let text = r#"
name = "Broken"
stages = ["won", "nowhere"]
[[steps]]
type = "email"
after = "3 days"
subject = "Hi {{ prospect.frist_name }}"
text = "Hello"
[[steps]]
type = "task"
after = "2bd"
logs = "stage.changed"
instruction = "Call"
"#;
        let problems = load(text).unwrap_err().join("\n");
        for expected in [
            "stages: 'won'",
            "stages: 'nowhere'",
            "steps[1].after",
            "steps[1].subject",
            "steps[2].logs",
        ] {
            assert!(problems.contains(expected), "{expected} missing from:\n{problems}");
        }
    }

    #[test]
    fn unknown_keys_and_step_types_are_refused() {
        assert!(load("name = \"x\"\nsteps = []\ncolour = \"red\"\n").is_err());
        let text = "name = \"x\"\n[[steps]]\ntype = \"fax\"\nafter = \"0\"\n";
        assert!(load(text).unwrap_err()[0].contains("fax"));
    }
}
