//! `rapport pipeline`: stages, totals and the forecast.

use super::output;
use super::App;
use crate::app::pipeline::PipelineForecast;
use crate::domain::forecast::Forecast;
use crate::domain::learned::LearnedStage;
use crate::domain::pipeline::StageKind;
use clap::Args;

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
    let actor = app.actor_for(args.rep.as_deref()).await?;
    let PipelineForecast {
        pipeline,
        main,
        other_currencies: others,
        other_pipelines,
        learned,
        unplaced,
    } = crate::app::pipeline::forecast(&app.core(), &actor, args.pipeline.as_deref(), args.learned).await?;
    let primary = &main.currency;
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
