//! Evaluating rules: given a prospect's stage, their history and what just
//! happened (an event, or time passing), the actions the rules take, each
//! with a reason naming the rule and the events behind it. Pure and
//! deterministic: rules apply in file order, and an advance changes the stage
//! the rules after it see.

use super::definition::{Reset, Rule, RuleAction, RuleSet, Trigger};
use crate::domain::event::kinds::{self, EMAIL_SENT, EMAIL_UNVERIFIED};
use crate::domain::event::payload::{Created, FeedPost, StageChanged};
use crate::domain::event::{Actor, Event, EventKind, PROSPECT_CREATED, STAGE_CHANGED};
use crate::domain::pipeline::Pipeline;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a fired rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Outcome {
    Advance { from: String, to: String },
    Suggest { from: String, to: String },
    Remind { note: String },
    Tag { tag: String },
    Enroll { sequence: String },
    StopSequences,
}

/// One rule firing for one prospect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    pub rule: String,
    pub outcome: Outcome,
    /// For the rep: the rule, what it saw, and the stage it saw it in.
    pub reason: String,
    /// The events behind it, by id.
    pub events: Vec<i64>,
    /// Unique per firing, so storing it twice (a re-poll, a replay) adds nothing.
    pub key: String,
    pub at: DateTime<Utc>,
}

/// The actions `event` triggers for a prospect in `stage`; `history` is what
/// came before it, oldest first.
pub fn on_event(rules: &RuleSet, pipeline: &Pipeline, stage: &str, history: &[Event], event: &Event) -> Vec<Fired> {
    let mut stage = stage.to_string();
    let mut fired = Vec::new();
    for rule in &rules.rules {
        if !applies(rule, pipeline, &stage) {
            continue;
        }
        let Some(evidence) = matching_events(rule, history, event) else {
            continue;
        };
        let seen = describe_evidence(rule, &evidence);
        let key = format!("rule:{}:{}", rule.name, event.id);
        let ids = evidence.iter().map(|e| e.id).collect();
        if let Some(done) = fire(rule, pipeline, &stage, &seen, ids, key, event.occurred_at) {
            if let Outcome::Advance { to, .. } = &done.outcome {
                stage = to.clone();
            }
            fired.push(done);
        }
    }
    fired
}

/// The idle rules due at `now`: nothing that resets the rule's clock has
/// happened for its time (entering a stage always resets it).
pub fn on_idle(rules: &RuleSet, pipeline: &Pipeline, stage: &str, history: &[Event], now: DateTime<Utc>) -> Vec<Fired> {
    rules
        .rules
        .iter()
        .filter(|rule| applies(rule, pipeline, stage))
        .filter_map(|rule| {
            let Trigger::Idle(limit, reset) = rule.trigger else {
                return None;
            };
            let last = history
                .iter()
                .filter(|e| resets(e, reset))
                .max_by_key(|e| (e.occurred_at, e.id))?;
            let idle_for = now - last.occurred_at;
            if idle_for < limit {
                return None;
            }
            let seen = format!(
                "nothing since {} ({} days)",
                stamp(last.occurred_at),
                idle_for.num_days()
            );
            // One firing per quiet spell: the key names the event that started it.
            let key = format!("rule:{}:idle:{}", rule.name, last.id);
            fire(
                rule,
                pipeline,
                stage,
                &seen,
                vec![last.id],
                key,
                last.occurred_at + limit,
            )
        })
        .collect()
}

/// Whether an event restarts an idle rule's clock. Entering the pipeline or a
/// stage always does; the rules' own doing never does.
fn resets(event: &Event, reset: Reset) -> bool {
    if event.kind == PROSPECT_CREATED || event.kind == STAGE_CHANGED {
        return true;
    }
    // The rules' own doing, and mail nobody could tie to a real send, restart nothing.
    if is_rules_own(event) || event.kind == EMAIL_UNVERIFIED {
        return false;
    }
    let touch = event.kind == EMAIL_SENT || matches!(event.actor, Actor::User(_));
    let activity = EventKind::of(&event.kind).is_some_and(EventKind::is_activity);
    (reset.touches && touch) || (reset.activity && activity) || (reset == Reset::ANY && !touch && !activity)
}

/// A dry run over a prospect's stored history: what the rules would have
/// done, event by event, starting in `initial_stage`. Stage changes in the
/// history (a rep's move) and the rules' own advances both move the stage.
pub fn replay(rules: &RuleSet, pipeline: &Pipeline, initial_stage: &str, events: &[Event]) -> Vec<Fired> {
    let mut stage = initial_stage.to_string();
    let mut fired: Vec<Fired> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let history = &events[..index];
        for idle in on_idle(rules, pipeline, &stage, history, event.occurred_at) {
            if !fired.iter().any(|f| f.key == idle.key) {
                fired.push(idle);
            }
        }
        let entered = match event.kind.as_str() {
            STAGE_CHANGED => Some(event.read::<StageChanged>().to),
            PROSPECT_CREATED => Some(event.read::<Created>().stage),
            _ => None,
        };
        if let Some(to) = entered.filter(|to| !to.is_empty()) {
            stage = to;
            continue;
        }
        for done in on_event(rules, pipeline, &stage, history, event) {
            if let Outcome::Advance { to, .. } = &done.outcome {
                stage = to.clone();
            }
            fired.push(done);
        }
    }
    fired
}

fn applies(rule: &Rule, pipeline: &Pipeline, stage: &str) -> bool {
    rule.pipeline.as_deref().is_none_or(|p| p == pipeline.slug)
        && (rule.stages.is_empty() || rule.stages.iter().any(|s| s == stage))
}

/// The events that make an event-triggered rule fire now, newest last; `None`
/// when it does not. A counted rule fires on the event that reaches the count,
/// not on every one after it.
fn matching_events<'a>(rule: &Rule, history: &'a [Event], event: &'a Event) -> Option<Vec<&'a Event>> {
    let Trigger::Events {
        kinds,
        platforms,
        count,
        within,
    } = &rule.trigger
    else {
        return None;
    };
    let matches = |e: &Event| {
        kinds.contains(&e.kind)
            && (platforms.is_empty()
                || platforms
                    .iter()
                    .any(|want| want.eq_ignore_ascii_case(&e.read::<FeedPost>().platform)))
    };
    if !matches(event) {
        return None;
    }
    if *count == 1 {
        return Some(vec![event]);
    }
    let since = within.map(|w| event.occurred_at - w);
    // Earlier events only (ids break ties), so two events at one moment count once each.
    let mut evidence: Vec<&Event> = history
        .iter()
        .filter(|e| matches(e) && (e.occurred_at, e.id) < (event.occurred_at, event.id))
        .filter(|e| since.is_none_or(|s| e.occurred_at > s))
        .collect();
    evidence.push(event);
    (evidence.len() == *count as usize).then_some(evidence)
}

fn describe_evidence(rule: &Rule, evidence: &[&Event]) -> String {
    let last = evidence.last().map(|e| e.occurred_at).unwrap_or_default();
    match (&rule.trigger, evidence) {
        (_, [only]) => format!("{} at {}", only.kind, stamp(only.occurred_at)),
        (Trigger::Events { within: Some(w), .. }, _) => format!(
            "{} {} within {} (the last at {})",
            evidence.len(),
            plural_kind(&evidence[0].kind),
            span(*w),
            stamp(last)
        ),
        _ => format!("{} events", evidence.len()),
    }
}

/// The firing, or `None` when its action would change nothing or move the
/// prospect backwards without the rule saying so.
fn fire(
    rule: &Rule,
    pipeline: &Pipeline,
    stage: &str,
    seen: &str,
    evidence: Vec<i64>,
    key: String,
    at: DateTime<Utc>,
) -> Option<Fired> {
    let position = |slug: &str| pipeline.stages.iter().position(|s| s.slug == slug);
    let moves_to = |to: &str| match (position(stage), position(to)) {
        (_, None) => false,
        (Some(from), Some(target)) => target > from || (target < from && rule.backwards),
        (None, Some(_)) => true,
    };
    let outcome = match &rule.action {
        RuleAction::Advance { to } if moves_to(to) => Outcome::Advance {
            from: stage.into(),
            to: to.clone(),
        },
        RuleAction::Suggest { to } if to != stage && position(to).is_some() => Outcome::Suggest {
            from: stage.into(),
            to: to.clone(),
        },
        RuleAction::Advance { .. } | RuleAction::Suggest { .. } => return None,
        RuleAction::Remind { note } => Outcome::Remind { note: note.clone() },
        RuleAction::Tag { tag } => Outcome::Tag { tag: tag.clone() },
        RuleAction::Enroll { sequence } => Outcome::Enroll {
            sequence: sequence.clone(),
        },
        RuleAction::StopSequences => Outcome::StopSequences,
    };
    let why = match rule.description.trim() {
        "" => String::new(),
        text => format!(" ({text})"),
    };
    Some(Fired {
        rule: rule.name.clone(),
        reason: format!("rule '{}'{why}: {seen}, while in {stage}", rule.name),
        events: evidence,
        outcome,
        key,
        at,
    })
}

/// Stage changes and reminders the rules made do not count as activity.
fn is_rules_own(event: &Event) -> bool {
    matches!(event.actor, Actor::Rule(_))
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn span(duration: chrono::Duration) -> String {
    match (duration.num_days(), duration.num_hours()) {
        (days, _) if days > 0 && duration == chrono::Duration::days(days) => {
            format!("{days} day{}", if days == 1 { "" } else { "s" })
        }
        (_, hours) => format!("{hours} hours"),
    }
}

fn plural_kind(kind: &str) -> String {
    match kind {
        kinds::POST => "posts".into(),
        other => format!("{other} events"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::Pipelines;
    use serde_json::json;

    fn rules() -> RuleSet {
        RuleSet::from_toml(include_str!("../../../config/rules.toml"), &Pipelines::shipped()).unwrap()
    }

    fn pipeline() -> Pipeline {
        Pipelines::shipped().get("default").unwrap().clone()
    }

    fn event(id: i64, kind: &str, at: &str, data: serde_json::Value) -> Event {
        Event {
            id,
            prospect_id: 7,
            kind: kind.into(),
            occurred_at: at.parse().unwrap(),
            recorded_at: at.parse().unwrap(),
            actor: Actor::System("test".into()),
            data,
        }
    }

    fn fired_on(stage: &str, history: &[Event], new: &Event) -> Vec<Fired> {
        on_event(&rules(), &pipeline(), stage, history, new)
    }

    #[test]
    fn a_reply_in_prospecting_advances_to_qualification() {
        let reply = event(1, "email.replied", "2026-11-30T16:00:00Z", json!({}));
        let fired = fired_on("prospecting", &[], &reply);
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(
            fired[0].outcome,
            Outcome::Advance {
                from: "prospecting".into(),
                to: "qualification".into()
            }
        );
        assert_eq!(fired[0].events, vec![1]);
        assert!(
            fired[0]
                .reason
                .starts_with("rule 'reply-qualifies' (a reply means the conversation has started): email.replied at 2026-11-30 16:00 UTC, while in prospecting"),
            "{}",
            fired[0].reason
        );
        assert!(fired_on("proposal", &[], &reply).is_empty(), "only in prospecting");
    }

    #[test]
    fn a_single_event_rule_fires_on_every_matching_event() {
        let first = event(5, "email.replied", "2026-11-02T10:00:00Z", json!({}));
        let second = event(6, "email.replied", "2026-11-20T10:00:00Z", json!({}));
        let fired = fired_on("prospecting", &[first], &second);
        assert_eq!(
            fired.len(),
            1,
            "an earlier reply in another stage does not use it up: {fired:?}"
        );
        let post = |id| event(id, "post", "2026-11-29T10:00:00Z", json!({}));
        let same_moment = [post(7), post(8)];
        assert_eq!(
            fired_on("prospecting", &same_moment, &post(9)).len(),
            1,
            "three at one moment are three"
        );
        assert!(fired_on("prospecting", &same_moment[..1], &post(8)).is_empty());
    }

    #[test]
    fn a_booked_meeting_advances_to_meeting_but_never_backwards() {
        let booked = event(2, "meeting.booked", "2026-12-01T09:00:00Z", json!({}));
        let fired = fired_on("qualification", &[], &booked);
        assert!(
            matches!(&fired[0].outcome, Outcome::Advance { to, .. } if to == "meeting"),
            "{fired:?}"
        );
        assert!(fired_on("negotiation", &[], &booked).is_empty(), "a later stage stays");
    }

    #[test]
    fn a_signed_proposal_wins_the_deal() {
        let signed = event(3, "proposal.signed", "2026-12-02T09:00:00Z", json!({}));
        let fired = fired_on("negotiation", &[], &signed);
        assert!(
            matches!(&fired[0].outcome, Outcome::Advance { to, .. } if to == "won"),
            "{fired:?}"
        );
    }

    #[test]
    fn an_unsubscribe_suggests_lost() {
        let unsubscribed = event(4, "email.unsubscribed", "2026-12-02T09:00:00Z", json!({}));
        let fired = fired_on("qualification", &[], &unsubscribed);
        assert_eq!(
            fired[0].outcome,
            Outcome::Suggest {
                from: "qualification".into(),
                to: "lost".into()
            }
        );
    }

    #[test]
    fn three_posts_in_a_week_while_prospecting_is_warm_once() {
        let post = |id, at: &str| event(id, "post", at, json!({ "platform": "mastodon" }));
        let posts = [
            post(10, "2026-11-23T10:00:00Z"),
            post(11, "2026-11-26T10:00:00Z"),
            post(12, "2026-11-29T10:00:00Z"),
            post(13, "2026-11-29T18:00:00Z"),
        ];
        assert!(fired_on("prospecting", &posts[..1], &posts[1]).is_empty());
        let warm = fired_on("prospecting", &posts[..2], &posts[2]);
        assert_eq!(
            warm[0].outcome,
            Outcome::Remind {
                note: "warm — engage now".into()
            }
        );
        assert_eq!(warm[0].events, vec![10, 11, 12]);
        assert!(warm[0].reason.contains("3 posts within 7 days"), "{}", warm[0].reason);
        assert!(
            fired_on("prospecting", &posts[..3], &posts[3]).is_empty(),
            "not again for the fourth"
        );
        let spread = [post(20, "2026-11-01T10:00:00Z"), post(21, "2026-11-05T10:00:00Z")];
        assert!(
            fired_on("prospecting", &spread, &post(22, "2026-11-12T10:00:00Z")).is_empty(),
            "the first is out of the week"
        );
    }

    #[test]
    fn a_proposal_idle_for_five_days_raises_a_reminder_once() {
        let moved = Event {
            actor: Actor::User("ann".into()),
            ..event(
                30,
                STAGE_CHANGED,
                "2026-11-20T10:00:00Z",
                json!({ "from": "meeting", "to": "proposal" }),
            )
        };
        let history = [moved];
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        assert!(on_idle(&rules(), &pipeline(), "proposal", &history, at("2026-11-24T10:00:00Z")).is_empty());
        let due = on_idle(&rules(), &pipeline(), "proposal", &history, at("2026-11-25T10:00:00Z"));
        assert!(
            matches!(&due[0].outcome, Outcome::Remind { note } if note.contains("idle")),
            "{due:?}"
        );
        assert_eq!(
            due[0].key, "rule:proposal-rotting:idle:30",
            "one firing per quiet spell"
        );
        let later = on_idle(&rules(), &pipeline(), "proposal", &history, at("2026-11-28T10:00:00Z"));
        assert_eq!(later[0].key, due[0].key);
    }

    #[test]
    fn stay_in_touch_counts_touches_and_the_prospects_own_posts() {
        let rules = rules();
        let pipeline = pipeline();
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        let won = Event {
            actor: Actor::User("ann".into()),
            ..event(
                50,
                STAGE_CHANGED,
                "2026-10-01T10:00:00Z",
                json!({ "to": "post-purchase" }),
            )
        };
        let touch = event(51, EMAIL_SENT, "2026-10-05T10:00:00Z", json!({}));
        let quiet = [won.clone(), touch.clone()];
        let fired = |history: &[Event], now: &str| on_idle(&rules, &pipeline, "post-purchase", history, at(now));
        assert!(
            fired(&quiet, "2026-11-03T10:00:00Z").is_empty(),
            "29 days after the touch"
        );
        let due = fired(&quiet, "2026-11-05T10:00:00Z");
        assert!(
            matches!(&due[0].outcome, Outcome::Remind { note } if note.starts_with("stay in touch")),
            "{due:?}"
        );
        assert_eq!(due[0].events, vec![51], "counted from the rep's touch");
        // The customer's own post resets the clock.
        let posted = [won, touch, event(52, "post", "2026-10-20T10:00:00Z", json!({}))];
        assert!(fired(&posted, "2026-11-05T10:00:00Z").is_empty(), "the post reset it");
        assert_eq!(fired(&posted, "2026-11-20T10:00:00Z")[0].events, vec![52]);
    }

    #[test]
    fn a_clock_reset_only_by_touches_ignores_posts() {
        let text = r#"
            [[rules]]
            name = "touch-base"
            idle = "10d"
            reset_by = ["touches"]
            then = "remind"
            note = "touch base"
        "#;
        let rules = RuleSet::from_toml(text, &Pipelines::shipped()).unwrap();
        let history = [
            event(60, EMAIL_SENT, "2026-11-01T10:00:00Z", json!({})),
            event(61, "post", "2026-11-08T10:00:00Z", json!({})),
        ];
        let now = "2026-11-12T10:00:00Z".parse().unwrap();
        let fired = on_idle(&rules, &pipeline(), "qualification", &history, now);
        assert_eq!(fired[0].events, vec![60], "{fired:?}");
    }

    #[test]
    fn a_dry_run_replays_history_with_the_stage_moving() {
        let history = [
            event(
                40,
                "prospect.created",
                "2026-11-01T10:00:00Z",
                json!({ "stage": "prospecting" }),
            ),
            event(41, "email.replied", "2026-11-02T10:00:00Z", json!({})),
            event(42, "meeting.booked", "2026-11-03T10:00:00Z", json!({})),
            event(43, "email.replied", "2026-11-04T10:00:00Z", json!({})),
        ];
        let fired = replay(&rules(), &pipeline(), "qualification", &history);
        let moves: Vec<(&str, &str)> = fired
            .iter()
            .filter_map(|f| match &f.outcome {
                Outcome::Advance { from, to } => Some((from.as_str(), to.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            moves,
            vec![("prospecting", "qualification"), ("qualification", "meeting")]
        );
        assert!(
            fired.iter().all(|f| f.reason.starts_with("rule '")),
            "every action explains itself"
        );
    }
}
