//! `rapport suggestions`: stage changes and people to add the rules propose, waiting for the rep.

use super::{output, App, RepArg};
use crate::app::{suggestions, Actor};
use crate::domain::text::printable;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct SuggestionsArgs {
    #[command(subcommand)]
    pub command: Option<SuggestionsCommand>,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Subcommand)]
pub enum SuggestionsCommand {
    /// Move the prospect as suggested (if they are still where the rule saw them).
    Approve(IdArg),
    /// Leave the prospect where they are.
    Reject(IdArg),
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// The suggestion's number, as `rapport suggestions` lists it.
    pub id: i64,
}

pub async fn run(app: &App, args: SuggestionsArgs) -> anyhow::Result<()> {
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    match args.command {
        None => list(app, &actor).await,
        Some(SuggestionsCommand::Approve(id)) => decide(app, &actor, id.id, true).await,
        Some(SuggestionsCommand::Reject(id)) => decide(app, &actor, id.id, false).await,
    }
}

async fn list(app: &App, actor: &Actor) -> anyhow::Result<()> {
    let open = suggestions::open(&app.core(), actor).await?;
    if app.json {
        return output::json(&open);
    }
    if open.is_empty() {
        println!("no suggestions waiting");
    }
    for s in &open {
        // A person comes from a reply: printed without escape sequences.
        let what = match &s.person {
            Some(person) => format!("add {} as a new prospect", printable(&person.label())),
            None => format!("{} → {}", s.from_stage, s.to_stage),
        };
        println!(
            "#{} {} (#{}): {what}\n    {}\n    rapport suggestions approve {} | reject {}",
            s.id,
            s.prospect_name,
            s.prospect_id,
            printable(&s.reason),
            s.id,
            s.id
        );
    }
    Ok(())
}

async fn decide(app: &App, actor: &Actor, id: i64, approve: bool) -> anyhow::Result<()> {
    let decided = suggestions::decide(&app.core(), actor, id, approve).await?;
    if app.json {
        return output::json(&decided);
    }
    match (approve, decided.created_prospect_id) {
        (true, Some(added)) => println!(
            "approved: #{added} {} added, referred by #{} {}",
            decided
                .person
                .as_ref()
                .map(|p| printable(&p.label()))
                .unwrap_or_default(),
            decided.prospect_id,
            decided.prospect_name
        ),
        (false, _) if decided.person.is_some() => println!(
            "rejected: {} is not added",
            decided
                .person
                .as_ref()
                .map(|p| printable(&p.label()))
                .unwrap_or_default()
        ),
        (true, _) => println!(
            "approved: #{} {} moved {} → {}",
            decided.prospect_id, decided.prospect_name, decided.from_stage, decided.to_stage
        ),
        (false, _) => println!(
            "rejected: #{} {} stays in {}",
            decided.prospect_id, decided.prospect_name, decided.from_stage
        ),
    }
    Ok(())
}
