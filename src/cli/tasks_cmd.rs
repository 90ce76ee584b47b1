//! `rapport tasks`: the manual steps of sequences and the reminders that are
//! due (or, with `--all`, every open one), with direct links; logging one as
//! done; putting one off; and `rapport remind`.

use super::{cli_user, input_error, output, App, RepArg};
use crate::automation::sequence_tasks::add_due;
use crate::domain::event::kinds::FOLLOW_UP;
use crate::domain::event::NewEvent;
use crate::domain::profile::Platform;
use crate::domain::prospect::ProspectRef;
use crate::domain::reminder::{due_in, due_on};
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
    /// Every open task, including upcoming and snoozed ones, not only those due now.
    #[arg(long)]
    pub all: bool,
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
    /// The task's number, as `rapport tasks` shows it.
    pub id: i64,
    /// How long from now: 2d (working days), 1w, 4h, 30m.
    #[arg(long = "for", value_name = "SPAN")]
    pub span: String,
}

/// `rapport remind PROSPECT --in 3d --note T`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["span", "on"])))]
pub struct RemindArgs {
    /// Prospect id or email address.
    pub prospect: String,
    /// How long from now: 3d counts your working days ([sending] days, holidays
    /// left out) at the same time of day; 1w a calendar week; 4h and 30m clock time.
    #[arg(long = "in", value_name = "SPAN")]
    pub span: Option<String>,
    /// On a date in your zone: 2026-12-04 (at the start of the working day) or 2026-12-04T14:00.
    #[arg(long, value_name = "DATE[THH:MM]")]
    pub on: Option<String>,
    /// What to do then, shown in `rapport tasks` and the digest.
    #[arg(long)]
    pub note: String,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Args)]
pub struct DoneArgs {
    /// The task's number, as `rapport tasks` shows it.
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
    /// Not due yet (upcoming or snoozed; shown with `--all`).
    upcoming: bool,
    latest_post: Option<String>,
    linkedin: Option<String>,
}

pub async fn run(app: &App, args: TasksArgs) -> anyhow::Result<()> {
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    match args.command {
        Some(TasksCommand::Done(done)) => complete(app, scope, done).await,
        Some(TasksCommand::Snooze(snooze)) => {
            let task = app.store.find_task(scope, snooze.id).await?;
            let rep = rep_of(app, task.rep_id).await?;
            let window = app.sending_window()?;
            let due_at = due_in(&snooze.span, app.now(), &window, rep.zone()).map_err(input_error)?;
            let task = app.store.reschedule_task(scope, snooze.id, due_at).await?;
            if app.json {
                return output::json(&task);
            }
            println!("task #{} due {}", task.id, output::at(task.due_at, rep.zone()));
            Ok(())
        }
        None => list(app, scope, zone, args.all).await,
    }
}

async fn list(app: &App, scope: RepScope, zone: chrono_tz::Tz, all: bool) -> anyhow::Result<()> {
    let now = app.now();
    // A sequence's task step is a task as soon as it is due, whichever job ran last.
    add_due(app.store.as_ref(), &app.settings, scope, now).await?;
    let until = if all {
        now + chrono::Duration::days(365 * 100)
    } else {
        now
    };
    let mut due = Vec::new();
    for task in app.store.due_tasks(scope, until).await? {
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
            upcoming: task.due_at > now,
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
        match all {
            true => println!("no open tasks"),
            false => println!("no tasks due (`rapport tasks --all` shows upcoming and snoozed ones)"),
        }
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
        let when = if item.upcoming { "upcoming, due" } else { "due" };
        println!(
            "    {when} {}; done: rapport tasks done {}",
            output::at(task.due_at, zone),
            task.id
        );
    }
    Ok(())
}

pub async fn remind(app: &App, args: RemindArgs) -> anyhow::Result<()> {
    let note = crate::domain::prospect::required_text("note", &args.note).map_err(input_error)?;
    let reference: ProspectRef = args.prospect.parse().map_err(input_error)?;
    let scope = app.scope(args.rep.rep.as_deref()).await?;
    let prospect = app.store.find_prospect(scope, &reference).await?;
    let rep = rep_of(app, prospect.data.rep_id).await?;
    let window = app.sending_window()?;
    let now = app.now();
    let due_at = match (&args.span, &args.on) {
        (Some(span), _) => due_in(span, now, &window, rep.zone()),
        (None, Some(on)) => due_on(on, now, &window, rep.zone()),
        (None, None) => Err("say when: --in 3d or --on 2026-12-04".to_string()),
    }
    .map_err(input_error)?;
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
    if app.json {
        return output::json(&serde_json::json!({ "prospect": prospect.id, "due_at": due_at }));
    }
    println!(
        "reminder for #{} {} due {}",
        prospect.id,
        printable(&prospect.data.name),
        output::at(due_at, rep.zone())
    );
    Ok(())
}

async fn rep_of(app: &App, id: crate::domain::prospect::RepId) -> anyhow::Result<crate::domain::prospect::Rep> {
    app.store
        .list_reps()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| anyhow::anyhow!("rep #{id} is missing"))
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
    app.stop_ended_sequences(&[done.prospect_id]).await?;
    if app.json {
        return output::json(&done);
    }
    println!(
        "task #{} done: logged {} for {}",
        done.id, done.logs, done.prospect_name
    );
    Ok(())
}
