//! Prospects' feeds from a seat at the board: the sources watched (or only
//! the broken ones), what one feed holds as rapport reads it (fetched
//! through the same guarded client as the poller, or from bytes the door
//! read), and polling now. Polling itself is `crate::sources::poll`.

use super::{invalid, Actor, AppError, AppResult, Core};
use crate::domain::prospect::{ProspectId, ProspectRef};
use crate::net::client::{Fetched, Validators};
use crate::sources::feed::{parse_feed, ParsedFeed};
use crate::sources::poll::Poller;
use crate::store::Source;

/// The feeds watched for the actor's prospects.
pub async fn list(core: &Core, actor: &Actor, broken_only: bool) -> AppResult<Vec<Source>> {
    Ok(core.store.list_sources(actor.scope(), broken_only).await?)
}

/// Each host's feeds, budget and how far behind it is (the actor's feeds).
pub async fn hosts(core: &Core, actor: &Actor) -> AppResult<Vec<crate::domain::host_load::HostLoad>> {
    let settings = core.settings.config.fetch.client_settings();
    let sources = core.store.list_sources(actor.scope(), false).await?;
    // A source not polled yet has no interval of its own: the configured one.
    let default_interval = i64::try_from(core.settings.config.feeds.interval_mins.saturating_mul(60)).unwrap_or(3600);
    let scheduled: Vec<_> = sources
        .iter()
        .map(|source| {
            let polled = source.feed_url.as_deref().unwrap_or(&source.page_url);
            let host = url::Url::parse(polled)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let (host, budget) = settings.budget_of(&host);
            crate::domain::host_load::Scheduled {
                host,
                interval_ms: budget.interval_ms,
                concurrency: budget.concurrency,
                feed_interval_secs: match source.interval_secs {
                    secs if secs > 0 => secs,
                    _ => default_interval,
                },
                next_poll_at: source.next_poll_at,
            }
        })
        .collect();
    Ok(crate::domain::host_load::report(&scheduled, core.clock.now()))
}

/// The poller of this install (one guarded, paced HTTP client).
pub fn poller(core: &Core) -> AppResult<Poller> {
    Poller::new(&core.settings, core.store.clone(), core.clock.clone()).map_err(|e| AppError::Internal(e.to_string()))
}

/// The prospect whose feeds to poll now, due or not.
pub async fn prospect_to_poll(core: &Core, actor: &Actor, who: &ProspectRef) -> AppResult<ProspectId> {
    Ok(core.store.find_prospect(actor.scope(), who).await?.id)
}

/// The largest feed read, from the network or a file: `[fetch] max_body_bytes`.
pub fn max_feed_bytes(core: &Core) -> u64 {
    core.settings.config.fetch.max_body_bytes
}

/// A feed fetched now (a plain GET, no validators), every item as rapport
/// normalises them, ignoring the recent-items window.
pub async fn test_url(core: &Core, target: &str) -> AppResult<ParsedFeed> {
    let url = url::Url::parse(target).map_err(|e| invalid(format!("'{target}' is not a URL: {e}")))?;
    let poller = poller(core)?;
    match poller
        .client()
        .get(&url, &Validators::default())
        .await
        .map_err(|e| invalid(e.to_string()))?
    {
        Fetched::Body {
            bytes,
            base_url,
            content_type,
            ..
        } => parse_feed(&bytes, Some(base_url.as_str()), content_type.as_deref())
            .map_err(|e| invalid(format!("{target}: {e}"))),
        Fetched::NotModified => Err(invalid(format!("{target} answered 304 Not Modified to a plain GET"))),
    }
}

/// A saved feed's bytes (`shown` names them in errors), read as the poller reads a body.
pub fn test_bytes(core: &Core, bytes: &[u8], shown: &str) -> AppResult<ParsedFeed> {
    let limit = max_feed_bytes(core);
    if bytes.len() as u64 > limit {
        return Err(invalid(format!(
            "{shown} is larger than {limit} bytes ([fetch] max_body_bytes)"
        )));
    }
    parse_feed(bytes, None, None).map_err(|e| invalid(format!("{shown}: {e}")))
}
