//! `rapport digest`: print a rep's daily digest without sending it.

use super::{input_error, output, App, RepArg};
use crate::domain::prospect::parse_date;
use clap::Args;

#[derive(Debug, Args)]
pub struct DigestArgs {
    #[command(flatten)]
    pub rep: RepArg,
    /// The digest of this local date (YYYY-MM-DD; default: today in the rep's zone), as it is
    /// sent at the rep's digest hour that day (with --now: as of then, if earlier).
    #[arg(long)]
    pub date: Option<String>,
    /// Print the HTML version instead of the text.
    #[arg(long)]
    pub html: bool,
    /// Instead of printing: send every digest that is due now, to every rep
    /// (what the daemon's send-digests job does).
    #[arg(long, conflicts_with_all = ["date", "html"])]
    pub send: bool,
}

pub async fn run(app: &App, args: DigestArgs) -> anyhow::Result<()> {
    if args.send {
        return send_due(app).await;
    }
    let rep = app.rep(&args.rep).await?;
    let date = args.date.as_deref().map(parse_date).transpose().map_err(input_error)?;
    let digest = crate::app::digest::show(&app.core(), &rep, date, app.now_given).await?;
    if app.json {
        return output::json(&serde_json::json!({
            "subject": digest.subject, "text": digest.text, "html": digest.html, "empty": digest.empty,
        }));
    }
    match args.html {
        true => print!("{}", digest.html),
        false => print!("Subject: {}\n\n{}", digest.subject, digest.text),
    }
    Ok(())
}

async fn send_due(app: &App) -> anyhow::Result<()> {
    let report = crate::app::digest::send_due(&app.core()).await?;
    if app.json {
        output::json(&report)?;
    } else {
        println!("digests sent {}, left out (quiet day) {}", report.sent, report.skipped);
        for error in &report.errors {
            println!("  problem: {error}");
        }
    }
    match report.errors.len() {
        0 => Ok(()),
        n => Err(anyhow::anyhow!("{n} problem(s) while sending digests (see above)")),
    }
}
