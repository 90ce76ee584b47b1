//! The API's errors as `application/problem+json` (RFC 9457), worded as
//! the command line words them: what is wrong with which input, and the fix.

use crate::app::AppError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says the kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong and how to fix it.
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    /// 401 with the challenge a client needs.
    pub fn unauthorized() -> Response {
        let mut response = Problem::new(
            StatusCode::UNAUTHORIZED,
            "send an API token as `Authorization: Bearer rapport_…`; create one with `rapport rep token create REP --name NAME`",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"rapport\""),
        );
        response
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_else(|_| "{}".into());
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
            body,
        )
            .into_response()
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        if error.is_not_found() {
            Problem::new(StatusCode::NOT_FOUND, error.to_string())
        } else if matches!(error, AppError::Store(crate::store::StoreError::Conflict(_))) {
            Problem::new(StatusCode::CONFLICT, error.to_string())
        } else if error.is_input_error() {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
        } else {
            tracing::error!(error = %error, "an API use case failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "rapport could not do it just now; try again in a minute",
            )
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}
