//! A prospect's events over the API: their history, engagement logged on
//! one prospect, and `POST /api/v1/events` for tools that log LinkedIn or
//! X engagement on a rep's behalf (Zapier, Make, a browser extension),
//! naming the prospect by id, email or profile URL, with an `external_id`
//! that makes a retried delivery the same event.

use super::{json_body, Caller, Problem};
use crate::app::prospects::{self, LogEngagement};
use crate::domain::prospect::ProspectRef;
use crate::web::WebState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(events, log_event))
        .routes(routes!(log_for_anyone))
}

/// An event in a prospect's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// Who or what recorded it: `user`, `rule`, `import` or `system`.
    pub actor_kind: String,
    pub actor: String,
    /// The event's details (by kind).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[utoipa::path(get, path = "/prospects/{id}/events", tag = "events", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<EventOut>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn events(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>) -> Response {
    match prospects::show(&state.core, &caller.actor, &ProspectRef::Id(id)).await {
        Ok(view) => Json(
            view.events
                .into_iter()
                .map(|e| EventOut {
                    id: e.id,
                    kind: e.kind,
                    occurred_at: e.occurred_at,
                    recorded_at: e.recorded_at,
                    actor_kind: e.actor.kind().to_string(),
                    actor: e.actor.name().to_string(),
                    data: e.data,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Engagement done outside rapport (a LinkedIn comment, a call).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// A built-in kind (call, meeting.held, linkedin.comment, ...) or one the config declares.
    pub kind: String,
    pub note: Option<String>,
    /// A link to the post, comment or recording.
    pub url: Option<String>,
    /// When it happened (default: now).
    pub at: Option<DateTime<Utc>>,
}

/// What logging recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    pub prospect: i64,
    pub kind: String,
    pub at: DateTime<Utc>,
    /// False when the same thing was logged before (same moment, note and link): logging is idempotent.
    pub added: bool,
    pub sequences_stopped: u32,
}

#[utoipa::path(post, path = "/prospects/{id}/events", tag = "events", params(("id" = i64, Path)), request_body = EventIn,
    responses((status = 201, body = LoggedOut), (status = 200, description = "Logged before: nothing added", body = LoggedOut),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn log_event(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>, body: Bytes) -> Response {
    let input: EventIn = match json_body(&body) {
        Ok(input) => input,
        Err(problem) => return problem.into_response(),
    };
    let input = LogEngagement {
        prospect: ProspectRef::Id(id),
        kind: input.kind,
        note: input.note,
        url: input.url,
        at: input.at,
        external_id: None,
    };
    logged(prospects::log_engagement(&state.core, &caller.actor, input).await)
}

/// What a tool logs for a rep: whom (exactly one of `prospect_id`, `email`,
/// `profile_url`), what, and its own id for the delivery.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementIn {
    pub prospect_id: Option<i64>,
    /// The prospect's email address.
    #[schema(example = "pia@lund.example")]
    pub email: Option<String>,
    /// One of the prospect's profiles, however it is spelled (`linkedin.com/in/pia-lund/`).
    #[schema(example = "https://www.linkedin.com/in/pia-lund")]
    pub profile_url: Option<String>,
    /// `linkedin.comment`, `linkedin.like`, `linkedin.message`, `x.reply`, ... or a kind the config declares.
    #[schema(example = "linkedin.comment")]
    pub kind: String,
    pub note: Option<String>,
    /// A link to the post or comment.
    pub url: Option<String>,
    /// When it happened (default: now).
    pub at: Option<DateTime<Utc>>,
    /// The sending tool's id for this engagement (a Zap run, a message id):
    /// the same id again is the same event, so a retry never doubles it.
    #[schema(example = "zap-7f3a")]
    pub external_id: Option<String>,
}

#[utoipa::path(post, path = "/events", tag = "events", request_body = EngagementIn,
    description = "Log engagement on a rep's behalf (a LinkedIn comment, an X reply) for a prospect named by id, \
                   email or profile URL: the door for Zapier, Make or a browser extension. \
                   With `external_id`, a retried delivery is answered 200 and adds nothing.",
    responses((status = 201, body = LoggedOut), (status = 200, description = "Logged before: nothing added", body = LoggedOut),
        (status = 401, body = Problem), (status = 404, description = "No such prospect of the token's rep", body = Problem),
        (status = 422, body = Problem)))]
async fn log_for_anyone(State(state): State<WebState>, caller: Caller, body: Bytes) -> Response {
    let input: EngagementIn = match json_body(&body) {
        Ok(input) => input,
        Err(problem) => return problem.into_response(),
    };
    use crate::domain::profile::normalize_profile_url;
    use crate::domain::prospect::normalize_email;
    let prospect = match (input.prospect_id, input.email.as_deref(), input.profile_url.as_deref()) {
        (Some(id), None, None) => Ok(ProspectRef::Id(id)),
        (None, Some(email), None) => normalize_email(email).map(ProspectRef::Email),
        (None, None, Some(url)) => normalize_profile_url(url).map(|p| ProspectRef::Profile(p.url)),
        _ => Err("name the prospect with exactly one of `prospect_id`, `email` or `profile_url`".to_string()),
    };
    let prospect = match prospect {
        Ok(prospect) => prospect,
        Err(message) => return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
    };
    let input = LogEngagement {
        prospect,
        kind: input.kind,
        note: input.note,
        url: input.url,
        at: input.at,
        external_id: input.external_id,
    };
    logged(prospects::log_engagement(&state.core, &caller.actor, input).await)
}

fn logged(result: crate::app::AppResult<prospects::Logged>) -> Response {
    match result {
        Ok(logged) => {
            let status = if logged.added {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                Json(LoggedOut {
                    prospect: logged.prospect,
                    kind: logged.kind,
                    at: logged.at,
                    added: logged.added,
                    sequences_stopped: logged.sequences_stopped,
                }),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}
