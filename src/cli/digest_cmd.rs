//! `rapport digest`: print a rep's daily digest without sending it.

use super::{input_error, output, App, RepArg};
use crate::digest::{digest_moment, prepare, DigestSender};
use crate::domain::digest::render;
use crate::domain::prospect::parse_date;
use crate::outbound::Mailer;
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
    // A date asked for is shown as it is (or would be) sent at the rep's
    // digest hour that day, unless --now says otherwise; today's as of now.
    let (date, now) = match &args.date {
        Some(text) => {
            let date = parse_date(text).map_err(input_error)?;
            let moment = digest_moment(&rep, date);
            (date, if app.now_given { app.now().min(moment) } else { moment })
        }
        None => (app.now().with_timezone(&rep.zone()).date_naive(), app.now()),
    };
    let input = prepare(app.store.as_ref(), &app.settings, &rep, date, now).await?;
    let digest = render(input).map_err(|e| anyhow::anyhow!(e))?;
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
    let sender = DigestSender::new(
        app.store.clone(),
        app.clock.clone(),
        app.settings.clone(),
        Mailer::from_settings(&app.settings)?,
    );
    let report = sender.run_pass().await?;
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
