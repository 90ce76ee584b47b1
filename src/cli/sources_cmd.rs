//! `rapport sources`: inspect feeds.

use super::output;
use super::{input_error, App};
use crate::sources::feed::{parse_feed, ParsedFeed};
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;

/// Largest feed file read, the same bound the poller puts on a response body.
const MAX_FEED_BYTES: u64 = 15 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Parse one saved feed file and print the feed and every item as rapport
    /// normalises them (id, url, title, text, published, author): for finding
    /// out why a feed shows nothing.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A saved RSS, Atom or JSON Feed file.
    pub file: PathBuf,
}

pub async fn run(app: &App, command: SourcesCommand) -> anyhow::Result<()> {
    match command {
        SourcesCommand::Test(args) => test(app, args),
    }
}

fn test(app: &App, args: TestArgs) -> anyhow::Result<()> {
    let shown = args.file.display().to_string();
    if shown.starts_with("http://") || shown.starts_with("https://") {
        return Err(input_error(format!(
            "'{shown}' is a URL; this version reads saved files only: save the feed (e.g. with curl -o feed.xml) and pass the file"
        )));
    }
    let file = std::fs::File::open(&args.file).map_err(|e| input_error(format!("cannot read {shown}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FEED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| input_error(format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_FEED_BYTES {
        return Err(input_error(format!(
            "{shown} is larger than {} MiB; that is not a feed",
            MAX_FEED_BYTES >> 20
        )));
    }
    let feed = parse_feed(&bytes, None).map_err(|e| input_error(format!("{shown}: {e}")))?;
    if app.json {
        return output::json(&feed);
    }
    print_feed(&feed);
    Ok(())
}

fn print_feed(feed: &ParsedFeed) {
    println!(
        "{} ({} items)",
        feed.title.as_deref().unwrap_or("(untitled feed)"),
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
        println!("- {when}  {headline}");
        println!("  id {}", item.id);
        if let Some(url) = &item.url {
            println!("  {url}");
        }
        if let Some(author) = &item.author {
            println!("  by {author}");
        }
    }
}
