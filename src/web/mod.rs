//! The daemon's HTTP listener. For now it serves one-click unsubscribe
//! links (RFC 8058): `POST /u/TOKEN` unsubscribes at once; `GET /u/TOKEN`
//! only shows a page whose button posts, because link scanners and mail
//! previews fetch links without anyone clicking. `serve.rs` bounds the
//! connections, `limits.rs` each request.

mod headers;
mod limits;
mod serve;

use crate::app::unsubscribe::Unsubscribe;
use crate::config::HttpConfig;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone)]
pub struct WebState {
    pub core: crate::app::Core,
    /// The key unsubscribe tokens are signed with.
    pub secret: Arc<Vec<u8>>,
}

pub fn router(state: WebState, http: &HttpConfig) -> Router {
    Router::new()
        .route("/u/{token}", get(confirm_page).post(unsubscribe_now))
        .route("/health", get(|| async { "ok" }))
        .layer(Extension(limits::ClientRate::per_minute(http.unsubscribe_per_minute)))
        .layer(DefaultBodyLimit::max(http.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            limits::RequestLimits::from_config(http),
            limits::bound_request,
        ))
        // Outermost, so refusals by the limits above carry the headers too.
        .layer(middleware::from_fn(headers::secure))
        .with_state(state)
}

/// Serves until `shutdown` resolves, within the limits of `[http]`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: WebState,
    http: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve::serve(
        listener,
        router(state, http),
        serve::ConnectionLimits::from_config(http),
        shutdown,
    )
    .await
}

/// A client's link that does not verify: 404, or 429 once the client has
/// sent too many of them (walking the token space). Links that verify are
/// always served, so a proxy shared by many people never blocks a real one.
fn invalid_link(rate: &limits::ClientRate, client: SocketAddr) -> Response {
    match rate.check(client.ip()) {
        Ok(()) => page(
            StatusCode::NOT_FOUND,
            "Link not valid",
            "<p>This unsubscribe link is not valid. Reply to the email with \"unsubscribe\" instead.</p>",
        ),
        Err(wait) => limits::too_many(client, wait),
    }
}

async fn confirm_page(
    State(state): State<WebState>,
    Extension(rate): Extension<limits::ClientRate>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
) -> Response {
    if !crate::app::unsubscribe::is_valid_link(&state.secret, &token) {
        return invalid_link(&rate, client);
    }
    page(
        StatusCode::OK,
        "Unsubscribe",
        "<p>Stop receiving these emails?</p>\
         <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
    )
}

async fn unsubscribe_now(
    State(state): State<WebState>,
    Extension(rate): Extension<limits::ClientRate>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
) -> Response {
    match crate::app::unsubscribe::one_click(&state.core, &state.secret, &token).await {
        Ok(Unsubscribe::InvalidLink) => invalid_link(&rate, client),
        // An erased prospect is already on the suppression list: unsubscribed either way.
        Ok(Unsubscribe::Done) => page(
            StatusCode::OK,
            "Unsubscribed",
            "<p>You are unsubscribed. You will not receive these emails again.</p>",
        ),
        Err(e) => {
            tracing::error!(error = %e, "one-click unsubscribe failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "<p>Your request could not be saved just now. Please try again in a minute.</p>",
            )
        }
    }
}

/// Every text here is fixed, so nothing needs escaping.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    (status, Html(html)).into_response()
}
