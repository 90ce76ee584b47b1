//! The rules file (`config/rules.toml`): what triggers a rule and what it
//! does. Every problem is reported with the rule's place and the key.

use crate::domain::intent::Intent;
use crate::domain::pipeline::Pipelines;
use chrono::Duration;
use serde::Deserialize;

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleAction {
    /// Move the prospect to a stage now (an event with the rule's reason).
    Advance {
        to: String,
    },
    /// Propose a stage for the rep to approve or reject.
    Suggest {
        to: String,
    },
    /// A reminder for the rep: due at once, or on the day a reply names.
    Remind {
        note: String,
        due: Due,
    },
    Tag {
        tag: String,
    },
    Enroll {
        sequence: String,
    },
    /// Stop the prospect's running sequence.
    StopSequences,
    /// Propose the person a reply names ("talk to Maria, maria@…") as a new
    /// prospect, prefilled and linked to this one, for the rep to approve.
    SuggestProspect,
}

/// When a reminder is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Now,
    /// The day a "not now" reply names ("reach out in Q3"), or this long
    /// after the reply when it names none.
    FollowUp {
        otherwise: Duration,
    },
}

/// When a rule fires: on events of some kinds (optionally several within a
/// window), or when nothing has happened for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Events {
        kinds: Vec<String>,
        /// Only events whose data `platform` is one of these (posts).
        platforms: Vec<String>,
        /// Only replies read as one of these intents, and not contested
        /// (`domain::intent`): `intent = ["interested"]`.
        intents: Vec<Intent>,
        /// At least this many such events within `within`, ending at the new one.
        count: u32,
        within: Option<Duration>,
    },
    /// Nothing that resets the clock for this long (since the prospect was
    /// created or last changed stage, at the earliest).
    Idle(Duration, Reset),
}

/// What resets an idle rule's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reset {
    /// The rep's touches: mail they sent, engagement they logged.
    pub touches: bool,
    /// The prospect's own activity: posts, replies, meetings.
    pub activity: bool,
}

impl Reset {
    /// Anything but the rules' own doing.
    pub const ANY: Reset = Reset {
        touches: true,
        activity: true,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub trigger: Trigger,
    /// Only in this pipeline (else any that has the stages named).
    pub pipeline: Option<String>,
    /// Only while the prospect is in one of these stages.
    pub stages: Vec<String>,
    pub action: RuleAction,
    /// An advance may move a prospect back to an earlier stage.
    pub backwards: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    on: Vec<String>,
    #[serde(default)]
    platform: Vec<String>,
    #[serde(default)]
    intent: Vec<String>,
    count: Option<u32>,
    within: Option<String>,
    idle: Option<String>,
    #[serde(default)]
    reset_by: Vec<String>,
    pipeline: Option<String>,
    #[serde(default)]
    stages: Vec<String>,
    then: String,
    to: Option<String>,
    note: Option<String>,
    tag: Option<String>,
    sequence: Option<String>,
    due: Option<String>,
    otherwise: Option<String>,
    #[serde(default)]
    backwards: bool,
}

/// Reads `7d`, `48h`, `2w`, `30m`.
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let text = text.trim().to_lowercase();
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let hint = "write it like 7d, 48h, 2w or 30m";
    let count: i64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a span of time; {hint}"))?;
    let span = match text[digits.len()..].trim() {
        "m" | "min" | "mins" | "minutes" => Duration::minutes(count),
        "h" | "hour" | "hours" => Duration::hours(count),
        "d" | "day" | "days" => Duration::days(count),
        "w" | "week" | "weeks" => Duration::weeks(count),
        _ => return Err(format!("'{text}' is not a span of time; {hint}")),
    };
    match count {
        1..=3660 => Ok(span),
        _ => Err(format!("'{text}' must be between 1 minute and about ten years")),
    }
}

impl RuleSet {
    /// Parses and checks a rules file; the error lists every problem, each
    /// with the rule (by number and name) and the key.
    pub fn from_toml(text: &str, pipelines: &Pipelines) -> Result<RuleSet, Vec<String>> {
        let file: RulesFile = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut rules = Vec::new();
        let mut problems = Vec::new();
        for (index, entry) in file.rules.into_iter().enumerate() {
            let place = format!("rules[{}] ({})", index + 1, entry.name);
            match build(entry, pipelines) {
                Ok(rule) if rules.iter().any(|r: &Rule| r.name == rule.name) => problems.push(format!(
                    "{place}.name: another rule has this name; names must be unique"
                )),
                Ok(rule) => rules.push(rule),
                Err(errors) => problems.extend(errors.into_iter().map(|(key, e)| format!("{place}.{key}: {e}"))),
            }
        }
        match problems.is_empty() {
            true => Ok(RuleSet { rules }),
            false => Err(problems),
        }
    }
}

fn build(entry: RuleEntry, pipelines: &Pipelines) -> Result<Rule, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    if !is_name(&entry.name) {
        errors.push(("name", "use lower-case letters, digits and '-'".to_string()));
    }
    let trigger = trigger(&entry).map_err(|e| errors.push(e)).ok();
    let action = action(&entry).map_err(|e| errors.push(e)).ok();
    if let Some(pipeline) = &entry.pipeline {
        if let Err(e) = pipelines.get(pipeline) {
            errors.push(("pipeline", e));
        }
    }
    // Stages must exist in the rule's pipeline, or in at least one pipeline.
    let known = |stage: &str| match &entry.pipeline {
        Some(slug) => pipelines.get(slug).is_ok_and(|p| p.stage(stage).is_some()),
        None => pipelines.iter().any(|p| p.stage(stage).is_some()),
    };
    for stage in &entry.stages {
        if !known(stage) {
            errors.push(("stages", format!("there is no stage '{stage}'")));
        }
    }
    if let Some(RuleAction::Advance { to } | RuleAction::Suggest { to }) = &action {
        if !known(to) {
            errors.push(("to", format!("there is no stage '{to}'")));
        }
    }
    match (errors.is_empty(), trigger, action) {
        (true, Some(trigger), Some(action)) => Ok(Rule {
            name: entry.name,
            description: entry.description,
            trigger,
            pipeline: entry.pipeline,
            stages: entry.stages,
            action,
            backwards: entry.backwards,
        }),
        _ => Err(errors),
    }
}

fn trigger(entry: &RuleEntry) -> Result<Trigger, (&'static str, String)> {
    match (&entry.idle, entry.on.is_empty()) {
        (Some(_), false) => Err((
            "idle",
            "a rule fires on events (on = [...]) or on idle time, not both".into(),
        )),
        (Some(idle), true) => Ok(Trigger::Idle(
            parse_span(idle).map_err(|e| ("idle", e))?,
            reset(&entry.reset_by)?,
        )),
        (None, true) => Err((
            "on",
            "say which event kinds fire the rule, e.g. on = [\"email.replied\"], or idle = \"5d\"".into(),
        )),
        (None, false) => {
            let within = entry
                .within
                .as_deref()
                .map(parse_span)
                .transpose()
                .map_err(|e| ("within", e))?;
            let count = entry.count.unwrap_or(1);
            if count == 0 || (count > 1 && within.is_none()) {
                return Err((
                    "count",
                    "a count is at least 1, and above 1 it needs a window (within = \"7d\")".into(),
                ));
            }
            let intents = entry
                .intent
                .iter()
                .map(|name| {
                    Intent::parse(name.trim()).ok_or_else(|| {
                        let known: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
                        (
                            "intent",
                            format!("'{name}' is not an intent; use one of {}", known.join(", ")),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if !intents.is_empty() && !on_replies_only(entry) {
                return Err((
                    "intent",
                    "an intent is read from replies only: on = [\"email.replied\"]".into(),
                ));
            }
            Ok(Trigger::Events {
                kinds: entry.on.iter().map(|k| k.trim().to_lowercase()).collect(),
                platforms: entry.platform.iter().map(|p| p.trim().to_lowercase()).collect(),
                intents,
                count,
                within,
            })
        }
    }
}

fn reset(names: &[String]) -> Result<Reset, (&'static str, String)> {
    if names.is_empty() {
        return Ok(Reset::ANY);
    }
    let mut reset = Reset {
        touches: false,
        activity: false,
    };
    for name in names {
        match name.as_str() {
            "touches" => reset.touches = true,
            "activity" => reset.activity = true,
            other => {
                return Err((
                    "reset_by",
                    format!(
                    "'{other}' is not a clock reset; use \"touches\" (the rep's) and/or \"activity\" (the prospect's)"
                ),
                ))
            }
        }
    }
    Ok(reset)
}

fn action(entry: &RuleEntry) -> Result<RuleAction, (&'static str, String)> {
    let needs = |value: &Option<String>, key: &'static str| {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .ok_or((key, format!("then = \"{}\" needs {key} = \"...\"", entry.then)))
    };
    match entry.then.as_str() {
        "advance" => Ok(RuleAction::Advance {
            to: needs(&entry.to, "to")?,
        }),
        "suggest" => Ok(RuleAction::Suggest {
            to: needs(&entry.to, "to")?,
        }),
        "remind" => Ok(RuleAction::Remind {
            note: needs(&entry.note, "note")?,
            due: due(entry)?,
        }),
        "tag" => Ok(RuleAction::Tag {
            tag: needs(&entry.tag, "tag")?,
        }),
        "enroll" => Ok(RuleAction::Enroll {
            sequence: needs(&entry.sequence, "sequence")?,
        }),
        "stop" => Ok(RuleAction::StopSequences),
        "suggest-prospect" if on_replies_only(entry) => Ok(RuleAction::SuggestProspect),
        "suggest-prospect" => Err((
            "then",
            "the person to suggest is read from replies only: on = [\"email.replied\"]".into(),
        )),
        other => Err((
            "then",
            format!("'{other}' is not an action; use advance, suggest, remind, tag, enroll, stop or suggest-prospect"),
        )),
    }
}

/// Whether the rule fires on replies and nothing else: what an intent, a
/// follow-up day or a person to suggest is read from.
fn on_replies_only(entry: &RuleEntry) -> bool {
    !entry.on.is_empty() && entry.on.iter().all(|k| k.trim() == "email.replied")
}

/// `due = "follow-up"` (with `otherwise = "90d"`, the default) or nothing (at once).
fn due(entry: &RuleEntry) -> Result<Due, (&'static str, String)> {
    match (entry.due.as_deref().map(str::trim), &entry.otherwise) {
        (None | Some("now"), None) => Ok(Due::Now),
        (Some("follow-up"), otherwise) => {
            if !on_replies_only(entry) {
                return Err((
                    "due",
                    "a follow-up day is read from replies only: on = [\"email.replied\"]".into(),
                ));
            }
            let otherwise = match otherwise {
                Some(span) => parse_span(span).map_err(|e| ("otherwise", e))?,
                None => Duration::days(90),
            };
            Ok(Due::FollowUp { otherwise })
        }
        (None | Some("now"), Some(_)) => Err(("otherwise", "otherwise goes with due = \"follow-up\"".into())),
        (Some(other), _) => Err((
            "due",
            format!("'{other}' is not a due day; use \"follow-up\" (the day a reply names) or leave it out (at once)"),
        )),
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_are_valid() {
        let rules = RuleSet::from_toml(include_str!("../../../config/rules.toml"), &Pipelines::shipped()).unwrap();
        assert!(rules.rules.len() >= 5);
    }

    #[test]
    fn every_problem_names_its_rule_and_key() {
        let text = r#"
            [[rules]]
            name = "Bad Name"
            on = ["post"]
            then = "advance"

            [[rules]]
            name = "no-trigger"
            then = "suggest"
            to = "nowhere"

            [[rules]]
            name = "counted"
            on = ["post"]
            count = 3
            then = "dance"
        "#;
        let problems = RuleSet::from_toml(text, &Pipelines::shipped()).unwrap_err();
        let all = problems.join("\n");
        for expected in [
            "rules[1] (Bad Name).name",
            "rules[1] (Bad Name).to: then = \"advance\" needs to",
            "rules[2] (no-trigger).on",
            "rules[2] (no-trigger).to: there is no stage 'nowhere'",
            "rules[3] (counted).count",
            "rules[3] (counted).then: 'dance' is not an action",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn spans_read_minutes_to_weeks() {
        assert_eq!(parse_span("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_span("48h"), Ok(Duration::hours(48)));
        assert_eq!(parse_span("2 weeks"), Ok(Duration::weeks(2)));
        assert!(parse_span("0d").is_err());
        assert!(parse_span("soon").is_err());
    }
}
