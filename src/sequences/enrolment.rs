//! Enrolling prospects in a sequence: the checks (stage, email, suppression,
//! not already in a sequence, every template's fields), the A/B variant, and
//! the first step's due time. Shared by `rapport sequence enroll` (and its
//! `--dry-run`), `sequence preview` and the rules. Many at once cost a few
//! statements, not a few per prospect: the reads are batched and the
//! enrolments written in one transaction.

use crate::domain::event::Actor;
use crate::domain::prospect::{Prospect, ProspectId, Rep};
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

/// What enrolling one prospect came to: enrolled, or why not.
pub type Outcome = (ProspectId, Result<Enrolled, String>);

/// Enrols each prospect (or, with `dry_run`, only checks), in the order
/// given; `progress` is told how many were checked as it goes.
#[allow(clippy::too_many_arguments)]
pub async fn enrol_many(
    store: &dyn Store,
    window: &SendingWindow,
    sequence: &Sequence,
    prospects: &[Prospect],
    reps: &[Rep],
    actor: &Actor,
    now: DateTime<Utc>,
    dry_run: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Outcome>, StoreError> {
    let ids: Vec<ProspectId> = prospects.iter().map(|p| p.id).collect();
    let emails: Vec<String> = prospects.iter().filter_map(|p| p.data.email.clone()).collect();
    let suppressed = store.suppressed_among(&emails).await?;
    let posts = store.latest_posts(&ids).await?;
    let running = store.running_sequences_of(&ids).await?;
    let first_delay = sequence.steps.first().map_or(Delay::Hours(0), |s| s.after);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(prospects.len());
    for prospect in prospects {
        progress(1);
        let checked = (|| {
            let rep = reps
                .iter()
                .find(|r| r.id == prospect.data.rep_id)
                .ok_or_else(|| "has no rep in the database".to_string())?;
            let is_suppressed = prospect.data.email.as_ref().is_some_and(|e| suppressed.contains(e));
            let context = context_for(prospect, rep, posts.get(&prospect.id));
            let variant = check_eligible(prospect, sequence, is_suppressed, &context)?;
            if let Some(sequence) = running.get(&prospect.id) {
                return Err(format!("is already in sequence '{sequence}'"));
            }
            let next_due_at = window
                .due_at(now, first_delay, zone_of(prospect, rep))
                .ok_or_else(|| "the sending window never opens within a year (check [sending] holidays)".to_string())?;
            Ok(Enrolled {
                id: None,
                variant,
                next_due_at,
            })
        })();
        outcomes.push((prospect.id, checked));
    }
    if dry_run {
        return Ok(outcomes);
    }
    let planned: Vec<(usize, NewEnrolment)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(index, (id, outcome))| {
            let planned = outcome.as_ref().ok()?;
            Some((
                index,
                NewEnrolment {
                    prospect_id: *id,
                    sequence: sequence.slug.clone(),
                    variant: planned.variant as u32,
                    next_due_at: planned.next_due_at,
                },
            ))
        })
        .collect();
    let news: Vec<NewEnrolment> = planned.iter().map(|(_, n)| n.clone()).collect();
    // The store checks "already in a sequence" again, in the transaction that enrols.
    let written = store.enroll_many(&news, actor, now).await?;
    for ((index, _), result) in planned.iter().zip(written) {
        let outcome = &mut outcomes[*index].1;
        *outcome = match (result, outcome.as_ref()) {
            (Ok(id), Ok(planned)) => Ok(Enrolled {
                id: Some(id),
                ..planned.clone()
            }),
            (Err(running), _) => Err(format!("is already in sequence '{running}'")),
            (Ok(_), Err(why)) => Err(why.clone()),
        };
    }
    Ok(outcomes)
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
    let actor = Actor::System("check".into());
    one(store, window, sequence, prospect, rep, &actor, now, true).await
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
    one(store, window, sequence, prospect, rep, actor, now, false).await
}

#[allow(clippy::too_many_arguments)]
async fn one(
    store: &dyn Store,
    window: &SendingWindow,
    sequence: &Sequence,
    prospect: &Prospect,
    rep: &Rep,
    actor: &Actor,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Result<Enrolled, String>, StoreError> {
    let prospects = std::slice::from_ref(prospect);
    let reps = std::slice::from_ref(rep);
    let mut outcomes = enrol_many(store, window, sequence, prospects, reps, actor, now, dry_run, &|_| {}).await?;
    match outcomes.pop() {
        Some((_, outcome)) => Ok(outcome),
        None => Err(StoreError::Corrupt("enrolling one prospect gave no outcome".into())),
    }
}
