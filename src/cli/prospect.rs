//! `rapport prospect ...` and `rapport log`.

use super::output::{self, or_dash};
use super::{cli_user, input_error, parse_rfc3339, App, RepArg};
use crate::app::prospects;
use crate::domain::money::{parse_currency, value_and_currency, Amount};
use crate::domain::profile::normalize_profile_url;
use crate::domain::prospect::{
    normalize_email, normalize_field_name, normalize_tag, optional_text, parse_date, required_text,
    validate_probability, validate_time_zone, Prospect, ProspectData, ProspectEdit, ProspectRef,
};
use crate::domain::text::printable;
use crate::store::RepScope;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use std::collections::BTreeMap;

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
    /// Deal value, e.g. 100000, 100,000 or 120k.
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

pub async fn run(app: &App, command: ProspectCommand) -> anyhow::Result<()> {
    match command {
        ProspectCommand::Add(args) => add(app, args).await,
        ProspectCommand::List(args) => super::prospect_lists::list(app, args).await,
        ProspectCommand::Show(args) => show(app, args).await,
        ProspectCommand::Edit(args) => edit(app, args).await,
        ProspectCommand::Move(args) => move_stage(app, args).await,
        ProspectCommand::Remove(args) => remove(app, args).await,
        ProspectCommand::Import(args) => super::prospect_lists::import_file(app, args).await,
        ProspectCommand::Export(args) => super::prospect_lists::export(app, args).await,
    }
}

fn parse_prospect_ref(text: &str) -> anyhow::Result<ProspectRef> {
    text.parse().map_err(input_error)
}

fn parse_fields(fields: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    fields
        .iter()
        .map(|f| {
            let (name, value) = f
                .split_once('=')
                .ok_or_else(|| input_error(format!("--field '{f}' needs the form NAME=VALUE")))?;
            Ok((
                normalize_field_name(name).map_err(input_error)?,
                value.trim().to_string(),
            ))
        })
        .collect()
}

async fn add(app: &App, args: AddArgs) -> anyhow::Result<()> {
    let rep = app.rep(&args.rep).await?;
    let cfg = &app.settings.config;
    let pipeline = app
        .settings
        .pipelines
        .get(args.pipeline.as_deref().unwrap_or(&cfg.pipelines.default))
        .map_err(input_error)?;
    let stage = match &args.stage {
        Some(s) => pipeline.resolve_stage(s).map_err(input_error)?,
        None => pipeline.first_stage(),
    };
    let bad = |m: String| input_error(m);
    // A value may name its currency (`$100,000`, `NOK 1 000 000`); it must agree with --currency.
    let (value, currency) = match args.value.as_deref() {
        Some(text) => {
            value_and_currency(text, args.currency.as_deref(), &cfg.prospects.default_currency).map_err(bad)?
        }
        None => (
            Amount::default(),
            parse_currency(args.currency.as_deref().unwrap_or(&cfg.prospects.default_currency)).map_err(bad)?,
        ),
    };
    let new_prospect = ProspectData {
        rep_id: rep.id,
        name: required_text("name", &args.name).map_err(bad)?,
        email: args.email.as_deref().map(normalize_email).transpose().map_err(bad)?,
        company: optional_text("company", args.company.as_deref()).map_err(bad)?,
        title: optional_text("title", args.title.as_deref()).map_err(bad)?,
        time_zone: args.tz.as_deref().map(validate_time_zone).transpose().map_err(bad)?,
        pipeline: pipeline.slug.clone(),
        stage: stage.slug.clone(),
        value,
        currency,
        probability_override: args.probability.map(validate_probability).transpose().map_err(bad)?,
        expected_close: args
            .expected_close
            .as_deref()
            .map(parse_date)
            .transpose()
            .map_err(bad)?,
        tags: args
            .tags
            .iter()
            .map(|t| normalize_tag(t))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        notes: args.notes.clone().filter(|n| !n.trim().is_empty()),
        custom_fields: parse_fields(&args.fields)?,
        profiles: args
            .profiles
            .iter()
            .map(|p| normalize_profile_url(p))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
    };
    let now = app.now();
    let id = app.store.create_prospect(&new_prospect, &cli_user(), now).await?;
    if let Some(email) = &new_prospect.email {
        if app.store.is_suppressed(email).await? {
            eprintln!("note: {email} is on the suppression list; rapport will never mail it");
        }
    }
    let stored = app.store.find_prospect(RepScope::Team, &ProspectRef::Id(id)).await?;
    if app.json {
        return output::json(&stored);
    }
    println!(
        "added prospect #{id} {} ({} / {})",
        stored.data.name, stored.data.pipeline, stored.data.stage
    );
    print_feed_notes(&stored);
    Ok(())
}

/// Says, for profiles rapport will not fetch, how engagement there is recorded.
fn print_feed_notes(prospect: &Prospect) {
    for profile in prospect
        .data
        .profiles
        .iter()
        .filter(|p| !p.platform.has_permitted_feed())
    {
        println!(
            "  {} ({}): no permitted feed; log engagement there with `rapport log {} {}.comment` or by webhook",
            profile.url, profile.platform, prospect.id, profile.platform
        );
    }
}

async fn show(app: &App, args: ShowArgs) -> anyhow::Result<()> {
    let prospect = app
        .store
        .find_prospect(RepScope::Team, &parse_prospect_ref(&args.prospect)?)
        .await?;
    let events = app.store.list_events(prospect.id).await?;
    let suppressed = match &prospect.data.email {
        Some(email) => app.store.is_suppressed(email).await?,
        None => false,
    };
    if app.json {
        return output::json(&serde_json::json!({ "prospect": prospect, "suppressed": suppressed, "events": events }));
    }
    let stage_name = app
        .settings
        .pipelines
        .get(&prospect.data.pipeline)
        .ok()
        .and_then(|p| p.stage(&prospect.data.stage))
        .map_or(prospect.data.stage.clone(), |s| {
            format!(
                "{} ({} %)",
                s.name,
                prospect.data.probability_override.unwrap_or(s.probability)
            )
        });
    // Names, notes and event texts come from imports, feeds and mail: printed without escape sequences.
    println!("#{} {}", prospect.id, printable(&prospect.data.name));
    let field = |label: &str, value: String| println!("  {:<15}{}", printable(label), printable(&value));
    let email = or_dash(prospect.data.email.as_deref());
    field(
        "email",
        if suppressed {
            format!("{email} (suppressed: never mailed)")
        } else {
            email
        },
    );
    if let Some(date) = prospect.away_until {
        field("away until", date.to_string());
    }
    field("company", or_dash(prospect.data.company.as_deref()));
    field("title", or_dash(prospect.data.title.as_deref()));
    field("stage", format!("{stage_name} in {}", prospect.data.pipeline));
    field("deal", format!("{} {}", prospect.data.value, prospect.data.currency));
    field(
        "expected close",
        prospect.data.expected_close.map_or("-".into(), |d| d.to_string()),
    );
    field("time zone", or_dash(prospect.data.time_zone.as_deref()));
    field("rep", prospect.rep_email.clone());
    field(
        "tags",
        if prospect.data.tags.is_empty() {
            "-".into()
        } else {
            prospect.data.tags.join(", ")
        },
    );
    for (name, value) in &prospect.data.custom_fields {
        field(name, value.clone());
    }
    if let Some(notes) = &prospect.data.notes {
        field("notes", notes.clone());
    }
    println!("profiles:");
    for profile in &prospect.data.profiles {
        let how = if profile.platform.has_permitted_feed() {
            ""
        } else {
            "  (logged by hand or webhook)"
        };
        println!(
            "  {:<10}{}{how}",
            profile.platform.as_str(),
            printable(profile.url.as_str())
        );
    }
    let zone = app.zone_of_rep(prospect.data.rep_id).await?;
    println!("timeline ({}):", zone.name());
    for e in &events {
        println!(
            "  {}  {:<18}{}  [{} {}]",
            output::at(e.occurred_at, zone),
            printable(&e.kind),
            printable(&describe_event(&e.data)),
            e.actor.kind(),
            printable(e.actor.name())
        );
    }
    Ok(())
}

fn describe_event(data: &serde_json::Value) -> String {
    let text = |key: &str| data.get(key).and_then(|v| v.as_str());
    let mut parts = Vec::new();
    if let Some(to) = text("to") {
        parts.push(format!("{} → {to}", text("from").unwrap_or("-")));
    } else if let Some(stage) = text("stage") {
        parts.push(format!("in {stage}"));
    }
    for key in ["reason", "note", "url"] {
        if let Some(value) = text(key) {
            parts.push(value.to_string());
        }
    }
    parts.join(" · ")
}

async fn edit(app: &App, args: EditArgs) -> anyhow::Result<()> {
    let prospect = app
        .store
        .find_prospect(RepScope::Team, &parse_prospect_ref(&args.prospect)?)
        .await?;
    let bad = |m: String| input_error(m);
    let clears = |f: ClearableField| args.clear.contains(&f);
    let clearable = |field: ClearableField, value: Option<String>| -> Option<Option<String>> {
        if clears(field) {
            Some(None)
        } else {
            value.map(Some)
        }
    };
    // A value that names its currency changes the deal's currency too, and must agree with --currency.
    let edited_value = match args.value.as_deref() {
        Some(text) => {
            let (value, written) = crate::domain::money::parse_money(text).map_err(bad)?;
            if let Some(written) = &written {
                value_and_currency(text, args.currency.as_deref(), written).map_err(bad)?;
            }
            Some((value, written))
        }
        None => None,
    };
    let edit = ProspectEdit {
        name: args
            .name
            .as_deref()
            .map(|n| required_text("name", n))
            .transpose()
            .map_err(bad)?,
        email: clearable(
            ClearableField::Email,
            args.email.as_deref().map(normalize_email).transpose().map_err(bad)?,
        ),
        company: clearable(
            ClearableField::Company,
            optional_text("company", args.company.as_deref()).map_err(bad)?,
        ),
        title: clearable(
            ClearableField::Title,
            optional_text("title", args.title.as_deref()).map_err(bad)?,
        ),
        time_zone: clearable(
            ClearableField::Tz,
            args.tz.as_deref().map(validate_time_zone).transpose().map_err(bad)?,
        ),
        value: edited_value.as_ref().map(|(value, _)| *value),
        currency: match &edited_value {
            Some((_, Some(written))) => Some(written.clone()),
            _ => args.currency.as_deref().map(parse_currency).transpose().map_err(bad)?,
        },
        probability_override: if clears(ClearableField::Probability) {
            Some(None)
        } else {
            args.probability
                .map(validate_probability)
                .transpose()
                .map_err(bad)?
                .map(Some)
        },
        expected_close: if clears(ClearableField::ExpectedClose) {
            Some(None)
        } else {
            args.expected_close
                .as_deref()
                .map(parse_date)
                .transpose()
                .map_err(bad)?
                .map(Some)
        },
        notes: clearable(ClearableField::Notes, args.notes.clone()),
        rep_id: match &args.owner {
            Some(r) => Some(app.rep(&RepArg { rep: Some(r.clone()) }).await?.id),
            None => None,
        },
        add_tags: args
            .add_tags
            .iter()
            .map(|t| normalize_tag(t))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        remove_tags: args.remove_tags.iter().map(|t| t.trim().to_lowercase()).collect(),
        set_fields: parse_fields(&args.fields)?,
        unset_fields: args
            .unset_fields
            .iter()
            .map(|f| normalize_field_name(f))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        add_profiles: args
            .add_profiles
            .iter()
            .map(|p| normalize_profile_url(p))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        remove_profiles: args
            .remove_profiles
            .iter()
            .map(|p| normalize_profile_url(p).map(|p| p.url))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
    };
    app.store
        .edit_prospect(RepScope::Team, prospect.id, &edit, app.now())
        .await?;
    let stored = app
        .store
        .find_prospect(RepScope::Team, &ProspectRef::Id(prospect.id))
        .await?;
    if app.json {
        return output::json(&stored);
    }
    println!("updated prospect #{} {}", stored.id, printable(&stored.data.name));
    Ok(())
}

async fn move_stage(app: &App, args: MoveArgs) -> anyhow::Result<()> {
    let input = prospects::MoveStage {
        prospect: parse_prospect_ref(&args.prospect)?,
        stage: args.stage,
        pipeline: args.pipeline,
        note: args.note,
    };
    let moved = prospects::move_stage(&app.core(), &app.actor(), input).await?;
    if moved.unchanged {
        println!("#{} {} is already in {}", moved.id, printable(&moved.name), moved.to);
        return Ok(());
    }
    if app.json {
        return output::json(&moved);
    }
    if moved.sequences_stopped > 0 {
        println!(
            "{} sequence(s) stopped: the prospect left their stages",
            moved.sequences_stopped
        );
    }
    println!(
        "moved #{} {}: {} → {}",
        moved.id,
        printable(&moved.name),
        moved.from,
        moved.to
    );
    Ok(())
}

async fn remove(app: &App, args: RemoveArgs) -> anyhow::Result<()> {
    let prospect = app
        .store
        .find_prospect(RepScope::Team, &parse_prospect_ref(&args.prospect)?)
        .await?;
    if !args.yes {
        return Err(input_error(format!(
            "this erases #{} {} and their whole history; run again with --yes to confirm",
            prospect.id, prospect.data.name
        )));
    }
    app.store.erase_prospect(RepScope::Team, prospect.id, app.now()).await?;
    println!(
        "erased prospect #{}{}",
        prospect.id,
        if prospect.data.email.is_some() {
            "; their address stays on the suppression list (as a hash) so it is never mailed"
        } else {
            ""
        }
    );
    Ok(())
}

pub async fn log(app: &App, args: LogArgs) -> anyhow::Result<()> {
    let input = prospects::LogEngagement {
        prospect: parse_prospect_ref(&args.prospect)?,
        kind: args.kind,
        note: args.note,
        url: args.url,
        at: args.at,
    };
    let logged = prospects::log_engagement(&app.core(), &app.actor(), input).await?;
    if app.json {
        return output::json(&logged);
    }
    let zone = app.zone_of_rep(logged.rep_id).await?;
    let kind = &logged.kind;
    if logged.added {
        println!(
            "logged {kind} for #{} {} at {}",
            logged.prospect,
            printable(&logged.name),
            output::at(logged.at, zone)
        );
    } else {
        println!(
            "already logged: {kind} for #{} at {}",
            logged.prospect,
            output::at(logged.at, zone)
        );
    }
    if logged.sequences_stopped > 0 {
        println!(
            "{} sequence(s) stopped (`rapport sequence status` shows why)",
            logged.sequences_stopped
        );
    }
    Ok(())
}
