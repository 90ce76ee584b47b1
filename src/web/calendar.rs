//! `GET /ical/TOKEN.ics`: a rep's calendar feed for calendar apps, which
//! send no cookie: the token in the address is the permission (revocable,
//! rotated with `rapport rep ical REP --rotate`).

use super::WebState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn feed(State(state): State<WebState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics").filter(|t| !t.is_empty() && t.len() <= 128) else {
        return (StatusCode::NOT_FOUND, "no such calendar").into_response();
    };
    match crate::app::calendar::feed(&state.core, token).await {
        Ok(Some(text)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            text,
        )
            .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            "no such calendar: the address was rotated or revoked",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a calendar feed failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the calendar could not be made; try again later",
            )
                .into_response()
        }
    }
}
