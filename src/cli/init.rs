//! `rapport init`: config, database and first rep.

use super::app::open_store;
use super::{input_error, Cli};
use crate::app::{Actor, Core};
use crate::clock::SystemClock;
use crate::config::{self, STARTER_CONFIG};
use crate::domain::clock::{Clock, FixedClock};
use crate::domain::pipeline::SHIPPED;
use crate::domain::prospect::NewRep;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The first rep's name.
    #[arg(long, value_name = "NAME")]
    pub rep_name: Option<String>,
    /// The first rep's email address (the mailbox rapport reads and sends from).
    #[arg(long, value_name = "EMAIL")]
    pub rep_email: Option<String>,
    /// The rep's IANA time zone, e.g. Europe/Oslo.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    /// Local hour (0-23) of the rep's daily digest.
    #[arg(long, value_name = "HOUR", default_value_t = 7)]
    pub digest_hour: u8,
    /// Language of the rep's digest: en or nb.
    #[arg(long, value_name = "LANG", default_value = "en")]
    pub language: String,
    /// A file whose first line is the first rep's password (they administer
    /// the install and sign in to the web board with it; 12+ characters).
    /// Without it, the password is asked for when run on a terminal.
    #[arg(long, value_name = "FILE", requires = "rep_email")]
    pub password_file: Option<PathBuf>,
}

pub async fn run(cli: &Cli, args: &InitArgs) -> anyhow::Result<()> {
    let path = config::locate(cli.config.as_deref()).unwrap_or_else(|| PathBuf::from("config/rapport.toml"));
    let new_rep = match (&args.rep_name, &args.rep_email) {
        (Some(name), Some(email)) => {
            Some(NewRep::validate(name, email, &args.tz, args.digest_hour, &args.language).map_err(input_error)?)
        }
        (None, None) => None,
        _ => return Err(input_error("give both --rep-name and --rep-email to create a rep")),
    };
    // Read and checked before anything is written, so a bad file changes nothing.
    // From the file, else asked for on a terminal (not when nobody is there to type).
    let password = match &new_rep {
        Some(rep) => super::account_cmd::password_from(args.password_file.as_deref(), &rep.email)?,
        None => None,
    };
    if let Some(password) = &password {
        crate::domain::account::check_password(password).map_err(input_error)?;
    }
    if !path.exists() {
        write_starter_config(&path)?;
        println!(
            "wrote starter config {} (pipelines in {}, an example sequence in {})",
            path.display(),
            pipelines_dir(&path).display(),
            path.parent().unwrap_or(Path::new(".")).join("sequences").display()
        );
    }
    let settings = config::load(Some(&path))?;
    let store = open_store(&settings).await?;
    println!(
        "database ready: {}",
        crate::store::migrations::redacted(&settings.config.database.url)
    );
    let clock: Arc<dyn Clock> = match cli.now {
        Some(now) => Arc::new(FixedClock(now)),
        None => Arc::new(SystemClock),
    };
    let core = Core {
        store,
        settings: Arc::new(settings),
        clock,
    };
    let reps = crate::app::reps::list(&core).await?;
    match new_rep {
        Some(rep) => {
            let operator = Actor::Team {
                name: super::cli_user().name().to_string(),
            };
            let language = rep.language.as_str();
            let rep = crate::app::reps::add(
                &core,
                &operator,
                &rep.name,
                &rep.email,
                &rep.time_zone,
                rep.digest_hour,
                language,
            )
            .await?;
            println!(
                "created rep #{} {} <{}> ({}, digest at {:02}:00)",
                rep.id, rep.name, rep.email, rep.time_zone, rep.digest_hour
            );
            if let Some(password) = &password {
                crate::app::accounts::set_password(&core, &operator, Some(&rep.email), password).await?;
                println!("password of {} set: they can sign in", rep.email);
            }
        }
        None if reps.is_empty() => return Err(input_error(
            "no rep exists yet: run again with --rep-name NAME --rep-email EMAIL [--tz ZONE] to create the first one",
        )),
        None => println!("{} rep(s) already set up", reps.len()),
    }
    Ok(())
}

fn pipelines_dir(config_path: &Path) -> PathBuf {
    config_path.parent().unwrap_or(Path::new(".")).join("pipelines")
}

fn write_starter_config(path: &Path) -> anyhow::Result<()> {
    let dir = pipelines_dir(path);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(path, STARTER_CONFIG).with_context(|| format!("writing {}", path.display()))?;
    let sequences = path.parent().unwrap_or(Path::new(".")).join("sequences");
    std::fs::create_dir_all(&sequences).with_context(|| format!("creating {}", sequences.display()))?;
    let files = SHIPPED
        .iter()
        .map(|(slug, text)| (dir.join(format!("{slug}.toml")), *text))
        .chain([
            (sequences.join("example.toml"), EXAMPLE_SEQUENCE),
            (
                path.parent().unwrap_or(Path::new(".")).join("rules.toml"),
                crate::config::SHIPPED_RULES,
            ),
        ]);
    for (file, text) in files {
        if !file.exists() {
            std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
        }
    }
    Ok(())
}

/// The commented example sequence, written beside a new starter config.
const EXAMPLE_SEQUENCE: &str = include_str!("../../config/sequences/example.toml");
