//! `rapport sequence enroll` (and `--dry-run`) and `rapport sequence
//! preview`: who can be enrolled and why not, and exactly what each step and
//! A/B variant would say to one prospect.

use super::sequence_cmd::{describe_delay, find_sequence};
use super::{input_error, output, App, RepArg};
use crate::domain::prospect::{Prospect, ProspectRef, Rep};
use crate::domain::sequence::enrolment::{context_for, render_step, variant_count, variant_for, RenderedStep};
use crate::domain::sequence::{Sequence, StepAction};
use crate::domain::text::printable;
use crate::sequences::enrolment;
use crate::store::{ProspectFilter, RepScope};
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

/// The prospects an enrolment names.
async fn candidates(app: &App, sequence: &Sequence, args: &EnrollArgs) -> anyhow::Result<Vec<Prospect>> {
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    if args.stage.is_some() || args.tag.is_some() {
        let filter = ProspectFilter {
            pipeline: Some(sequence.pipeline.clone()),
            stage: args.stage.clone(),
            tag: args.tag.clone(),
            ..ProspectFilter::default()
        };
        return Ok(app.store.list_prospects(scope, &filter).await?);
    }
    let mut found = Vec::new();
    for reference in &args.prospects {
        let reference: ProspectRef = reference.parse().map_err(input_error)?;
        found.push(app.store.find_prospect(scope, &reference).await?);
    }
    Ok(found)
}

fn rep_of<'a>(reps: &'a [Rep], prospect: &Prospect) -> anyhow::Result<&'a Rep> {
    reps.iter()
        .find(|r| r.id == prospect.data.rep_id)
        .ok_or_else(|| anyhow::anyhow!("prospect #{} has no rep in the database", prospect.id))
}

pub async fn enroll(app: &App, args: EnrollArgs) -> anyhow::Result<()> {
    let sequence = find_sequence(app, &args.sequence)?;
    let window = app.sending_window()?;
    let reps = app.store.list_reps().await?;
    let now = app.clock.now();
    let (mut enrolled, mut refused) = (Vec::new(), Vec::new());
    let candidates = candidates(app, &sequence, &args).await?;
    let progress = super::progress::bar(candidates.len() as u64, "prospects");
    let outcomes = enrolment::enrol_many(
        app.store.as_ref(),
        &window,
        &sequence,
        &candidates,
        &reps,
        &super::cli_user(),
        now,
        args.dry_run,
        &|n| progress.inc(n),
    )
    .await?;
    progress.finish_and_clear();
    for (prospect, (_, outcome)) in candidates.iter().zip(outcomes) {
        match outcome {
            Ok(done) => enrolled.push(serde_json::json!({
                "enrolment": done.id, "prospect": prospect.id, "name": prospect.data.name,
                "variant": done.variant, "next_due_at": done.next_due_at,
            })),
            Err(reason) => refused.push((format!("#{} {}", prospect.id, prospect.data.name), reason)),
        }
    }
    report_enrolment(app, &sequence, &enrolled, &refused, args.dry_run)
}

/// Why this sequence's email would not go out yet, naming the keys to set.
fn email_blockers(app: &App, sequence: &Sequence) -> Vec<String> {
    let sends_email = sequence.steps.iter().any(|s| matches!(s.action, StepAction::Email(_)));
    match sends_email {
        true => app.settings.sending_blockers(),
        false => Vec::new(),
    }
}

fn report_enrolment(
    app: &App,
    sequence: &Sequence,
    enrolled: &[serde_json::Value],
    refused: &[(String, String)],
    dry_run: bool,
) -> anyhow::Result<()> {
    let blockers = email_blockers(app, sequence);
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
                    println!(
                        "  would enrol: #{} {}",
                        who["prospect"],
                        printable(who["name"].as_str().unwrap_or_default())
                    );
                }
            }
            false => println!("enrolled {} in '{}'", enrolled.len(), sequence.slug),
        }
        for (who, why) in refused {
            println!("  not enrolled: {} {why}", printable(who));
        }
    }
    if !blockers.is_empty() && !enrolled.is_empty() {
        eprintln!("warning: no email of this sequence goes out until you set these in {config}:");
        for blocker in &blockers {
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
    let sequence = find_sequence(app, &args.sequence)?;
    let reference: ProspectRef = args.prospect.parse().map_err(input_error)?;
    let prospect = app.store.find_prospect(RepScope::Team, &reference).await?;
    let reps = app.store.list_reps().await?;
    let rep = rep_of(&reps, &prospect)?;
    let post = app.store.latest_post(prospect.id).await?;
    let context = context_for(&prospect, rep, post.as_ref());
    let variants = variant_count(&sequence);
    let variant = variant_for(prospect.id, &sequence.slug, variants);
    let window = app.sending_window()?;
    let eligible = enrolment::check(app.store.as_ref(), &window, &sequence, &prospect, rep, app.now()).await?;
    let cannot = eligible.err();
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
            "cannot_enroll": cannot, "email_waits_for": email_blockers(app, &sequence), "steps": steps,
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
    for blocker in email_blockers(app, &sequence) {
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
