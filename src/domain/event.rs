//! Events are the truth: every engagement and every stage change is an
//! append-only event with a unique source key, so replays never duplicate.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::prospect::ProspectId;

/// Kinds rapport itself records; a hand-logged kind may not use these.
pub const PROSPECT_CREATED: &str = "prospect.created";
pub const STAGE_CHANGED: &str = "stage.changed";
const RESERVED_PREFIXES: [&str; 4] = ["prospect.", "stage.", "email.", "sequence."];

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Actor {
    /// A person at the CLI or in the web board.
    User(String),
    /// A rule, by name.
    Rule(String),
    /// A file import, by file name.
    Import(String),
    /// The daemon's own work (a poll, a sync).
    System(String),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Rule(_) => "rule",
            Actor::Import(_) => "import",
            Actor::System(_) => "system",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::User(n) | Actor::Rule(n) | Actor::Import(n) | Actor::System(n) => n,
        }
    }

    pub fn from_parts(kind: &str, name: String) -> Actor {
        match kind {
            "rule" => Actor::Rule(name),
            "import" => Actor::Import(name),
            "system" => Actor::System(name),
            _ => Actor::User(name),
        }
    }
}

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub prospect_id: ProspectId,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    /// Unique across all events; appending the same key twice is a no-op.
    pub source_key: String,
    pub actor: Actor,
    pub data: serde_json::Value,
}

/// A stored event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    pub prospect_id: ProspectId,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
    pub data: serde_json::Value,
}

/// The record of a prospect's creation, with the stage it started in.
pub fn prospect_created(
    prospect_id: ProspectId,
    pipeline: &str,
    stage: &str,
    at: DateTime<Utc>,
    actor: Actor,
) -> NewEvent {
    NewEvent {
        prospect_id,
        kind: PROSPECT_CREATED.into(),
        occurred_at: at,
        source_key: format!("created:{prospect_id}"),
        actor,
        data: serde_json::json!({ "pipeline": pipeline, "stage": stage }),
    }
}

/// The record of a stage change: from, to, and why.
pub fn stage_change(
    prospect_id: ProspectId,
    from: Option<&str>,
    to: &str,
    at: DateTime<Utc>,
    actor: Actor,
    reason: Option<&str>,
) -> NewEvent {
    NewEvent {
        prospect_id,
        kind: STAGE_CHANGED.into(),
        occurred_at: at,
        source_key: format!(
            "stage:{prospect_id}:{}:{to}:{}",
            from.unwrap_or("-"),
            at.timestamp_nanos_opt().unwrap_or_default()
        ),
        actor,
        data: serde_json::json!({ "from": from, "to": to, "reason": reason }),
    }
}

/// Engagement a rep may log by hand (or a webhook may record), beside the
/// kinds declared in the config (`[events] kinds`), in the rules' `on` lists
/// and in sequence tasks' `logs`.
pub const LOGGABLE_KINDS: &[&str] = &[
    "call",
    "call.voicemail",
    "meeting.booked",
    "meeting.held",
    "meeting.canceled",
    "meeting.no_show",
    "proposal.sent",
    "proposal.signed",
    // A reply seen outside rapport's mailbox sync: stops sequences like a synced one.
    "email.replied",
    "linkedin.comment",
    "linkedin.like",
    "linkedin.message",
    "linkedin.connect",
    "linkedin.accepted",
    "linkedin.declined",
    "linkedin.share",
    "x.reply",
    "x.like",
    "x.message",
    "x.repost",
    "social.comment",
    "social.like",
    "social.message",
    "social.share",
    "post",
    "event.attended",
    "referral",
    "note",
    "follow_up",
];

/// A hand-logged kind that rapport records itself but lets a person record
/// too (marked hand-logged): a reply read outside the synced mailbox.
pub fn is_hand_loggable_reserved(kind: &str) -> bool {
    kind == "email.replied"
}

/// Checks the form of a kind such as `linkedin.comment`, `call` or `meeting.booked`.
pub fn validate_logged_kind(kind: &str) -> Result<String, String> {
    let kind = kind.trim().to_ascii_lowercase();
    let well_formed = !kind.is_empty()
        && kind.len() <= 64
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !well_formed {
        return Err(format!(
            "'{kind}' is not an engagement kind; use lower-case words joined by '.', e.g. linkedin.comment, call, meeting.booked"
        ));
    }
    if RESERVED_PREFIXES.iter().any(|p| kind.starts_with(p)) && !is_hand_loggable_reserved(&kind) {
        return Err(format!(
            "'{kind}' is recorded by rapport itself; log what you did instead (e.g. linkedin.like, call), and use `rapport prospect move` for stages"
        ));
    }
    Ok(kind)
}

/// A kind a person may log now: well formed, and built in or declared
/// (`known`); a typo is refused with the closest known kind.
pub fn known_logged_kind(kind: &str, known: &[String]) -> Result<String, String> {
    let kind = validate_logged_kind(kind)?;
    if LOGGABLE_KINDS.contains(&kind.as_str()) || known.contains(&kind) {
        return Ok(kind);
    }
    let mut all: Vec<&str> = LOGGABLE_KINDS
        .iter()
        .copied()
        .chain(known.iter().map(String::as_str))
        .collect();
    all.sort_unstable();
    all.dedup();
    let closest = all
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&kind, k), *k))
        .min()
        .filter(|(distance, k)| *distance <= 3.max(k.len() / 3));
    let hint = match closest {
        Some((_, k)) => format!("did you mean {k}? "),
        None => String::new(),
    };
    Err(format!(
        "'{kind}' is not a kind rapport knows; {hint}known kinds: {}. \
         To log a kind of your own, add it to `kinds` under [events] in the config",
        all.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_in_a_logged_kind_gets_the_closest_known_kind() {
        let declared = vec!["whitepaper.downloaded".to_string()];
        assert_eq!(known_logged_kind("Call", &declared).unwrap(), "call");
        assert_eq!(
            known_logged_kind("whitepaper.downloaded", &declared).unwrap(),
            "whitepaper.downloaded"
        );
        assert_eq!(known_logged_kind("email.replied", &[]).unwrap(), "email.replied");
        let error = known_logged_kind("linkedin.coment", &declared).unwrap_err();
        assert!(error.contains("did you mean linkedin.comment?"), "{error}");
        assert!(error.contains("[events]"), "{error}");
        let error = known_logged_kind("meeting.bookd", &[]).unwrap_err();
        assert!(error.contains("did you mean meeting.booked?"), "{error}");
        let error = known_logged_kind("zzzzzzzzzzzz", &[]).unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
        assert!(known_logged_kind("email.bounced", &[]).is_err());
    }

    #[test]
    fn logged_kinds() {
        assert_eq!(validate_logged_kind("LinkedIn.Comment").unwrap(), "linkedin.comment");
        assert!(validate_logged_kind("stage.changed").is_err());
        assert!(validate_logged_kind("two words").is_err());
    }
}
