//! Import and export (`/import`): upload a CSV of leads (the exports of
//! Sales Navigator, LinkedIn, Apollo and HubSpot are read as they are) and
//! see the per-line report; download the prospects a filter finds as CSV.
//! The upload is a multipart form with the same origin and token checks as
//! every form, and a size limit of its own (`http.max_import_bytes`).

use super::{failure, render, words};
use crate::app::prospect_lists::{self, ImportRequest, Query as ListQuery};
use crate::app::AppError;
use crate::web::session::{self, Signed};
use crate::web::WebState;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use serde::Deserialize;

pub async fn page(State(state): State<WebState>, Signed(me): Signed) -> Response {
    show(&state, &me, StatusCode::OK, None, None)
}

fn show(
    state: &WebState,
    me: &crate::app::accounts::SignedIn,
    status: StatusCode,
    report: Option<Value>,
    problem: Option<String>,
) -> Response {
    let settings = &state.core.settings;
    render(
        status,
        "import.html",
        context! {
            t => words(me.rep.language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "import",
            pipelines => settings.pipelines.iter().map(|p| context! {
                slug => &p.slug, name => &p.name,
                stages => p.stages.iter().map(|s| context! { slug => &s.slug, name => &s.name }).collect::<Vec<_>>(),
            }).collect::<Vec<_>>(),
            default_pipeline => &settings.config.pipelines.default,
            max_mib => settings.config.http.max_import_bytes / (1024 * 1024),
            report => report,
            problem => problem,
        },
    )
}

pub async fn upload(
    State(state): State<WebState>,
    Signed(me): Signed,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    if !session::same_origin(&state, &headers) {
        return session::forbidden();
    }
    let (mut csrf, mut file, mut file_name, mut pipeline, mut stage, mut strict) =
        (String::new(), None, String::from("upload.csv"), None, None, false);
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let problem = format!("the upload could not be read ({e}); files up to the limit shown are taken");
                return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, None, Some(problem));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            file_name = field.file_name().map(sanitize_name).unwrap_or(file_name);
        }
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => {
                let problem = format!("the upload could not be read ({e})");
                return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, None, Some(problem));
            }
        };
        let text = || String::from_utf8_lossy(&bytes).trim().to_string();
        match name.as_str() {
            "csrf" => csrf = text(),
            "file" => file = Some(bytes.clone()),
            "pipeline" => pipeline = Some(text()).filter(|t| !t.is_empty()),
            "stage" => stage = Some(text()).filter(|t| !t.is_empty()),
            "strict" => strict = text() == "yes",
            _ => {}
        }
    }
    if !session::token_matches(&csrf, &me.csrf_token) {
        return session::forbidden();
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        let problem = words(me.rep.language)["import_no_file"].clone();
        return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, None, Some(problem));
    };
    let request = ImportRequest {
        bytes: &file,
        file_name: file_name.clone(),
        rep: &me.rep,
        pipeline,
        stage,
        strict,
    };
    match prospect_lists::import(&state.core, &me.actor, request, &()).await {
        Ok(report) => {
            let outcome = report.outcome.as_ref();
            let value = context! {
                file => file_name,
                imported => outcome.map_or(0, |o| o.imported.len()),
                present => outcome.map_or(0, |o| o.already_present.len()),
                refused => outcome.is_none(),
                errors => report.errors.iter().map(|e| context! { line => e.line, reason => &e.reason }).collect::<Vec<_>>(),
                foreign => report.foreign_stages.iter().cloned().collect::<Vec<_>>(),
            };
            show(&state, &me, StatusCode::OK, Some(value), None)
        }
        Err(AppError::Invalid(problem)) => show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, None, Some(problem)),
        Err(e) => failure(&me, e),
    }
}

/// A file name as shown back: its last part, printable characters only.
fn sanitize_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(100).collect();
    if clean.is_empty() {
        "upload.csv".into()
    } else {
        clean
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ExportParams {
    pipeline: Option<String>,
    stage: Option<String>,
    tag: Option<String>,
    q: Option<String>,
}

pub async fn export(State(state): State<WebState>, Signed(me): Signed, Query(params): Query<ExportParams>) -> Response {
    let nonempty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let query = ListQuery {
        pipeline: nonempty(params.pipeline),
        stage: nonempty(params.stage),
        tag: nonempty(params.tag),
        search: nonempty(params.q),
        ..ListQuery::default()
    };
    let prospects = match prospect_lists::find(&state.core, &me.actor, &query).await {
        Ok(found) => found,
        Err(e) => return failure(&me, e),
    };
    match crate::domain::export::to_csv(&prospects) {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"prospects.csv\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            csv,
        )
            .into_response(),
        Err(e) => failure(&me, AppError::Internal(e)),
    }
}
