//! `rapport tasks`: the manual steps of sequences and the reminders that are
//! due (or, with `--all`, every open one), with direct links; logging one as
//! done; putting one off; and `rapport remind`.

use super::{input_error, output, App, RepArg};
use crate::app::{tasks, Actor};
use crate::domain::prospect::ProspectRef;
use crate::domain::text::printable;
use clap::{Args, Subcommand};

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

pub async fn run(app: &App, args: TasksArgs) -> anyhow::Result<()> {
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let zone = app.zone(args.rep.rep.as_deref()).await?;
    let core = app.core();
    match args.command {
        Some(TasksCommand::Done(done)) => {
            let done = tasks::complete(&core, &actor, done.id, done.note).await?;
            if app.json {
                return output::json(&done);
            }
            println!(
                "task #{} done: logged {} for {}",
                done.id,
                done.logs,
                printable(&done.prospect_name)
            );
            Ok(())
        }
        Some(TasksCommand::Snooze(snooze)) => {
            let (task, rep) = tasks::snooze(&core, &actor, snooze.id, &snooze.span).await?;
            if app.json {
                return output::json(&task);
            }
            println!("task #{} due {}", task.id, output::at(task.due_at, rep.zone()));
            Ok(())
        }
        None => list(app, &actor, zone, args.all).await,
    }
}

async fn list(app: &App, actor: &Actor, zone: chrono_tz::Tz, all: bool) -> anyhow::Result<()> {
    let due = tasks::list(&app.core(), actor, all).await?;
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
    let reference: ProspectRef = args.prospect.parse().map_err(input_error)?;
    let actor = app.actor_for(args.rep.rep.as_deref()).await?;
    let when = match (args.span, args.on) {
        (Some(span), _) => tasks::When::In(span),
        (None, Some(on)) => tasks::When::On(on),
        (None, None) => return Err(input_error("say when: --in 3d or --on 2026-12-04")),
    };
    let reminder = tasks::remind(&app.core(), &actor, &reference, when, &args.note).await?;
    if app.json {
        return output::json(&reminder);
    }
    println!(
        "reminder for #{} {} due {}",
        reminder.prospect,
        printable(&reminder.name),
        output::at(reminder.due_at, reminder.rep.zone())
    );
    Ok(())
}
