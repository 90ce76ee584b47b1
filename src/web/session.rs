//! The board's sessions at the door: the cookie (only the session's random
//! id; `HttpOnly`, `SameSite=Strict`, `Secure` and the `__Host-` prefix
//! when `http.public_url` is https), the `Signed` extractor every page and
//! form takes (no live session: a page leads to `/login`), and the CSRF
//! check of every form: the `Origin` must be this listener's and the form
//! must carry the session's token.

use super::WebState;
use crate::app::accounts::{self, SignedIn};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The cookie's name over plain HTTP (loopback, tests).
const PLAIN_NAME: &str = "rapport_session";
/// Over HTTPS: a browser accepts it only with `Secure`, `Path=/` and no domain.
const SECURE_NAME: &str = "__Host-rapport_session";

/// Whether the listener is reached over HTTPS (then the cookie is `Secure`).
pub fn is_secure(state: &WebState) -> bool {
    state
        .core
        .settings
        .config
        .http
        .public_url
        .as_deref()
        .is_some_and(|u| u.trim_start().to_ascii_lowercase().starts_with("https://"))
}

fn cookie_name(state: &WebState) -> &'static str {
    if is_secure(state) {
        SECURE_NAME
    } else {
        PLAIN_NAME
    }
}

/// The `Set-Cookie` value that gives the browser a session id.
pub fn set_cookie(state: &WebState, id: &str, max_age: chrono::Duration) -> String {
    Cookie::build((cookie_name(state), id.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_secure(state))
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds().max(0)))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that makes the browser forget it.
pub fn clear_cookie(state: &WebState) -> String {
    set_cookie(state, "", chrono::Duration::zero())
}

/// The session id the request carries, if any.
pub fn cookie_of(state: &WebState, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A request with a live session: who is signed in.
pub struct Signed(pub SignedIn);

impl FromRequestParts<WebState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = match next {
                "/" => "/login".to_string(),
                _ => format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                ),
            };
            Redirect::to(&target).into_response()
        };
        let Some(id) = cookie_of(state, &parts.headers) else {
            return Err(to_login());
        };
        match accounts::session(&state.core, &id).await {
            Ok(Some(signed)) => Ok(Signed(signed)),
            Ok(None) => Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "cannot read a session");
                Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store cannot be read just now; try again\n",
                )
                    .into_response())
            }
        }
    }
}

/// Whether a form post comes from this listener's own pages: the browser's
/// `Origin` (sent with every POST by current browsers) must be the public
/// URL's origin, or the request's own host when no public URL is set. A
/// request without `Origin` is judged by `Sec-Fetch-Site` when sent, else
/// by the token alone.
pub fn same_origin(state: &WebState, headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) => {
            let expected = match state.core.settings.config.http.public_url.as_deref() {
                Some(public) => url::Url::parse(public).ok().map(|u| u.origin().ascii_serialization()),
                None => headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(|host| format!("http://{host}")),
            };
            expected.is_some_and(|e| e.eq_ignore_ascii_case(origin.trim_end_matches('/')))
        }
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|site| matches!(site, "same-origin" | "none")),
    }
}

/// The fields of a form that carries only its token (logout, revoke, disable).
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// A form posted from a signed-in page: the session, the origin and the
/// form's token checked, then the fields.
pub struct SignedForm<T>(pub SignedIn, pub T);

#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T> FromRequest<WebState> for SignedForm<T>
where
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let Signed(signed) = Signed::from_request_parts(&mut parts, state).await?;
        if !same_origin(state, &parts.headers) {
            tracing::warn!(path = %parts.uri.path(), "refused a form posted from another origin");
            return Err(forbidden());
        }
        let request = Request::from_parts(parts, body);
        let Form(form) = Form::<WithToken<T>>::from_request(request, state).await.map_err(|e| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the form could not be read: {}\n", e.body_text()),
            )
                .into_response()
        })?;
        if !constant_time_eq(form.csrf.as_bytes(), signed.csrf_token.as_bytes()) {
            tracing::warn!("refused a form without its session's token");
            return Err(forbidden());
        }
        Ok(SignedForm(signed, form.fields))
    }
}

pub fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "This form is out of date or did not come from rapport's own page. Go back, reload the page and try again.\n",
    )
        .into_response()
}

/// Whether a form's token is the session's (compared in constant time).
pub fn token_matches(form: &str, session: &str) -> bool {
    constant_time_eq(form.as_bytes(), session.as_bytes())
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
