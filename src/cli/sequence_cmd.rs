//! `rapport sequence`: cold email sequences.

use super::output::or_dash;
use super::{ctrl_c_within_a_minute, input_error, output, App, RepArg};
use crate::app::sequences;
use crate::domain::sequence::timing::Delay;
use crate::domain::sequence::{Sequence, StepAction};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SequenceCommand {
    /// Validate every sequence file in the sequences folder (config/sequences/):
    /// format, delays, stages, and every template's fields.
    Check,
    /// Enrol prospects: everyone in a stage, everyone with a tag, or the ones named.
    /// Only prospects in the sequence's stages, with an email, not suppressed, not
    /// already in a sequence, and with a value for every field the emails use.
    Enroll(super::enrol_cmd::EnrollArgs),
    /// Show exactly what each step would send to (or ask of the rep for) a prospect.
    Preview(super::enrol_cmd::PreviewArgs),
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
pub struct StatusArgs {
    /// Only this sequence.
    pub sequence: Option<String>,
    #[command(flatten)]
    pub rep: RepArg,
}

pub async fn run(app: &App, command: SequenceCommand) -> anyhow::Result<()> {
    match command {
        SequenceCommand::Check => check(app),
        SequenceCommand::Enroll(args) => super::enrol_cmd::enroll(app, args).await,
        SequenceCommand::Preview(args) => super::enrol_cmd::preview(app, args).await,
        SequenceCommand::Status(args) => status(app, args).await,
        SequenceCommand::Send(args) => send(app, args).await,
        SequenceCommand::Outbox(args) => outbox(app, args).await,
        SequenceCommand::Resolve(args) => resolve(app, args).await,
        SequenceCommand::Resume(args) => resume(app, args).await,
    }
}

async fn status(app: &App, args: StatusArgs) -> anyhow::Result<()> {
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    let standing = sequences::standing(&app.core(), &actor, args.sequence.as_deref()).await?;
    let enrolments = standing.enrolments;
    if app.json {
        return output::json(&enrolments);
    }
    for (pause, rep) in &standing.pauses {
        println!(
            "PAUSED: sending from {rep} since {}: {}\n        resume with `rapport sequence resume --rep {rep}`",
            output::at(pause.paused_at, zone),
            pause.reason
        );
    }
    let steps_of = |slug: &str| standing.steps.iter().find(|(s, _)| s == slug).map_or(0, |(_, n)| *n);
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

async fn send(app: &App, args: SendArgs) -> anyhow::Result<()> {
    let sender = sequences::sender(&app.core())?;
    loop {
        let report = sequences::send_pass(&sender).await?;
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
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    let entries = sequences::outbox(&app.core(), &actor, args.state.as_deref()).await?;
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
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let entry = sequences::resolve(&app.core(), &actor, args.id, args.sent).await?;
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
    match sequences::resume(&app.core(), &app.actor(), &rep).await? {
        true => println!("sending from {} resumed", rep.email),
        false => println!("sending from {} was not paused", rep.email),
    }
    Ok(())
}

pub(super) fn describe_delay(delay: Delay) -> String {
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
