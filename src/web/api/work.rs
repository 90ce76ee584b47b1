//! The rest of a rep's day over the API: tasks (list, done), suggestions
//! (list, approve, reject), the forecast, and the team's reps.

use super::{json_body, Caller, Problem};
use crate::app::{pipeline, reps, suggestions, tasks};
use crate::domain::forecast::Totals;
use crate::store::{Suggestion, Task};
use crate::web::WebState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(complete_task))
        .routes(routes!(list_suggestions))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(forecast))
        .routes(routes!(list_reps))
}

/// A task for a rep.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub prospect_id: i64,
    pub prospect_name: String,
    pub instruction: String,
    pub link: Option<String>,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The sequence whose step it is.
    pub sequence: Option<String>,
    /// Why a rule raised it.
    pub reason: Option<String>,
}

impl From<Task> for TaskOut {
    fn from(t: Task) -> TaskOut {
        TaskOut {
            id: t.id,
            prospect_id: t.prospect_id,
            prospect_name: t.prospect_name,
            instruction: t.instruction,
            link: t.link,
            due_at: t.due_at,
            done_at: t.done_at,
            sequence: t.sequence,
            reason: t.reason,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskParams {
    /// Every open task, not only those due now.
    #[serde(default)]
    all: bool,
}

#[utoipa::path(get, path = "/tasks", tag = "tasks", params(TaskParams),
    responses((status = 200, body = Vec<TaskOut>), (status = 401, body = Problem)))]
async fn list_tasks(State(state): State<WebState>, caller: Caller, Query(params): Query<TaskParams>) -> Response {
    match tasks::list(&state.core, &caller.actor, params.all).await {
        Ok(due) => Json(due.into_iter().map(|d| TaskOut::from(d.task)).collect::<Vec<_>>()).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Marking a task done.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneIn {
    /// What was done, recorded with the task's event.
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/tasks/{id}/done", tag = "tasks", params(("id" = i64, Path)), request_body(content = DoneIn, description = "Optional"),
    responses((status = 200, body = TaskOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn complete_task(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>, body: Bytes) -> Response {
    let input: DoneIn = if body.iter().all(u8::is_ascii_whitespace) {
        DoneIn::default()
    } else {
        match json_body(&body) {
            Ok(input) => input,
            Err(problem) => return problem.into_response(),
        }
    };
    match tasks::complete(&state.core, &caller.actor, id, input.note).await {
        Ok(task) => Json(TaskOut::from(task)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A person a reply named, suggested as a new prospect.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedPersonOut {
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
}

/// A stage change a rule suggests, or (`person`) a new prospect to add.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionOut {
    pub id: i64,
    pub prospect_id: i64,
    pub prospect_name: String,
    pub rule: String,
    pub from_stage: String,
    pub to_stage: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    /// `approved` or `rejected` once decided.
    pub decision: Option<String>,
    /// For a person to add (then `to_stage` is empty), prefilled from the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<SuggestedPersonOut>,
    /// The prospect approving a person added (or found already held),
    /// referred by `prospect_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_prospect_id: Option<i64>,
}

impl From<Suggestion> for SuggestionOut {
    fn from(s: Suggestion) -> SuggestionOut {
        SuggestionOut {
            id: s.id,
            prospect_id: s.prospect_id,
            prospect_name: s.prospect_name,
            rule: s.rule,
            from_stage: s.from_stage,
            to_stage: s.to_stage,
            reason: s.reason,
            created_at: s.created_at,
            decision: s.decision,
            person: s.person.map(|p| SuggestedPersonOut {
                name: p.name,
                email: p.email,
                company: p.company,
            }),
            created_prospect_id: s.created_prospect_id,
        }
    }
}

#[utoipa::path(get, path = "/suggestions", tag = "suggestions",
    responses((status = 200, body = Vec<SuggestionOut>), (status = 401, body = Problem)))]
async fn list_suggestions(State(state): State<WebState>, caller: Caller) -> Response {
    match suggestions::open(&state.core, &caller.actor).await {
        Ok(open) => Json(open.into_iter().map(SuggestionOut::from).collect::<Vec<_>>()).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn decide(state: &WebState, caller: &Caller, id: i64, approve: bool) -> Response {
    match suggestions::decide(&state.core, &caller.actor, id, approve).await {
        Ok(decided) => Json(SuggestionOut::from(decided)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(post, path = "/suggestions/{id}/approve", tag = "suggestions", params(("id" = i64, Path)),
    responses((status = 200, body = SuggestionOut), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn approve(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>) -> Response {
    decide(&state, &caller, id, true).await
}

#[utoipa::path(post, path = "/suggestions/{id}/reject", tag = "suggestions", params(("id" = i64, Path)),
    responses((status = 200, body = SuggestionOut), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn reject(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>) -> Response {
    decide(&state, &caller, id, false).await
}

/// Sums of a group of deals.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsOut {
    pub count: usize,
    pub open_value: f64,
    pub weighted_value: f64,
    pub closed_value: f64,
}

impl From<&Totals> for TotalsOut {
    fn from(t: &Totals) -> TotalsOut {
        TotalsOut {
            count: t.count,
            open_value: t.open_value.as_units(),
            weighted_value: t.weighted_value.as_units(),
            closed_value: t.closed_value.as_units(),
        }
    }
}

/// One stage of the forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageOut {
    pub slug: String,
    pub name: String,
    /// `open`, `won` or `lost`.
    pub kind: String,
    /// Win probability, 0–100 (learned when asked).
    pub probability: u8,
    pub count: usize,
    pub value: f64,
    pub weighted_value: f64,
}

/// A quarter's or a rep's sums.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    /// `2026-Q3`, `unscheduled`, or a rep's email.
    pub key: String,
    pub totals: TotalsOut,
}

/// A pipeline's forecast in the primary currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastOut {
    pub pipeline: String,
    pub currency: String,
    pub totals: TotalsOut,
    pub stages: Vec<StageOut>,
    pub quarters: Vec<GroupOut>,
    pub reps: Vec<GroupOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastParams {
    /// Default: the configured default pipeline.
    pipeline: Option<String>,
    /// Weigh by probabilities learned from the team's history.
    #[serde(default)]
    learned: bool,
}

#[utoipa::path(get, path = "/forecast", tag = "pipeline", params(ForecastParams),
    responses((status = 200, body = ForecastOut), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn forecast(State(state): State<WebState>, caller: Caller, Query(params): Query<ForecastParams>) -> Response {
    match pipeline::forecast(&state.core, &caller.actor, params.pipeline.as_deref(), params.learned).await {
        Ok(f) => {
            let group = |g: &crate::domain::forecast::GroupLine| GroupOut {
                key: g.key.clone(),
                totals: TotalsOut::from(&g.totals),
            };
            Json(ForecastOut {
                pipeline: f.main.pipeline.clone(),
                currency: f.main.currency.clone(),
                totals: TotalsOut::from(&f.main.totals),
                stages: f
                    .main
                    .stages
                    .iter()
                    .map(|s| StageOut {
                        slug: s.slug.clone(),
                        name: s.name.clone(),
                        kind: format!("{:?}", s.kind).to_lowercase(),
                        probability: s.probability,
                        count: s.count,
                        value: s.value.as_units(),
                        weighted_value: s.weighted_value.as_units(),
                    })
                    .collect(),
                quarters: f.main.quarters.iter().map(group).collect(),
                reps: f.main.reps.iter().map(group).collect(),
            })
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A rep of the team.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepOut {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub time_zone: String,
    pub digest_hour: u8,
    pub language: String,
}

#[utoipa::path(get, path = "/reps", tag = "reps",
    responses((status = 200, body = Vec<RepOut>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_reps(State(state): State<WebState>, caller: Caller) -> Response {
    if caller.role != crate::domain::account::Role::Admin {
        return Problem::new(StatusCode::FORBIDDEN, "the team's reps are for an admin").into_response();
    }
    match reps::list(&state.core).await {
        Ok(all) => Json(
            all.into_iter()
                .map(|r| RepOut {
                    id: r.id,
                    name: r.name,
                    email: r.email,
                    time_zone: r.time_zone,
                    digest_hour: r.digest_hour,
                    language: r.language.as_str().to_string(),
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}
