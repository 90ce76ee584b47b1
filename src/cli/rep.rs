//! `rapport rep`: add and list reps (their accounts: `account_cmd.rs`).

use super::output;
use super::App;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum RepCommand {
    /// Add a rep.
    Add(AddRep),
    /// List reps.
    List,
    /// Set a rep's password for the web board (read from a file).
    Passwd(super::account_cmd::PasswdArgs),
    /// Give a rep a role: rep, manager or admin.
    Role(super::account_cmd::RoleArgs),
    /// Disable a rep: no more signing in, their API tokens revoked; their prospects stay.
    Disable(super::account_cmd::DisableArgs),
    /// Each rep's role and whether they can sign in.
    Accounts,
    /// API tokens for scripts and other tools.
    #[command(subcommand)]
    Token(super::account_cmd::TokenCommand),
    /// The rep's calendar feed (tasks, reminders, booked meetings) to subscribe to.
    Ical(super::account_cmd::IcalArgs),
}

#[derive(Debug, Args)]
pub struct AddRep {
    /// The rep's full name, used in greetings and email signatures.
    #[arg(long)]
    pub name: String,
    /// The rep's email address: their mailbox and where their digest goes.
    #[arg(long)]
    pub email: String,
    /// IANA time zone, e.g. America/New_York.
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Local hour (0-23) of the daily digest.
    #[arg(long, default_value_t = 7)]
    pub digest_hour: u8,
    /// Digest language: en or nb.
    #[arg(long, default_value = "en")]
    pub language: String,
}

pub async fn run(app: &App, command: RepCommand) -> anyhow::Result<()> {
    match command {
        RepCommand::Add(args) => {
            let rep = crate::app::reps::add(
                &app.core(),
                &app.actor(),
                &args.name,
                &args.email,
                &args.tz,
                args.digest_hour,
                &args.language,
            )
            .await?;
            if app.json {
                return output::json(&rep);
            }
            println!("created rep #{} {} <{}>", rep.id, rep.name, rep.email);
        }
        RepCommand::Passwd(args) => return super::account_cmd::passwd(app, args).await,
        RepCommand::Role(args) => return super::account_cmd::role(app, args).await,
        RepCommand::Disable(args) => return super::account_cmd::disable(app, args).await,
        RepCommand::Accounts => return super::account_cmd::accounts_list(app).await,
        RepCommand::Token(command) => return super::account_cmd::token(app, command).await,
        RepCommand::Ical(args) => return super::account_cmd::ical(app, args).await,
        RepCommand::List => {
            let reps = crate::app::reps::list(&app.core()).await?;
            if app.json {
                return output::json(&reps);
            }
            let rows: Vec<Vec<String>> = reps
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.name.clone(),
                        r.email.clone(),
                        r.time_zone.clone(),
                        format!("{:02}:00", r.digest_hour),
                        r.language.as_str().into(),
                    ]
                })
                .collect();
            output::table(&["ID", "NAME", "EMAIL", "TIME ZONE", "DIGEST", "LANG"], &rows);
        }
    }
    Ok(())
}
