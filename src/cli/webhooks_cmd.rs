//! `rapport webhooks`: outgoing webhook deliveries (`[[webhooks.out]]`):
//! list them by state, or queue and send what is due now.

use super::{output, App};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Deliveries, newest first: pending (with the last error), delivered, gave_up.
    List {
        /// Only these: pending, delivered or gave_up.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue new events and send what is due now (the daemon does this every minute).
    Send,
}

pub async fn run(app: &App, command: WebhooksCommand) -> anyhow::Result<()> {
    let core = app.core();
    match command {
        WebhooksCommand::List { state, limit } => {
            let deliveries = crate::app::webhooks::list(&core, &app.actor(), state.as_deref(), limit).await?;
            if app.json {
                return output::json(&deliveries);
            }
            if deliveries.is_empty() {
                println!("no webhook deliveries");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = deliveries
                .iter()
                .map(|d| {
                    vec![
                        d.message_id.clone(),
                        d.state.clone(),
                        d.attempts.to_string(),
                        d.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        d.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(&["WEBHOOK-ID", "STATE", "ATTEMPTS", "NEXT (UTC)", "LAST ERROR"], &rows);
        }
        WebhooksCommand::Send => {
            let report = crate::app::webhooks::dispatcher(&core).run_pass().await?;
            if app.json {
                return output::json(&report);
            }
            println!(
                "queued {}, delivered {}, to retry {}, given up {}",
                report.queued, report.delivered, report.retried, report.gave_up
            );
        }
    }
    Ok(())
}
