//! The versioned JSON API (`/api/v1/...`) for scripts and other tools, on
//! the same use cases as the pages and the command line. Every request
//! carries a rep's API token (`Authorization: Bearer`), whose scope goes
//! down to SQL as everywhere; errors are `application/problem+json`;
//! creating requests take an `Idempotency-Key`. The OpenAPI 3.1 document
//! (`/api/openapi.json`) is generated from the handlers and types here, so
//! it lists exactly the routes the router serves.

mod events;
pub(crate) mod problem;
mod prospects;
mod sequences;
mod work;

pub use problem::Problem;

use super::WebState;
use crate::app::{accounts, Actor};
use crate::domain::prospect::RepId;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rapport API",
        description = "Prospects, their events, tasks, suggestions and the forecast of a rapport team. \
                       Every request carries a rep's API token; a rep sees their own prospects, a manager or admin the team's.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The API's routes (under `/api/v1`) and their OpenAPI document.
pub fn routes() -> (Router<WebState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            prospects::routes()
                .merge(events::routes())
                .merge(work::routes())
                .merge(sequences::routes()),
        )
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    (router, doc)
}

/// The document as served at `/api/openapi.json`: written out once, when
/// the router is made.
pub fn document_route(doc: utoipa::openapi::OpenApi) -> Router<WebState> {
    let text = axum::body::Bytes::from(serde_json::to_vec(&doc).unwrap_or_else(|_| b"{}".to_vec()));
    Router::new().route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let text = text.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], text).into_response() }
        }),
    )
}

/// Reads a JSON body, or says what is wrong with it.
pub(super) fn json_body<T: for<'de> serde::Deserialize<'de>>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the request body is not the JSON this route takes: {e}"),
        )
    })
}

/// Who calls: the API token's rep, acting as their role allows.
pub struct Caller {
    pub actor: Actor,
    pub rep: RepId,
    pub role: crate::domain::account::Role,
}

impl FromRequestParts<WebState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let Some(token) = token else {
            return Err(Problem::unauthorized());
        };
        match accounts::bearer_rep(&state.core, token).await {
            Ok(Some((actor, rep, role))) => Ok(Caller { actor, rep, role }),
            Ok(None) => Err(Problem::unauthorized()),
            Err(e) => Err(e.into_response()),
        }
    }
}
