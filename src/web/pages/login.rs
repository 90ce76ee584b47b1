//! Signing in and out. `/login` shows the form and takes `email` and
//! `password`; a success starts a new session (a fresh id, so one planted
//! before is worthless) and sets its cookie; a failure says only that the
//! email or password is wrong. Too many failures for one account or from
//! one client lock that key for a while (counted in the database, so every
//! daemon holds the same lock), and the page says until when; a locked
//! key's password is not even checked. `/logout` ends the session.

use super::{local_path, render, words};
use crate::app::accounts::{self, SignIn};
use crate::domain::prospect::Language;
use crate::web::session::{self, NoFields, SignedForm};
use crate::web::WebState;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// The page's language before anyone is known: Bokmål when the browser asks for it first.
fn language_of(headers: &HeaderMap) -> Language {
    let wanted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = wanted.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    if ["nb", "no", "nn"].iter().any(|l| first.starts_with(l)) {
        Language::Nb
    } else {
        Language::En
    }
}

fn login_page(status: StatusCode, language: Language, email: &str, next: &str, problem: Option<String>) -> Response {
    render(
        status,
        "login.html",
        context! { t => words(language), email => email, next => next, problem => problem },
    )
}

pub async fn form(State(state): State<WebState>, headers: HeaderMap, Query(next): Query<Next>) -> Response {
    // Signed in already: straight on.
    if let Some(id) = session::cookie_of(&state, &headers) {
        if let Ok(Some(_)) = accounts::session(&state.core, &id).await {
            return Redirect::to(&local_path(next.next.as_deref(), "/")).into_response();
        }
    }
    login_page(
        StatusCode::OK,
        language_of(&headers),
        "",
        &local_path(next.next.as_deref(), "/"),
        None,
    )
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn submit(
    State(state): State<WebState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    let language = language_of(&headers);
    let next = local_path(form.next.as_deref(), "/");
    // A sign-in posted from another site's page (login CSRF) is refused.
    if !session::same_origin(&state, &headers) {
        tracing::warn!(client = %client.ip(), "refused a sign-in posted from another origin");
        return login_page(
            StatusCode::FORBIDDEN,
            language,
            "",
            &next,
            Some(words(language)["login_forged"].clone()),
        );
    }
    let trusted = &state.core.settings.config.http.trusted_proxies;
    let client_ip = crate::web::limits::client_address(client.ip(), &headers, trusted);
    let client_key = crate::web::limits::client_key(client_ip).to_string();
    let now = state.core.clock.now();
    match accounts::log_in_guarded(&state.core, &form.email, &form.password, &client_key).await {
        Ok(SignIn::Locked(until)) => locked(language, &form.email, &next, until, now),
        Ok(SignIn::Started(started)) => {
            tracing::info!(rep = %form.email.trim().to_lowercase(), "signed in");
            let max_age = started.expires_at - now;
            (
                StatusCode::SEE_OTHER,
                [
                    (
                        header::SET_COOKIE,
                        session::set_cookie(&state, &started.cookie, max_age),
                    ),
                    (header::LOCATION, next),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
            )
                .into_response()
        }
        Ok(SignIn::Wrong) => {
            tracing::warn!(client = %client_ip, "a sign-in failed");
            login_page(
                StatusCode::UNAUTHORIZED,
                language,
                &form.email,
                &next,
                Some(words(language)["login_wrong"].clone()),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "signing in failed");
            login_page(
                StatusCode::SERVICE_UNAVAILABLE,
                language,
                &form.email,
                &next,
                Some(words(language)["try_again"].clone()),
            )
        }
    }
}

/// 429 with the time to retry, on the page and in `Retry-After`.
fn locked(language: Language, email: &str, next: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Response {
    let seconds = (until - now).num_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let time = format!("{} UTC", until.format("%H:%M"));
    let text = words(language)["login_locked"]
        .replace("{time}", &time)
        .replace("{minutes}", &minutes.to_string());
    let mut response = login_page(StatusCode::TOO_MANY_REQUESTS, language, email, next, Some(text));
    if let Ok(value) = seconds.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    SignedForm(_, NoFields {}): SignedForm<NoFields>,
) -> Response {
    if let Some(id) = session::cookie_of(&state, &headers) {
        if let Err(e) = accounts::log_out(&state.core, &id).await {
            tracing::error!(error = %e, "ending a session failed");
        }
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::clear_cookie(&state)),
            (header::LOCATION, "/login".to_string()),
        ],
    )
        .into_response()
}
