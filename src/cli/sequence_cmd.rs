//! `rapport sequence`: cold email sequences.

use super::output::or_dash;
use super::{ctrl_c_within_a_minute, input_error, output, App, RepArg};
use crate::automation::enrolment;
use crate::domain::prospect::{Prospect, ProspectRef, Rep};
use crate::domain::sequence::enrolment::{context_for, render_step, variant_count, variant_for, RenderedStep};
use crate::domain::sequence::timing::Delay;
use crate::domain::sequence::{Sequence, StepAction};
use crate::domain::text::printable;
use crate::outbound::sender::{SendError, SequenceSender};
use crate::outbound::Mailer;
use crate::store::{ProspectFilter, RepScope};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SequenceCommand {
    /// Validate every sequence file in the sequences folder (config/sequences/):
    /// format, delays, stages, and every template's fields.
    Check,
    /// Enrol prospects: everyone in a stage, everyone with a tag, or the ones named.
    /// Only prospects in the sequence's stages, with an email, not suppressed, not
    /// already in a sequence, and with a value for every field the emails use.
    Enroll(EnrollArgs),
    /// Show exactly what each step would send to (or ask of the rep for) a prospect.
    Preview(PreviewArgs),
    /// Each enrolment: its step, state and when the next step is due.
    Status(StatusArgs),
    /// Send what is due: with --once one pass (exactly what the daemon's
    /// send-sequences job does), else a pass every minute until Ctrl-C.
    Send(SendArgs),
    /// The emails rapport sent or tried to send, with their Message-IDs.
    Outbox(OutboxArgs),
    /// Settle an email left `unknown` by a crash mid-send: it went out
    /// (--sent: the sequence goes on) or it did not (--not-sent: sent again).
    Resolve(ResolveArgs),
    /// Let a rep's paused mailbox (after a 5.7.x policy refusal) send again.
    Resume(ResumeArgs),
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// One pass, then exit (else a pass a minute until Ctrl-C).
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Only rows in this state: sending, sent, refused or unknown.
    #[arg(long)]
    pub state: Option<String>,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The outbox row (see `rapport sequence outbox --state unknown`).
    pub id: i64,
    /// It did go out: the sequence goes on from the next step.
    #[arg(long, conflicts_with = "not_sent", required_unless_present = "not_sent")]
    pub sent: bool,
    /// It did not go out: the step is sent again.
    #[arg(long)]
    pub not_sent: bool,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub rep: RepArg,
}

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

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this sequence.
    pub sequence: Option<String>,
    #[command(flatten)]
    pub rep: RepArg,
}

pub async fn run(app: &App, command: SequenceCommand) -> anyhow::Result<()> {
    match command {
        SequenceCommand::Check => check(app),
        SequenceCommand::Enroll(args) => enroll(app, args).await,
        SequenceCommand::Preview(args) => preview(app, args).await,
        SequenceCommand::Status(args) => status(app, args).await,
        SequenceCommand::Send(args) => send(app, args).await,
        SequenceCommand::Outbox(args) => outbox(app, args).await,
        SequenceCommand::Resolve(args) => resolve(app, args).await,
        SequenceCommand::Resume(args) => resume(app, args).await,
    }
}

fn find_sequence(app: &App, slug: &str) -> anyhow::Result<Sequence> {
    let (sequences, broken) = app.settings.load_sequences();
    if let Some(found) = sequences.into_iter().find(|s| s.slug == slug) {
        return Ok(found);
    }
    if let Some(file) = broken.iter().find(|b| b.file.ends_with(&format!("{slug}.toml"))) {
        return Err(input_error(format!(
            "sequence '{slug}' has problems ({}); run `rapport sequence check`",
            file.problems.join("; ")
        )));
    }
    Err(input_error(format!(
        "there is no sequence '{slug}' in {}; see `rapport sequence check` for the ones there are",
        app.settings.sequences_dir().display()
    )))
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

async fn enroll(app: &App, args: EnrollArgs) -> anyhow::Result<()> {
    let sequence = find_sequence(app, &args.sequence)?;
    let window = app
        .settings
        .config
        .sending
        .window()
        .map_err(|(key, m)| input_error(format!("{key}: {m}")))?;
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

async fn preview(app: &App, args: PreviewArgs) -> anyhow::Result<()> {
    let sequence = find_sequence(app, &args.sequence)?;
    let reference: ProspectRef = args.prospect.parse().map_err(input_error)?;
    let prospect = app.store.find_prospect(RepScope::Team, &reference).await?;
    let reps = app.store.list_reps().await?;
    let rep = rep_of(&reps, &prospect)?;
    let post = app.store.latest_post(prospect.id).await?;
    let context = context_for(&prospect, rep, post.as_ref());
    let variants = variant_count(&sequence);
    let variant = variant_for(prospect.id, &sequence.slug, variants);
    let window = app
        .settings
        .config
        .sending
        .window()
        .map_err(|(key, m)| input_error(format!("{key}: {m}")))?;
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

async fn status(app: &App, args: StatusArgs) -> anyhow::Result<()> {
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    let enrolments = app.store.list_enrolments(scope, args.sequence.as_deref()).await?;
    if app.json {
        return output::json(&enrolments);
    }
    let reps = app.store.list_reps().await?;
    for pause in app.store.sending_pauses().await? {
        let rep = reps
            .iter()
            .find(|r| r.id == pause.rep_id)
            .map_or("?", |r| r.email.as_str());
        println!(
            "PAUSED: sending from {rep} since {}: {}\n        resume with `rapport sequence resume --rep {rep}`",
            output::at(pause.paused_at, zone),
            pause.reason
        );
    }
    let (sequences, _) = app.settings.load_sequences();
    let steps_of = |slug: &str| sequences.iter().find(|s| s.slug == slug).map_or(0, |s| s.steps.len());
    let now = app.now();
    let rows: Vec<Vec<String>> = enrolments
        .iter()
        .map(|e| {
            let total = steps_of(&e.sequence);
            let state = match e.snoozed_until {
                Some(until) if e.state == "active" && until > now => "snoozed (away)".to_string(),
                _ => e.state.clone(),
            };
            vec![
                e.id.to_string(),
                format!("#{} {}", e.prospect_id, e.prospect_name),
                e.sequence.clone(),
                format!("{}/{total}", (e.step as usize + 1).min(total)),
                state,
                e.next_due_at.map_or("-".into(), |t| output::at(t, zone)),
                or_dash(e.stop_reason.as_deref()),
            ]
        })
        .collect();
    output::table(
        &["ID", "PROSPECT", "SEQUENCE", "STEP", "STATE", "NEXT", "WHY STOPPED"],
        &rows,
    );
    Ok(())
}

fn sender(app: &App) -> anyhow::Result<SequenceSender> {
    Ok(SequenceSender::new(
        app.store.clone(),
        app.clock.clone(),
        app.settings.clone(),
        Mailer::from_settings(&app.settings)?,
    ))
}

async fn send(app: &App, args: SendArgs) -> anyhow::Result<()> {
    let sender = sender(app)?;
    loop {
        let report = sender.run_pass().await.map_err(|e| match e {
            SendError::NotConfigured { .. } | SendError::Config(_) => input_error(e.to_string()),
            other => other.into(),
        })?;
        if app.json {
            output::json(&report)?;
        } else {
            println!(
                "sent {}, tasks {}, stopped {}, finished {}, waiting {}, refused {}, settled {}, unknown {}",
                report.sent,
                report.tasks,
                report.stopped,
                report.finished,
                report.deferred,
                report.refused,
                report.reconciled,
                report.unknown
            );
            for error in &report.errors {
                println!("  problem: {error}");
            }
        }
        if args.once {
            return match report.errors.len() {
                0 => Ok(()),
                n => Err(anyhow::anyhow!("{n} problem(s) in this sending pass (see above)")),
            };
        }
        if ctrl_c_within_a_minute().await {
            return Ok(());
        }
    }
}

async fn outbox(app: &App, args: OutboxArgs) -> anyhow::Result<()> {
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    let entries = app.store.list_outbox(scope, args.state.as_deref()).await?;
    if app.json {
        return output::json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                format!("#{}", e.prospect_id),
                format!("{} step {}", e.sequence, e.step + 1),
                e.state.clone(),
                output::at(e.started_at, zone),
                e.message_id.clone(),
                or_dash(e.error.as_deref()),
            ]
        })
        .collect();
    output::table(
        &["ID", "PROSPECT", "STEP", "STATE", "STARTED", "MESSAGE-ID", "ERROR"],
        &rows,
    );
    Ok(())
}

async fn resolve(app: &App, args: ResolveArgs) -> anyhow::Result<()> {
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    let unknown = app.store.list_outbox(scope, Some("unknown")).await?;
    let Some(entry) = unknown.iter().find(|e| e.id == args.id) else {
        return Err(input_error(format!(
            "outbox #{} is not waiting for a decision; `rapport sequence outbox --state unknown` lists the ones that are",
            args.id
        )));
    };
    sender(app)?.resolve(entry, args.sent).await?;
    println!(
        "outbox #{}: {}",
        entry.id,
        if args.sent {
            "marked sent; the sequence goes on"
        } else {
            "marked not sent; the step goes out again"
        }
    );
    Ok(())
}

async fn resume(app: &App, args: ResumeArgs) -> anyhow::Result<()> {
    let rep = app.rep(&args.rep).await?;
    match app.store.resume_sending(rep.id, app.now()).await? {
        true => println!("sending from {} resumed", rep.email),
        false => println!("sending from {} was not paused", rep.email),
    }
    Ok(())
}

fn describe_delay(delay: Delay) -> String {
    match delay {
        Delay::Hours(0) => "at once".into(),
        Delay::Hours(h) => format!("+{h} hours"),
        Delay::BusinessDays(d) => format!("+{d} business days"),
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
