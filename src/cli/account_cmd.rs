//! `rapport rep passwd | role | disable | accounts | token ...`: reps'
//! accounts for the web board and the API. Passwords are asked for on a
//! terminal (not echoed, typed twice) or read from a file, never taken from
//! the command line, where `ps` and shell history would show them; a token
//! is printed once, when it is made.

use super::{input_error, output, App};
use crate::app::accounts;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// The rep (id, email or name).
    pub rep: String,
    /// A file holding the new password (its first line; at least 12
    /// characters). Without it, the password is asked for on the terminal.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The rep (id, email or name).
    pub rep: String,
    /// rep (their own prospects), manager (the team's) or admin (also reps and settings).
    pub role: String,
}

#[derive(Debug, Args)]
pub struct IcalArgs {
    /// The rep (id, email or name).
    pub rep: String,
    /// Make a new address; the old one stops working at once.
    #[arg(long, conflicts_with = "revoke")]
    pub rotate: bool,
    /// End the feed: its address stops working.
    #[arg(long)]
    pub revoke: bool,
}

#[derive(Debug, Args)]
pub struct DisableArgs {
    /// The rep (id, email or name). Their prospects stay; they sign in no more.
    pub rep: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make an API token for a rep and print it (once: it is kept only as a digest).
    Create(TokenCreate),
    /// List API tokens (names and use, never the tokens).
    List(TokenList),
    /// Revoke an API token by its id or name.
    Revoke(TokenRevoke),
}

#[derive(Debug, Args)]
pub struct TokenCreate {
    /// The rep (id, email or name).
    pub rep: String,
    /// What the token is for, e.g. "crm sync".
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct TokenList {
    /// Only this rep's tokens.
    #[arg(long)]
    pub rep: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokenRevoke {
    /// The rep (id, email or name).
    pub rep: String,
    /// The token's id or name.
    pub token: String,
}

/// The first line of a password file, without its line ending.
pub(super) fn read_password(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        input_error(format!(
            "cannot read the password file {}: {e}; write the password on its first line",
            path.display()
        ))
    })?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// The password from `file`, else asked for twice on the terminal; `None`
/// when there is neither (input is not a terminal).
pub fn password_from(file: Option<&std::path::Path>, whose: &str) -> anyhow::Result<Option<String>> {
    if let Some(file) = file {
        return read_password(file).map(Some);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Ok(None);
    }
    let first = rpassword::prompt_password(format!("Password for {whose} (12 characters or more): "))
        .map_err(|e| input_error(format!("cannot read a password from the terminal: {e}")))?;
    crate::domain::account::check_password(&first).map_err(input_error)?;
    let again = rpassword::prompt_password("The same password again: ")
        .map_err(|e| input_error(format!("cannot read a password from the terminal: {e}")))?;
    if again != first {
        return Err(input_error("the two passwords differ; nothing was changed"));
    }
    Ok(Some(first))
}

pub async fn passwd(app: &App, args: PasswdArgs) -> anyhow::Result<()> {
    let Some(password) = password_from(args.password_file.as_deref(), &args.rep)? else {
        return Err(input_error(
            "no password given: run this on a terminal to be asked, or give --password-file FILE (its first line)",
        ));
    };
    let rep = accounts::set_password(&app.core(), &app.actor(), Some(&args.rep), &password).await?;
    println!("password of {} set", rep.email);
    Ok(())
}

pub async fn role(app: &App, args: RoleArgs) -> anyhow::Result<()> {
    let rep = accounts::set_role(&app.core(), &app.actor(), Some(&args.rep), &args.role).await?;
    println!("{} is now {}", rep.email, args.role.trim().to_ascii_lowercase());
    Ok(())
}

pub async fn ical(app: &App, args: IcalArgs) -> anyhow::Result<()> {
    let core = app.core();
    if args.revoke {
        let ended = crate::app::calendar::revoke(&core, &app.actor(), Some(&args.rep)).await?;
        match ended {
            true => println!(
                "the calendar feed of {} is revoked: its address opens nothing now",
                args.rep
            ),
            false => println!("{} had no calendar feed", args.rep),
        }
        return Ok(());
    }
    let link = crate::app::calendar::link(&core, &app.actor(), Some(&args.rep), args.rotate).await?;
    if app.json {
        return super::output::json(&link);
    }
    println!("{}", link.url);
    eprintln!(
        "Subscribe to it in your calendar app (Google Calendar: Other calendars → From URL; Outlook: Add calendar → \
         Subscribe from web; Apple Calendar: File → New Calendar Subscription). Anyone with the address sees the \
         feed: `rapport rep ical {} --rotate` makes a new one.",
        link.rep
    );
    Ok(())
}

pub async fn disable(app: &App, args: DisableArgs) -> anyhow::Result<()> {
    let (rep, changed) = accounts::disable(&app.core(), &app.actor(), Some(&args.rep)).await?;
    match changed {
        true => println!(
            "{} is disabled: signing in and their API tokens no longer work",
            rep.email
        ),
        false => println!("{} was disabled already", rep.email),
    }
    Ok(())
}

pub async fn accounts_list(app: &App) -> anyhow::Result<()> {
    let accounts = accounts::list(&app.core()).await?;
    if app.json {
        return output::json(&accounts);
    }
    let zone = app.zone(None).await?;
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            vec![
                a.rep_id.to_string(),
                a.email.clone(),
                a.role.as_str().into(),
                match (a.disabled_at, a.has_password) {
                    (Some(at), _) => format!("disabled {}", output::at(at, zone)),
                    (None, true) => "can sign in".into(),
                    (None, false) => "no password yet (`rapport rep passwd`)".into(),
                },
            ]
        })
        .collect();
    output::table(&["ID", "EMAIL", "ROLE", "SIGN-IN"], &rows);
    Ok(())
}

pub async fn token(app: &App, command: TokenCommand) -> anyhow::Result<()> {
    let (core, actor) = (app.core(), app.actor());
    match command {
        TokenCommand::Create(args) => {
            let (token, text) = accounts::create_token(&core, &actor, Some(&args.rep), &args.name).await?;
            if app.json {
                return output::json(&serde_json::json!({ "token": text, "id": token.id, "name": token.name }));
            }
            println!("{text}");
            eprintln!(
                "token #{} '{}': copy it now, it is not shown again; use it as `Authorization: Bearer TOKEN`",
                token.id, token.name
            );
        }
        TokenCommand::List(args) => {
            let tokens = accounts::tokens(&core, &actor, args.rep.as_deref()).await?;
            if app.json {
                return output::json(&tokens);
            }
            let zone = app.zone(None).await?;
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".into(), |t| output::at(t, zone));
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        format!("rep #{}", t.rep_id),
                        t.name.clone(),
                        output::at(t.created_at, zone),
                        when(t.last_used_at),
                        t.revoked_at
                            .map_or("live".into(), |at| format!("revoked {}", output::at(at, zone))),
                    ]
                })
                .collect();
            output::table(&["ID", "REP", "NAME", "CREATED", "LAST USED", "STATE"], &rows);
        }
        TokenCommand::Revoke(args) => {
            let (token, changed) = accounts::revoke_token(&core, &actor, Some(&args.rep), &args.token).await?;
            match changed {
                true => println!("token #{} '{}' revoked", token.id, token.name),
                false => println!("token #{} '{}' was revoked already", token.id, token.name),
            }
        }
    }
    Ok(())
}
