//! `rapport db`: the database itself. `db migrate` applies the backend's
//! pending migrations and lists them with when each was applied.

use super::{output, App};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply the pending migrations and list them all (the configured database, or --url).
    Migrate {
        /// Another database: sqlite://PATH or postgres://USER@HOST/DATABASE (its password is never shown).
        #[arg(long)]
        url: Option<String>,
    },
}

pub async fn run(app: &App, command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Migrate { url } => {
            let migrations = crate::app::status::migrate(&app.core(), url.as_deref()).await?;
            if app.json {
                return output::json(&migrations);
            }
            let rows: Vec<Vec<String>> = migrations
                .iter()
                .map(|m| {
                    vec![
                        format!("{:04}", m.version),
                        m.description.clone(),
                        m.applied_at
                            .map_or_else(|| "pending".into(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
                    ]
                })
                .collect();
            output::table(&["VERSION", "MIGRATION", "APPLIED"], &rows);
        }
    }
    Ok(())
}
