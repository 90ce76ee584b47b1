//! The team (`/team`), for an admin: every rep's account (role, whether
//! they can sign in), adding a rep (with a first password), giving a role,
//! and disabling a rep. Anyone else finds nothing here.

use super::{failure, local_time, render, see_other, words, zone_of};
use crate::app::accounts::{self, SignedIn};
use crate::app::{reps, AppError};
use crate::domain::account::Role;
use crate::store::StoreError;
use crate::web::session::{NoFields, Signed, SignedForm};
use crate::web::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

/// Not an admin: the page is not there for them.
fn admin_only(me: &SignedIn) -> Option<Response> {
    (me.role != Role::Admin).then(|| failure(me, AppError::Store(StoreError::NotFound("no such page".into()))))
}

pub async fn page(State(state): State<WebState>, Signed(me): Signed) -> Response {
    if let Some(refused) = admin_only(&me) {
        return refused;
    }
    show(&state, &me, StatusCode::OK, None).await
}

async fn show(state: &WebState, me: &SignedIn, status: StatusCode, problem: Option<String>) -> Response {
    let accounts = match accounts::list(&state.core).await {
        Ok(accounts) => accounts,
        Err(e) => return failure(me, e),
    };
    let language = me.rep.language;
    let zone = zone_of(&me.rep.time_zone);
    render(
        status,
        "team.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "team",
            admin => true,
            accounts => accounts.iter().map(|a| context! {
                id => a.rep_id, name => &a.name, email => &a.email, role => a.role.as_str(),
                can_sign_in => a.has_password && a.disabled_at.is_none(),
                disabled => a.disabled_at.map(|at| local_time(at, zone, language)),
                is_me => a.rep_id == me.rep.id,
            }).collect::<Vec<_>>(),
            problem => problem,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NewRepForm {
    name: String,
    email: String,
    time_zone: String,
    digest_hour: String,
    language: String,
    role: String,
    #[serde(default)]
    password: String,
}

pub async fn add(State(state): State<WebState>, SignedForm(me, form): SignedForm<NewRepForm>) -> Response {
    if let Some(refused) = admin_only(&me) {
        return refused;
    }
    let Ok(hour) = form.digest_hour.trim().parse::<u8>() else {
        let problem = format!(
            "digest hour '{}' is not an hour of the day; use 0 to 23",
            form.digest_hour
        );
        return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem)).await;
    };
    if !form.password.is_empty() {
        if let Err(problem) = crate::domain::account::check_password(&form.password) {
            return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem.to_string())).await;
        }
    }
    let core = &state.core;
    let added = async {
        let rep = reps::add(
            core,
            &me.actor,
            &form.name,
            &form.email,
            &form.time_zone,
            hour,
            &form.language,
        )
        .await?;
        let id = rep.id.to_string();
        accounts::set_role(core, &me.actor, Some(&id), &form.role).await?;
        if !form.password.is_empty() {
            accounts::set_password(core, &me.actor, Some(&id), &form.password).await?;
        }
        Ok::<_, AppError>(())
    }
    .await;
    match added {
        Ok(()) => see_other("/team"),
        Err(e) if e.is_input_error() => show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string())).await,
        Err(e) => failure(&me, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn role(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<RoleForm>,
) -> Response {
    if let Some(refused) = admin_only(&me) {
        return refused;
    }
    if id == me.rep.id && form.role != "admin" {
        let problem = words(me.rep.language)["team_keep_admin"].clone();
        return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem)).await;
    }
    match accounts::set_role(&state.core, &me.actor, Some(&id.to_string()), &form.role).await {
        Ok(_) => see_other("/team"),
        Err(e) if e.is_input_error() => show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string())).await,
        Err(e) => failure(&me, e),
    }
}

pub async fn disable(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, NoFields {}): SignedForm<NoFields>,
) -> Response {
    if let Some(refused) = admin_only(&me) {
        return refused;
    }
    if id == me.rep.id {
        let problem = words(me.rep.language)["team_keep_admin"].clone();
        return show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(problem)).await;
    }
    match accounts::disable(&state.core, &me.actor, Some(&id.to_string())).await {
        Ok(_) => see_other("/team"),
        Err(e) if e.is_input_error() => show(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string())).await,
        Err(e) => failure(&me, e),
    }
}
