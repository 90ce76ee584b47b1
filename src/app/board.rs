//! The board: one column per stage of a pipeline, with each column's count,
//! value and weighted value, and the cards a rep works from (value, days in
//! the stage, whether the deal is rotting, engagement, latest activity).
//! Filters narrow every column alike; a column shows its most engaged 50
//! cards unless asked for more.

use super::{invalid, prospect_lists, reps, Actor, AppResult, Core};
use crate::domain::event::kinds;
use crate::domain::money::Amount;
use crate::domain::pipeline::{Pipeline, Stage, StageKind};
use crate::domain::prospect::{Prospect, ProspectId, Rep};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Cards a column shows before "more".
pub const CARDS_PER_COLUMN: usize = 50;
/// The most cards one column shows when asked for more.
pub const MOST_CARDS: usize = 1_000;

/// What the latest-activity line of a card counts: what prospects did and
/// what the rep did with them, not bookkeeping.
const ACTIVITY: [&str; 9] = [
    kinds::POST,
    kinds::EMAIL_SENT,
    kinds::EMAIL_REPLIED,
    kinds::EMAIL_AUTO_REPLIED,
    kinds::EMAIL_BOUNCED,
    kinds::MEETING_BOOKED,
    kinds::PROPOSAL_SIGNED,
    kinds::FOLLOW_UP,
    kinds::EMAIL_UNSUBSCRIBED,
];

/// Which board to show.
#[derive(Debug, Clone, Default)]
pub struct BoardQuery {
    /// Default: the configured default pipeline.
    pub pipeline: Option<String>,
    /// One rep's deals (a manager's filter; a rep sees their own anyway).
    pub rep: Option<String>,
    pub tag: Option<String>,
    /// Text anywhere in the name, email, company or title.
    pub search: Option<String>,
    /// Show this many cards of one stage (slug), beyond the first 50.
    pub more: Option<(String, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub pipeline: Pipeline,
    /// The currency column values are summed in (deals in others are counted, not summed).
    pub currency: String,
    pub columns: Vec<Column>,
    /// The reps a manager may filter by (empty for a rep).
    pub reps: Vec<Rep>,
    /// The filter's rep, resolved.
    pub rep: Option<Rep>,
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub stage: Stage,
    pub count: usize,
    /// Open value (or closed value, for a won stage) in the board's currency.
    pub value: Amount,
    /// Value × win probability (each deal's own override first).
    pub weighted: Amount,
    /// The cards shown, most engaged first.
    pub cards: Vec<Card>,
    /// Cards not shown ("more").
    pub hidden: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: ProspectId,
    pub name: String,
    pub company: Option<String>,
    pub rep_email: String,
    pub value: Amount,
    pub currency: String,
    pub tags: Vec<String>,
    pub days_in_stage: i64,
    /// Longer in the stage than its `rotting_days`.
    pub rotting: bool,
    /// Engagement score now.
    pub score: f64,
    /// The latest activity's kind and time.
    pub latest: Option<(String, DateTime<Utc>)>,
}

/// The board as the actor may see it.
pub async fn board(core: &Core, actor: &Actor, query: &BoardQuery) -> AppResult<Board> {
    let settings = &core.settings;
    let slug = query
        .pipeline
        .clone()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| settings.config.pipelines.default.clone());
    let pipeline = settings.pipelines.get(&slug).map_err(invalid)?.clone();
    let team = reps::list(core).await?;
    let rep = match query.rep.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(wanted) => Some(reps::resolve(core, actor, Some(wanted)).await?),
        None => None,
    };
    let listed = prospect_lists::list(
        core,
        actor,
        &prospect_lists::Query {
            pipeline: Some(pipeline.slug.clone()),
            tag: query.tag.clone().filter(|t| !t.trim().is_empty()),
            search: query.search.clone().filter(|t| !t.trim().is_empty()),
            rep: rep.as_ref().map(|r| r.id),
            ..Default::default()
        },
    )
    .await?;
    let currency = settings.config.prospects.default_currency.clone();
    let mut by_stage: HashMap<&str, Vec<(Prospect, f64)>> = HashMap::new();
    for l in listed {
        if let Some(stage) = pipeline.stage(&l.prospect.data.stage) {
            by_stage
                .entry(stage.slug.as_str())
                .or_default()
                .push((l.prospect, l.score));
        }
    }
    let mut columns = Vec::with_capacity(pipeline.stages.len());
    let mut shown_ids = Vec::new();
    for stage in &pipeline.stages {
        let mut deals = by_stage.remove(stage.slug.as_str()).unwrap_or_default();
        let (value, weighted) = column_values(stage, &currency, &deals);
        // Most engaged first, then the larger deal, then the older prospect.
        deals.sort_by(|(a, sa), (b, sb)| {
            sb.total_cmp(sa)
                .then(b.data.value.cmp(&a.data.value))
                .then(a.id.cmp(&b.id))
        });
        let shown = match &query.more {
            Some((more, n)) if *more == stage.slug => (*n).clamp(CARDS_PER_COLUMN, MOST_CARDS),
            _ => CARDS_PER_COLUMN,
        };
        let count = deals.len();
        deals.truncate(shown);
        shown_ids.extend(deals.iter().map(|(p, _)| p.id));
        columns.push((stage.clone(), count, value, weighted, deals));
    }
    let recency = core.store.recency(actor.scope(), &shown_ids, &ACTIVITY).await?;
    let now = core.clock.now();
    let columns = columns
        .into_iter()
        .map(|(stage, count, value, weighted, deals)| {
            let cards: Vec<Card> = deals
                .into_iter()
                .map(|(p, score)| {
                    let facts = recency.get(&p.id).cloned().unwrap_or_default();
                    let days_in_stage = facts.in_stage_since.map_or(0, |since| (now - since).num_days().max(0));
                    Card {
                        rotting: stage
                            .rotting_days
                            .is_some_and(|limit| stage.kind == StageKind::Open && days_in_stage >= i64::from(limit)),
                        id: p.id,
                        name: p.data.name,
                        company: p.data.company,
                        rep_email: p.rep_email,
                        value: p.data.value,
                        currency: p.data.currency,
                        tags: p.data.tags,
                        days_in_stage,
                        score,
                        latest: facts.latest,
                    }
                })
                .collect();
            Column {
                hidden: count - cards.len(),
                stage,
                count,
                value,
                weighted,
                cards,
            }
        })
        .collect();
    Ok(Board {
        pipeline,
        currency,
        columns,
        reps: match actor {
            Actor::Rep { .. } => Vec::new(),
            _ => team,
        },
        rep,
        as_of: now,
    })
}

/// A column's value and weighted value in `currency`.
fn column_values(stage: &Stage, currency: &str, deals: &[(Prospect, f64)]) -> (Amount, Amount) {
    deals.iter().filter(|(p, _)| p.data.currency == currency).fold(
        (Amount::default(), Amount::default()),
        |(value, weighted), (p, _)| {
            let probability = match stage.kind {
                StageKind::Won => 100,
                StageKind::Lost => 0,
                StageKind::Open => p.data.probability_override.unwrap_or(stage.probability),
            };
            (value + p.data.value, weighted + p.data.value.percent(probability))
        },
    )
}

/// The latest event the actor may see (0 when none): the board reloads when it grows.
pub async fn latest_change(core: &Core, actor: &Actor) -> AppResult<i64> {
    Ok(core.store.latest_event_id(actor.scope()).await?)
}
