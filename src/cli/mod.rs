//! The command line: argument definitions here, one module per command group.
//! This is the binary's edge, so handlers return `anyhow` errors; an
//! [`InputError`] anywhere in the chain makes the exit code 2.

mod account_cmd;
mod app;
mod config_cmd;
mod daemon_cmd;
mod db_cmd;
mod digest_cmd;
mod docs_cmd;
mod enrol_cmd;
mod hooks_cmd;
mod init;
mod mail_cmd;
mod output;
mod pipeline_cmd;
mod progress;
mod prospect;
mod prospect_args;
mod prospect_lists;
mod rep;
mod rules_cmd;
mod sequence_cmd;
mod sources_cmd;
mod status_cmd;
mod suggestions_cmd;
mod tasks_cmd;
mod webhooks_cmd;

pub use app::App;

use crate::config::LogFormat;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A problem with what the user gave: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

pub fn input_error(message: impl Into<String>) -> anyhow::Error {
    InputError(message.into()).into()
}

/// Exit codes: 0 success, 1 runtime failure, 2 bad usage or input.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    let is_input = error.chain().any(|cause| {
        cause.is::<InputError>()
            || cause.is::<crate::config::ConfigError>()
            || cause
                .downcast_ref::<crate::app::AppError>()
                .is_some_and(|e| e.is_input_error())
            || cause
                .downcast_ref::<crate::store::StoreError>()
                .is_some_and(|e| e.is_input_error())
    });
    if is_input {
        2
    } else {
        1
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "rapport",
    version,
    about = "Social-selling engagement tracker: prospects, pipeline stages and forecast, and a daemon that watches for engagement.",
    long_about = "rapport keeps your prospects, their social profiles, stage and deal value; \
                  forecasts the pipeline; and runs a daemon that does the watching and chasing.\n\n\
                  Start with `rapport init --rep-name \"Your Name\" --rep-email you@example.com`, \
                  then add prospects with `rapport prospect add` or `rapport prospect import FILE.csv`.",
    after_help = "Exit codes: 0 success, 1 runtime failure, 2 bad usage or input."
)]
pub struct Cli {
    /// Config file (default: $RAPPORT_CONFIG, else ./config/rapport.toml, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Run as if it were this moment (RFC 3339, e.g. 2026-03-29T00:25:00Z): for tests and demos.
    /// Commands use it as a fixed clock; the daemon starts its clock there.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub now: Option<DateTime<Utc>>,
    /// Print data as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log format on stderr (default from [log] format).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

pub fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    let trimmed = text.trim();
    DateTime::parse_from_rfc3339(trimmed)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            // A local time without its offset is the usual slip: say so, not "premature end of input".
            let local = [
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
            ]
            .iter()
            .any(|format| chrono::NaiveDateTime::parse_from_str(trimmed, format).is_ok())
                || chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").is_ok();
            if local {
                format!(
                    "'{text}' has no UTC offset, so it could be any zone's; add one, like \
                     2026-03-29T02:30:00+02:00 (Oslo in summer) or 2026-03-29T00:30:00Z (UTC)"
                )
            } else {
                format!("'{text}' is not an RFC 3339 time ({e}); write it like 2026-03-29T02:30:00+02:00")
            }
        })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database, a first rep, and (if none exists) a starter config.
    Init(init::InitArgs),
    /// Reps: the people whose prospects these are.
    #[command(subcommand)]
    Rep(rep::RepCommand),
    /// Prospects: add, list, show, edit, move between stages, import, export, erase.
    #[command(subcommand)]
    Prospect(Box<prospect::ProspectCommand>),
    /// Record engagement done outside rapport (a LinkedIn comment, a call, a meeting).
    ///
    /// LinkedIn and X are never fetched: log what you did there by hand, e.g.
    /// `rapport log jane@acme.io linkedin.comment --url https://linkedin.com/feed/update/...`.
    Log(prospect::LogArgs),
    /// The pipeline: stages with count, value and weighted value, and the forecast.
    Pipeline(pipeline_cmd::PipelineArgs),
    /// The feeds rapport watches: list them (`--broken` for failing ones), or test one.
    Sources(sources_cmd::SourcesArgs),
    /// Poll prospects' feeds now and record new posts (the daemon does this on its schedule).
    Poll(sources_cmd::PollArgs),
    /// Cold email sequences: check, enrol, preview, send, and settle the outbox.
    #[command(subcommand)]
    Sequence(sequence_cmd::SequenceCommand),
    /// Stage rules: check the rules file, or replay history through it as a dry run.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Print a rep's daily digest (whom to engage today and why) without sending it.
    Digest(digest_cmd::DigestArgs),
    /// Stage changes the rules suggest: list, approve, reject.
    Suggestions(suggestions_cmd::SuggestionsArgs),
    /// Webhook deliveries (Calendly, Cal.com, DocuSign, PandaDoc) that matched
    /// no prospect: list, attach to a prospect, create the prospect, dismiss.
    Hooks(hooks_cmd::HooksArgs),
    /// The database: apply and list its migrations.
    #[command(subcommand)]
    Db(db_cmd::DbCommand),
    /// Outgoing webhooks ([[webhooks.out]]): list deliveries, or send what is due now.
    #[command(subcommand)]
    Webhooks(webhooks_cmd::WebhooksCommand),
    /// A follow-up reminder: `rapport remind PROSPECT --in 3d --note "send the deck"`.
    Remind(tasks_cmd::RemindArgs),
    /// Tasks and reminders due now, with direct links; `tasks done ID` logs one.
    Tasks(tasks_cmd::TasksArgs),
    /// Mail: classify a message file, or read the reps' mailboxes into events.
    #[command(subcommand)]
    Mail(mail_cmd::MailCommand),
    /// Is everything working: setup problems, each daemon job's last run, paused
    /// mailboxes, sends waiting for a decision, broken feeds.
    Status,
    /// Run the background daemon until SIGINT/SIGTERM.
    Daemon,
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script: `rapport completions bash > /etc/bash_completion.d/rapport`.
    Completions(docs_cmd::CompletionsArgs),
    /// Print the man page (`rapport man | man -l -`), or write every page with --out-dir.
    Man(docs_cmd::ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate everything the daemon loads (config, pipelines, job schedules, rules, sequences
    /// and their templates, mailbox credentials), listing every problem by file and key.
    Check,
}

/// `--rep R`, shared by commands that act for one rep.
#[derive(Debug, Args, Clone, Default)]
pub struct RepArg {
    /// Rep by id, email or name (default: the only rep, when there is one).
    #[arg(long, value_name = "REP")]
    pub rep: Option<String>,
}

/// Who is at the keyboard, for the event log.
/// Between the passes of a command run without `--once`: waits a minute, and
/// says whether Ctrl-C asked to stop meanwhile.
async fn ctrl_c_within_a_minute() -> bool {
    tokio::select! {
        _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => false,
        _ = tokio::signal::ctrl_c() => true,
    }
}

fn cli_user() -> crate::domain::event::Actor {
    crate::domain::event::Actor::User(
        std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "cli".into()),
    )
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Init(args) => return init::run(&cli, args).await,
        // Generated from the argument definitions: no config or database needed.
        Command::Completions(args) => return docs_cmd::completions(args),
        Command::Man(args) => return docs_cmd::man(args),
        _ => {}
    }
    // Classifying a file needs no database or config.
    if let Command::Mail(mail_cmd::MailCommand::Classify(args)) = &cli.command {
        let today = cli.now.unwrap_or_else(Utc::now).date_naive();
        return mail_cmd::classify_file(args, today, cli.json);
    }
    let app = App::start(&cli).await?;
    match cli.command {
        Command::Init(_) | Command::Completions(_) | Command::Man(_) => unreachable!("handled above"),
        Command::Rep(command) => rep::run(&app, command).await,
        Command::Prospect(command) => prospect::run(&app, *command).await,
        Command::Log(args) => prospect::log(&app, args).await,
        Command::Pipeline(args) => pipeline_cmd::run(&app, args).await,
        Command::Sources(args) => sources_cmd::run(&app, args).await,
        Command::Poll(args) => sources_cmd::poll(&app, args).await,
        Command::Mail(command) => mail_cmd::run(&app, command).await,
        Command::Sequence(command) => sequence_cmd::run(&app, command).await,
        Command::Rules(command) => rules_cmd::run(&app, command).await,
        Command::Digest(args) => digest_cmd::run(&app, args).await,
        Command::Suggestions(args) => suggestions_cmd::run(&app, args).await,
        Command::Hooks(args) => hooks_cmd::run(&app, args).await,
        Command::Webhooks(command) => webhooks_cmd::run(&app, command).await,
        Command::Db(command) => db_cmd::run(&app, command).await,
        Command::Remind(args) => tasks_cmd::remind(&app, args).await,
        Command::Tasks(args) => tasks_cmd::run(&app, args).await,
        Command::Status => status_cmd::run(&app).await,
        Command::Daemon => daemon_cmd::run(app).await,
        Command::Config(ConfigCommand::Check) => config_cmd::check(&app),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command and every option of every command says what it is for.
    #[test]
    fn every_command_and_option_has_a_help_line() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() && !path.is_empty() {
                missing.push(format!("command `{path}`"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") || arg.is_hide_set() {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("`{path}` argument `{id}`"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                walk(sub, format!("{path} {}", sub.get_name()).trim(), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without a help line:\n{}", missing.join("\n"));
    }
}
