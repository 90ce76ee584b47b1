//! Gathering one rep's digest from the store: what happened in the day
//! before the digest's moment (the rep's digest hour on that local date),
//! what is due, what waits for the rep, and the pipeline.

use crate::config::Settings;
use crate::domain::digest::{BrokenSource, DigestInput, Paused, PipelineSummary, Post, Reply, Suggestion, Task, Who};
use crate::domain::event::Event;
use crate::domain::forecast::Forecast;
use crate::domain::mail::EMAIL_REPLIED;
use crate::domain::money::Amount;
use crate::domain::prospect::{Prospect, ProspectId, Rep};
use crate::domain::score::score;
use crate::domain::sequence::timing::resolve;
use crate::domain::text::excerpt;
use crate::sources::poll::POST;
use crate::store::{ProspectFilter, RepScope, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// How far back activity counts toward the engagement score.
const SCORE_WINDOW_DAYS: i64 = 120;

/// The moment a rep's digest for `date` is due: their digest hour, local time
/// (the first moment after it when a DST change skips that hour).
pub fn digest_moment(rep: &Rep, date: NaiveDate) -> DateTime<Utc> {
    let zone = zone(rep);
    let hour = NaiveTime::from_hms_opt(u32::from(rep.digest_hour), 0, 0).unwrap_or(NaiveTime::MIN);
    resolve(date.and_time(hour), zone)
}

pub fn zone(rep: &Rep) -> Tz {
    rep.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

/// Everything for `rep`'s digest of `date`, as of `now` (never past the
/// digest's moment), with the pipeline's weighted value at the last digest.
pub async fn gather(
    store: &dyn Store,
    settings: &Settings,
    rep: &Rep,
    date: NaiveDate,
    now: DateTime<Utc>,
    previous_weighted: Option<Amount>,
) -> Result<DigestInput, StoreError> {
    let scope = RepScope::Rep(rep.id);
    let until = digest_moment(rep, date).min(now);
    let since = date
        .pred_opt()
        .map_or(until - Duration::days(1), |day| digest_moment(rep, day));
    let prospects: HashMap<ProspectId, Prospect> = store
        .list_prospects(scope, &ProspectFilter::default())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let scores = scores(store, scope, until).await?;
    let who = |id: ProspectId| -> Option<Who> {
        prospects.get(&id).map(|p| Who {
            id,
            name: p.data.name.clone(),
            company: p.data.company.clone(),
            score: scores.get(&id).copied().unwrap_or(0.0),
        })
    };
    let events = store
        .events_between(scope, &[EMAIL_REPLIED, POST], since, until)
        .await?;
    let replies = events
        .iter()
        .filter(|e| e.kind == EMAIL_REPLIED)
        .filter_map(|e| {
            Some(Reply {
                who: who(e.prospect_id)?,
                at: e.occurred_at,
                text: excerpt(text_of(e, "text").trim(), 600),
            })
        })
        .collect();
    let posts = events
        .iter()
        .filter(|e| e.kind == POST)
        .filter_map(|e| post(settings, prospects.get(&e.prospect_id)?, who(e.prospect_id)?, e))
        .collect();
    let tasks = store
        .due_tasks(scope, until)
        .await?
        .into_iter()
        .filter_map(|t| {
            Some(Task {
                who: who(t.prospect_id)?,
                what: t.instruction,
                due_at: t.due_at,
                link: t.link,
                reason: t.reason,
            })
        })
        .collect();
    let suggestions = store
        .open_suggestions(scope)
        .await?
        .into_iter()
        .filter_map(|s| {
            Some(Suggestion {
                id: s.id,
                who: who(s.prospect_id)?,
                from: s.from_stage,
                to: s.to_stage,
                reason: s.reason,
            })
        })
        .collect();
    Ok(DigestInput {
        rep_name: rep.name.clone(),
        language: rep.language,
        zone: zone(rep),
        date,
        replies,
        posts,
        tasks,
        suggestions,
        paused: paused(store, scope, until, &who).await?,
        broken_sources: broken(store, scope, &who).await?,
        pipeline: pipeline(store, settings, scope, previous_weighted).await?,
    })
}

async fn scores(store: &dyn Store, scope: RepScope, at: DateTime<Utc>) -> Result<HashMap<ProspectId, f64>, StoreError> {
    let activity = store
        .activity_since(scope, at - Duration::days(SCORE_WINDOW_DAYS))
        .await?;
    let mut by_prospect: HashMap<ProspectId, Vec<(&str, DateTime<Utc>)>> = HashMap::new();
    for (prospect, kind, when) in &activity {
        by_prospect.entry(*prospect).or_default().push((kind.as_str(), *when));
    }
    Ok(by_prospect
        .into_iter()
        .map(|(prospect, events)| (prospect, score(events, at)))
        .collect())
}

fn text_of<'a>(event: &'a Event, key: &str) -> &'a str {
    event.data[key].as_str().unwrap_or_default()
}

/// A post with why its author matters now: their stage and deal.
fn post(settings: &Settings, prospect: &Prospect, who: Who, event: &Event) -> Option<Post> {
    let url = text_of(event, "url");
    let stage = settings
        .pipelines
        .get(&prospect.data.pipeline)
        .ok()
        .and_then(|p| p.stage(&prospect.data.stage))
        .map_or(prospect.data.stage.clone(), |s| s.name.clone());
    // A post logged by hand carries a note where a feed item has its text.
    let body = [text_of(event, "text"), text_of(event, "note")]
        .into_iter()
        .find(|t| !t.trim().is_empty())
        .unwrap_or_default();
    let title = match text_of(event, "title").trim() {
        "" => excerpt(body, 80),
        title => title.to_string(),
    };
    Some(Post {
        who,
        at: event.occurred_at,
        title,
        url: url.to_string(),
        excerpt: excerpt(body, 200),
        stage,
        value: (prospect.data.value.0 > 0).then(|| format!("{} {}", prospect.data.value, prospect.data.currency)),
    })
}

/// Sequences waiting: paused (an unknown send, a paused mailbox) or snoozed
/// by an out-of-office reply.
async fn paused(
    store: &dyn Store,
    scope: RepScope,
    now: DateTime<Utc>,
    who: &impl Fn(ProspectId) -> Option<Who>,
) -> Result<Vec<Paused>, StoreError> {
    Ok(store
        .list_enrolments(scope, None)
        .await?
        .into_iter()
        .filter_map(|e| {
            let why = match (e.state.as_str(), e.snoozed_until) {
                ("paused", _) => e.stop_reason.clone().unwrap_or_default(),
                ("active", Some(until)) if until > now => {
                    format!("out of office; back after {}", until.format("%Y-%m-%d"))
                }
                _ => return None,
            };
            Some(Paused {
                who: who(e.prospect_id)?,
                sequence: e.sequence,
                why,
            })
        })
        .collect())
}

async fn broken(
    store: &dyn Store,
    scope: RepScope,
    who: &impl Fn(ProspectId) -> Option<Who>,
) -> Result<Vec<BrokenSource>, StoreError> {
    Ok(store
        .list_sources(scope, true)
        .await?
        .into_iter()
        .filter_map(|s| {
            Some(BrokenSource {
                who: who(s.prospect_id)?,
                url: s.feed_url.unwrap_or(s.page_url),
                error: s.last_error.unwrap_or_default(),
            })
        })
        .collect())
}

/// The weighted value of the rep's deals in the default currency, over every pipeline.
async fn pipeline(
    store: &dyn Store,
    settings: &Settings,
    scope: RepScope,
    previous: Option<Amount>,
) -> Result<Option<PipelineSummary>, StoreError> {
    let currency = settings.config.prospects.default_currency.clone();
    let deals = store.deals(scope).await?;
    if deals.is_empty() {
        return Ok(None);
    }
    let mut weighted = Amount::default();
    for pipeline in settings.pipelines.iter() {
        let ours: Vec<_> = deals
            .iter()
            .filter(|d| d.pipeline == pipeline.slug && d.currency == currency)
            .map(|d| d.deal.clone())
            .collect();
        weighted = Amount(weighted.0 + Forecast::compute(pipeline, &currency, &ours).totals.weighted_value.0);
    }
    Ok(Some(PipelineSummary {
        currency,
        weighted,
        previous,
    }))
}
