//! `rapport prospect ...` and `rapport log`.

use super::output::{self, or_dash};
pub use super::prospect_args::*;
use super::{input_error, App};
use crate::app::{prospect_edit, prospects};
use crate::domain::prospect::{Prospect, ProspectRef};
use crate::domain::text::printable;

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

async fn add(app: &App, args: AddArgs) -> anyhow::Result<()> {
    let input = prospect_edit::AddProspect {
        rep: args.rep.rep,
        name: args.name,
        email: args.email,
        company: args.company,
        title: args.title,
        stage: args.stage,
        pipeline: args.pipeline,
        value: args.value,
        currency: args.currency,
        profiles: args.profiles,
        time_zone: args.tz,
        probability: args.probability,
        expected_close: args.expected_close,
        tags: args.tags,
        notes: args.notes,
        fields: args.fields,
    };
    let added = prospect_edit::add(&app.core(), &app.actor(), input).await?;
    let stored = &added.prospect;
    if added.suppressed {
        if let Some(email) = &stored.data.email {
            eprintln!("note: {email} is on the suppression list; rapport will never mail it");
        }
    }
    if app.json {
        return output::json(stored);
    }
    println!(
        "added prospect #{} {} ({} / {})",
        stored.id, stored.data.name, stored.data.pipeline, stored.data.stage
    );
    print_feed_notes(stored);
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
    let view = prospects::show(&app.core(), &app.actor(), &parse_prospect_ref(&args.prospect)?).await?;
    if app.json {
        return output::json(&view);
    }
    let prospects::ProspectView {
        prospect,
        suppressed,
        events,
        ..
    } = view;
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
            printable(&crate::domain::event::summary(&e.data)),
            e.actor.kind(),
            printable(e.actor.name())
        );
    }
    Ok(())
}

async fn edit(app: &App, args: EditArgs) -> anyhow::Result<()> {
    use prospect_edit::Clearable;
    let clear = args
        .clear
        .iter()
        .map(|field| match field {
            ClearableField::Email => Clearable::Email,
            ClearableField::Company => Clearable::Company,
            ClearableField::Title => Clearable::Title,
            ClearableField::Tz => Clearable::TimeZone,
            ClearableField::Probability => Clearable::Probability,
            ClearableField::ExpectedClose => Clearable::ExpectedClose,
            ClearableField::Notes => Clearable::Notes,
        })
        .collect();
    let input = prospect_edit::EditProspect {
        name: args.name,
        email: args.email,
        company: args.company,
        title: args.title,
        time_zone: args.tz,
        value: args.value,
        currency: args.currency,
        probability: args.probability,
        expected_close: args.expected_close,
        notes: args.notes,
        owner: args.owner,
        add_tags: args.add_tags,
        remove_tags: args.remove_tags,
        set_fields: args.fields,
        unset_fields: args.unset_fields,
        add_profiles: args.add_profiles,
        remove_profiles: args.remove_profiles,
        clear,
    };
    let reference = parse_prospect_ref(&args.prospect)?;
    let stored = prospect_edit::edit(&app.core(), &app.actor(), &reference, input).await?;
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
        final_value: args.value,
        ask_for_outcome: false,
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
    let reference = parse_prospect_ref(&args.prospect)?;
    let erased = prospects::erase(&app.core(), &app.actor(), &reference, args.yes).await?;
    println!(
        "erased prospect #{}{}",
        erased.id,
        if erased.had_email {
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
        external_id: None,
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
