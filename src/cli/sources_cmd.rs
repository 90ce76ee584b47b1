//! `rapport sources` and `rapport poll`: the feeds rapport watches.

use super::output::{self, or_dash};
use super::{input_error, App};
use crate::domain::prospect::ProspectRef;
use crate::domain::text::printable;
use crate::sources::feed::ParsedFeed;
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct SourcesArgs {
    #[command(subcommand)]
    pub command: Option<SourcesCommand>,
    /// Only sources marked broken (failing again and again).
    #[arg(long, conflicts_with = "hosts")]
    pub broken: bool,
    /// Per host: its feeds, its budget ([fetch.hosts]) and how far behind it is.
    #[arg(long)]
    pub hosts: bool,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Fetch one URL (through the same client and guard as the poller) or
    /// read one file, and print the feed and every item as rapport
    /// normalises them, ignoring the recent-items window: for finding out
    /// why a feed shows nothing.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// An http(s) URL, or a saved RSS, Atom or JSON Feed file.
    pub target: String,
}

#[derive(Debug, Args)]
pub struct PollArgs {
    /// One pass over the due feeds, then exit (default: keep polling until Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// Poll this prospect's feeds now, due or not.
    #[arg(long)]
    pub prospect: Option<String>,
}

pub async fn run(app: &App, args: SourcesArgs) -> anyhow::Result<()> {
    match args.command {
        Some(SourcesCommand::Test(test_args)) => test(app, test_args).await,
        None if args.hosts => hosts(app).await,
        None => list(app, args.broken).await,
    }
}

async fn hosts(app: &App) -> anyhow::Result<()> {
    let loads = crate::app::sources::hosts(&app.core(), &app.actor()).await?;
    if app.json {
        return output::json(&loads);
    }
    let rows: Vec<Vec<String>> = loads
        .iter()
        .map(|l| {
            vec![
                l.host.clone(),
                l.feeds.to_string(),
                format!("{} ms × {}", l.interval_ms, l.concurrency),
                format!("{:.0}", l.needed_per_hour),
                l.budget_per_hour
                    .map_or_else(|| "unlimited".into(), |b| format!("{b:.0}")),
                match l.shortfall_per_hour > 0.0 {
                    true => format!("{:.0}/h short", l.shortfall_per_hour),
                    false => "keeps up".into(),
                },
                match l.overdue {
                    0 => "-".into(),
                    n => format!("{n} overdue, up to {} min", l.most_late_secs / 60),
                },
            ]
        })
        .collect();
    output::table(&["HOST", "FEEDS", "BUDGET", "NEED/H", "CAN/H", "", "BEHIND"], &rows);
    if loads.iter().any(|l| l.shortfall_per_hour > 0.0) {
        println!(
            "\nA host short of budget polls its feeds less often than their interval. Raise its budget in \
             [fetch.hosts.\"HOST\"] only within what the site allows, or set [feeds] interval_mins higher."
        );
    }
    Ok(())
}

async fn list(app: &App, broken_only: bool) -> anyhow::Result<()> {
    let zone = app.zone(None).await?;
    let sources = crate::app::sources::list(&app.core(), &app.actor(), broken_only).await?;
    if app.json {
        return output::json(&sources);
    }
    let rows: Vec<Vec<String>> = sources
        .iter()
        .map(|s| {
            let status = if s.broken {
                format!("BROKEN: {}", s.last_status.as_deref().unwrap_or(""))
            } else {
                or_dash(s.last_status.as_deref())
            };
            vec![
                s.id.to_string(),
                format!("#{} {}", s.prospect_id, s.prospect_name),
                s.platform.clone(),
                s.feed_url
                    .clone()
                    .unwrap_or_else(|| format!("(to discover on {})", s.page_url)),
                status,
                or_dash(s.last_error.as_deref()),
                output::at(s.next_poll_at, zone),
            ]
        })
        .collect();
    output::table(
        &[
            "ID",
            "PROSPECT",
            "PLATFORM",
            "FEED",
            "LAST STATUS",
            "LAST ERROR",
            "NEXT POLL (UTC)",
        ],
        &rows,
    );
    Ok(())
}

async fn test(app: &App, args: TestArgs) -> anyhow::Result<()> {
    let target = args.target.trim();
    let feed = if target.starts_with("http://") || target.starts_with("https://") {
        fetch_feed(app, target).await?
    } else if target.starts_with("file:") {
        // A file: URL names a local file, as a browser reads it.
        let path = url::Url::parse(target)
            .ok()
            .and_then(|url| url.to_file_path().ok())
            .ok_or_else(|| {
                input_error(format!(
                    "'{target}' is not a file URL; write it like file:///home/ann/feed.xml"
                ))
            })?;
        read_feed(app, &path)?
    } else {
        read_feed(app, &PathBuf::from(target))?
    };
    if app.json {
        return output::json(&feed);
    }
    print_feed(&feed);
    Ok(())
}

async fn fetch_feed(app: &App, target: &str) -> anyhow::Result<ParsedFeed> {
    Ok(crate::app::sources::test_url(&app.core(), target).await?)
}

/// A saved feed, read no further than the poller reads a response body.
fn read_feed(app: &App, path: &PathBuf) -> anyhow::Result<ParsedFeed> {
    let shown = path.display().to_string();
    let limit = crate::app::sources::max_feed_bytes(&app.core());
    let file = std::fs::File::open(path).map_err(|e| input_error(format!("cannot read {shown}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| input_error(format!("cannot read {shown}: {e}")))?;
    Ok(crate::app::sources::test_bytes(&app.core(), &bytes, &shown)?)
}

/// Feed text is the feed author's: printed without escape sequences.
fn print_feed(feed: &ParsedFeed) {
    println!(
        "{} ({} items)",
        printable(feed.title.as_deref().unwrap_or("(untitled feed)")),
        feed.items.len()
    );
    for item in &feed.items {
        let when = item
            .published
            .map_or("undated".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string());
        let headline = item
            .title
            .as_deref()
            .or(item.text.as_deref())
            .unwrap_or("(no title or text)");
        println!("- {when}  {}", printable(headline));
        println!("  id {}", printable(&item.id));
        if let Some(url) = &item.url {
            println!("  {}", printable(url));
        }
        if let Some(author) = &item.author {
            println!("  by {}", printable(author));
        }
    }
}

pub async fn poll(app: &App, args: PollArgs) -> anyhow::Result<()> {
    let prospect = match &args.prospect {
        Some(p) => {
            let reference: ProspectRef = p.parse().map_err(input_error)?;
            Some(crate::app::sources::prospect_to_poll(&app.core(), &app.actor(), &reference).await?)
        }
        None => None,
    };
    let poller = std::sync::Arc::new(crate::app::sources::poller(&app.core())?);
    // One signal future for the whole run, so a Ctrl-C during a pass counts too.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let bar = super::progress::spinner("feeds");
        // A pass runs as a task of its own, on the runtime's worker threads
        // as in the daemon (`crate::sources::poll::Poller::poll_due`'s doc
        // says why); dropped at a Ctrl-C, it is stopped there.
        let pass = {
            let (poller, bar) = (poller.clone(), bar.clone());
            tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                poller.poll_due(prospect, &|n| bar.inc(n)).await
            }))
        };
        let report = tokio::select! {
            report = pass => report,
            _ = &mut interrupted => return Ok(()),
        };
        bar.finish_and_clear();
        let report = match report {
            Ok(report) => report?,
            Err(stopped) if stopped.is_panic() => std::panic::resume_unwind(stopped.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => return Ok(()),
        };
        if app.json {
            output::json(&report)?;
        } else {
            println!(
                "polled {}: {}, {} unchanged, {} failed ({} broken)",
                output::counted(report.polled, "feed", "feeds"),
                output::counted(report.new_posts, "new post", "new posts"),
                report.unchanged,
                report.failed,
                report.broken
            );
            if report.waiting_for_host > 0 {
                println!(
                    "{} for their host's turn ([fetch.hosts] budgets; `rapport sources --hosts` shows how far behind each host is)",
                    output::counted(report.waiting_for_host, "poll waited", "polls waited")
                );
            }
        }
        if args.once || prospect.is_some() {
            return Ok(());
        }
        tokio::select! {
            _ = &mut interrupted => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}
