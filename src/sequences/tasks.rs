//! A sequence's task step becomes a task when it is due, whichever runs
//! first: the sending pass, or anything that shows tasks (`rapport tasks`,
//! the digest). Each step's task is added once (unique per enrolment and
//! step), and the enrolment moves on only from the step it was seen at, so
//! two of them racing add one task and move it on once.

use crate::config::Settings;
use crate::domain::prospect::{Prospect, ProspectRef, Rep};
use crate::domain::sequence::enrolment::{context_for, render_step, zone_of, RenderedStep};
use crate::domain::sequence::plan::{after_step, Next};
use crate::domain::sequence::timing::SendingWindow;
use crate::domain::sequence::{Sequence, StepAction};
use crate::store::{Enrolment, EnrolmentUpdate, NewTask, RepScope, Store, StoreError};
use chrono::{DateTime, Utc};

/// What became of a due task step.
#[derive(Debug, PartialEq, Eq)]
pub enum TaskStep {
    /// The task is there (`true` when this call added it) and the enrolment moved on.
    Added(bool),
    /// The step cannot be written for this prospect: the sequence must stop.
    Unwritable(String),
}

/// Adds the task of `enrolment`'s due task `step` and moves the enrolment on.
#[allow(clippy::too_many_arguments)]
pub async fn add_task_step(
    store: &dyn Store,
    sequence: &Sequence,
    enrolment: &Enrolment,
    prospect: &Prospect,
    rep: &Rep,
    step: usize,
    window: &SendingWindow,
    now: DateTime<Utc>,
) -> Result<TaskStep, StoreError> {
    let zone = zone_of(prospect, rep);
    let post = store.latest_post(RepScope::Team, prospect.id).await?;
    let context = context_for(prospect, rep, post.as_ref());
    let Ok(RenderedStep::Task {
        instruction,
        link,
        logs,
    }) = render_step(sequence, step, enrolment.variant as usize, &context)
    else {
        return Ok(TaskStep::Unwritable(format!("step {} cannot be written", step + 1)));
    };
    let task = NewTask {
        prospect_id: prospect.id,
        rep_id: rep.id,
        enrolment_id: Some(enrolment.id),
        step: Some(step as u32),
        instruction,
        // A template may fill the link from a feed: only a web address is a link.
        link: link.filter(|l| crate::domain::text::is_web_link(l)),
        logs,
        // Due when the step was: a task shown late still sorts by when it was due.
        due_at: enrolment.next_due_at.map_or(now, |due| due.min(now)),
        key: None,
        reason: None,
    };
    let added = store.add_task(&task).await?;
    let next = next_after(sequence, step, now, window, zone).expecting(enrolment.step);
    store.update_enrolment(enrolment.id, &next, None, now).await?;
    Ok(TaskStep::Added(added))
}

/// Where an enrolment goes after `step` was done at `at`.
pub fn next_after(
    sequence: &Sequence,
    step: usize,
    at: DateTime<Utc>,
    window: &SendingWindow,
    zone: chrono_tz::Tz,
) -> EnrolmentUpdate {
    let done = (step + 1) as u32;
    match after_step(sequence, step, at, window, zone) {
        Next::Step(next, due) => EnrolmentUpdate::due(next as u32, due),
        Next::Finished => EnrolmentUpdate::ended(done, "finished", "every step done"),
        Next::Never => EnrolmentUpdate::ended(done, "stopped", "the sending window never opens within a year"),
    }
}

/// Every due task step in `scope` becomes its task now; how many were added.
/// Email steps, stops and snoozes stay the sending pass's.
pub async fn add_due(
    store: &dyn Store,
    settings: &Settings,
    scope: RepScope,
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let Ok(window) = settings.config.sending.window() else {
        return Ok(0);
    };
    let due: Vec<Enrolment> = store
        .list_enrolments(scope, None)
        .await?
        .into_iter()
        .filter(|e| e.state == "active" && e.next_due_at.is_some_and(|d| d <= now))
        .filter(|e| e.snoozed_until.is_none_or(|s| s <= now))
        .collect();
    if due.is_empty() {
        return Ok(0);
    }
    let (sequences, _) = settings.load_sequences();
    let reps = store.list_reps().await?;
    let mut added = 0;
    for enrolment in due {
        let Some(sequence) = sequences.iter().find(|s| s.slug == enrolment.sequence) else {
            continue;
        };
        let step = enrolment.step as usize;
        if !matches!(sequence.steps.get(step).map(|s| &s.action), Some(StepAction::Task(_))) {
            continue;
        }
        let Some(rep) = reps.iter().find(|r| r.id == enrolment.rep_id) else {
            continue;
        };
        let prospect = match store
            .find_prospect(RepScope::Rep(rep.id), &ProspectRef::Id(enrolment.prospect_id))
            .await
        {
            Ok(prospect) => prospect,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        // A prospect whose sequence should have stopped gets no new task.
        let zone = zone_of(&prospect, rep);
        let decision = super::stops::decision(store, sequence, &enrolment, &prospect, &window, zone).await?;
        if !matches!(decision, crate::domain::sequence::stop::Decision::Continue) {
            continue;
        }
        if let TaskStep::Added(true) =
            add_task_step(store, sequence, &enrolment, &prospect, rep, step, &window, now).await?
        {
            added += 1;
        }
    }
    Ok(added)
}
