//! Is everything working? The setup's problems, why sequence mail cannot go
//! out yet, each daemon job's last run, paused mailboxes, sends waiting for
//! a decision and broken feeds: what an operator or a rep checks first.

use super::{Actor, AppResult, Core};
use crate::config::Problem;
use crate::store::{JobRun, SendingPause};

pub struct Overview {
    pub problems: Vec<Problem>,
    /// Why sequence mail cannot go out (only when there are sequences).
    pub sequence_mail_waits_for: Vec<String>,
    pub jobs: Vec<JobRun>,
    /// Each paused mailbox with its rep's address.
    pub paused: Vec<(SendingPause, String)>,
    pub outbox_unknown: usize,
    pub broken_sources: usize,
}

pub async fn overview(core: &Core, actor: &Actor) -> AppResult<Overview> {
    let settings = &core.settings;
    let has_sequences = !settings.load_sequences().0.is_empty();
    let sequence_mail_waits_for = match has_sequences {
        true => settings.sending_blockers(),
        false => Vec::new(),
    };
    let paused = super::sequences::paused_mailboxes(core, actor).await?;
    let scope = actor.scope();
    Ok(Overview {
        problems: settings.problems(),
        sequence_mail_waits_for,
        jobs: core.store.latest_job_runs().await?,
        paused,
        outbox_unknown: core.store.list_outbox(scope, Some("unknown")).await?.len(),
        broken_sources: core.store.list_sources(scope, true).await?.len(),
    })
}

/// Prunes job runs older than `[daemon] keep_job_runs_days` and unmatched
/// webhook deliveries older than `[hooks] keep_unmatched_days`, and lets the
/// database tidy itself; how many rows went.
pub async fn housekeeping(core: &Core) -> AppResult<u64> {
    let keep_days = core.settings.config.daemon.keep_job_runs_days;
    let keep_until = core.clock.now() - chrono::Duration::days(keep_days.into());
    let pruned = core.store.housekeeping(keep_until).await?;
    // Unmatched webhook deliveries past their review time go too, and
    // failed sign-ins a day after they last mattered.
    let forgotten = core
        .store
        .forget_login_failures(core.clock.now() - chrono::Duration::days(1))
        .await?;
    Ok(pruned + super::hooks::forget_old(core).await? + forgotten)
}

/// The operator's metrics: the process's counters and the store's counts, as Prometheus text.
pub async fn metrics(core: &Core) -> AppResult<String> {
    let snapshot = core.store.ops_snapshot().await?;
    Ok(crate::metrics::render(&snapshot, core.clock.now()))
}

/// Applies the migrations of the database at `url` (the configured one by
/// default, with its `database.password_file`) and lists them: `rapport db
/// migrate`. `password_file` gives another database's password.
pub async fn migrate(
    core: &Core,
    url: Option<&str>,
    password_file: Option<&std::path::Path>,
) -> AppResult<Vec<crate::store::migrations::Migration>> {
    let configured = &core.settings.config.database;
    let password = match (password_file, url) {
        (Some(file), _) => Some(read_password(file)?),
        (None, None) => configured.password.clone(),
        (None, Some(_)) => None,
    };
    let url = url.unwrap_or(&configured.url);
    if !(url.starts_with("sqlite:") || is_postgres(url)) {
        return Err(super::invalid(
            "not a database URL; write sqlite://PATH or postgres://USER@HOST/DATABASE",
        ));
    }
    Ok(crate::store::migrations::migrate(url, password.as_ref().map(|p| p.expose())).await?)
}

/// A database password kept in a file (its first line).
fn read_password(file: &std::path::Path) -> AppResult<crate::config::Secret> {
    crate::config::read_secret_file(file).map_err(|e| {
        super::invalid(format!(
            "--password-file {}: {e}; give a file holding the database password (mode 600)",
            file.display()
        ))
    })
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Copies the SQLite store (`from`, the configured database by default) into
/// an empty PostgreSQL database (or one to be replaced), verified table by
/// table: `rapport db copy`.
pub async fn copy_database(
    core: &Core,
    from: Option<&str>,
    to: &str,
    replace: bool,
    password_file: Option<&std::path::Path>,
) -> AppResult<Vec<crate::store::copy::CopiedTable>> {
    let password = password_file.map(read_password).transpose()?;
    let from = from.unwrap_or(&core.settings.config.database.url);
    if !from.starts_with("sqlite:") {
        return Err(super::invalid(
            "the source must be the SQLite store (--from sqlite://PATH, or the configured database)",
        ));
    }
    if !is_postgres(to) {
        return Err(super::invalid(
            "the target must be PostgreSQL: --to postgres://USER@HOST/DATABASE",
        ));
    }
    Ok(crate::store::copy::copy(from, to, replace, password.as_ref().map(|p| p.expose())).await?)
}
