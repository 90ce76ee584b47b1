//! A prospect's page (`/prospects/{id}`): details, profiles (LinkedIn and X
//! as links, with the "log what I did" form beside them), the timeline in
//! the rep's zone, and the move form; `POST /prospects/{id}/log` records
//! engagement done outside rapport. Another rep's prospect is a 404.

use super::board::{failure, see_other};
use super::{local_date, local_time, money, render, words, zone_of};
use crate::app::prospects::{self, LogEngagement};
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
    let view = match prospects::show(&state.core, &me.actor, &ProspectRef::Id(id)).await {
        Ok(view) => view,
        Err(e) => return failure(&me, e),
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
        StatusCode::OK,
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
    };
    match prospects::log_engagement(&state.core, &me.actor, input).await {
        Ok(_) => see_other(&format!("/prospects/{id}")),
        Err(e) => failure(&me, e),
    }
}
