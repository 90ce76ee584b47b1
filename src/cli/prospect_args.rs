//! `rapport prospect`'s subcommands and their arguments, as the command
//! line reads them (the handlers are in `prospect.rs`).

use super::{parse_rfc3339, RepArg};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum ProspectCommand {
    /// Add one prospect. Needs a name; give an email and/or profile URLs so rapport can follow them.
    Add(AddArgs),
    /// List prospects, optionally by stage, pipeline or tag.
    List(super::prospect_lists::ListArgs),
    /// Show a prospect: details, profiles, stage, and the timeline of events.
    Show(ShowArgs),
    /// Change a prospect's details. Stages change with `move`, so each change is recorded.
    Edit(EditArgs),
    /// Move a prospect to another stage, recording who did it and why.
    Move(MoveArgs),
    /// Erase a prospect's personal data. A hash of the address is kept so it is never mailed again.
    Remove(RemoveArgs),
    /// Import prospects from CSV (Sales Navigator, LinkedIn, Apollo, HubSpot and plain exports).
    ///
    /// Headers are matched case-insensitively with common aliases ("First Name", "Email Address",
    /// "Company Name", "LinkedIn URL", "Person Linkedin Url", ...); other columns become custom
    /// fields. People already present (same email, else same profile URL) are skipped, so
    /// importing a file twice changes nothing. Bad rows are reported by line while good rows are
    /// imported (exit code 2 when any row was bad); with --strict nothing is imported if any row is bad.
    Import(super::prospect_lists::ImportArgs),
    /// Export prospects as CSV (or JSON with --json) that `import` reads back.
    Export(super::prospect_lists::ExportArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Full name, e.g. "Jane Doe".
    #[arg(long)]
    pub name: String,
    /// Email address (needed for sequences; one prospect per address).
    #[arg(long)]
    pub email: Option<String>,
    /// Company name.
    #[arg(long)]
    pub company: Option<String>,
    /// Job title.
    #[arg(long)]
    pub title: Option<String>,
    /// Stage slug or name (default: the pipeline's first stage).
    #[arg(long)]
    pub stage: Option<String>,
    /// Pipeline slug (default: [pipelines] default).
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Deal value as people write it: 100000, $100,000, 120k, 1.5M, €50 000, NOK 1 000 000.
    #[arg(long)]
    pub value: Option<String>,
    /// Currency code (default: [prospects] default_currency).
    #[arg(long)]
    pub currency: Option<String>,
    /// A social profile or website URL; repeat for several.
    #[arg(long = "profile", value_name = "URL")]
    pub profiles: Vec<String>,
    /// The prospect's IANA time zone.
    #[arg(long)]
    pub tz: Option<String>,
    /// Win probability for this deal, overriding the stage's (0-100).
    #[arg(long)]
    pub probability: Option<i64>,
    /// Expected close date, YYYY-MM-DD.
    #[arg(long)]
    pub expected_close: Option<String>,
    /// A tag (lower-cased); repeat for several.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Free-text notes.
    #[arg(long)]
    pub notes: Option<String>,
    /// A custom field, NAME=VALUE; repeat for several.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Prospect id or email address.
    pub prospect: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClearableField {
    Email,
    Company,
    Title,
    Tz,
    Probability,
    ExpectedClose,
    Notes,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Prospect id or email address.
    pub prospect: String,
    /// New full name.
    #[arg(long)]
    pub name: Option<String>,
    /// New email address.
    #[arg(long)]
    pub email: Option<String>,
    /// New company name.
    #[arg(long)]
    pub company: Option<String>,
    /// New job title.
    #[arg(long)]
    pub title: Option<String>,
    /// The prospect's IANA time zone, e.g. Europe/Oslo.
    #[arg(long)]
    pub tz: Option<String>,
    /// Deal value as people write it: 100000, $100,000, 120k, 1.5M, €50 000.
    #[arg(long)]
    pub value: Option<String>,
    /// Currency code, e.g. USD, EUR, NOK.
    #[arg(long)]
    pub currency: Option<String>,
    /// Win probability for this deal, overriding the stage's (0-100).
    #[arg(long)]
    pub probability: Option<i64>,
    /// Expected close date, YYYY-MM-DD.
    #[arg(long)]
    pub expected_close: Option<String>,
    /// Free-text notes (replace the old ones).
    #[arg(long)]
    pub notes: Option<String>,
    /// Hand the prospect to another rep (id, email or name).
    #[arg(long = "owner", value_name = "REP")]
    pub owner: Option<String>,
    /// Add a tag; repeat for several.
    #[arg(long = "add-tag")]
    pub add_tags: Vec<String>,
    /// Remove a tag; repeat for several.
    #[arg(long = "remove-tag")]
    pub remove_tags: Vec<String>,
    /// Set a custom field, NAME=VALUE; repeat for several.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// Remove a custom field; repeat for several.
    #[arg(long = "unset-field", value_name = "NAME")]
    pub unset_fields: Vec<String>,
    /// Add a social profile or website URL; repeat for several.
    #[arg(long = "add-profile", value_name = "URL")]
    pub add_profiles: Vec<String>,
    /// Remove a profile URL; repeat for several.
    #[arg(long = "remove-profile", value_name = "URL")]
    pub remove_profiles: Vec<String>,
    /// Clear an optional field.
    #[arg(long = "clear", value_enum)]
    pub clear: Vec<ClearableField>,
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// Prospect id or email address.
    pub prospect: String,
    /// Stage slug or name.
    pub stage: String,
    /// Why: recorded with the stage change.
    #[arg(long)]
    pub note: Option<String>,
    /// Move into another pipeline at the same time.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// What the deal closed at, for a move to a won stage (like 120000 or "120000 USD").
    #[arg(long)]
    pub value: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Prospect id or email address.
    pub prospect: String,
    /// Confirm the erasure (it cannot be undone).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Prospect id or email address.
    pub prospect: String,
    /// What happened: call, meeting.booked, meeting.held, proposal.sent, proposal.signed,
    /// email.replied (a reply rapport's mailbox sync cannot see; stops sequences),
    /// linkedin.comment, linkedin.like, linkedin.message, x.reply, social.comment, note, ...;
    /// or a kind declared under [events] in the config or named by the rules.
    pub kind: String,
    /// What was said or done, in a few words (for email.replied: the reply's text).
    #[arg(long)]
    pub note: Option<String>,
    /// Link to the post, comment or recording.
    #[arg(long)]
    pub url: Option<String>,
    /// When it happened (RFC 3339; default: now).
    #[arg(long, value_parser = parse_rfc3339)]
    pub at: Option<DateTime<Utc>>,
}
