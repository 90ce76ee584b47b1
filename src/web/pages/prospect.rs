//! A prospect's page (`/prospects/{id}`): details, profiles (LinkedIn and X
//! as links, with the "log what I did" form beside them), the timeline in
//! the rep's zone, and its actions, each a form posting to a path of its
//! own: move, edit, log (engagement done outside rapport), remind, enrol in
//! a sequence, erase. Another rep's prospect is a 404.

use super::{failure, local_date, local_time, money, render, see_other, words, zone_of};
use crate::app::prospect_edit::{self, Clearable, EditProspect};
use crate::app::prospects::{self, LogEngagement};
use crate::app::sequences::{self as sequence_cases, Whom};
use crate::app::tasks::{self, When};
use crate::app::AppError;
use crate::domain::prospect::ProspectRef;
use crate::web::session::{Signed, SignedForm};
use crate::web::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

/// Longest event text shown in the timeline (the rest is on the CLI).
const TEXT_SHOWN: usize = 280;

pub async fn page(State(state): State<WebState>, Signed(me): Signed, Path(id): Path<i64>) -> Response {
    show(&state, &me, id, StatusCode::OK, None, None).await
}

/// The page, with a problem an action met or what it did.
async fn show(
    state: &WebState,
    me: &crate::app::accounts::SignedIn,
    id: i64,
    status: StatusCode,
    problem: Option<String>,
    notice: Option<String>,
) -> Response {
    let view = match prospects::show(&state.core, &me.actor, &ProspectRef::Id(id)).await {
        Ok(view) => view,
        Err(e) => return failure(me, e),
    };
    let language = me.rep.language;
    let zone = zone_of(&me.rep.time_zone);
    let p = &view.prospect;
    let pipeline = state.core.settings.pipelines.get(&p.data.pipeline).ok();
    let stage_name = pipeline
        .and_then(|pl| pl.stage(&p.data.stage))
        .map_or(p.data.stage.clone(), |s| s.name.clone());
    let stages: Vec<_> = pipeline
        .map(|pl| {
            pl.stages
                .iter()
                .map(|s| context! { slug => &s.slug, name => &s.name })
                .collect()
        })
        .unwrap_or_default();
    let events: Vec<_> = view
        .events
        .iter()
        .rev()
        .map(|e| {
            let said = ["text", "title"]
                .iter()
                .find_map(|k| e.data.get(*k).and_then(|v| v.as_str()))
                .map(|t| t.chars().take(TEXT_SHOWN).collect::<String>());
            let summary = crate::domain::event::summary(&e.data);
            let text = match (summary.is_empty(), said) {
                (true, None) => None,
                (true, Some(s)) => Some(s),
                (false, None) => Some(summary),
                (false, Some(s)) => Some(format!("{summary} · {s}")),
            };
            context! {
                iso => e.occurred_at.to_rfc3339(),
                at => local_time(e.occurred_at, zone, language),
                kind => &e.kind,
                text => text,
            }
        })
        .collect();
    let profiles: Vec<_> = p
        .data
        .profiles
        .iter()
        .filter(|pr| pr.url.starts_with("https://") || pr.url.starts_with("http://"))
        .map(|pr| context! { url => &pr.url, platform => pr.platform.as_str() })
        .collect();
    render(
        status,
        "prospect.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            p => context! {
                id => p.id,
                name => &p.data.name,
                company => &p.data.company,
                title => &p.data.title,
                email => &p.data.email,
                pipeline => &p.data.pipeline,
                stage => &p.data.stage,
                rep_email => &p.rep_email,
                tags => &p.data.tags,
                notes => &p.data.notes,
            },
            stage_name => stage_name,
            value => money(p.data.value, &p.data.currency, language),
            expected_close => p.data.expected_close.map(|d| local_date(d, language)),
            away_until => p.away_until.map(|d| local_date(d, language)),
            suppressed => view.suppressed,
            stages => stages,
            profiles => profiles,
            log_kinds => &view.loggable,
            events => events,
            sequences => sequence_cases::available(&state.core),
            // A manager or admin may hand the prospect to another rep.
            owners => match me.actor {
                crate::app::Actor::Rep { .. } => Vec::new(),
                _ => crate::app::reps::list(&state.core).await.unwrap_or_default().into_iter().map(|r| r.email).collect(),
            },
            tasks => view.work.tasks.iter().map(|t| context! {
                id => t.id, what => &t.instruction, due => local_time(t.due_at, zone, language), reason => &t.reason,
            }).collect::<Vec<_>>(),
            enrolments => view.work.enrolments.iter().map(|e| context! {
                sequence => &e.sequence, step => e.step + 1, state => &e.state, reason => &e.stop_reason,
                next => e.next_due_at.map(|t| local_time(t, zone, language)),
            }).collect::<Vec<_>>(),
            suggestions => view.work.suggestions.iter().map(|s| context! {
                id => s.id, from => &s.from_stage, to => &s.to_stage, reason => &s.reason,
                person => s.person.as_ref().map(|p| p.label()),
            }).collect::<Vec<_>>(),
            edit => context! {
                value => format!("{} {}", p.data.value, p.data.currency),
                expected_close => p.data.expected_close.map(|d| d.to_string()),
            },
            problem => problem,
            notice => notice,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct LogForm {
    kind: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

pub async fn log(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<LogForm>,
) -> Response {
    let input = LogEngagement {
        prospect: ProspectRef::Id(id),
        kind: form.kind,
        note: form.note.filter(|n| !n.trim().is_empty()),
        url: form.url.filter(|u| !u.trim().is_empty()),
        at: None,
        external_id: None,
    };
    match prospects::log_engagement(&state.core, &me.actor, input).await {
        Ok(_) => see_other(&format!("/prospects/{id}")),
        Err(e) => failure(&me, e),
    }
}

/// An action's refusal shown on the prospect's page (bad input), or as a page of its own.
async fn refused(state: &WebState, me: &crate::app::accounts::SignedIn, id: i64, error: AppError) -> Response {
    match error {
        AppError::Invalid(problem) => show(state, me, id, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await,
        other => failure(me, other),
    }
}

#[derive(Debug, Deserialize)]
pub struct EditForm {
    name: String,
    // Each field: absent from the form, left alone; sent empty, cleared.
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    expected_close: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    /// Tags to add, separated by commas.
    #[serde(default)]
    add_tags: String,
    /// Hand the prospect to this rep (a manager's choice; absent for a rep).
    #[serde(default)]
    owner: String,
}

pub async fn edit(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<EditForm>,
) -> Response {
    // An emptied field is cleared; a filled one set.
    let mut clear = Vec::new();
    let mut field = |text: Option<String>, which: Clearable| {
        let text = text?.trim().to_string();
        if text.is_empty() {
            clear.push(which);
            None
        } else {
            Some(text)
        }
    };
    let input = EditProspect {
        name: Some(form.name),
        email: field(form.email, Clearable::Email),
        company: field(form.company, Clearable::Company),
        title: field(form.title, Clearable::Title),
        expected_close: field(form.expected_close, Clearable::ExpectedClose),
        notes: field(form.notes, Clearable::Notes),
        value: form.value.filter(|v| !v.trim().is_empty()),
        owner: Some(form.owner).filter(|o| !o.trim().is_empty()),
        add_tags: form
            .add_tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        clear,
        ..EditProspect::default()
    };
    match prospect_edit::edit(&state.core, &me.actor, &ProspectRef::Id(id), input).await {
        Ok(_) => see_other(&format!("/prospects/{id}")),
        Err(e) => refused(&state, &me, id, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct RemindForm {
    /// `1d`, `3d`, `1w`, `4h`, or empty when `on` is given.
    #[serde(default)]
    within: String,
    /// A date (YYYY-MM-DD) in the rep's zone.
    #[serde(default)]
    on: String,
    note: String,
}

pub async fn remind(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<RemindForm>,
) -> Response {
    let when = match (form.on.trim(), form.within.trim()) {
        ("", "") => When::In("1d".into()),
        ("", within) => When::In(within.to_string()),
        (on, _) => When::On(on.to_string()),
    };
    match tasks::remind(&state.core, &me.actor, &ProspectRef::Id(id), when, &form.note).await {
        Ok(reminder) => {
            let zone = zone_of(&me.rep.time_zone);
            let notice = format!(
                "{} {}",
                words(me.rep.language)["reminder_set"],
                local_time(reminder.due_at, zone, me.rep.language)
            );
            show(&state, &me, id, StatusCode::OK, None, Some(notice)).await
        }
        Err(e) => refused(&state, &me, id, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    sequence: String,
}

pub async fn enrol(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<EnrolForm>,
) -> Response {
    let whom = Whom::Listed(vec![ProspectRef::Id(id)]);
    match sequence_cases::enroll(&state.core, &me.actor, &form.sequence, &whom, false, &()).await {
        Ok(report) => match (report.enrolled.first(), report.refused.first()) {
            (Some(_), _) => {
                let notice = format!("{} {}", words(me.rep.language)["enrolled_in"], report.sequence.slug);
                show(&state, &me, id, StatusCode::OK, None, Some(notice)).await
            }
            (None, Some(not)) => {
                show(
                    &state,
                    &me,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(not.reason.clone()),
                    None,
                )
                .await
            }
            (None, None) => failure(
                &me,
                AppError::Store(crate::store::StoreError::NotFound(format!("no prospect #{id}"))),
            ),
        },
        Err(e) => refused(&state, &me, id, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn erase(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<EraseForm>,
) -> Response {
    let confirmed = form.confirm.as_deref() == Some("yes");
    if !confirmed {
        let problem = words(me.rep.language)["erase_confirm_needed"].clone();
        return show(&state, &me, id, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await;
    }
    match prospects::erase(&state.core, &me.actor, &ProspectRef::Id(id), true).await {
        Ok(_) => see_other("/"),
        Err(e) => refused(&state, &me, id, e).await,
    }
}
