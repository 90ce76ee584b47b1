//! Evaluating rules: given a prospect's stage, their history and what just
//! happened (an event, or time passing), the actions the rules take, each
//! with a reason naming the rule and the events behind it. Pure and
//! deterministic: rules apply in file order, and an advance changes the stage
//! the rules after it see.

use super::definition::{Due, Reset, Rule, RuleAction, RuleSet, Trigger};
use crate::domain::event::kinds::{self, EMAIL_SENT, EMAIL_UNVERIFIED};
use crate::domain::event::payload::{Created, FeedPost, Replied, StageChanged};
use crate::domain::event::{Actor, Event, EventKind, PROSPECT_CREATED, STAGE_CHANGED};
use crate::domain::pipeline::Pipeline;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// What a fired rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Outcome {
    Advance {
        from: String,
        to: String,
    },
    Suggest {
        from: String,
        to: String,
    },
    Remind {
        note: String,
        /// The day it is due, in the rep's zone; none: at once.
        #[serde(skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    Tag {
        tag: String,
    },
    Enroll {
        sequence: String,
    },
    StopSequences,
    /// A new prospect for the rep to approve: the person the reply names.
    SuggestProspect {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
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
        if let Some(mut done) = fire(rule, pipeline, &stage, &seen, ids, key, event.occurred_at) {
            if let (
                RuleAction::Remind {
                    due: Due::FollowUp { .. },
                    ..
                },
                Outcome::Remind { on, .. },
            ) = (&rule.action, &mut done.outcome)
            {
                if let Some(named) = event.read::<Replied>().intent.and_then(|i| i.follow_up) {
                    *on = Some(named.on);
                }
            }
            if let Outcome::SuggestProspect { name, email } = &mut done.outcome {
                // Nobody named: nothing to suggest.
                let Some(contact) = event.read::<Replied>().intent.and_then(|i| i.contact) else {
                    continue;
                };
                (*name, *email) = (contact.name, contact.email);
            }
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
        intents,
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
            && (intents.is_empty()
                || e.read::<Replied>()
                    .intent
                    .is_some_and(|read| read.actionable() && intents.contains(&read.intent)))
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
        (Trigger::Events { intents, .. }, [only]) if !intents.is_empty() => {
            let read = only.read::<Replied>().intent.map(|i| i.explain()).unwrap_or_default();
            format!("{} at {}, read as {read}", only.kind, stamp(only.occurred_at))
        }
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
        RuleAction::Remind { note, due } => Outcome::Remind {
            note: note.clone(),
            on: match due {
                Due::Now => None,
                // `on_event` puts the day the reply names in its place.
                Due::FollowUp { otherwise } => Some((at + *otherwise).date_naive()),
            },
        },
        RuleAction::Tag { tag } => Outcome::Tag { tag: tag.clone() },
        RuleAction::Enroll { sequence } => Outcome::Enroll {
            sequence: sequence.clone(),
        },
        RuleAction::StopSequences => Outcome::StopSequences,
        // `on_event` fills in the person the reply names.
        RuleAction::SuggestProspect => Outcome::SuggestProspect {
            name: None,
            email: None,
        },
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
#[path = "evaluate_tests.rs"]
mod tests;
