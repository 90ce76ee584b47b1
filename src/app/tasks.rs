//! The rep's to-do list: sequence task steps and reminders that are due (or
//! all open ones), with the links to do them; a reminder for a prospect;
//! doing a task (which logs the engagement it stands for); putting one off.

use super::{invalid, Actor, AppResult, Core};
use crate::domain::event::kinds::FOLLOW_UP;
use crate::domain::event::payload::TaskDone;
use crate::domain::event::{keys, EventData, NewEvent};
use crate::domain::profile::Platform;
use crate::domain::prospect::{required_text, ProspectId, ProspectRef, Rep, RepId};
use crate::domain::reminder::{due_in, due_on};
use crate::domain::text::is_web_link;
use crate::sequences::stops::stop_ended;
use crate::sequences::tasks::add_due;
use crate::store::{NewTask, Task};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A task with the links the rep needs to do it.
#[derive(Debug, Clone, Serialize)]
pub struct DueTask {
    #[serde(flatten)]
    pub task: Task,
    /// Not due yet (upcoming or snoozed).
    pub upcoming: bool,
    pub latest_post: Option<String>,
    pub linkedin: Option<String>,
}

/// The tasks due now, or with `all` every open one. A sequence's task step is
/// a task as soon as it is due, whichever job ran last.
pub async fn list(core: &Core, actor: &Actor, all: bool) -> AppResult<Vec<DueTask>> {
    let scope = actor.scope();
    let now = core.clock.now();
    add_due(core.store.as_ref(), &core.settings, scope, now).await?;
    let until = if all {
        now + chrono::Duration::days(365 * 100)
    } else {
        now
    };
    let mut due = Vec::new();
    for task in core.store.due_tasks(scope, until).await? {
        let prospect = core
            .store
            .find_prospect(scope, &ProspectRef::Id(task.prospect_id))
            .await?;
        let post = core.store.latest_post(scope, task.prospect_id).await?;
        let linkedin = prospect
            .data
            .profiles
            .iter()
            .find(|p| p.platform == Platform::Linkedin)
            .map(|p| p.url.clone());
        due.push(DueTask {
            upcoming: task.due_at > now,
            task,
            // A feed's link is a link only when it is a web address (never javascript: or data:).
            latest_post: post.map(|p| p.url).filter(|u| is_web_link(u)),
            linkedin,
        });
    }
    Ok(due)
}

/// When a reminder is due: in a span of working days or hours, or on a date.
#[derive(Debug, Clone)]
pub enum When {
    /// `3d` (working days of the `[sending]` days), `1w`, `4h`, `30m`.
    In(String),
    /// `2026-12-04` or `2026-12-04T14:00`, in the rep's zone.
    On(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub prospect: ProspectId,
    #[serde(skip)]
    pub name: String,
    pub due_at: DateTime<Utc>,
    /// The prospect's rep, in whose zone the time is meant.
    #[serde(skip)]
    pub rep: Rep,
}

pub async fn remind(core: &Core, actor: &Actor, prospect: &ProspectRef, when: When, note: &str) -> AppResult<Reminder> {
    let note = required_text("note", note).map_err(invalid)?;
    let prospect = core.store.find_prospect(actor.scope(), prospect).await?;
    let rep = rep_of(core, prospect.data.rep_id).await?;
    let window = sending_window(core)?;
    let now = core.clock.now();
    let due_at = match &when {
        When::In(span) => due_in(span, now, &window, rep.zone()),
        When::On(date) => due_on(date, now, &window, rep.zone()),
    }
    .map_err(invalid)?;
    let task = NewTask {
        prospect_id: prospect.id,
        rep_id: prospect.data.rep_id,
        enrolment_id: None,
        step: None,
        instruction: note,
        link: None,
        logs: FOLLOW_UP.into(),
        due_at,
        key: None,
        reason: None,
    };
    core.store.add_task(&task).await?;
    Ok(Reminder {
        prospect: prospect.id,
        name: prospect.data.name,
        due_at,
        rep,
    })
}

/// Marks a task done, logging the engagement it stands for (which may stop
/// the prospect's sequences at once).
pub async fn complete(core: &Core, actor: &Actor, id: i64, note: Option<String>) -> AppResult<Task> {
    let scope = actor.scope();
    let task = core.store.find_task(scope, id).await?;
    let now = core.clock.now();
    let event = NewEvent {
        prospect_id: task.prospect_id,
        kind: task.logs.clone(),
        occurred_at: now,
        source_key: keys::task_done(task.id),
        actor: actor.recorded_as(),
        data: EventData::of(&TaskDone {
            task: task.id,
            instruction: task.instruction.clone(),
            sequence: task.sequence.clone(),
            note,
        }),
    };
    let done = core.store.complete_task(scope, task.id, &event, now).await?;
    stop_ended(core.store.as_ref(), &core.settings, &[done.prospect_id], now).await?;
    Ok(done)
}

/// Puts a task off by a span (`2d` working days, `4h`), in its rep's zone.
pub async fn snooze(core: &Core, actor: &Actor, id: i64, span: &str) -> AppResult<(Task, Rep)> {
    let scope = actor.scope();
    let task = core.store.find_task(scope, id).await?;
    let rep = rep_of(core, task.rep_id).await?;
    let window = sending_window(core)?;
    let due_at = due_in(span, core.clock.now(), &window, rep.zone()).map_err(invalid)?;
    let task = core.store.reschedule_task(scope, id, due_at, core.clock.now()).await?;
    Ok((task, rep))
}

async fn rep_of(core: &Core, id: RepId) -> AppResult<Rep> {
    core.store
        .list_reps()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| invalid(format!("rep #{id} is missing")))
}

/// The working days reminders count: the `[sending]` days and holidays.
pub fn sending_window(core: &Core) -> AppResult<crate::domain::sequence::timing::SendingWindow> {
    core.settings
        .config
        .sending
        .window()
        .map_err(|(key, message)| invalid(format!("{key}: {message}")))
}
