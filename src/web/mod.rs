//! The daemon's HTTP listener: the board's pages behind a sign-in
//! (`pages/`, sessions and CSRF in `session.rs`), the JSON API behind API
//! tokens (`api/`, with its OpenAPI document), and one-click unsubscribe
//! links (`unsubscribe.rs`), which need neither. `serve.rs` bounds the
//! connections, `limits.rs` each request, `headers.rs` adds the security
//! headers to every response.

pub mod api;
mod calendar;
mod headers;
mod hooks;
pub(crate) mod limits;
pub mod metrics;
pub mod pages;
mod serve;
pub mod session;
mod unsubscribe;

use crate::config::HttpConfig;
use axum::middleware;
use axum::routing::{get, post};
use axum::Extension;
use axum::Router;
use std::future::Future;
use std::sync::Arc;

#[derive(Clone)]
pub struct WebState {
    pub core: crate::app::Core,
    /// The key unsubscribe tokens are signed with.
    pub secret: Arc<Vec<u8>>,
}

impl WebState {
    pub fn new(core: crate::app::Core, secret: Vec<u8>) -> WebState {
        WebState {
            core,
            secret: Arc::new(secret),
        }
    }
}

pub fn router(state: WebState, http: &HttpConfig) -> Router {
    let (api, document) = api::routes();
    // Pages and API answers take turns (memory stays bounded under a burst);
    // the event stream, static files, health and unsubscribe links do not.
    let turns = middleware::from_fn_with_state(limits::RenderTurns::from_config(http), limits::take_turn);
    let pages = Router::new()
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/", get(pages::board::page))
        .route("/today", get(pages::today::page))
        .route("/tasks/{id}/done", post(pages::today::task_done))
        .route("/tasks/{id}/snooze", post(pages::today::task_snooze))
        .route("/suggestions/{id}", post(pages::today::decide))
        .route("/hooks/unmatched/{id}", post(pages::today::review))
        .route("/forecast", get(pages::forecast::page))
        .route("/sequences", get(pages::sequences::page))
        .route("/sequences/resume", post(pages::sequences::resume))
        .route("/outbox/{id}", post(pages::sequences::resolve))
        .route("/export", get(pages::transfer::export))
        .route("/team", get(pages::team::page).post(pages::team::add))
        .route("/team/{id}/role", post(pages::team::role))
        .route("/team/{id}/disable", post(pages::team::disable))
        .route("/settings", get(pages::settings::page).post(pages::settings::save))
        .route("/settings/tokens", post(pages::settings::create_token))
        .route("/settings/tokens/{id}/revoke", post(pages::settings::revoke_token))
        .route("/prospects/{id}", get(pages::prospect::page))
        .route("/prospects/{id}/move", post(pages::board::move_card))
        .route("/prospects/{id}/log", post(pages::prospect::log))
        .route("/prospects/{id}/edit", post(pages::prospect::edit))
        .route("/prospects/{id}/remind", post(pages::prospect::remind))
        .route("/prospects/{id}/enrol", post(pages::prospect::enrol))
        .route("/prospects/{id}/erase", post(pages::prospect::erase))
        .merge(api)
        .route_layer(turns.clone());
    // The one route taking files has a body limit of its own.
    let import = Router::new()
        .route("/import", get(pages::transfer::page).post(pages::transfer::upload))
        .route_layer(turns);
    let small_bodies = Router::new()
        .merge(pages)
        .merge(api::document_route(document))
        .route("/events", get(pages::live::stream))
        .route(
            "/u/{token}",
            get(unsubscribe::confirm_page).post(unsubscribe::unsubscribe_now),
        )
        .route("/ical/{file}", get(calendar::feed))
        .route("/health", get(|| async { "ok" }))
        .route("/static/{file}", get(pages::assets::serve));
    // Webhooks: signed, not signed in; their payloads are larger than a form.
    let hooks = Router::new().route("/hooks/{provider}", post(hooks::deliver));
    let hook_bytes = state.core.settings.config.hooks.max_body_bytes;
    Router::new()
        .merge(limits::limit_bodies(small_bodies, http.max_body_bytes))
        .merge(limits::limit_bodies(hooks, hook_bytes.max(http.max_body_bytes)))
        .merge(limits::limit_bodies(
            import,
            http.max_import_bytes.max(http.max_body_bytes),
        ))
        .layer(Extension(limits::ClientRate::per_minute(http.unsubscribe_per_minute)))
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
