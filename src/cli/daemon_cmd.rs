//! `rapport daemon`.

use super::App;
use crate::daemon::{self, JobContext};
use crate::outbound::Mailer;

pub async fn run(app: App) -> anyhow::Result<()> {
    let mailer = Mailer::from_settings(&app.settings)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database = %app.settings.config.database.url,
        mail = %mailer.describe(),
        config = %app.settings.path.as_ref().map_or("built-in defaults".into(), |p| p.display().to_string()),
        "rapport daemon starting"
    );
    let ctx = JobContext {
        store: app.store.clone(),
        clock: app.clock.clone(),
        settings: app.settings.clone(),
    };
    let jobs = daemon::configured_jobs(&app.settings);
    daemon::run(ctx, jobs, shutdown_signal())
        .await
        .map_err(|e| anyhow::anyhow!("the daemon stopped: {e}"))
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => tracing::info!("SIGINT received"),
                    _ = terminate.recv() => tracing::info!("SIGTERM received"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with SIGINT");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
