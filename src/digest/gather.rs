//! Gathering one rep's digest from the store: what rapport learned in the day
//! before the digest's moment (the rep's digest hour on that local date; by
//! when it was recorded, so a reply read late is still news), what is due,
//! what waits for the rep, and the pipeline.

use crate::config::Settings;
use crate::domain::digest::timing::moment;
use crate::domain::digest::{
    BrokenSource, DigestInput, Paused, PipelineSummary, Post, Reply, Suggestion, Task, Unverified, Who,
};
use crate::domain::event::kinds::{EMAIL_REPLIED, EMAIL_UNVERIFIED, POST};
use crate::domain::event::payload::Replied;
use crate::domain::event::Event;
use crate::domain::forecast::Forecast;
use crate::domain::money::Amount;
use crate::domain::prospect::{Prospect, ProspectId, Rep};
use crate::domain::score;
use crate::domain::text::excerpt;
use crate::store::{ProspectFilter, RepScope, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::HashMap;

/// The moment a rep's digest for `date` is due.
pub fn digest_moment(rep: &Rep, date: NaiveDate) -> DateTime<Utc> {
    moment(date, rep.digest_hour, rep.zone())
}

/// The longest span one digest covers, after days without one.
const MAX_SPAN_DAYS: i64 = 7;

/// Everything for `rep`'s digest of `date`, as of `now` (never past the
/// digest's moment): news since `since` (default: the previous day's
/// moment), with the pipeline's weighted value at the last digest.
pub async fn gather(
    store: &dyn Store,
    settings: &Settings,
    rep: &Rep,
    date: NaiveDate,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    previous_weighted: Option<Amount>,
) -> Result<DigestInput, StoreError> {
    let scope = RepScope::Rep(rep.id);
    let until = digest_moment(rep, date).min(now);
    let day_before = date
        .pred_opt()
        .map_or(until - Duration::days(1), |day| digest_moment(rep, day));
    let since = since.unwrap_or(day_before).max(until - Duration::days(MAX_SPAN_DAYS));
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
        .events_between(scope, &[EMAIL_REPLIED, POST, EMAIL_UNVERIFIED], since, until)
        .await?;
    let needs_look = events
        .iter()
        .filter(|e| e.kind == EMAIL_UNVERIFIED)
        .filter_map(|e| {
            Some(Unverified {
                who: who(e.prospect_id)?,
                at: e.occurred_at,
                report: text_of(e, "report").to_string(),
                from: text_of(e, "from").to_string(),
                why: text_of(e, "unverified").to_string(),
            })
        })
        .collect();
    let replies = events
        .iter()
        .filter(|e| e.kind == EMAIL_REPLIED)
        .filter_map(|e| {
            Some(Reply {
                who: who(e.prospect_id)?,
                at: e.occurred_at,
                text: excerpt(text_of(e, "text").trim(), 600),
                intent: e
                    .read::<Replied>()
                    .intent
                    .filter(|read| read.actionable())
                    .map(|read| read.intent),
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
                person: s.person.map(|p| p.label()),
            })
        })
        .collect();
    Ok(DigestInput {
        rep_name: rep.name.clone(),
        language: rep.language,
        zone: rep.zone(),
        date,
        sent_at: until,
        replies,
        posts,
        tasks,
        suggestions,
        paused: paused(store, scope, until, &who).await?,
        broken_sources: broken(store, scope, &who).await?,
        needs_look,
        setup: setup(store, settings, scope).await?,
        pipeline: pipeline(store, settings, scope, previous_weighted).await?,
    })
}

/// What stops part of rapport's setup, for the rep to pass on or fix: the
/// files' problems, and mail that cannot go out while the rep has sequences running.
async fn setup(store: &dyn Store, settings: &Settings, scope: RepScope) -> Result<Vec<String>, StoreError> {
    let mut problems: Vec<String> = settings.problems().iter().map(ToString::to_string).collect();
    let running = store
        .list_enrolments(scope, None)
        .await?
        .iter()
        .any(|e| e.state == "active");
    if running {
        problems.extend(
            settings
                .sending_blockers()
                .into_iter()
                .map(|why| format!("sequence mail waits: {why}")),
        );
    }
    Ok(problems)
}

/// `rep`'s digest of `date` as the daemon sends it at `now`: news since the
/// last digest sent, and the pipeline's change since then.
pub async fn prepare(
    store: &dyn Store,
    settings: &Settings,
    rep: &Rep,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DigestInput, StoreError> {
    // Task steps due by then are tasks, whichever job ran last.
    crate::sequences::tasks::add_due(
        store,
        settings,
        RepScope::Rep(rep.id),
        now.min(digest_moment(rep, date)),
    )
    .await?;
    let currency = &settings.config.prospects.default_currency;
    let previous = store.last_digest_weighted(rep.id, date, currency).await?;
    // News since the last digest sent, so a day missed is not lost.
    let since = store
        .last_digest_date(rep.id, date)
        .await?
        .map(|last| digest_moment(rep, last));
    gather(store, settings, rep, date, now, since, previous).await
}

async fn scores(store: &dyn Store, scope: RepScope, at: DateTime<Utc>) -> Result<HashMap<ProspectId, f64>, StoreError> {
    let activity = store
        .activity_since(scope, at - Duration::days(score::WINDOW_DAYS))
        .await?;
    Ok(score::by_prospect(&activity, at))
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
    let body = crate::domain::event::post_text(&event.data);
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
