//! `rapport mail`: classify a message file, or sync the reps' mailboxes.

use super::output;
use super::{input_error, App};
use crate::app::mail::UNVERIFIED_DAYS;
use crate::domain::mail::{classify, classify_in_zone, Classification};
use crate::domain::text::printable;
use crate::sources::mail::saved::{for_each_saved, is_single_message, read_stream, SavedMessage};
use crate::sources::mail::sync::{MailSync, SyncReport};
use crate::sources::mail::watch::{self, WithoutIdle};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Say what a message is (reply, out-of-office, bounce, unsubscribe, ...)
    /// and which signals decided it. Reads .eml files, Maildir or other
    /// folders, mbox files (or - for stdin); more than one message prints one
    /// JSON line each, with its file and position.
    Classify(ClassifyArgs),
    /// Read the configured mailboxes ([mailboxes.NAME]) into events.
    Sync(SyncArgs),
    /// Each watched folder: how far it has been read, when, and the last
    /// error; and the bounces, complaints and out-of-office answers of the
    /// last 30 days that could not be tied to mail sent (they changed nothing).
    Status,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Messages as saved from a mail client (.eml), folders of them (a
    /// Maildir), mbox files, or - for stdin.
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The reader's time zone (a rep's, as IANA name: Europe/Oslo): days a
    /// reply names ("in three weeks") count from its day there. Default: the
    /// day the sender wrote in the Date header.
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// One pass over every mailbox, then exit (default: keep watching, with IDLE, until Ctrl-C).
    #[arg(long)]
    pub once: bool,
}

/// How often `mail sync` re-reads a mailbox whose server has no IDLE.
const POLL_WITHOUT_IDLE: Duration = Duration::from_secs(60);

pub async fn run(app: &App, command: MailCommand) -> anyhow::Result<()> {
    match command {
        MailCommand::Classify(args) => classify_file(&args, app.clock.now().date_naive(), app.json),
        MailCommand::Sync(args) if args.once => sync_once(app).await,
        MailCommand::Sync(_) => sync_until_interrupted(app).await,
        MailCommand::Status => status(app).await,
    }
}

pub fn classify_file(args: &ClassifyArgs, today: NaiveDate, json: bool) -> anyhow::Result<()> {
    let zone = match args.zone.as_deref() {
        None => None,
        Some(name) => Some(name.parse::<chrono_tz::Tz>().map_err(|_| {
            input_error(format!(
                "--zone '{}' is not a time zone; give an IANA name such as Europe/Oslo or UTC",
                printable(name)
            ))
        })?),
    };
    let read = |raw: &[u8]| match zone {
        Some(zone) => classify_in_zone(raw, today, zone),
        None => classify(raw, today),
    };
    let from_stdin = args.files.len() == 1 && args.files.iter().all(|f| f.as_os_str() == "-");
    if !from_stdin && !is_single_message(&args.files) {
        return classify_many(
            |hand| {
                for_each_saved(&args.files, hand);
            },
            read,
        );
    }
    let file = args
        .files
        .first()
        .map(PathBuf::as_path)
        .unwrap_or(std::path::Path::new("-"));
    // Read as a saved file is: an mbox on stdin streams message by message, a
    // single message is bounded in size.
    let mut reader: Box<dyn std::io::BufRead> = if from_stdin {
        Box::new(std::io::BufReader::new(std::io::stdin().lock()))
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(file).map_err(|e| {
            input_error(format!(
                "cannot read {}: {e}; give the path of a saved .eml message, a Maildir or an mbox",
                file.display()
            ))
        })?))
    };
    if from_stdin && reader.fill_buf()?.starts_with(b"From ") {
        return classify_many(|mut hand| read_stream(file, reader, &mut hand), read);
    }
    let mut single = None;
    read_stream(file, reader, &mut |message| single = Some(message.raw));
    let raw = single
        .unwrap_or_else(|| Ok(Vec::new()))
        .map_err(|e| input_error(format!("{}: {e}", file.display())))?;
    let reading = read(&raw).map_err(|e| input_error(format!("{}: {e}", file.display())))?;
    if json {
        return output::json(&reading);
    }
    print_reading(&reading);
    Ok(())
}

/// One line of `mail classify` over many messages: where the message was and
/// what it is, or why it could not be read.
#[derive(serde::Serialize)]
struct MessageLine<'a> {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    reading: Option<&'a Classification>,
}

/// Every message of every input, one JSON line each, in order; a message that
/// cannot be read or is not mail gets a line with `error` and the rest go on.
fn classify_many(
    messages: impl FnOnce(&mut dyn FnMut(SavedMessage)),
    read: impl Fn(&[u8]) -> Result<Classification, crate::domain::mail::ClassifyError>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    let mut written: std::io::Result<()> = Ok(());
    let mut total = 0usize;
    messages(&mut |message| {
        total += 1;
        let result = message.raw.and_then(|raw| read(&raw).map_err(|e| e.to_string()));
        let (reading, error) = match &result {
            Ok(reading) => (Some(reading), None),
            Err(e) => {
                failed += 1;
                (None, Some(e.clone()))
            }
        };
        let line = MessageLine {
            file: message.file.display().to_string(),
            position: message.position,
            error,
            reading,
        };
        if written.is_ok() {
            written = serde_json::to_writer(&mut out, &line)
                .map_err(std::io::Error::other)
                .and_then(|()| out.write_all(b"\n"));
        }
    });
    written.and_then(|()| out.flush())?;
    match (failed, total) {
        (_, 0) => Err(input_error(
            "no messages found; give .eml files, a Maildir or other folder of messages, or an mbox file".to_string(),
        )),
        (0, _) => Ok(()),
        (failed, total) => Err(input_error(format!(
            "{failed} of {total} messages could not be classified; each has a line with \"error\" saying why"
        ))),
    }
}

/// Everything here comes from the message: printed without escape sequences.
fn print_reading(reading: &Classification) {
    println!("class: {}", reading.class.as_str());
    for reason in &reading.reasons {
        println!("  because {}", printable(reason));
    }
    for recipient in &reading.recipients {
        println!(
            "recipient: {} (status {}, {}, {})",
            printable(&recipient.address),
            printable(recipient.status.as_deref().unwrap_or("-")),
            if recipient.hard { "hard" } else { "soft" },
            crate::domain::mail::name_of(&recipient.reason)
        );
    }
    if reading.sender_problem {
        println!("sender problem: the receiving server refused the sender (policy or reputation), not the address");
    }
    if let Some(date) = reading.return_date {
        println!("back on: {date}");
    }
    if let Some(text) = reading.text.as_deref().filter(|t| !t.is_empty()) {
        println!("text:\n{}", printable(text));
    }
}

fn mail_sync(app: &App) -> anyhow::Result<MailSync> {
    Ok(crate::app::mail::sync(&app.core())?)
}

async fn sync_once(app: &App) -> anyhow::Result<()> {
    let progress = super::progress::working("reading mailboxes");
    let report = mail_sync(app)?.sync_all().await;
    progress.finish_and_clear();
    print_report(app, &report)?;
    match report.errors.first() {
        None => Ok(()),
        Some(_) => Err(anyhow::anyhow!("{}", report.errors.join("\n"))),
    }
}

fn print_report(app: &App, report: &SyncReport) -> anyhow::Result<()> {
    if app.json {
        return output::json(report);
    }
    println!(
        "synced {} ({}): {} from {} ({} read whole), {} unreadable skipped{}",
        output::counted(report.mailboxes as u64, "mailbox", "mailboxes"),
        output::counted(report.folders as u64, "folder", "folders"),
        output::counted(report.new_events, "new event", "new events"),
        output::counted(report.headers_fetched, "message", "messages"),
        report.messages_fetched,
        report.unreadable,
        if report.resynced_folders > 0 {
            format!(
                ", {} again after a UIDVALIDITY change",
                output::counted(report.resynced_folders as u64, "folder read", "folders read")
            )
        } else {
            String::new()
        },
    );
    Ok(())
}

async fn sync_until_interrupted(app: &App) -> anyhow::Result<()> {
    let sync = mail_sync(app)?;
    let (stop_watchers, stop) = tokio::sync::watch::channel(false);
    let mut watchers = tokio::task::JoinSet::new();
    for (name, config) in &app.settings.config.mailboxes {
        let without_idle = WithoutIdle::Poll(POLL_WITHOUT_IDLE);
        watchers.spawn(watch::watch(
            sync.clone(),
            name.clone(),
            config.clone(),
            without_idle,
            stop.clone(),
        ));
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { while watchers.join_next().await.is_some() {} } => {}
    }
    // Stop between batches, so no folder stays held.
    let _ = stop_watchers.send(true);
    while watchers.join_next().await.is_some() {}
    Ok(())
}

async fn status(app: &App) -> anyhow::Result<()> {
    let (folders, unverified) = crate::app::mail::status(&app.core(), &app.actor()).await?;
    if app.json {
        return output::json(&serde_json::json!({ "folders": folders, "unverified": unverified }));
    }
    if folders.is_empty() {
        println!("no folder has been read yet; configure [mailboxes.NAME] and run `rapport mail sync --once`");
    }
    let now = app.clock.now();
    let zone = app.zone(None).await?;
    let rows: Vec<Vec<String>> = folders
        .iter()
        .map(|f| {
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".into(), |t| output::at(t, zone));
            let reading = if f.lease_until.is_some_and(|t| t > now) {
                "reading now"
            } else {
                ""
            };
            vec![
                f.mailbox.clone(),
                f.folder.clone(),
                f.last_uid.to_string(),
                when(f.last_sync_at),
                output::or_dash(f.last_error.as_deref()),
                reading.to_string(),
            ]
        })
        .collect();
    output::table(&["MAILBOX", "FOLDER", "LAST UID", "LAST SYNC", "LAST ERROR", ""], &rows);
    if !unverified.is_empty() {
        println!(
            "\n{} unverified report(s) in the last {UNVERIFIED_DAYS} days: they named a prospect but could not be \
             tied to mail sent to them, so they changed nothing (no suppression, stop, snooze or pause):",
            unverified.len()
        );
        let rows: Vec<Vec<String>> = unverified
            .iter()
            .map(|u| {
                vec![
                    output::at(u.received_at, zone),
                    u.report.replace('_', "-"),
                    output::or_dash(u.prospect_email.as_deref()),
                    output::or_dash(Some(&u.from)),
                    format!("unverified: {}", u.why),
                ]
            })
            .collect();
        output::table(&["RECEIVED", "REPORT", "PROSPECT", "FROM", "WHY"], &rows);
    }
    Ok(())
}
