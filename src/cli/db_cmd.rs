//! `rapport db`: the database itself. `db migrate` applies the backend's
//! pending migrations and lists them with when each was applied; `db copy`
//! moves a team's SQLite store into PostgreSQL, verified table by table.

use super::{output, App};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply the pending migrations and list them all (the configured database, or --url).
    Migrate {
        /// Another database: sqlite://PATH or postgres://USER@HOST/DATABASE (its password is never shown).
        #[arg(long)]
        url: Option<String>,
        /// A file holding that database's password (default for the configured one: database.password_file).
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// Copy the SQLite store into PostgreSQL (stop the daemon first), checking every table's rows and checksum.
    Copy {
        /// The SQLite store (default: the configured database).
        #[arg(long)]
        from: Option<String>,
        /// The PostgreSQL database: postgres://USER@HOST/DATABASE (add ?sslmode=require for TLS).
        #[arg(long)]
        to: String,
        /// Delete what the target holds first (refused without it when it is not empty).
        #[arg(long)]
        replace: bool,
        /// A file holding the PostgreSQL password, instead of writing it in --to.
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
}

pub async fn run(app: &App, command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Migrate { url, password_file } => {
            let migrations = crate::app::status::migrate(&app.core(), url.as_deref(), password_file.as_deref()).await?;
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
        DbCommand::Copy {
            from,
            to,
            replace,
            password_file,
        } => {
            let copied =
                crate::app::status::copy_database(&app.core(), from.as_deref(), &to, replace, password_file.as_deref())
                    .await?;
            if app.json {
                return output::json(&copied);
            }
            let rows: Vec<Vec<String>> = copied
                .iter()
                .map(|t| vec![t.table.clone(), t.rows.to_string(), t.sha256[..16].to_string()])
                .collect();
            output::table(&["TABLE", "ROWS", "SHA-256 (BOTH SIDES)"], &rows);
            println!(
                "copied {} in {}; every table's row count and checksum read back equal",
                output::counted(copied.iter().map(|t| t.rows).sum::<u64>(), "row", "rows"),
                output::counted(copied.len() as u64, "table", "tables")
            );
        }
    }
    Ok(())
}
