//! `rapport prospect list`, `import` and `export`: prospects in and out in
//! bulk, with the filters `list` and `export` share.

use super::output::{self, or_dash};
use super::{input_error, App, RepArg};
use crate::domain::event::Actor;
use crate::domain::import::{self, ImportDefaults, EXPORT_HEADER};
use crate::domain::prospect::ProspectId;
use crate::store::{ProspectFilter, RepScope};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Which prospects `list` and `export` take.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only prospects in this stage (slug or name, e.g. proposal or "Proposal sent").
    #[arg(long)]
    pub stage: Option<String>,
    /// Only prospects in this pipeline (default, real-estate, financial-services, startup, ...).
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Only prospects with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only prospects whose name, email, company or title contains this text (any case).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// At most this many prospects (the oldest first).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Only this rep's prospects (default: everyone's).
    #[arg(long)]
    pub rep: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A CSV file: rapport's own export, or a Sales Navigator, LinkedIn, Apollo or HubSpot export.
    pub file: PathBuf,
    /// Import nothing if any row is bad.
    #[arg(long)]
    pub strict: bool,
    /// Pipeline for rows without a pipeline column.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Stage for rows without a stage column.
    #[arg(long)]
    pub stage: Option<String>,
    #[command(flatten)]
    pub rep: RepArg,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// The scope and filter `list` and `export` share; a stage that does not
/// exist is an error listing the stages, not an empty list.
async fn filter_of(app: &App, args: FilterArgs) -> anyhow::Result<(RepScope, ProspectFilter)> {
    let scope = app.scope(args.rep.as_deref()).await?;
    let pipelines = &app.settings.pipelines;
    if let Some(p) = &args.pipeline {
        pipelines.get(p).map_err(input_error)?;
    }
    // A stage by slug or name, in the pipeline given, else in any.
    let stage = match &args.stage {
        None => None,
        Some(wanted) => {
            let found = match &args.pipeline {
                Some(p) => pipelines
                    .get(p)
                    .map_err(input_error)?
                    .resolve_stage(wanted)
                    .map(|s| s.slug.clone()),
                None => pipelines
                    .iter()
                    .find_map(|p| p.resolve_stage(wanted).ok().map(|s| s.slug.clone()))
                    .ok_or_else(|| {
                        let default = pipelines.get(&app.settings.config.pipelines.default);
                        let listed = default.map(|p| p.stage_slugs().join(", ")).unwrap_or_default();
                        format!(
                            "'{wanted}' is not a stage of any pipeline; stages of '{}': {listed} \
                             (other pipelines: --pipeline NAME)",
                            app.settings.config.pipelines.default
                        )
                    }),
            };
            Some(found.map_err(input_error)?)
        }
    };
    if args.limit == Some(0) {
        return Err(input_error("--limit 0 would list nobody; give 1 or more"));
    }
    let filter = ProspectFilter {
        pipeline: args.pipeline,
        stage,
        tag: args.tag.map(|t| t.to_lowercase()),
        search: args.search,
        limit: args.limit,
        ids: None,
    };
    Ok((scope, filter))
}

pub async fn list(app: &App, args: ListArgs) -> anyhow::Result<()> {
    let (scope, filter) = filter_of(app, args.filter).await?;
    let prospects = app.store.list_prospects(scope, &filter).await?;
    let scores = engagement_scores(app, scope).await?;
    let score_of = |id: ProspectId| scores.get(&id).copied().unwrap_or(0.0);
    if app.json {
        let mut listed = Vec::new();
        for p in &prospects {
            let mut value = serde_json::to_value(p)?;
            value["score"] = serde_json::json!(score_of(p.id));
            listed.push(value);
        }
        return output::json(&listed);
    }
    let rows: Vec<Vec<String>> = prospects
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.data.name.clone(),
                or_dash(p.data.company.as_deref()),
                or_dash(p.data.email.as_deref()),
                format!("{}/{}", p.data.pipeline, p.data.stage),
                format!("{} {}", p.data.value, p.data.currency),
                p.data.tags.join(","),
                format!("{:.1}", score_of(p.id)),
            ]
        })
        .collect();
    output::table(
        &["ID", "NAME", "COMPANY", "EMAIL", "STAGE", "VALUE", "TAGS", "SCORE"],
        &rows,
    );
    Ok(())
}

/// Every prospect's engagement score now.
async fn engagement_scores(app: &App, scope: RepScope) -> anyhow::Result<std::collections::HashMap<ProspectId, f64>> {
    let now = app.now();
    let since = now - chrono::Duration::days(crate::domain::score::WINDOW_DAYS);
    let activity = app.store.activity_since(scope, since).await?;
    Ok(crate::domain::score::by_prospect(&activity, now))
}

pub async fn import_file(app: &App, args: ImportArgs) -> anyhow::Result<()> {
    let rep = app.rep(&args.rep).await?;
    let bytes =
        std::fs::read(&args.file).map_err(|e| input_error(format!("cannot read {}: {e}", args.file.display())))?;
    let cfg = &app.settings.config;
    let defaults = ImportDefaults {
        pipelines: &app.settings.pipelines,
        pipeline: args.pipeline.clone().unwrap_or_else(|| cfg.pipelines.default.clone()),
        stage: args.stage.clone(),
        currency: cfg.prospects.default_currency.clone(),
    };
    app.settings.pipelines.get(&defaults.pipeline).map_err(input_error)?;
    let file_name = args.file.display().to_string();
    let mut parsed = import::parse_csv(&bytes, &defaults).map_err(|m| input_error(format!("{file_name}: {m}")))?;
    for row in &mut parsed.rows {
        row.prospect.rep_id = rep.id;
    }
    if args.strict && !parsed.errors.is_empty() {
        report_import(app, &file_name, &parsed.errors, &parsed.foreign_stages, None)?;
        return Err(input_error(format!(
            "{file_name}: {} bad row(s); nothing was imported (--strict)",
            parsed.errors.len()
        )));
    }
    let progress = super::progress::bar(parsed.rows.len() as u64, "rows");
    let now = app.now();
    let actor = Actor::Import(file_name.clone());
    let outcome = app
        .store
        .import_prospects(&parsed.rows, &actor, now, &|n| progress.inc(n))
        .await;
    progress.finish_and_clear();
    // Batches are committed as they go; a rerun skips the people already in.
    let outcome = outcome.with_context(|| {
        format!("importing {file_name} stopped part-way; run the same import again to finish (rows already imported are skipped)")
    })?;
    report_import(app, &file_name, &parsed.errors, &parsed.foreign_stages, Some(&outcome))?;
    if parsed.errors.is_empty() {
        Ok(())
    } else {
        Err(input_error(format!(
            "{file_name}: {} bad row(s) were not imported; the good rows were",
            parsed.errors.len()
        )))
    }
}

fn report_import(
    app: &App,
    file: &str,
    errors: &[import::RowError],
    foreign_stages: &std::collections::BTreeSet<String>,
    outcome: Option<&crate::store::ImportOutcome>,
) -> anyhow::Result<()> {
    let imported = outcome.map_or(0, |o| o.imported.len());
    let present = outcome.map_or(0, |o| o.already_present.len());
    if app.json {
        let errors: Vec<_> = errors
            .iter()
            .map(|e| serde_json::json!({ "line": e.line, "reason": e.reason }))
            .collect();
        return output::json(&serde_json::json!({
            "file": file, "imported": imported, "already_present": present, "bad_rows": errors,
            "foreign_stages": foreign_stages,
        }));
    }
    println!(
        "{file}: imported {imported}, already present {present}, bad rows {}",
        errors.len()
    );
    if !foreign_stages.is_empty() {
        let listed = foreign_stages.iter().cloned().collect::<Vec<_>>().join(", ");
        println!("  note: Stage values that are not stages here were kept as the custom field 'stage': {listed}");
    }
    for e in errors {
        println!("  line {}: {}", e.line, e.reason);
    }
    Ok(())
}

pub async fn export(app: &App, args: ExportArgs) -> anyhow::Result<()> {
    let (scope, filter) = filter_of(app, args.filter).await?;
    let prospects = app.store.list_prospects(scope, &filter).await?;
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    if app.json {
        serde_json::to_writer_pretty(&mut out, &prospects)?;
        writeln!(out)?;
        return Ok(());
    }
    let custom = import::custom_field_columns(prospects.iter().map(|p| &p.data.custom_fields));
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(
        EXPORT_HEADER
            .iter()
            .map(|h| h.to_string())
            .chain(custom.iter().cloned()),
    )?;
    for p in &prospects {
        let profiles = p
            .data
            .profiles
            .iter()
            .map(|x| x.given.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let mut record = vec![
            p.id.to_string(),
            p.data.name.clone(),
            p.data.email.clone().unwrap_or_default(),
            p.data.company.clone().unwrap_or_default(),
            p.data.title.clone().unwrap_or_default(),
            profiles,
            p.data.pipeline.clone(),
            p.data.stage.clone(),
            format!("{}", p.data.value.as_units()),
            p.data.currency.clone(),
            p.data.probability_override.map(|x| x.to_string()).unwrap_or_default(),
            p.data.expected_close.map(|d| d.to_string()).unwrap_or_default(),
            p.data.time_zone.clone().unwrap_or_default(),
            p.data.tags.join(";"),
            p.data.notes.clone().unwrap_or_default(),
            p.rep_email.clone(),
        ];
        record.extend(
            custom
                .iter()
                .map(|c| p.data.custom_fields.get(c).cloned().unwrap_or_default()),
        );
        // Spreadsheets must show every cell as text, never run it as a formula.
        writer.write_record(
            record
                .iter()
                .map(|cell| crate::domain::spreadsheet::guard(cell).into_owned()),
        )?;
    }
    writer.flush()?;
    Ok(())
}
