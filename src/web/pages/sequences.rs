//! Sequences (`/sequences`): each step's numbers per A/B variant (sent,
//! replied, bounced, unsubscribed, reply rate), where each enrolment stands,
//! the sends a crash left unknown with "it went out" / "it did not" buttons,
//! and a paused mailbox with its resume button.

use super::{failure, local_time, render, see_other, words, zone_of};
use crate::app::sequences;
use crate::web::session::{Signed, SignedForm};
use crate::web::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

/// Enrolments listed on the page (the CLI lists them all).
const ENROLMENTS_SHOWN: usize = 200;

pub async fn page(State(state): State<WebState>, Signed(me): Signed) -> Response {
    let core = &state.core;
    let (stats, standing, unknown) = match (
        sequences::step_stats(core, &me.actor).await,
        sequences::standing(core, &me.actor, None).await,
        sequences::outbox(core, &me.actor, Some("unknown")).await,
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failure(&me, e),
    };
    let language = me.rep.language;
    let zone = zone_of(&me.rep.time_zone);
    let at = |t| local_time(t, zone, language);
    let steps_of = |slug: &str| standing.steps.iter().find(|(s, _)| s == slug).map_or(0, |(_, n)| *n);
    render(
        StatusCode::OK,
        "sequences.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "sequences",
            stats => stats.iter().map(|s| context! {
                sequence => &s.sequence, step => s.step + 1, variant => variant_letter(s.variant),
                sent => s.sent, replied => s.replied, bounced => s.bounced, unsubscribed => s.unsubscribed,
                rate => format!("{:.0} %", s.reply_rate() * 100.0),
            }).collect::<Vec<_>>(),
            enrolments => standing.enrolments.iter().take(ENROLMENTS_SHOWN).map(|e| context! {
                prospect => e.prospect_id, name => &e.prospect_name, sequence => &e.sequence,
                step => format!("{}/{}", (e.step as usize + 1).min(steps_of(&e.sequence).max(1)), steps_of(&e.sequence)),
                variant => variant_letter(e.variant), state => &e.state, reason => &e.stop_reason,
                next => e.next_due_at.map(at),
            }).collect::<Vec<_>>(),
            more_enrolments => standing.enrolments.len().saturating_sub(ENROLMENTS_SHOWN),
            unknown => unknown.iter().map(|o| context! {
                id => o.id, prospect => o.prospect_id, to => &o.to_email, subject => &o.subject,
                sequence => &o.sequence, step => o.step + 1, started => at(o.started_at),
            }).collect::<Vec<_>>(),
            pauses => standing.pauses.iter().map(|(p, email)| context! {
                email => email, reason => &p.reason, since => at(p.paused_at),
            }).collect::<Vec<_>>(),
        },
    )
}

fn variant_letter(variant: u32) -> String {
    char::from_u32(u32::from(b'A') + variant.min(25))
        .unwrap_or('?')
        .to_string()
}

#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    /// `sent` or `not-sent`.
    decision: String,
}

pub async fn resolve(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<ResolveForm>,
) -> Response {
    let sent = form.decision == "sent";
    match sequences::resolve(&state.core, &me.actor, id, sent).await {
        Ok(_) => see_other("/sequences"),
        Err(e) => failure(&me, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ResumeForm {
    /// The paused mailbox's rep (a manager may resume any of the team's).
    rep: String,
}

pub async fn resume(State(state): State<WebState>, SignedForm(me, form): SignedForm<ResumeForm>) -> Response {
    let rep = match crate::app::reps::resolve(&state.core, &me.actor, Some(&form.rep)).await {
        Ok(rep) => rep,
        Err(_) => {
            return failure(
                &me,
                crate::app::AppError::Store(crate::store::StoreError::NotFound("no such mailbox".into())),
            )
        }
    };
    match sequences::resume(&state.core, &me.actor, &rep).await {
        Ok(_) => see_other("/sequences"),
        Err(e) => failure(&me, e),
    }
}
