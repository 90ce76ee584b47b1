//! The rep's tasks: sequence task steps and reminders, due, done or put off;
//! every read and change in the actor's scope.

use super::{RepScope, StoreResult};
use crate::domain::event::NewEvent;
use crate::domain::prospect::{ProspectId, RepId};
pub use crate::domain::records::Task;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct NewTask {
    pub prospect_id: ProspectId,
    pub rep_id: RepId,
    pub enrolment_id: Option<i64>,
    pub step: Option<u32>,
    pub instruction: String,
    pub link: Option<String>,
    pub logs: String,
    pub due_at: DateTime<Utc>,
    /// A rule's firing key: the reminder is made once.
    pub key: Option<String>,
    pub reason: Option<String>,
}

#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Adds a task; false when the step already has one.
    async fn add_task(&self, task: &NewTask) -> StoreResult<bool>;
    /// Open tasks due by `due_by`.
    /// Open tasks due by then; those of a stopped sequence are gone with it.
    async fn due_tasks(&self, scope: RepScope, due_by: DateTime<Utc>) -> StoreResult<Vec<Task>>;
    /// Marks a task done with the engagement event it logs.
    async fn complete_task(&self, scope: RepScope, id: i64, event: &NewEvent, now: DateTime<Utc>) -> StoreResult<Task>;
    async fn find_task(&self, scope: RepScope, id: i64) -> StoreResult<Task>;
    /// Moves an open task's due time (snooze), raising its revision.
    async fn reschedule_task(
        &self,
        scope: RepScope,
        id: i64,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Task>;
}
