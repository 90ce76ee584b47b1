//! The board's live updates: `GET /events` is a Server-Sent Events stream
//! that says `changed` whenever an event the signed-in rep may see is
//! recorded (a reply synced, a post polled, a stage moved, by anyone, in
//! any daemon sharing the database), and the board's script then fetches
//! the board again. It watches the store, not this process, so it also
//! sees what other processes record. A stream ends after a few minutes
//! (the listener closes long connections); the browser reconnects.

use crate::app::board;
use crate::web::session::Signed;
use crate::web::WebState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;

/// How often the store is asked for news.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// How long the browser waits before reconnecting.
const RECONNECT: Duration = Duration::from_secs(3);

pub async fn stream(State(state): State<WebState>, Signed(me): Signed) -> Response {
    let first = match board::latest_change(&state.core, &me.actor).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "the board's live updates cannot read the store");
            return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response();
        }
    };
    let core = state.core.clone();
    let actor = me.actor.clone();
    let opening = Event::default().event("ready").data(first.to_string()).retry(RECONNECT);
    let changes = stream::unfold((core, actor, first), |(core, actor, seen)| async move {
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match board::latest_change(&core, &actor).await {
                Ok(latest) if latest > seen => {
                    let event = Event::default().event("changed").data(latest.to_string());
                    return Some((Ok::<Event, Infallible>(event), (core, actor, latest)));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the board's live updates could not read the store"),
            }
        }
    });
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::once(async move { Ok(opening) }).chain(changes));
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
