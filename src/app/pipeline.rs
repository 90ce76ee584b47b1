//! The pipeline's forecast: open, weighted and closed value per stage in the
//! primary currency (and apart in each other currency), the totals of the
//! other pipelines in use, and the stage probabilities learned from the
//! team's history when asked. The arithmetic is `domain::forecast` and
//! `domain::learned`; here it gets the actor's deals.

use super::{invalid, Actor, AppResult, Core};
use crate::domain::forecast::{Deal, Forecast, Totals};
use crate::domain::learned::{learn, LearnedStage};
use crate::domain::pipeline::Pipeline;
use crate::store::PipelineDeal;
use std::collections::BTreeMap;

/// A pipeline's forecast as the actor may see it.
#[derive(Debug, Clone)]
pub struct PipelineForecast {
    /// The pipeline as weighted (with the learned probabilities when asked).
    pub pipeline: Pipeline,
    /// In the primary currency.
    pub main: Forecast,
    pub other_currencies: Vec<Forecast>,
    /// The other pipelines holding deals, in the primary currency.
    pub other_pipelines: BTreeMap<String, Totals>,
    pub learned: Option<Vec<LearnedStage>>,
    /// Deals in a stage or pipeline the config no longer has (left out).
    pub unplaced: usize,
}

/// The forecast of `pipeline` (default: the configured default).
pub async fn forecast(
    core: &Core,
    actor: &Actor,
    pipeline: Option<&str>,
    learned: bool,
) -> AppResult<PipelineForecast> {
    let settings = &core.settings;
    let slug = pipeline.map_or_else(|| settings.config.pipelines.default.clone(), str::to_string);
    let configured = settings.pipelines.get(&slug).map_err(invalid)?;
    let scope = actor.scope();
    let learned = match learned {
        true => Some(learn(
            configured,
            &core.store.stage_paths(scope, &configured.slug).await?,
        )),
        false => None,
    };
    let pipeline = match &learned {
        Some(learned) => weighted_by(configured, learned),
        None => configured.clone(),
    };
    let all_deals = core.store.deals(scope).await?;
    let mut by_currency: BTreeMap<String, Vec<Deal>> = BTreeMap::new();
    for d in all_deals.iter().filter(|d| d.pipeline == pipeline.slug) {
        by_currency.entry(d.currency.clone()).or_default().push(d.deal.clone());
    }
    let primary = settings.config.prospects.default_currency.clone();
    let main = Forecast::compute(
        &pipeline,
        &primary,
        by_currency.get(&primary).map_or(&[][..], Vec::as_slice),
    );
    let other_currencies = by_currency
        .iter()
        .filter(|(currency, _)| **currency != primary)
        .map(|(currency, deals)| Forecast::compute(&pipeline, currency, deals))
        .collect();
    let other_pipelines = other_pipeline_totals(core, &all_deals, &pipeline.slug, &primary);
    let unplaced = unplaced_deals(core, &all_deals);
    Ok(PipelineForecast {
        pipeline,
        main,
        other_currencies,
        other_pipelines,
        learned,
        unplaced,
    })
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

/// Deals whose pipeline or stage is not in the config (a pipeline file edited after the fact).
fn unplaced_deals(core: &Core, deals: &[PipelineDeal]) -> usize {
    deals
        .iter()
        .filter(|d| {
            core.settings
                .pipelines
                .get(&d.pipeline)
                .map_or(true, |p| p.stage(&d.deal.stage).is_none())
        })
        .count()
}

/// Totals of the other pipelines that hold deals, in the primary currency.
fn other_pipeline_totals(core: &Core, deals: &[PipelineDeal], shown: &str, currency: &str) -> BTreeMap<String, Totals> {
    let mut grouped: BTreeMap<String, Vec<Deal>> = BTreeMap::new();
    for d in deals.iter().filter(|d| d.pipeline != shown && d.currency == currency) {
        grouped.entry(d.pipeline.clone()).or_default().push(d.deal.clone());
    }
    grouped
        .into_iter()
        .filter_map(|(slug, deals)| {
            let pipeline = core.settings.pipelines.get(&slug).ok()?;
            Some((slug, Forecast::compute(pipeline, currency, &deals).totals))
        })
        .collect()
}

/// How deals flow through `pipeline` (default: the configured default) in
/// the actor's scope: conversion and median days per stage, and the win rate.
pub async fn flow(core: &Core, actor: &Actor, pipeline: Option<&str>) -> AppResult<crate::domain::flow::Flow> {
    let settings = &core.settings;
    let slug = pipeline.map_or_else(|| settings.config.pipelines.default.clone(), str::to_string);
    let configured = settings.pipelines.get(&slug).map_err(invalid)?;
    let paths = core.store.stage_paths(actor.scope(), &configured.slug).await?;
    Ok(crate::domain::flow::flow(configured, &paths))
}
