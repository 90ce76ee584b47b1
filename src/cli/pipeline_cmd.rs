//! `rapport pipeline`: stages, totals and the forecast.

use super::output;
use super::{input_error, App};
use crate::domain::forecast::{Deal, Forecast, Totals};
use crate::domain::learned::{learn, LearnedStage};
use crate::domain::pipeline::Pipeline;
use crate::domain::pipeline::StageKind;
use clap::Args;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Pipeline slug (default: [pipelines] default).
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Only this rep's deals (default: the whole team, with a line per rep).
    #[arg(long)]
    pub rep: Option<String>,
    /// Learn each stage's probability from the team's history (see the README
    /// for the method), show it beside the configured one, and weight the
    /// forecast with it.
    #[arg(long)]
    pub learned: bool,
}

pub async fn run(app: &App, args: PipelineArgs) -> anyhow::Result<()> {
    let slug = args
        .pipeline
        .clone()
        .unwrap_or_else(|| app.settings.config.pipelines.default.clone());
    let configured = app.settings.pipelines.get(&slug).map_err(input_error)?;
    let scope = app.scope(args.rep.as_deref()).await?;
    let learned = match args.learned {
        true => Some(learn(
            configured,
            &app.store.stage_paths(scope, &configured.slug).await?,
        )),
        false => None,
    };
    let with_learned = learned.as_deref().map(|l| weighted_by(configured, l));
    let pipeline = with_learned.as_ref().unwrap_or(configured);
    let all_deals = app.store.deals(scope).await?;
    let mut by_currency: BTreeMap<String, Vec<Deal>> = BTreeMap::new();
    for d in all_deals.iter().filter(|d| d.pipeline == pipeline.slug) {
        by_currency.entry(d.currency.clone()).or_default().push(d.deal.clone());
    }
    let primary = app.settings.config.prospects.default_currency.clone();
    let main = Forecast::compute(
        pipeline,
        &primary,
        by_currency.get(&primary).map_or(&[][..], Vec::as_slice),
    );
    let others: Vec<Forecast> = by_currency
        .iter()
        .filter(|(currency, _)| **currency != primary)
        .map(|(currency, deals)| Forecast::compute(pipeline, currency, deals))
        .collect();
    let other_pipelines = other_pipeline_totals(app, &all_deals, &pipeline.slug, &primary);
    let unplaced = unplaced_deals(app, &all_deals);
    if unplaced > 0 {
        eprintln!(
            "note: {unplaced} prospect(s) sit in a stage or pipeline the config no longer has and are left out; \
             find them with `rapport prospect list` and move them with `rapport prospect move`"
        );
    }
    if app.json {
        let mut value = serde_json::to_value(&main)?;
        value["other_currencies"] = serde_json::to_value(&others)?;
        value["other_pipelines"] = serde_json::to_value(&other_pipelines)?;
        value["probabilities"] = serde_json::json!(if learned.is_some() { "learned" } else { "configured" });
        if let Some(learned) = &learned {
            value["learned"] = serde_json::to_value(learned)?;
        }
        return output::json(&value);
    }
    if let Some(learned) = &learned {
        print_learned(learned);
    }
    print_forecast(&main, pipeline.name.as_str());
    for forecast in &others {
        println!();
        print_forecast(forecast, pipeline.name.as_str());
    }
    if !other_pipelines.is_empty() {
        println!();
        println!("other pipelines in use ({primary}):");
        for (slug, t) in &other_pipelines {
            println!(
                "  {slug:<20} open {}  weighted {}  closed {}",
                t.open_value, t.weighted_value, t.closed_value
            );
        }
    }
    Ok(())
}

/// The pipeline with each stage's probability replaced by the learned one.
fn weighted_by(pipeline: &Pipeline, learned: &[LearnedStage]) -> Pipeline {
    let mut copy = pipeline.clone();
    for stage in &mut copy.stages {
        if let Some(l) = learned.iter().find(|l| l.slug == stage.slug) {
            stage.probability = l.learned;
        }
    }
    copy
}

fn print_learned(learned: &[LearnedStage]) {
    println!("stage probabilities learned from decided prospects (the forecast below uses them):");
    let rows: Vec<Vec<String>> = learned
        .iter()
        .map(|l| {
            vec![
                l.slug.clone(),
                format!("{} %", l.configured),
                format!("{} %", l.learned),
                format!("{}/{}", l.won, l.reached),
            ]
        })
        .collect();
    output::table(&["STAGE", "CONFIGURED", "LEARNED", "WON/REACHED"], &rows);
    println!();
}

/// Deals whose pipeline or stage is not in the config (a pipeline file edited after the fact).
fn unplaced_deals(app: &App, deals: &[crate::store::PipelineDeal]) -> usize {
    deals
        .iter()
        .filter(|d| {
            app.settings
                .pipelines
                .get(&d.pipeline)
                .map_or(true, |p| p.stage(&d.deal.stage).is_none())
        })
        .count()
}

/// Totals of the other pipelines that hold deals, in the primary currency.
fn other_pipeline_totals(
    app: &App,
    deals: &[crate::store::PipelineDeal],
    shown: &str,
    currency: &str,
) -> BTreeMap<String, Totals> {
    let mut grouped: BTreeMap<String, Vec<Deal>> = BTreeMap::new();
    for d in deals.iter().filter(|d| d.pipeline != shown && d.currency == currency) {
        grouped.entry(d.pipeline.clone()).or_default().push(d.deal.clone());
    }
    grouped
        .into_iter()
        .filter_map(|(slug, deals)| {
            let pipeline = app.settings.pipelines.get(&slug).ok()?;
            Some((slug, Forecast::compute(pipeline, currency, &deals).totals))
        })
        .collect()
}

fn print_forecast(f: &Forecast, name: &str) {
    println!("{name} ({}), {}", f.pipeline, f.currency);
    let rows: Vec<Vec<String>> = f
        .stages
        .iter()
        .map(|s| {
            // Won deals are closed business, not a weighted bet; lost ones are neither.
            let (weighted, closed) = match s.kind {
                StageKind::Won => ("-".to_string(), s.value.to_string()),
                StageKind::Lost => ("-".to_string(), "-".to_string()),
                _ => (s.weighted_value.to_string(), "-".to_string()),
            };
            vec![
                s.slug.clone(),
                s.name.clone(),
                format!("{} %", s.probability),
                s.count.to_string(),
                s.value.to_string(),
                weighted,
                closed,
            ]
        })
        .collect();
    output::table(
        &["STAGE", "NAME", "PROB", "COUNT", "VALUE", "WEIGHTED", "CLOSED"],
        &rows,
    );
    println!();
    println!(
        "open {}   weighted {}   closed {}",
        f.totals.open_value, f.totals.weighted_value, f.totals.closed_value
    );
    let group = |title: &str, lines: &[crate::domain::forecast::GroupLine]| {
        if lines.is_empty() {
            return;
        }
        println!();
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| {
                vec![
                    l.key.clone(),
                    l.totals.count.to_string(),
                    l.totals.open_value.to_string(),
                    l.totals.weighted_value.to_string(),
                    l.totals.closed_value.to_string(),
                ]
            })
            .collect();
        output::table(&[title, "DEALS", "OPEN", "WEIGHTED", "CLOSED"], &rows);
    };
    group("QUARTER", &f.quarters);
    group("REP", &f.reps);
}
