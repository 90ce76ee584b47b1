//! `rapport hooks`: webhook deliveries that named nobody rapport knows,
//! waiting for review: list them, attach one to a prospect, make the
//! prospect from it, or dismiss it.

use super::{output, App, RepArg};
use crate::app::hooks;
use crate::domain::prospect::ProspectRef;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub command: HooksCommand,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Deliveries that matched no prospect (kept `[hooks] keep_unmatched_days`).
    Unmatched,
    /// Record a delivery for a prospect who used another address, e.g. `hooks attach 3 jane@acme.io`.
    Attach {
        /// The delivery's number, as `rapport hooks unmatched` lists it.
        id: i64,
        /// The prospect: id or email.
        prospect: ProspectRef,
    },
    /// Make a prospect of the delivery's address and record it for them.
    Create {
        /// The delivery's number, as `rapport hooks unmatched` lists it.
        id: i64,
        /// The new prospect's name.
        #[arg(long)]
        name: String,
        /// Whose prospect (default: the rep who organised it, or yours).
        #[arg(long = "for")]
        owner: Option<String>,
    },
    /// Forget a delivery without recording it (a colleague, a test booking).
    Dismiss {
        /// The delivery's number, as `rapport hooks unmatched` lists it.
        id: i64,
    },
}

pub async fn run(app: &App, args: HooksArgs) -> anyhow::Result<()> {
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let core = app.core();
    let reviewed = match args.command {
        HooksCommand::Unmatched => {
            let kept = hooks::unmatched(&core, &actor).await?;
            if app.json {
                return output::json(&kept);
            }
            if kept.is_empty() {
                println!("no unmatched webhook deliveries");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = kept
                .iter()
                .map(|d| {
                    vec![
                        d.id.to_string(),
                        d.received_at.format("%Y-%m-%d %H:%M").to_string(),
                        d.provider.clone(),
                        d.kind.clone(),
                        d.email.clone(),
                        d.summary.clone(),
                    ]
                })
                .collect();
            output::table(&["ID", "RECEIVED (UTC)", "FROM", "KIND", "EMAIL", "WHAT"], &rows);
            println!("\nrapport hooks attach ID PROSPECT | hooks create ID --name NAME | hooks dismiss ID");
            return Ok(());
        }
        HooksCommand::Attach { id, prospect } => hooks::attach(&core, &actor, id, &prospect).await?,
        HooksCommand::Create { id, name, owner } => hooks::create(&core, &actor, id, &name, owner).await?,
        HooksCommand::Dismiss { id } => {
            hooks::dismiss(&core, &actor, id).await?;
            if !app.json {
                println!("dismissed delivery {id}");
            }
            return Ok(());
        }
    };
    if app.json {
        return output::json(&reviewed);
    }
    println!(
        "{} recorded for #{} {}{}",
        reviewed.kind,
        reviewed.prospect,
        crate::domain::text::printable(&reviewed.name),
        match reviewed.added {
            true => "",
            false => " (it was there already)",
        }
    );
    Ok(())
}
