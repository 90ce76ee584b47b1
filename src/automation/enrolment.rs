//! Enrolling prospects in a sequence: the checks (stage, email, suppression,
//! not already in a sequence, every template's fields), the A/B variant, and
//! the first step's due time. Shared by `rapport sequence enroll` (and its
//! `--dry-run`), `sequence preview` and the rules.

use crate::domain::event::Actor;
use crate::domain::prospect::{Prospect, Rep};
use crate::domain::sequence::enrolment::{check_eligible, context_for, zone_of};
use crate::domain::sequence::timing::{Delay, SendingWindow};
use crate::domain::sequence::Sequence;
use crate::store::{NewEnrolment, Store, StoreError};
use chrono::{DateTime, Utc};

/// An enrolment made (or, in a dry run, that would be made).
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// `None` in a dry run.
    pub id: Option<i64>,
    pub variant: usize,
    pub next_due_at: DateTime<Utc>,
}

/// Whether `prospect` of `rep` can be enrolled now, and how: or why not.
pub async fn check(
    store: &dyn Store,
    window: &SendingWindow,
    sequence: &Sequence,
    prospect: &Prospect,
    rep: &Rep,
    now: DateTime<Utc>,
) -> Result<Result<Enrolled, String>, StoreError> {
    let suppressed = match &prospect.data.email {
        Some(email) => store.is_suppressed(email).await?,
        None => false,
    };
    let post = store.latest_post(prospect.id).await?;
    let context = context_for(prospect, rep, post.as_ref());
    let variant = match check_eligible(prospect, sequence, suppressed, &context) {
        Ok(variant) => variant,
        Err(reason) => return Ok(Err(reason)),
    };
    if let Some(running) = store.running_enrolments_of(prospect.id).await?.first() {
        return Ok(Err(format!("is already in sequence '{}'", running.sequence)));
    }
    let first_delay = sequence.steps.first().map_or(Delay::Hours(0), |s| s.after);
    let Some(next_due_at) = window.due_at(now, first_delay, zone_of(prospect, rep)) else {
        return Ok(Err(
            "the sending window never opens within a year (check [sending] holidays)".into(),
        ));
    };
    Ok(Ok(Enrolled {
        id: None,
        variant,
        next_due_at,
    }))
}

/// Enrols `prospect` of `rep`, or says why not.
pub async fn enrol(
    store: &dyn Store,
    window: &SendingWindow,
    sequence: &Sequence,
    prospect: &Prospect,
    rep: &Rep,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Result<Enrolled, String>, StoreError> {
    let planned = match check(store, window, sequence, prospect, rep, now).await? {
        Ok(planned) => planned,
        Err(reason) => return Ok(Err(reason)),
    };
    let new = NewEnrolment {
        prospect_id: prospect.id,
        sequence: sequence.slug.clone(),
        variant: planned.variant as u32,
        next_due_at: planned.next_due_at,
    };
    // The store checks "already in a sequence" again, in the transaction that enrols.
    Ok(match store.enroll(&new, actor, now).await? {
        Ok(id) => Ok(Enrolled {
            id: Some(id),
            ..planned
        }),
        Err(running) => Err(format!("is already in sequence '{running}'")),
    })
}
