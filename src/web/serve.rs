//! The listener's accept loop. The listener faces the internet (every
//! unsubscribe link points at it), so it decides who is served and for how
//! long before axum sees a request: at most `max_connections` at once (the
//! rest wait in the kernel's queue), a request's header within
//! `header_timeout_secs` (a client sending it byte by byte, "slowloris", is
//! closed), and no connection kept past `connection_max_secs`. Request time
//! and size limits and the per-client rate limit are layers on the routes
//! (`limits.rs`).

use crate::config::HttpConfig;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// After the stop signal, how long open connections get to finish.
const DRAIN: Duration = Duration::from_secs(5);
/// After a failed accept (no file descriptors left, say), before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub connection_max: Duration,
}

impl ConnectionLimits {
    pub fn from_config(http: &HttpConfig) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: http.max_connections.max(1),
            header_timeout: Duration::from_secs(http.header_timeout_secs.max(1)),
            connection_max: Duration::from_secs(http.connection_max_secs.max(1)),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// connections finish their requests (for a few seconds at most).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_connections, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "the HTTP listener could not accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, app, limits, stop).await;
        });
    }
    let _ = stop_connections.send(true);
    let drained = tokio::time::timeout(DRAIN, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        connections.abort_all();
    }
    Ok(())
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // Handlers learn the client's address the way axum's own server tells it.
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let served = tokio::time::timeout(limits.connection_max, async {
        tokio::select! {
            result = connection.as_mut() => result,
            _ = async { drop(stop.wait_for(|stop| *stop).await) } => {
                connection.as_mut().graceful_shutdown();
                connection.as_mut().await
            }
        }
    })
    .await;
    match served {
        Err(_) => tracing::debug!(%peer, "closed a connection open longer than http.connection_max_secs"),
        Ok(Err(e)) if e.is_timeout() => tracing::debug!(%peer, "closed a connection that sent no whole header in time"),
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "an HTTP connection ended with an error"),
        Ok(Ok(())) => {}
    }
}
