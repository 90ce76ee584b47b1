//! `rapport rules`: validate the rules file, or replay the stored history
//! through it as a dry run.

use super::{ctrl_c_within_a_minute, input_error, output, App, RepArg};
use crate::app::AppError;
use crate::domain::rules::Fired;
use crate::domain::text::printable;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate the rules file (default: [rules] file beside the config).
    Check(FileArg),
    /// Replay every prospect's stored history through the rules, changing
    /// nothing, and print what the rules would have done and why.
    Test(TestArgs),
    /// Apply the rules to events not seen yet and to idle prospects: one pass
    /// with --once (the daemon's apply-rules job), else one a minute until Ctrl-C.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// One pass, then exit (else a pass a minute until Ctrl-C).
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// A rules file to use instead of the configured one.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub rep: RepArg,
}

pub async fn run(app: &App, command: RulesCommand) -> anyhow::Result<()> {
    match command {
        RulesCommand::Check(args) => check(app, args),
        RulesCommand::Test(args) => dry_run(app, args).await,
        RulesCommand::Run(args) => run_rules(app, args).await,
    }
}

fn load(app: &App, file: &FileArg) -> anyhow::Result<(crate::domain::rules::RuleSet, String)> {
    crate::app::rules::load(&app.core(), file.file.as_deref()).map_err(problems)
}

/// The problems of a rules file, one a line on stderr, then one error.
fn problems(error: AppError) -> anyhow::Error {
    match error {
        AppError::Problems { what, problems } => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            input_error(format!("{} problem(s) in {what} (see above)", problems.len()))
        }
        other => other.into(),
    }
}

fn check(app: &App, args: FileArg) -> anyhow::Result<()> {
    let (rules, origin) = load(app, &args)?;
    if app.json {
        let names: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
        return output::json(&serde_json::json!({ "file": origin, "rules": names }));
    }
    println!("ok  {origin}: {} rules", rules.rules.len());
    for rule in &rules.rules {
        println!("    {}: {}", rule.name, rule.description);
    }
    Ok(())
}

async fn dry_run(app: &App, args: TestArgs) -> anyhow::Result<()> {
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    let (origin, report) = crate::app::rules::dry_run(&app.core(), &actor, args.file.file.as_deref())
        .await
        .map_err(problems)?;
    let report: Vec<(i64, String, Fired)> = report.into_iter().map(|w| (w.prospect, w.name, w.fired)).collect();
    if app.json {
        let rows: Vec<_> = report
            .iter()
            .map(|(id, name, fired)| serde_json::json!({ "prospect": id, "name": name, "fired": fired }))
            .collect();
        return output::json(&serde_json::json!({ "rules": origin, "dry_run": rows }));
    }
    println!("dry run of {origin} over the stored history (nothing is changed):");
    if report.is_empty() {
        println!("  no rule would have fired");
    }
    for (id, name, fired) in &report {
        println!(
            "  {} #{id} {name}: {} — {}",
            output::at(fired.at, zone),
            describe(&fired.outcome),
            printable(&fired.reason)
        );
    }
    Ok(())
}

async fn run_rules(app: &App, args: RunArgs) -> anyhow::Result<()> {
    let runner = crate::app::rules::runner(&app.core());
    loop {
        let progress = super::progress::counting("events");
        let report = crate::app::rules::run_pass(&runner, &progress)
            .await
            .map_err(|e| match e {
                AppError::Problems { problems, .. } => {
                    input_error(crate::rules::RulesError::Rules(problems).to_string())
                }
                other => other.into(),
            })?;
        if app.json {
            output::json(&report)?;
        } else {
            println!(
                "events {}, advanced {}, suggested {}, reminders {}, tagged {}, enrolled {}, sequences stopped {}",
                report.events,
                report.advanced,
                report.suggested,
                report.reminded,
                report.tagged,
                report.enrolled,
                report.stopped
            );
            for skipped in &report.skipped {
                println!("  skipped: {}", printable(skipped));
            }
        }
        if args.once {
            return Ok(());
        }
        if ctrl_c_within_a_minute().await {
            return Ok(());
        }
    }
}

fn describe(outcome: &crate::domain::rules::Outcome) -> String {
    use crate::domain::rules::Outcome::*;
    match outcome {
        Advance { from, to } => format!("advance {from} → {to}"),
        Suggest { from, to } => format!("suggest {from} → {to}"),
        Remind { note, on: None } => format!("remind \"{note}\""),
        Remind { note, on: Some(day) } => format!("remind \"{note}\" on {day}"),
        Tag { tag } => format!("tag {tag}"),
        Enroll { sequence } => format!("enrol in {sequence}"),
        StopSequences => "stop sequences".into(),
        SuggestProspect { name, email } => {
            let person = crate::store::SuggestedPerson {
                name: name.clone(),
                email: email.clone(),
                company: None,
            };
            format!("suggest a new prospect: {}", printable(&person.label()))
        }
    }
}
