//! The metrics listener's one route, `GET /metrics`, on `[metrics] listen`
//! (apart from the board's listener, so it can stay on loopback while the
//! board faces a proxy).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub fn router(core: crate::app::Core) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(core)
}

async fn scrape(State(core): State<crate::app::Core>) -> Response {
    match crate::app::status::metrics(&core).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be read");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("metrics could not be read: {e}\n"),
            )
                .into_response()
        }
    }
}

/// Serves the metrics until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    core: crate::app::Core,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(core))
        .with_graceful_shutdown(shutdown)
        .await
}
