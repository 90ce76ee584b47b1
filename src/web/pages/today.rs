//! Today (`/today`): what the digest would say now, with an action beside
//! each item: a task done or put off, a suggestion approved or rejected.
//! Each action is a form that returns here.

use super::{failure, local_path, local_time, render, see_other, words, zone_of};
use crate::app::{hooks, suggestions, tasks, today};
use crate::web::session::{Signed, SignedForm};
use crate::web::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

pub async fn page(State(state): State<WebState>, Signed(me): Signed) -> Response {
    let today = match today::today(&state.core, &me.actor, &me.rep).await {
        Ok(today) => today,
        Err(e) => return failure(&me, e),
    };
    let language = me.rep.language;
    let zone = zone_of(&me.rep.time_zone);
    let at = |t| local_time(t, zone, language);
    let d = &today.digest;
    let who = |w: &crate::domain::digest::Who| context! { id => w.id, name => &w.name, company => &w.company };
    render(
        StatusCode::OK,
        "today.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "today",
            replies => d.replies.iter().map(|r| context! { who => who(&r.who), at => at(r.at), text => &r.text }).collect::<Vec<_>>(),
            posts => d.posts.iter().map(|p| context! {
                who => who(&p.who), at => at(p.at), title => &p.title, excerpt => &p.excerpt,
                href => (p.url.starts_with("https://") || p.url.starts_with("http://")).then_some(&p.url),
            }).collect::<Vec<_>>(),
            tasks => today.due.iter().map(|t| context! {
                id => t.task.id, prospect => t.task.prospect_id, name => &t.task.prospect_name,
                what => &t.task.instruction, due => at(t.task.due_at), reason => &t.task.reason,
                link => t.task.link.as_deref().filter(|l| l.starts_with("https://") || l.starts_with("http://")),
            }).collect::<Vec<_>>(),
            suggestions => d.suggestions.iter().map(|s| context! {
                id => s.id, who => who(&s.who), from => &s.from, to => &s.to, reason => &s.reason, person => &s.person,
            }).collect::<Vec<_>>(),
            paused => d.paused.iter().map(|p| context! { who => who(&p.who), sequence => &p.sequence, why => &p.why }).collect::<Vec<_>>(),
            broken => d.broken_sources.iter().map(|b| context! { who => who(&b.who), url => &b.url, error => &b.error }).collect::<Vec<_>>(),
            setup => &d.setup,
            unmatched => today.unmatched.iter().map(|u| context! {
                id => u.id, provider => &u.provider, kind => &u.kind, email => &u.email, what => &u.summary,
                at => at(u.received_at),
                name => u.email.split('@').next().unwrap_or_default(),
            }).collect::<Vec<_>>(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct DoneForm {
    /// Where to return (default: Today).
    #[serde(default)]
    back: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

pub async fn task_done(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<DoneForm>,
) -> Response {
    let back = local_path(form.back.as_deref(), "/today");
    let note = form.note.filter(|n| !n.trim().is_empty());
    match tasks::complete(&state.core, &me.actor, id, note).await {
        Ok(_) => see_other(&back),
        Err(e) => failure(&me, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct SnoozeForm {
    /// Where to return (default: Today).
    #[serde(default)]
    back: Option<String>,
    /// `1d`, `3d`, `1w`, `4h`.
    span: String,
}

pub async fn task_snooze(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<SnoozeForm>,
) -> Response {
    match tasks::snooze(&state.core, &me.actor, id, &form.span).await {
        Ok(_) => see_other(&local_path(form.back.as_deref(), "/today")),
        Err(e) => failure(&me, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    /// Where to return (default: Today).
    #[serde(default)]
    back: Option<String>,
    /// `approve` or `reject`.
    decision: String,
}

pub async fn decide(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<DecideForm>,
) -> Response {
    let approve = form.decision == "approve";
    match suggestions::decide(&state.core, &me.actor, id, approve).await {
        Ok(_) => see_other(&local_path(form.back.as_deref(), "/today")),
        Err(e) => failure(&me, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    /// `create`, `attach` or `dismiss`.
    action: String,
    /// For `create`: the new prospect's name.
    #[serde(default)]
    name: Option<String>,
    /// For `attach`: the prospect, by email or id.
    #[serde(default)]
    prospect: Option<String>,
}

/// A webhook delivery that matched nobody: make the prospect, attach it to
/// one (who booked with another address), or dismiss it.
pub async fn review(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<ReviewForm>,
) -> Response {
    let done = match form.action.as_str() {
        "create" => hooks::create(
            &state.core,
            &me.actor,
            id,
            form.name.as_deref().unwrap_or_default(),
            None,
        )
        .await
        .map(|_| ()),
        "attach" => match form.prospect.as_deref().unwrap_or_default().parse() {
            Ok(prospect) => hooks::attach(&state.core, &me.actor, id, &prospect).await.map(|_| ()),
            Err(message) => Err(crate::app::AppError::Invalid(message)),
        },
        "dismiss" => hooks::dismiss(&state.core, &me.actor, id).await,
        other => Err(crate::app::AppError::Invalid(format!(
            "'{other}' is not an action here; choose create, attach or dismiss"
        ))),
    };
    match done {
        Ok(()) => see_other("/today"),
        Err(e) => failure(&me, e),
    }
}
