//! The rep's tasks in PostgreSQL.

use super::*;
use crate::store::{NewTask, Task, TaskStore};

pub(super) const TASK_SELECT: &str =
    "SELECT t.id, t.prospect_id, p.name, t.rep_id, e.sequence, t.instruction, t.link, t.logs, \
     t.due_at, t.done_at, t.reason, t.revision, t.modified_at FROM tasks t JOIN prospects p ON p.id = t.prospect_id \
     LEFT JOIN enrolments e ON e.id = t.enrolment_id";

#[async_trait]
impl TaskStore for PgStore {
    async fn add_task(&self, task: &NewTask) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO tasks (prospect_id, rep_id, enrolment_id, step, instruction, link, logs, due_at, key, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(task.prospect_id)
        .bind(task.rep_id)
        .bind(task.enrolment_id)
        .bind(task.step.map(i64::from))
        .bind(&task.instruction)
        .bind(&task.link)
        .bind(&task.logs)
        .bind(ts(task.due_at))
        .bind(&task.key)
        .bind(&task.reason)
        .execute(self.pool())
        .await
        .map_err(db("add a task"))?
        .rows_affected();
        Ok(inserted > 0)
    }

    async fn due_tasks(&self, scope: RepScope, due_by: DateTime<Utc>) -> StoreResult<Vec<Task>> {
        let mut query = QueryBuilder::<Postgres>::new(format!(
            "{TASK_SELECT} WHERE t.done_at IS NULL AND (e.state IS NULL OR e.state <> 'stopped') AND t.due_at <= "
        ));
        query.push_bind(ts(due_by));
        scope_clause(&mut query, scope);
        query.push(" ORDER BY t.due_at, t.id");
        let rows = query.build().fetch_all(self.pool()).await.map_err(db("list tasks"))?;
        rows.iter().map(task_from_row).collect()
    }

    async fn find_task(&self, scope: RepScope, id: i64) -> StoreResult<Task> {
        let mut query = QueryBuilder::<Postgres>::new(format!("{TASK_SELECT} WHERE t.id = "));
        query.push_bind(id);
        scope_clause(&mut query, scope);
        let row = query
            .build()
            .fetch_optional(self.pool())
            .await
            .map_err(db("find a task"))?
            .ok_or_else(|| StoreError::NotFound(format!("no task #{id}; `rapport tasks` lists the open ones")))?;
        task_from_row(&row)
    }

    async fn reschedule_task(
        &self,
        scope: RepScope,
        id: i64,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Task> {
        let task = self.find_task(scope, id).await?;
        if task.done_at.is_some() {
            return Err(StoreError::Conflict(format!("task #{id} is done already")));
        }
        sqlx::query(
            "UPDATE tasks SET due_at = $1, revision = revision + 1, modified_at = $2 WHERE id = $3 AND done_at IS NULL",
        )
        .bind(ts(due_at))
        .bind(ts(now))
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(db("snooze a task"))?;
        Ok(Task {
            due_at,
            revision: task.revision + 1,
            modified_at: Some(now),
            ..task
        })
    }

    async fn complete_task(&self, scope: RepScope, id: i64, event: &NewEvent, now: DateTime<Utc>) -> StoreResult<Task> {
        let task = self.find_task(scope, id).await?;
        if task.done_at.is_some() {
            return Err(StoreError::Conflict(format!("task #{id} is already done")));
        }
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE tasks SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
            .bind(ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("complete a task"))?;
        append_event_on(&mut tx, event, now).await?;
        tx.commit().await.map_err(db("complete a task"))?;
        Ok(Task {
            done_at: Some(now),
            ..task
        })
    }
}

pub(super) fn task_from_row(row: &PgRow) -> StoreResult<Task> {
    Ok(Task {
        id: row.get(0),
        prospect_id: row.get(1),
        prospect_name: row.get(2),
        rep_id: row.get(3),
        sequence: row.get(4),
        instruction: row.get(5),
        link: row.get(6),
        logs: row.get(7),
        due_at: parse_ts(row.get(8))?,
        done_at: row.get::<Option<DateTime<Utc>>, _>(9).map(parse_ts).transpose()?,
        reason: row.get(10),
        revision: u32::try_from(row.get::<i64, _>(11)).unwrap_or_default(),
        modified_at: row.get::<Option<DateTime<Utc>>, _>(12).map(parse_ts).transpose()?,
    })
}
