//! `/api/v1/prospects`: list (filters, cursor pages), create (with an
//! idempotency key), get, update, erase, move between stages (their events
//! are `events.rs`). The wire types are this module's own, so
//! the stored shapes can change without breaking a client.

use super::{json_body, Caller, Problem};
use crate::app::idempotency;
use crate::app::prospect_edit::{self, AddProspect, Clearable, EditProspect};
use crate::app::prospect_lists::{self, Query as ListQuery};
use crate::app::prospects::{self, MoveStage};
use crate::domain::prospect::{Prospect, ProspectRef};
use crate::store::IdempotentClaim;
use crate::web::WebState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most prospects one page holds.
const MAX_PAGE: u32 = 100;
const DEFAULT_PAGE: u32 = 50;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, erase))
        .routes(routes!(move_stage))
}

/// A prospect as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProspectOut {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub time_zone: Option<String>,
    pub pipeline: String,
    pub stage: String,
    /// In units of the currency (cents as decimals).
    pub value: f64,
    pub currency: String,
    /// This deal's own win probability, over the stage's.
    pub probability: Option<u8>,
    pub expected_close: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub profiles: Vec<String>,
    /// The owning rep's email.
    pub rep: String,
    /// Out of office until, as their auto-reply said.
    pub away_until: Option<NaiveDate>,
}

impl From<Prospect> for ProspectOut {
    fn from(p: Prospect) -> ProspectOut {
        ProspectOut {
            id: p.id,
            name: p.data.name,
            email: p.data.email,
            company: p.data.company,
            title: p.data.title,
            time_zone: p.data.time_zone,
            pipeline: p.data.pipeline,
            stage: p.data.stage,
            value: p.data.value.as_units(),
            currency: p.data.currency,
            probability: p.data.probability_override,
            expected_close: p.data.expected_close,
            tags: p.data.tags,
            notes: p.data.notes,
            fields: p.data.custom_fields,
            profiles: p.data.profiles.into_iter().map(|pr| pr.url).collect(),
            rep: p.rep_email,
            away_until: p.away_until,
        }
    }
}

/// One page of prospects.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProspectPage {
    pub items: Vec<ProspectOut>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A stage by slug or name.
    stage: Option<String>,
    pipeline: Option<String>,
    tag: Option<String>,
    /// Text in the name, email, company or title.
    q: Option<String>,
    /// One rep's prospects, by email (managers and admins).
    rep: Option<String>,
    /// 1 to 100 (default 50).
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/prospects", tag = "prospects", params(ListParams),
    responses((status = 200, body = ProspectPage), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn list(State(state): State<WebState>, caller: Caller, Query(params): Query<ListParams>) -> Response {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("limit must be 1 to {MAX_PAGE}"),
        )
        .into_response();
    }
    let after = match params.cursor.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cursor is not one this API gave; pass next_cursor from the previous page",
            )
            .into_response()
        }
    };
    let rep = match params.rep.as_deref() {
        Some(r) => match crate::app::reps::resolve(&state.core, &caller.actor, Some(r)).await {
            Ok(rep) => Some(rep.id),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let query = ListQuery {
        stage: params.stage,
        pipeline: params.pipeline,
        tag: params.tag,
        search: params.q,
        // One more than asked shows whether a next page exists.
        limit: Some(limit + 1),
        rep,
        after,
    };
    match prospect_lists::find(&state.core, &caller.actor, &query).await {
        Ok(mut found) => {
            let more = found.len() > limit as usize;
            found.truncate(limit as usize);
            let next_cursor = more.then(|| found.last().map(|p| p.id.to_string())).flatten();
            Json(ProspectPage {
                items: found.into_iter().map(ProspectOut::from).collect(),
                next_cursor,
            })
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A new prospect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProspectIn {
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    /// A stage slug or name (default: the pipeline's first open stage).
    pub stage: Option<String>,
    pub pipeline: Option<String>,
    /// As people write it: "100000", "$100,000", "120k", "NOK 1 000 000".
    pub value: Option<String>,
    pub currency: Option<String>,
    #[serde(default)]
    pub profiles: Vec<String>,
    pub time_zone: Option<String>,
    pub probability: Option<i64>,
    /// YYYY-MM-DD.
    pub expected_close: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Whose prospect, by email (a manager's choice; a rep's are their own).
    pub rep: Option<String>,
}

#[utoipa::path(post, path = "/prospects", tag = "prospects", request_body = ProspectIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body get the first answer again")),
    responses((status = 201, body = ProspectOut), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create(State(state): State<WebState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    if let Some(key) = &key {
        let mut request = b"POST /api/v1/prospects\n".to_vec();
        request.extend_from_slice(&body);
        match idempotency::claim(&state.core, caller.rep, key, &request).await {
            Ok(IdempotentClaim::Claimed) => {}
            Ok(IdempotentClaim::Answered { status, body }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let content_type = if status.is_success() {
                    "application/json"
                } else {
                    "application/problem+json"
                };
                return (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
            }
            Ok(IdempotentClaim::InProgress) => {
                return Problem::new(
                    StatusCode::CONFLICT,
                    "a request with this Idempotency-Key is still being answered; retry in a moment",
                )
                .into_response()
            }
            Ok(IdempotentClaim::OtherRequest) => {
                return Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "this Idempotency-Key was used for another request; use a new key for a new prospect",
                )
                .into_response()
            }
            Err(e) => return e.into_response(),
        }
    }
    let outcome = match json_body::<ProspectIn>(&body) {
        Ok(input) => add(&state, &caller, input).await,
        Err(problem) => Err(problem),
    };
    let (status, text, location) = match &outcome {
        Ok(created) => (
            StatusCode::CREATED,
            serde_json::to_string(created).unwrap_or_default(),
            Some(format!("/api/v1/prospects/{}", created.id)),
        ),
        Err(problem) => (
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            serde_json::to_string(problem).unwrap_or_default(),
            None,
        ),
    };
    if let Some(key) = &key {
        // rapport's own failures are not kept: a retry may succeed.
        let kept = if status.is_server_error() {
            idempotency::release(&state.core, caller.rep, key).await
        } else {
            idempotency::answer(&state.core, caller.rep, key, status.as_u16(), &text).await
        };
        if let Err(e) = kept {
            tracing::error!(error = %e, "keeping an idempotent answer failed");
        }
    }
    match outcome {
        Ok(_) => {
            let mut response = (status, [(header::CONTENT_TYPE, "application/json")], text).into_response();
            if let Some(location) = location.and_then(|l| l.parse().ok()) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(problem) => problem.into_response(),
    }
}

async fn add(state: &WebState, caller: &Caller, input: ProspectIn) -> Result<ProspectOut, Problem> {
    let added = prospect_edit::add(
        &state.core,
        &caller.actor,
        AddProspect {
            rep: input.rep,
            name: input.name,
            email: input.email,
            company: input.company,
            title: input.title,
            stage: input.stage,
            pipeline: input.pipeline,
            value: input.value,
            currency: input.currency,
            profiles: input.profiles,
            time_zone: input.time_zone,
            probability: input.probability,
            expected_close: input.expected_close,
            tags: input.tags,
            notes: input.notes,
            fields: input.fields.into_iter().map(|(k, v)| format!("{k}={v}")).collect(),
        },
    )
    .await?;
    Ok(ProspectOut::from(added.prospect))
}

#[utoipa::path(get, path = "/prospects/{id}", tag = "prospects", params(("id" = i64, Path)),
    responses((status = 200, body = ProspectOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_one(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>) -> Response {
    match prospects::show(&state.core, &caller.actor, &ProspectRef::Id(id)).await {
        Ok(view) => Json(ProspectOut::from(view.prospect)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Changes to a prospect; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProspectPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub time_zone: Option<String>,
    pub value: Option<String>,
    pub currency: Option<String>,
    pub probability: Option<i64>,
    pub expected_close: Option<String>,
    pub notes: Option<String>,
    /// Hand the prospect to this rep, by email (managers and admins).
    pub rep: Option<String>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Fields to set; a null value removes the field.
    #[serde(default)]
    pub fields: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub add_profiles: Vec<String>,
    #[serde(default)]
    pub remove_profiles: Vec<String>,
    /// Fields to empty: email, company, title, time_zone, probability, expected_close, notes.
    #[serde(default)]
    pub clear: Vec<String>,
}

fn clearable(name: &str) -> Result<Clearable, Problem> {
    Ok(match name {
        "email" => Clearable::Email,
        "company" => Clearable::Company,
        "title" => Clearable::Title,
        "time_zone" => Clearable::TimeZone,
        "probability" => Clearable::Probability,
        "expected_close" => Clearable::ExpectedClose,
        "notes" => Clearable::Notes,
        other => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "'{other}' cannot be cleared; clear one of email, company, title, time_zone, probability, expected_close, notes"
                ),
            ))
        }
    })
}

#[utoipa::path(patch, path = "/prospects/{id}", tag = "prospects", params(("id" = i64, Path)), request_body = ProspectPatch,
    responses((status = 200, body = ProspectOut), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>, body: Bytes) -> Response {
    let patch: ProspectPatch = match json_body(&body) {
        Ok(patch) => patch,
        Err(problem) => return problem.into_response(),
    };
    let clear = match patch.clear.iter().map(|c| clearable(c)).collect::<Result<Vec<_>, _>>() {
        Ok(clear) => clear,
        Err(problem) => return problem.into_response(),
    };
    let (set, unset): (Vec<_>, Vec<_>) = patch.fields.into_iter().partition(|(_, v)| v.is_some());
    let input = EditProspect {
        name: patch.name,
        email: patch.email,
        company: patch.company,
        title: patch.title,
        time_zone: patch.time_zone,
        value: patch.value,
        currency: patch.currency,
        probability: patch.probability,
        expected_close: patch.expected_close,
        notes: patch.notes,
        owner: patch.rep,
        add_tags: patch.add_tags,
        remove_tags: patch.remove_tags,
        set_fields: set
            .into_iter()
            .map(|(k, v)| format!("{k}={}", v.unwrap_or_default()))
            .collect(),
        unset_fields: unset.into_iter().map(|(k, _)| k).collect(),
        add_profiles: patch.add_profiles,
        remove_profiles: patch.remove_profiles,
        clear,
    };
    match prospect_edit::edit(&state.core, &caller.actor, &ProspectRef::Id(id), input).await {
        Ok(prospect) => Json(ProspectOut::from(prospect)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Who was erased.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedOut {
    pub id: i64,
    /// Their address stays on the suppression list, as a hash.
    pub had_email: bool,
}

#[utoipa::path(delete, path = "/prospects/{id}", tag = "prospects", params(("id" = i64, Path)),
    responses((status = 200, body = ErasedOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn erase(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>) -> Response {
    match prospects::erase(&state.core, &caller.actor, &ProspectRef::Id(id), true).await {
        Ok(erased) => Json(ErasedOut {
            id: erased.id,
            had_email: erased.had_email,
        })
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// A move to another stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    /// A stage slug or name.
    pub stage: String,
    /// Into another pipeline at the same time.
    pub pipeline: Option<String>,
    /// Why: recorded with the stage change.
    pub note: Option<String>,
    /// What the deal closed at, for a won stage.
    pub final_value: Option<String>,
}

/// What a move did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovedOut {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub pipeline: String,
    /// It was there already: nothing changed.
    pub unchanged: bool,
    pub sequences_stopped: u32,
}

#[utoipa::path(post, path = "/prospects/{id}/move", tag = "prospects", params(("id" = i64, Path)), request_body = MoveIn,
    responses((status = 200, body = MovedOut), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn move_stage(State(state): State<WebState>, caller: Caller, Path(id): Path<i64>, body: Bytes) -> Response {
    let input: MoveIn = match json_body(&body) {
        Ok(input) => input,
        Err(problem) => return problem.into_response(),
    };
    let input = MoveStage {
        prospect: ProspectRef::Id(id),
        stage: input.stage,
        pipeline: input.pipeline,
        note: input.note,
        final_value: input.final_value,
        ask_for_outcome: false,
    };
    match prospects::move_stage(&state.core, &caller.actor, input).await {
        Ok(moved) => Json(MovedOut {
            id: moved.id,
            from: moved.from,
            to: moved.to,
            pipeline: moved.pipeline,
            unchanged: moved.unchanged,
            sequences_stopped: moved.sequences_stopped,
        })
        .into_response(),
        Err(e) => e.into_response(),
    }
}
