//! `rapport daemon`.

use super::App;
use crate::daemon::{self, JobContext};
use crate::outbound::Mailer;

pub async fn run(app: App) -> anyhow::Result<()> {
    let mailer = Mailer::from_settings(&app.settings)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database = %crate::store::migrations::redacted(&app.settings.config.database.url),
        mail = %mailer.describe(),
        config = %app.settings.path.as_ref().map_or("built-in defaults".into(), |p| p.display().to_string()),
        "rapport daemon starting"
    );
    let ctx: JobContext = app.core();
    let jobs = daemon::configured_jobs(&app.settings);
    let listeners = daemon::Listeners {
        http: listen(&app).await?,
        metrics: listen_metrics(&app).await?,
    };
    let result = daemon::run(ctx, jobs, listeners, shutdown_signal())
        .await
        .map_err(|e| anyhow::anyhow!("the daemon stopped: {e}"));
    // A clean stop leaves no write-ahead log behind: its pages go into the database file.
    app.store.close().await;
    result
}

/// Binds the HTTP listener now, so a taken port stops the start with a clear error.
async fn listen(app: &App) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let http = &app.settings.config.http;
    if !http.enabled {
        return Ok(None);
    }
    let listener = tokio::net::TcpListener::bind(&http.listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {} (http.listen): {e}; choose a free address and port, or set http.enabled = false",
            http.listen
        )
    })?;
    let address = listener
        .local_addr()
        .map_or_else(|_| http.listen.clone(), |a| a.to_string());
    tracing::info!(%address, "HTTP listener ready (the board at /, the API at /api/v1, one-click unsubscribe at /u/)");
    Ok(Some(listener))
}

/// Binds the metrics listener now, like the HTTP one.
async fn listen_metrics(app: &App) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let metrics = &app.settings.config.metrics;
    if !metrics.enabled {
        return Ok(None);
    }
    let listener = tokio::net::TcpListener::bind(&metrics.listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {} (metrics.listen): {e}; choose a free address and port, or set metrics.enabled = false",
            metrics.listen
        )
    })?;
    let address = listener
        .local_addr()
        .map_or_else(|_| metrics.listen.clone(), |a| a.to_string());
    tracing::info!(%address, "metrics listener ready (/metrics)");
    Ok(Some(listener))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed here, before the
/// daemon registers its jobs, so a signal during start-up is not fatal.
pub(super) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => tokio::select! {
                    _ = interrupt.recv() => tracing::info!("SIGINT received"),
                    _ = terminate.recv() => tracing::info!("SIGTERM received"),
                },
                _ => {
                    tracing::warn!("cannot listen for SIGTERM; stop with Ctrl-C");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
