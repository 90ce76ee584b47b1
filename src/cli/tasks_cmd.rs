//! `rapport tasks`: the manual steps of sequences that are due, with direct
//! links, and logging one as done.

use super::{cli_user, output, App, RepArg};
use crate::domain::event::NewEvent;
use crate::domain::profile::Platform;
use crate::domain::prospect::ProspectRef;
use crate::store::{RepScope, Task};
use clap::{Args, Subcommand};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct TasksArgs {
    #[command(subcommand)]
    pub command: Option<TasksCommand>,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Mark a task done: the engagement it stands for is logged as an event.
    Done(DoneArgs),
}

#[derive(Debug, Args)]
pub struct DoneArgs {
    pub id: i64,
    /// A note kept with the logged engagement.
    #[arg(long)]
    pub note: Option<String>,
}

/// A due task with the links the rep needs to do it.
#[derive(Debug, Serialize)]
struct DueTask {
    #[serde(flatten)]
    task: Task,
    latest_post: Option<String>,
    linkedin: Option<String>,
}

pub async fn run(app: &App, args: TasksArgs) -> anyhow::Result<()> {
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    match args.command {
        Some(TasksCommand::Done(done)) => complete(app, scope, done).await,
        None => list(app, scope).await,
    }
}

async fn list(app: &App, scope: RepScope) -> anyhow::Result<()> {
    let mut due = Vec::new();
    for task in app.store.due_tasks(scope, app.now()).await? {
        let prospect = app
            .store
            .find_prospect(scope, &ProspectRef::Id(task.prospect_id))
            .await?;
        let post = app.store.latest_post(task.prospect_id).await?;
        let linkedin = prospect
            .data
            .profiles
            .iter()
            .find(|p| p.platform == Platform::Linkedin)
            .map(|p| p.url.clone());
        due.push(DueTask {
            task,
            latest_post: post.map(|p| p.url).filter(|u| !u.is_empty()),
            linkedin,
        });
    }
    if app.json {
        return output::json(&due);
    }
    if due.is_empty() {
        println!("no tasks due");
    }
    for item in &due {
        let task = &item.task;
        println!("#{} {} — {}", task.id, task.prospect_name, task.instruction);
        let links = [
            ("link", task.link.as_deref()),
            ("latest post", item.latest_post.as_deref()),
            ("LinkedIn", item.linkedin.as_deref()),
        ];
        for (label, url) in links.iter().filter_map(|(l, u)| u.map(|u| (l, u))) {
            println!("    {label}: {url}");
        }
        println!(
            "    due {}; done: rapport tasks done {}",
            task.due_at.format("%Y-%m-%d %H:%M UTC"),
            task.id
        );
    }
    Ok(())
}

async fn complete(app: &App, scope: RepScope, args: DoneArgs) -> anyhow::Result<()> {
    let task = app.store.find_task(scope, args.id).await?;
    let now = app.now();
    let event = NewEvent {
        prospect_id: task.prospect_id,
        kind: task.logs.clone(),
        occurred_at: now,
        source_key: format!("task:{}", task.id),
        actor: cli_user(),
        data: serde_json::json!({
            "task": task.id, "instruction": task.instruction, "sequence": task.sequence, "note": args.note,
        }),
    };
    let done = app.store.complete_task(scope, task.id, &event, now).await?;
    if app.json {
        return output::json(&done);
    }
    println!(
        "task #{} done: logged {} for {}",
        done.id, done.logs, done.prospect_name
    );
    Ok(())
}
