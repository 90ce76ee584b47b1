//! The engagement score: how much a prospect has been doing lately, as a
//! recency-weighted sum of their activity. Each event counts by its kind
//! (a reply or a booked meeting far more than a post) and halves in weight
//! every `HALF_LIFE_DAYS`, so last week's reply outranks last quarter's.
//! The rep's own touches and rapport's bookkeeping do not count.

use super::event::kinds;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub const HALF_LIFE_DAYS: f64 = 14.0;
/// Activity older than this has halved eight times over and no longer tells.
pub const WINDOW_DAYS: i64 = 120;

/// What one event of a kind is worth when it is fresh.
pub fn weight(kind: &str) -> f64 {
    match kind {
        kinds::PROPOSAL_SIGNED => 10.0,
        kinds::MEETING_BOOKED => 8.0,
        kinds::EMAIL_REPLIED => 5.0,
        kinds::POST => 1.0,
        // Bookkeeping, the rep's own mail, and mail that says "no".
        k if k.starts_with("prospect.") || k.starts_with("stage.") || k.starts_with("sequence.") => 0.0,
        kinds::EMAIL_SENT
        | kinds::EMAIL_BOUNCED
        | kinds::EMAIL_AUTO_REPLIED
        | kinds::EMAIL_UNSUBSCRIBED
        | kinds::EMAIL_COMPLAINED
        | kinds::EMAIL_UNVERIFIED => 0.0,
        // Engagement logged by hand (a call, a LinkedIn comment): a touch both ways.
        _ => 1.0,
    }
}

/// The score of these (kind, when) events at `now`, rounded to one decimal.
pub fn score<'a>(events: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>, now: DateTime<Utc>) -> f64 {
    let total: f64 = events
        .into_iter()
        .filter(|(_, at)| *at <= now)
        .map(|(kind, at)| {
            let age_days = (now - at).num_seconds() as f64 / 86_400.0;
            weight(kind) * 0.5f64.powf(age_days / HALF_LIFE_DAYS)
        })
        .sum();
    (total * 10.0).round() / 10.0
}

/// Every prospect's score at `now` from their (prospect, kind, when) activity.
pub fn by_prospect(activity: &[(i64, String, DateTime<Utc>)], now: DateTime<Utc>) -> HashMap<i64, f64> {
    let mut events: HashMap<i64, Vec<(&str, DateTime<Utc>)>> = HashMap::new();
    for (prospect, kind, at) in activity {
        events.entry(*prospect).or_default().push((kind.as_str(), *at));
    }
    events
        .into_iter()
        .map(|(prospect, events)| (prospect, score(events, now)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn fresh_replies_outrank_old_posts_and_weight_halves_every_two_weeks() {
        let now = at("2026-12-01T12:00:00Z");
        assert_eq!(score([("email.replied", now)], now), 5.0);
        assert_eq!(score([("email.replied", at("2026-11-17T12:00:00Z"))], now), 2.5);
        let old_posts = [("post", at("2026-09-01T12:00:00Z")); 10];
        assert!(score(old_posts, now) < score([("email.replied", at("2026-11-24T12:00:00Z"))], now));
    }

    #[test]
    fn bookkeeping_and_the_reps_own_mail_do_not_count() {
        let now = at("2026-12-01T12:00:00Z");
        let noise = [
            ("prospect.created", now),
            ("stage.changed", now),
            ("email.sent", now),
            ("sequence.stopped", now),
        ];
        assert_eq!(score(noise, now), 0.0);
        assert_eq!(
            score([("post", at("2026-12-02T12:00:00Z"))], now),
            0.0,
            "the future does not count"
        );
    }
}
