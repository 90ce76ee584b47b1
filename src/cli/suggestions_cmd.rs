//! `rapport suggestions`: stage changes the rules propose, waiting for the rep.

use super::{cli_user, input_error, output, App, RepArg};
use crate::domain::event::stage_change;
use crate::store::{RepScope, SuggestionDecision};
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
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    match args.command {
        None => list(app, scope).await,
        Some(SuggestionsCommand::Approve(id)) => decide(app, scope, id.id, true).await,
        Some(SuggestionsCommand::Reject(id)) => decide(app, scope, id.id, false).await,
    }
}

async fn list(app: &App, scope: RepScope) -> anyhow::Result<()> {
    let open = app.store.open_suggestions(scope).await?;
    if app.json {
        return output::json(&open);
    }
    if open.is_empty() {
        println!("no suggestions waiting");
    }
    for s in &open {
        println!(
            "#{} {} (#{}): {} → {}\n    {}\n    rapport suggestions approve {} | reject {}",
            s.id, s.prospect_name, s.prospect_id, s.from_stage, s.to_stage, s.reason, s.id, s.id
        );
    }
    Ok(())
}

async fn decide(app: &App, scope: RepScope, id: i64, approve: bool) -> anyhow::Result<()> {
    let now = app.now();
    let by = cli_user();
    let waiting = app.store.open_suggestions(scope).await?;
    let Some(suggestion) = waiting.iter().find(|s| s.id == id) else {
        return Err(input_error(format!(
            "there is no open suggestion #{id}; `rapport suggestions` lists the open ones"
        )));
    };
    let decision = match approve {
        true => SuggestionDecision::Approve {
            by: by.name().to_string(),
            move_event: stage_change(
                suggestion.prospect_id,
                Some(&suggestion.from_stage),
                &suggestion.to_stage,
                now,
                by.clone(),
                Some(&format!("approved suggestion #{id}: {}", suggestion.reason)),
            ),
        },
        false => SuggestionDecision::Reject {
            by: by.name().to_string(),
        },
    };
    let decided = app.store.decide_suggestion(scope, id, decision, now).await?;
    if approve {
        app.stop_ended_sequences(&[decided.prospect_id]).await?;
    }
    if app.json {
        return output::json(&decided);
    }
    match approve {
        true => println!(
            "approved: #{} {} moved {} → {}",
            decided.prospect_id, decided.prospect_name, decided.from_stage, decided.to_stage
        ),
        false => println!(
            "rejected: #{} {} stays in {}",
            decided.prospect_id, decided.prospect_name, decided.from_stage
        ),
    }
    Ok(())
}
