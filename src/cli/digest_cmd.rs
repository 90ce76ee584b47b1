//! `rapport digest`: print a rep's daily digest without sending it.

use super::{input_error, output, App, RepArg};
use crate::automation::digest::{gather, zone};
use crate::domain::digest::render;
use crate::domain::prospect::parse_date;
use clap::Args;

#[derive(Debug, Args)]
pub struct DigestArgs {
    #[command(flatten)]
    pub rep: RepArg,
    /// The digest of this local date (YYYY-MM-DD; default: today in the rep's zone).
    #[arg(long)]
    pub date: Option<String>,
    /// Print the HTML version instead of the text.
    #[arg(long)]
    pub html: bool,
}

pub async fn run(app: &App, args: DigestArgs) -> anyhow::Result<()> {
    let rep = app.rep(&args.rep).await?;
    let date = match &args.date {
        Some(text) => parse_date(text).map_err(input_error)?,
        None => app.now().with_timezone(&zone(&rep)).date_naive(),
    };
    let input = gather(app.store.as_ref(), &app.settings, &rep, date, app.now(), None).await?;
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
