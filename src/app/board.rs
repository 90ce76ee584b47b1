//! The board: one column per stage of a pipeline, with each column's count,
//! value and weighted value, and the cards a rep works from (value, days in
//! the stage, whether the deal is rotting, engagement, latest activity).
//! Filters narrow every column alike; a column shows its 50 largest deals
//! unless asked for more. Sized for a team: the columns are summed in the
//! database and only the cards shown are read.

use super::{invalid, reps, Actor, AppResult, Core};
use crate::domain::event::kinds;
use crate::domain::money::Amount;
use crate::domain::pipeline::{Pipeline, Stage, StageKind};
use crate::domain::prospect::{Prospect, ProspectId, Rep};
use crate::store::{ProspectFilter, StageSum};
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
    /// What their latest reply meant.
    pub reply: Option<crate::domain::records::ReplyReading>,
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
    let filter = ProspectFilter {
        pipeline: Some(pipeline.slug.clone()),
        tag: query
            .tag
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase),
        search: query.search.clone().filter(|t| !t.trim().is_empty()),
        rep: rep.as_ref().map(|r| r.id),
        ..ProspectFilter::default()
    };
    let scope = actor.scope();
    let currency = settings.config.prospects.default_currency.clone();
    let sums = core.store.stage_sums(scope, &filter).await?;
    let shown: Vec<(String, u32)> = pipeline
        .stages
        .iter()
        .map(|stage| {
            let n = match &query.more {
                Some((more, n)) if *more == stage.slug => (*n).clamp(CARDS_PER_COLUMN, MOST_CARDS),
                _ => CARDS_PER_COLUMN,
            };
            (stage.slug.clone(), n as u32)
        })
        .collect();
    let cards = core.store.stage_cards(scope, &filter, &shown).await?;
    let ids: Vec<ProspectId> = cards.iter().map(|p| p.id).collect();
    let now = core.clock.now();
    let since = now - chrono::Duration::days(crate::domain::score::WINDOW_DAYS);
    let scores = crate::domain::score::by_prospect(&core.store.activity_of(scope, &ids, since).await?, now);
    let recency = core.store.recency(scope, &ids, &ACTIVITY).await?;
    let mut by_stage: HashMap<String, Vec<Prospect>> = HashMap::new();
    for card in cards {
        by_stage.entry(card.data.stage.clone()).or_default().push(card);
    }
    let columns = pipeline
        .stages
        .iter()
        .map(|stage| {
            let stage_sums: Vec<&StageSum> = sums.iter().filter(|s| s.stage == stage.slug).collect();
            let count: usize = stage_sums.iter().map(|s| s.count as usize).sum();
            let (value, weighted) = column_values(stage, &currency, &stage_sums);
            let cards: Vec<Card> = by_stage
                .remove(&stage.slug)
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    let facts = recency.get(&p.id).cloned().unwrap_or_default();
                    let days_in_stage = facts.in_stage_since.map_or(0, |since| (now - since).num_days().max(0));
                    Card {
                        rotting: stage
                            .rotting_days
                            .is_some_and(|limit| stage.kind == StageKind::Open && days_in_stage >= i64::from(limit)),
                        score: scores.get(&p.id).copied().unwrap_or(0.0),
                        id: p.id,
                        name: p.data.name,
                        company: p.data.company,
                        rep_email: p.rep_email,
                        value: p.data.value,
                        currency: p.data.currency,
                        tags: p.data.tags,
                        days_in_stage,
                        latest: facts.latest,
                        reply: facts.reply,
                    }
                })
                .collect();
            Column {
                hidden: count.saturating_sub(cards.len()),
                stage: stage.clone(),
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

/// A column's value and weighted value in `currency`, from its sums.
fn column_values(stage: &Stage, currency: &str, sums: &[&StageSum]) -> (Amount, Amount) {
    sums.iter().filter(|s| s.currency == currency).fold(
        (Amount::default(), Amount::default()),
        |(value, weighted), s| {
            let probability = match stage.kind {
                StageKind::Won => 100,
                StageKind::Lost => 0,
                StageKind::Open => s.probability_override.unwrap_or(stage.probability),
            };
            (value + s.value, weighted + s.value.percent(probability))
        },
    )
}

/// The latest event the actor may see (0 when none): the board reloads when it grows.
pub async fn latest_change(core: &Core, actor: &Actor) -> AppResult<i64> {
    Ok(core.store.latest_event_id(actor.scope()).await?)
}
