//! Sequences over the API: the sequences there are, where each enrolment
//! stands, and enrolling a prospect (with a dry run that says whether it
//! could be, and why not).

use super::{json_body, Caller, Problem};
use crate::app::sequences::{self, Whom};
use crate::domain::prospect::ProspectRef;
use crate::store::Enrolment;
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
        .routes(routes!(list_sequences))
        .routes(routes!(list_enrolments))
        .routes(routes!(enrol))
}

/// A sequence that loads.
#[derive(Debug, Serialize, ToSchema)]
pub struct SequenceOut {
    pub slug: String,
    pub name: String,
    pub pipeline: String,
    pub steps: usize,
}

#[utoipa::path(get, path = "/sequences", tag = "sequences",
    responses((status = 200, body = Vec<SequenceOut>), (status = 401, body = Problem)))]
async fn list_sequences(State(state): State<WebState>, _caller: Caller) -> Response {
    Json(
        sequences::all(&state.core)
            .into_iter()
            .map(|s| SequenceOut {
                steps: s.steps.len(),
                slug: s.slug,
                name: s.name,
                pipeline: s.pipeline,
            })
            .collect::<Vec<_>>(),
    )
    .into_response()
}

/// A prospect's place in a sequence.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentOut {
    pub id: i64,
    pub prospect_id: i64,
    pub prospect_name: String,
    pub sequence: String,
    /// The A/B variant, 0 for A.
    pub variant: u32,
    /// The next step, 0-based.
    pub step: u32,
    /// active, snoozed, paused, finished or stopped.
    pub state: String,
    pub next_due_at: Option<DateTime<Utc>>,
    pub stop_reason: Option<String>,
}

impl From<Enrolment> for EnrolmentOut {
    fn from(e: Enrolment) -> EnrolmentOut {
        EnrolmentOut {
            id: e.id,
            prospect_id: e.prospect_id,
            prospect_name: e.prospect_name,
            sequence: e.sequence,
            variant: e.variant,
            step: e.step,
            state: e.state,
            next_due_at: e.next_due_at,
            stop_reason: e.stop_reason,
        }
    }
}

#[utoipa::path(get, path = "/enrolments", tag = "sequences",
    responses((status = 200, body = Vec<EnrolmentOut>), (status = 401, body = Problem)))]
async fn list_enrolments(State(state): State<WebState>, caller: Caller) -> Response {
    match sequences::standing(&state.core, &caller.actor, None).await {
        Ok(standing) => Json(
            standing
                .enrolments
                .into_iter()
                .map(EnrolmentOut::from)
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Enrolling a prospect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolIn {
    pub sequence: String,
    /// Only say whether they could be enrolled.
    #[serde(default)]
    pub dry_run: bool,
}

/// An enrolment made (or, in a dry run, that could be).
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolledOut {
    /// Absent in a dry run.
    pub enrolment: Option<i64>,
    pub variant: usize,
    pub next_due_at: DateTime<Utc>,
    /// Why the sequence's email would not go out yet (keys to set), if any.
    pub email_waits_for: Vec<String>,
}

#[utoipa::path(post, path = "/prospects/{id}/enrolments", tag = "sequences", params(("id" = i64, Path)), request_body = EnrolIn,
    responses((status = 201, body = EnrolledOut), (status = 200, description = "A dry run", body = EnrolledOut),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn enrol(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>, body: Bytes) -> Response {
    let input: EnrolIn = match json_body(&body) {
        Ok(input) => input,
        Err(problem) => return problem.into_response(),
    };
    let whom = Whom::Listed(vec![ProspectRef::Id(id)]);
    match sequences::enroll(&state.core, &caller.actor, &input.sequence, &whom, input.dry_run, &()).await {
        Ok(report) => match (report.enrolled.into_iter().next(), report.refused.into_iter().next()) {
            (Some(done), _) => (
                if input.dry_run {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                Json(EnrolledOut {
                    enrolment: done.enrolment,
                    variant: done.variant,
                    next_due_at: done.next_due_at,
                    email_waits_for: report.email_waits_for,
                }),
            )
                .into_response(),
            (None, Some(not)) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, not.reason).into_response(),
            (None, None) => Problem::new(StatusCode::NOT_FOUND, format!("no prospect #{id}")).into_response(),
        },
        Err(e) => e.into_response(),
    }
}
