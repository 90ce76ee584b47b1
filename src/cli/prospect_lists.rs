//! `rapport prospect list`, `import` and `export`: prospects in and out in
//! bulk, with the filters `list` and `export` share.

use super::output::{self, or_dash};
use super::{input_error, App, RepArg};
use crate::app::prospect_lists::{self, ImportRequest, Listed, Query};
use crate::domain::import;
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

/// The actor and query `list` and `export` share.
async fn query_of(app: &App, args: FilterArgs) -> anyhow::Result<(crate::app::Actor, Query)> {
    let actor = app.actor_for(args.rep.as_deref()).await?;
    let query = Query {
        stage: args.stage,
        pipeline: args.pipeline,
        tag: args.tag,
        search: args.search,
        limit: args.limit,
        ..Query::default()
    };
    Ok((actor, query))
}

pub async fn list(app: &App, args: ListArgs) -> anyhow::Result<()> {
    let (actor, query) = query_of(app, args.filter).await?;
    let listed = prospect_lists::list(&app.core(), &actor, &query).await?;
    if app.json {
        let mut shown = Vec::new();
        for Listed { prospect, score } in &listed {
            let mut value = serde_json::to_value(prospect)?;
            value["score"] = serde_json::json!(score);
            shown.push(value);
        }
        return output::json(&shown);
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|Listed { prospect: p, score }| {
            vec![
                p.id.to_string(),
                p.data.name.clone(),
                or_dash(p.data.company.as_deref()),
                or_dash(p.data.email.as_deref()),
                format!("{}/{}", p.data.pipeline, p.data.stage),
                format!("{} {}", p.data.value, p.data.currency),
                p.data.tags.join(","),
                format!("{score:.1}"),
            ]
        })
        .collect();
    output::table(
        &["ID", "NAME", "COMPANY", "EMAIL", "STAGE", "VALUE", "TAGS", "SCORE"],
        &rows,
    );
    Ok(())
}

pub async fn import_file(app: &App, args: ImportArgs) -> anyhow::Result<()> {
    let rep = app.rep(&args.rep).await?;
    let bytes =
        std::fs::read(&args.file).map_err(|e| input_error(format!("cannot read {}: {e}", args.file.display())))?;
    let file_name = args.file.display().to_string();
    let request = ImportRequest {
        bytes: &bytes,
        file_name: file_name.clone(),
        rep: &rep,
        pipeline: args.pipeline,
        stage: args.stage,
        strict: args.strict,
    };
    let progress = super::progress::steps("rows");
    let report = prospect_lists::import(&app.core(), &app.actor(), request, &progress)
        .await
        .map_err(|e| match e {
            // Batches are committed as they go; a rerun skips the people already in.
            crate::app::AppError::Store(e) if !e.is_input_error() => anyhow::Error::new(e).context(format!(
                "importing {file_name} stopped part-way; run the same import again to finish (rows already imported are skipped)"
            )),
            other => other.into(),
        })?;
    report_import(
        app,
        &file_name,
        &report.errors,
        &report.foreign_stages,
        report.outcome.as_ref(),
    )?;
    if report.outcome.is_none() {
        return Err(input_error(format!(
            "{file_name}: {} bad row(s); nothing was imported (--strict)",
            report.errors.len()
        )));
    }
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(input_error(format!(
            "{file_name}: {} bad row(s) were not imported; the good rows were",
            report.errors.len()
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
    let (actor, query) = query_of(app, args.filter).await?;
    let prospects = prospect_lists::find(&app.core(), &actor, &query).await?;
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    if app.json {
        serde_json::to_writer_pretty(&mut out, &prospects)?;
        writeln!(out)?;
        return Ok(());
    }
    let csv = crate::domain::export::to_csv(&prospects).map_err(anyhow::Error::msg)?;
    out.write_all(&csv)?;
    out.flush()?;
    Ok(())
}
