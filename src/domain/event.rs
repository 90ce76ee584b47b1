//! Events are the truth: every engagement and every stage change is an
//! append-only event with a unique source key, so replays never duplicate.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::prospect::ProspectId;

/// The kinds of event rapport itself knows, each with its stored name. An
/// event's `kind` is stored as that name (a rep's own kinds, declared in the
/// config, are stored as written); every layer names kinds through this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ProspectCreated,
    StageChanged,
    /// A post in a prospect's public feed (or seen elsewhere and logged).
    Post,
    EmailSent,
    EmailReplied,
    EmailAutoReplied,
    EmailBounced,
    EmailUnsubscribed,
    EmailComplained,
    /// A report naming a prospect that could not be tied to mail sent to them.
    EmailUnverified,
    SequenceEnrolled,
    SequenceStopped,
    SequenceSnoozed,
    MeetingBooked,
    ProposalSigned,
    /// What `rapport tasks done` logs for a reminder.
    FollowUp,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        EventKind::ProspectCreated,
        EventKind::StageChanged,
        EventKind::Post,
        EventKind::EmailSent,
        EventKind::EmailReplied,
        EventKind::EmailAutoReplied,
        EventKind::EmailBounced,
        EventKind::EmailUnsubscribed,
        EventKind::EmailComplained,
        EventKind::EmailUnverified,
        EventKind::SequenceEnrolled,
        EventKind::SequenceStopped,
        EventKind::SequenceSnoozed,
        EventKind::MeetingBooked,
        EventKind::ProposalSigned,
        EventKind::FollowUp,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::ProspectCreated => "prospect.created",
            EventKind::StageChanged => "stage.changed",
            EventKind::Post => "post",
            EventKind::EmailSent => "email.sent",
            EventKind::EmailReplied => "email.replied",
            EventKind::EmailAutoReplied => "email.auto_replied",
            EventKind::EmailBounced => "email.bounced",
            EventKind::EmailUnsubscribed => "email.unsubscribed",
            EventKind::EmailComplained => "email.complained",
            EventKind::EmailUnverified => "email.unverified",
            EventKind::SequenceEnrolled => "sequence.enrolled",
            EventKind::SequenceStopped => "sequence.stopped",
            EventKind::SequenceSnoozed => "sequence.snoozed",
            EventKind::MeetingBooked => "meeting.booked",
            EventKind::ProposalSigned => "proposal.signed",
            EventKind::FollowUp => "follow_up",
        }
    }

    /// The kind of a stored name, if rapport knows it.
    pub fn of(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The prospect's own doing (not the rep's, not rapport's bookkeeping).
    pub fn is_activity(self) -> bool {
        matches!(
            self,
            EventKind::Post
                | EventKind::EmailReplied
                | EventKind::EmailAutoReplied
                | EventKind::MeetingBooked
                | EventKind::ProposalSigned
        )
    }
}

/// The stored names of [`EventKind`], for matching on an event's `kind`.
pub mod kinds {
    use super::EventKind;

    pub const PROSPECT_CREATED: &str = EventKind::ProspectCreated.as_str();
    pub const STAGE_CHANGED: &str = EventKind::StageChanged.as_str();
    pub const POST: &str = EventKind::Post.as_str();
    pub const EMAIL_SENT: &str = EventKind::EmailSent.as_str();
    pub const EMAIL_REPLIED: &str = EventKind::EmailReplied.as_str();
    pub const EMAIL_AUTO_REPLIED: &str = EventKind::EmailAutoReplied.as_str();
    pub const EMAIL_BOUNCED: &str = EventKind::EmailBounced.as_str();
    pub const EMAIL_UNSUBSCRIBED: &str = EventKind::EmailUnsubscribed.as_str();
    pub const EMAIL_COMPLAINED: &str = EventKind::EmailComplained.as_str();
    pub const EMAIL_UNVERIFIED: &str = EventKind::EmailUnverified.as_str();
    pub const SEQUENCE_ENROLLED: &str = EventKind::SequenceEnrolled.as_str();
    pub const SEQUENCE_STOPPED: &str = EventKind::SequenceStopped.as_str();
    pub const SEQUENCE_SNOOZED: &str = EventKind::SequenceSnoozed.as_str();
    pub const MEETING_BOOKED: &str = EventKind::MeetingBooked.as_str();
    pub const PROPOSAL_SIGNED: &str = EventKind::ProposalSigned.as_str();
    pub const FOLLOW_UP: &str = EventKind::FollowUp.as_str();
}

pub use kinds::{PROSPECT_CREATED, STAGE_CHANGED};

/// A post event's words: a feed item's text, else the note of a post logged by hand.
pub fn post_text(data: &serde_json::Value) -> &str {
    let text = |key: &str| data.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    [text("text"), text("note")]
        .into_iter()
        .find(|t| !t.trim().is_empty())
        .unwrap_or_default()
}

/// Prefixes of the kinds rapport itself records; a hand-logged kind may not use these.
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
    kinds::MEETING_BOOKED,
    "meeting.held",
    "meeting.canceled",
    "meeting.no_show",
    "proposal.sent",
    kinds::PROPOSAL_SIGNED,
    // A reply seen outside rapport's mailbox sync: stops sequences like a synced one.
    kinds::EMAIL_REPLIED,
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
    kinds::POST,
    "event.attended",
    "referral",
    "note",
    kinds::FOLLOW_UP,
];

/// A hand-logged kind that rapport records itself but lets a person record
/// too (marked hand-logged): a reply read outside the synced mailbox.
pub fn is_hand_loggable_reserved(kind: &str) -> bool {
    kind == kinds::EMAIL_REPLIED
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
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::of(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::of("linkedin.comment"), None);
    }

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
