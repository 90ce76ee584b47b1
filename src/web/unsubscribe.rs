//! One-click unsubscribe links (RFC 8058): `POST /u/TOKEN` unsubscribes at
//! once; `GET /u/TOKEN` only shows a page whose button posts, because link
//! scanners and mail previews fetch links without anyone clicking. No
//! session: the signed token is the permission.

use super::{limits, WebState};
use crate::app::unsubscribe::Unsubscribe;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use std::net::{IpAddr, SocketAddr};

/// A client's link that does not verify: 404, or 429 once the client has
/// sent too many of them (walking the token space). Links that verify are
/// always served, so a proxy shared by many people never blocks a real one.
fn invalid_link(rate: &limits::ClientRate, client: IpAddr) -> Response {
    match rate.check(client) {
        Ok(()) => page(
            StatusCode::NOT_FOUND,
            "Link not valid",
            "<p>This unsubscribe link is not valid. Reply to the email with \"unsubscribe\" instead.</p>",
        ),
        Err(wait) => limits::too_many(client, wait),
    }
}

pub async fn confirm_page(
    State(state): State<WebState>,
    Extension(rate): Extension<limits::ClientRate>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    if !crate::app::unsubscribe::is_valid_link(&state.secret, &token) {
        return invalid_link(&rate, client_of(&state, peer, &headers));
    }
    page(
        StatusCode::OK,
        "Unsubscribe",
        "<p>Stop receiving these emails?</p>\
         <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
    )
}

pub async fn unsubscribe_now(
    State(state): State<WebState>,
    Extension(rate): Extension<limits::ClientRate>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match crate::app::unsubscribe::one_click(&state.core, &state.secret, &token).await {
        Ok(Unsubscribe::InvalidLink) => invalid_link(&rate, client_of(&state, peer, &headers)),
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

fn client_of(state: &WebState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    limits::client_address(peer.ip(), headers, &state.core.settings.config.http.trusted_proxies)
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
