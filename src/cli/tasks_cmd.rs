//! `rapport tasks`: the manual steps of sequences that are due, with direct
//! links, and logging one as done.

use super::{cli_user, input_error, output, App, RepArg};
use crate::automation::rules::FOLLOW_UP;
use crate::domain::event::NewEvent;
use crate::domain::profile::Platform;
use crate::domain::prospect::ProspectRef;
use crate::domain::rules::parse_span;
use crate::domain::text::{is_web_link, printable};
use crate::store::{NewTask, RepScope, Task};
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
    /// Put a task off, e.g. `--for 2d`.
    Snooze(SnoozeArgs),
}

#[derive(Debug, Args)]
pub struct SnoozeArgs {
    pub id: i64,
    /// How long from now: 2d, 4h, 1w.
    #[arg(long = "for", value_name = "SPAN")]
    pub span: String,
}

/// `rapport remind PROSPECT --in 3d --note T`.
#[derive(Debug, Args)]
pub struct RemindArgs {
    /// Prospect id or email address.
    pub prospect: String,
    /// When: 3d, 4h, 1w from now.
    #[arg(long = "in", value_name = "SPAN")]
    pub span: String,
    #[arg(long)]
    pub note: String,
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
        Some(TasksCommand::Snooze(snooze)) => {
            let span = parse_span(&snooze.span).map_err(input_error)?;
            let task = app.store.reschedule_task(scope, snooze.id, app.now() + span).await?;
            println!("task #{} due {}", task.id, task.due_at.format("%Y-%m-%d %H:%M UTC"));
            Ok(())
        }
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
            // A feed's link is a link only when it is a web address (never javascript: or data:).
            latest_post: post.map(|p| p.url).filter(|u| is_web_link(u)),
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
        println!(
            "#{} {} — {}",
            task.id,
            printable(&task.prospect_name),
            printable(&task.instruction)
        );
        if let Some(reason) = &task.reason {
            println!("    why: {}", printable(reason));
        }
        let links = [
            ("link", task.link.as_deref()),
            ("latest post", item.latest_post.as_deref()),
            ("LinkedIn", item.linkedin.as_deref()),
        ];
        for (label, url) in links.iter().filter_map(|(l, u)| u.map(|u| (l, u))) {
            println!("    {label}: {}", printable(url));
        }
        println!(
            "    due {}; done: rapport tasks done {}",
            task.due_at.format("%Y-%m-%d %H:%M UTC"),
            task.id
        );
    }
    Ok(())
}

/// An explicit follow-up: a task due in a while that logs `follow_up` when done.
pub async fn remind(app: &App, args: RemindArgs) -> anyhow::Result<()> {
    let span = parse_span(&args.span).map_err(input_error)?;
    let note = crate::domain::prospect::required_text("note", &args.note).map_err(input_error)?;
    let reference: ProspectRef = args.prospect.parse().map_err(input_error)?;
    let prospect = app.store.find_prospect(RepScope::Team, &reference).await?;
    let due_at = app.now() + span;
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
    app.store.add_task(&task).await?;
    println!(
        "reminder for #{} {} due {}",
        prospect.id,
        prospect.data.name,
        due_at.format("%Y-%m-%d %H:%M UTC")
    );
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
