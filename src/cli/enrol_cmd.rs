//! `rapport sequence enroll` (and `--dry-run`) and `rapport sequence
//! preview`: who can be enrolled and why not, and exactly what each step and
//! A/B variant would say to one prospect.

use super::sequence_cmd::describe_delay;
use super::{input_error, output, App, RepArg};
use crate::app::sequences::{self, EnrolReport, PreviewSubject, Whom};
use crate::domain::prospect::ProspectRef;
use crate::domain::sequence::enrolment::{context_for, render_step, variant_count, variant_for, RenderedStep};
use crate::domain::sequence::StepAction;
use crate::domain::text::printable;
use clap::Args;

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The sequence (its file name without .toml).
    pub sequence: String,
    /// Everyone in this stage.
    #[arg(long, conflicts_with_all = ["tag", "prospects"])]
    pub stage: Option<String>,
    /// Everyone with this tag.
    #[arg(long, conflicts_with = "prospects")]
    pub tag: Option<String>,
    /// Prospects by id or email.
    #[arg(required_unless_present_any = ["stage", "tag"])]
    pub prospects: Vec<String>,
    /// List who would be enrolled and who not (with the reason), enrolling nobody.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The sequence (its file name without .toml).
    pub sequence: String,
    /// A prospect by id or email.
    pub prospect: String,
}

pub async fn enroll(app: &App, args: EnrollArgs) -> anyhow::Result<()> {
    let whom = match (&args.stage, &args.tag) {
        (Some(stage), _) => Whom::Stage(stage.clone()),
        (None, Some(tag)) => Whom::Tag(tag.clone()),
        (None, None) => Whom::Listed(
            args.prospects
                .iter()
                .map(|p| p.parse::<ProspectRef>().map_err(input_error))
                .collect::<anyhow::Result<_>>()?,
        ),
    };
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let progress = super::progress::steps("prospects");
    let report = sequences::enroll(&app.core(), &actor, &args.sequence, &whom, args.dry_run, &progress).await?;
    report_enrolment(app, &report, args.dry_run)
}

fn report_enrolment(app: &App, report: &EnrolReport, dry_run: bool) -> anyhow::Result<()> {
    let (sequence, enrolled, blockers) = (&report.sequence, &report.enrolled, &report.email_waits_for);
    let refused: Vec<(String, &str)> = report
        .refused
        .iter()
        .map(|r| (format!("#{} {}", r.prospect, r.name), r.reason.as_str()))
        .collect();
    let config = app
        .settings
        .path
        .as_ref()
        .map_or("config/rapport.toml".to_string(), |p| p.display().to_string());
    if app.json {
        let refused: Vec<_> = refused
            .iter()
            .map(|(who, why)| serde_json::json!({ "prospect": who, "reason": why }))
            .collect();
        let (done, key) = match dry_run {
            true => ("would_enroll", "would_refuse"),
            false => ("enrolled", "refused"),
        };
        output::json(&serde_json::json!({
            "sequence": sequence.slug, "dry_run": dry_run, done: enrolled, key: refused, "email_waits_for": blockers,
        }))?;
    } else {
        match dry_run {
            true => {
                println!(
                    "dry run: {} would be enrolled in '{}', {} not (nothing was changed)",
                    enrolled.len(),
                    sequence.slug,
                    refused.len()
                );
                for who in enrolled {
                    println!("  would enrol: #{} {}", who.prospect, printable(&who.name));
                }
            }
            false => println!("enrolled {} in '{}'", enrolled.len(), sequence.slug),
        }
        for (who, why) in &refused {
            println!("  not enrolled: {} {why}", printable(who));
        }
    }
    if !blockers.is_empty() && !enrolled.is_empty() {
        eprintln!("warning: no email of this sequence goes out until you set these in {config}:");
        for blocker in blockers {
            eprintln!("  - {blocker}");
        }
    }
    if enrolled.is_empty() && !refused.is_empty() && !dry_run {
        return Err(input_error(format!(
            "nobody was enrolled in '{}' (reasons above)",
            sequence.slug
        )));
    }
    Ok(())
}

pub async fn preview(app: &App, args: PreviewArgs) -> anyhow::Result<()> {
    let reference: ProspectRef = args.prospect.parse().map_err(input_error)?;
    let subject = sequences::preview_subject(&app.core(), &app.actor(), &args.sequence, &reference).await?;
    let PreviewSubject {
        sequence,
        prospect,
        rep,
        post,
        cannot_enroll: cannot,
        email_waits_for,
    } = subject;
    let context = context_for(&prospect, &rep, post.as_ref());
    let variants = variant_count(&sequence);
    let variant = variant_for(prospect.id, &sequence.slug, variants);
    // Every A/B variant of every step, the one this prospect gets marked.
    let mut steps = Vec::new();
    for (index, step) in sequence.steps.iter().enumerate() {
        let count = match &step.action {
            StepAction::Email(found) => found.len(),
            StepAction::Task(_) => 1,
        };
        for shown in 0..count {
            let rendered = render_step(&sequence, index, shown, &context)
                .map_err(|e| format!("{} cannot get this sequence: {e}", prospect.data.name));
            let chosen = count == 1 || shown == variant;
            steps.push((
                index,
                describe_delay(step.after),
                (count > 1).then_some(shown),
                chosen,
                rendered,
            ));
        }
    }
    if app.json {
        let steps: Vec<_> = steps
            .iter()
            .map(|(index, after, shown, chosen, step)| {
                serde_json::json!({
                    "step": index + 1, "after": after, "variant": shown, "this_prospect": chosen,
                    "rendered": step.as_ref().ok(), "problem": step.as_ref().err(),
                })
            })
            .collect();
        return output::json(&serde_json::json!({
            "sequence": sequence.slug, "variant": variant, "can_enroll": cannot.is_none(),
            "cannot_enroll": cannot, "email_waits_for": email_waits_for, "steps": steps,
        }));
    }
    if let Some(reason) = &cannot {
        println!(
            "NOTE: #{} {} cannot be enrolled in '{}': {} {reason}\n",
            prospect.id,
            printable(&prospect.data.name),
            sequence.slug,
            printable(&prospect.data.name),
        );
    }
    for blocker in &email_waits_for {
        println!("NOTE: no email goes out yet: {blocker}\n");
    }
    for (index, after, shown, chosen, step) in &steps {
        let label = match shown {
            Some(v) => format!(
                " variant {}{}",
                variant_letter(*v),
                if *chosen { " — this prospect gets it" } else { "" }
            ),
            None => String::new(),
        };
        println!("== step {} ({after}){label}", index + 1);
        match step {
            Err(problem) => println!("cannot be written: {}", printable(problem)),
            Ok(RenderedStep::Email { subject, text, html }) => {
                // Filled from the prospect's fields and feeds: printed without escape sequences.
                println!("Subject: {}\n\n{}", printable(subject), printable(text.trim_end()));
                if html.is_some() {
                    println!("(and an HTML part)");
                }
            }
            Ok(RenderedStep::Task {
                instruction,
                link,
                logs,
            }) => {
                let link = link.as_deref().map(|l| format!(" — {l}")).unwrap_or_default();
                println!("Task: {}  (logs {logs})", printable(&format!("{instruction}{link}")));
            }
        }
    }
    if let Some((_, _, _, _, Err(problem))) = steps.iter().find(|(.., step)| step.is_err()) {
        return Err(input_error(problem.clone()));
    }
    Ok(())
}

/// A, B, C... for variants.
fn variant_letter(index: usize) -> char {
    char::from(b'A' + (index % 26) as u8)
}
