//! Settings (`/settings`): the signed-in rep's time zone, digest hour and
//! language, and their API tokens (made here, shown once; revoked here).

use super::{failure, local_time, render, see_other, words, zone_of};
use crate::app::accounts::{self, SignedIn};
use crate::app::{reps, AppError};
use crate::web::session::{NoFields, Signed, SignedForm};
use crate::web::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

pub async fn page(State(state): State<WebState>, Signed(me): Signed) -> Response {
    show(&state, &me, StatusCode::OK, None, None).await
}

/// The page, with a problem to show or a token made just now.
async fn show(
    state: &WebState,
    me: &SignedIn,
    status: StatusCode,
    problem: Option<String>,
    new_token: Option<String>,
) -> Response {
    let own = me.rep.id.to_string();
    let tokens = match accounts::tokens(&state.core, &me.actor, Some(&own)).await {
        Ok(tokens) => tokens,
        Err(e) => return failure(me, e),
    };
    let language = me.rep.language;
    let zone = zone_of(&me.rep.time_zone);
    render(
        status,
        "settings.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "settings",
            admin => me.role == crate::domain::account::Role::Admin,
            rep => context! {
                email => &me.rep.email,
                time_zone => &me.rep.time_zone,
                digest_hour => me.rep.digest_hour,
                language => me.rep.language.as_str(),
            },
            hours => (0..24u8).map(|h| context! { value => h, label => format!("{h:02}:00") }).collect::<Vec<_>>(),
            tokens => tokens.iter().map(|t| context! {
                id => t.id,
                name => &t.name,
                created => local_time(t.created_at, zone, language),
                last_used => t.last_used_at.map(|at| local_time(at, zone, language)),
                revoked => t.revoked_at.is_some(),
            }).collect::<Vec<_>>(),
            problem => problem,
            new_token => new_token,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct PreferencesForm {
    time_zone: String,
    digest_hour: String,
    language: String,
}

pub async fn save(State(state): State<WebState>, SignedForm(me, form): SignedForm<PreferencesForm>) -> Response {
    let Ok(hour) = form.digest_hour.trim().parse::<u8>() else {
        let problem = format!(
            "digest hour '{}' is not an hour of the day; use 0 to 23",
            form.digest_hour
        );
        return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await;
    };
    let own = me.rep.id.to_string();
    match reps::set_preferences(
        &state.core,
        &me.actor,
        Some(&own),
        &form.time_zone,
        hour,
        &form.language,
    )
    .await
    {
        Ok(_) => see_other("/settings"),
        Err(AppError::Invalid(problem)) => {
            show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await
        }
        Err(e) => failure(&me, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    name: String,
}

pub async fn create_token(State(state): State<WebState>, SignedForm(me, form): SignedForm<TokenForm>) -> Response {
    let own = me.rep.id.to_string();
    match accounts::create_token(&state.core, &me.actor, Some(&own), &form.name).await {
        Ok((_, text)) => show(&state, &me, StatusCode::OK, None, Some(text)).await,
        Err(AppError::Invalid(problem)) => {
            show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await
        }
        Err(e) => failure(&me, e),
    }
}

pub async fn revoke_token(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, NoFields {}): SignedForm<NoFields>,
) -> Response {
    let own = me.rep.id.to_string();
    match accounts::revoke_token(&state.core, &me.actor, Some(&own), &id.to_string()).await {
        Ok(_) => see_other("/settings"),
        // Not one of this rep's tokens: nothing to show of anyone else's.
        Err(AppError::Invalid(_)) => failure(
            &me,
            AppError::Store(crate::store::StoreError::NotFound("no such token".into())),
        ),
        Err(e) => failure(&me, e),
    }
}
