//! Events are the truth: every engagement and every stage change is an
//! append-only event with a unique source key, so replays never duplicate.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::prospect::ProspectId;

pub mod keys;
mod logged;
pub mod payload;

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
    /// The prospect's challenge/response filter holds the rep's mail until
    /// the rep proves to be a person (Boxbe, SpamArrest, ...).
    EmailChallenged,
    /// The rep verified with that filter (the challenge task done).
    EmailVerified,
    SequenceEnrolled,
    SequenceStopped,
    SequenceSnoozed,
    MeetingBooked,
    ProposalSigned,
    /// What `rapport tasks done` logs for a reminder.
    FollowUp,
}

impl EventKind {
    pub const ALL: [EventKind; 18] = [
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
        EventKind::EmailChallenged,
        EventKind::EmailVerified,
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
            EventKind::EmailChallenged => "email.challenged",
            EventKind::EmailVerified => "email.verified",
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
    pub const EMAIL_CHALLENGED: &str = EventKind::EmailChallenged.as_str();
    pub const EMAIL_VERIFIED: &str = EventKind::EmailVerified.as_str();
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
    /// A verified webhook delivery, by provider.
    Webhook(String),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Rule(_) => "rule",
            Actor::Import(_) => "import",
            Actor::System(_) => "system",
            Actor::Webhook(_) => "webhook",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::User(n) | Actor::Rule(n) | Actor::Import(n) | Actor::System(n) | Actor::Webhook(n) => n,
        }
    }

    pub fn from_parts(kind: &str, name: String) -> Actor {
        match kind {
            "rule" => Actor::Rule(name),
            "import" => Actor::Import(name),
            "system" => Actor::System(name),
            "webhook" => Actor::Webhook(name),
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
    pub data: EventData,
}

/// An event's data about to be stored: a JSON object, as its text. Written
/// once where the event is made (a first poll makes thousands a second)
/// and stored as it is; nothing reads it back before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventData(String);

impl EventData {
    /// A payload's data (an empty object should it not serialise, which
    /// the payload types cannot fail to do).
    pub fn of(payload: &impl Serialize) -> EventData {
        // Written into a buffer kept by the thread, then copied out at its
        // size: one allocation an event, where a growing string was copied
        // again at every doubling (a first poll makes thousands a second).
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(|buffer| {
            buffer.clear();
            let text = serde_json::to_writer(&mut *buffer, payload)
                .ok()
                .and_then(|()| std::str::from_utf8(buffer).ok())
                .unwrap_or("{}");
            let data = EventData(text.to_owned());
            // A rare large payload's buffer is not kept for the thread's life.
            if buffer.capacity() > 64 * 1024 {
                *buffer = Vec::new();
            }
            data
        })
    }

    /// The JSON text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The data read back as a JSON value.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for EventData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<serde_json::Value> for EventData {
    fn from(value: serde_json::Value) -> EventData {
        EventData(value.to_string())
    }
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

impl NewEvent {
    /// An event of a payload's kind, its data the payload.
    pub fn with<P: payload::Payload>(
        prospect_id: ProspectId,
        occurred_at: DateTime<Utc>,
        source_key: String,
        actor: Actor,
        payload: &P,
    ) -> NewEvent {
        NewEvent {
            prospect_id,
            kind: P::KIND.as_str().into(),
            occurred_at,
            source_key,
            actor,
            data: EventData::of(payload),
        }
    }
}

impl Event {
    /// This event's data read as a payload (what does not fit reads as the default).
    pub fn read<T: for<'de> serde::Deserialize<'de> + Default>(&self) -> T {
        payload::from_data(&self.data)
    }
}

/// The record of a prospect's creation, with the stage it started in.
pub fn prospect_created(
    prospect_id: ProspectId,
    pipeline: &str,
    stage: &str,
    at: DateTime<Utc>,
    actor: Actor,
) -> NewEvent {
    let created = payload::Created {
        pipeline: pipeline.into(),
        stage: stage.into(),
    };
    NewEvent::with(prospect_id, at, keys::created(prospect_id), actor, &created)
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
    let changed = payload::StageChanged {
        from: from.map(str::to_string),
        to: to.into(),
        reason: reason.map(str::to_string),
    };
    NewEvent::with(
        prospect_id,
        at,
        keys::stage_change(prospect_id, from, to, at),
        actor,
        &changed,
    )
}

pub use logged::{is_hand_loggable_reserved, known_logged_kind, validate_logged_kind, LOGGABLE_KINDS};

/// A line about an event's data, for a timeline: a stage change's from → to,
/// then its reason, note and link.
pub fn summary(data: &serde_json::Value) -> String {
    let text = |key: &str| data.get(key).and_then(|v| v.as_str());
    let mut parts = Vec::new();
    if let Some(to) = text("to") {
        parts.push(format!("{} → {to}", text("from").unwrap_or("-")));
    } else if let Some(stage) = text("stage") {
        parts.push(format!("in {stage}"));
    }
    for key in ["reason", "note", "url"] {
        if let Some(value) = text(key) {
            parts.push(value.to_string());
        }
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_s_data_is_its_payload_as_json_read_back_the_same() {
        let post = payload::FeedPost {
            source: 3,
            platform: "blog".into(),
            url: Some("https://jane.example/p1".into()),
            title: Some("Ship \"it\" — now".into()),
            text: None,
            published: Some("2026-12-01T08:00:00Z".parse().unwrap()),
            author: None,
        };
        let data = EventData::of(&post);
        assert_eq!(data.value(), payload::to_data(&post), "the same object as before");
        assert_eq!(data.to_string(), data.as_str());
        let read: payload::FeedPost = payload::from_data(&data.value());
        assert_eq!(read, post);
        assert_eq!(EventData::from(serde_json::json!({"a": 1})).as_str(), r#"{"a":1}"#);
    }

    #[test]
    fn each_event_s_data_is_its_own_whatever_the_thread_wrote_before() {
        let post = |text: String| payload::FeedPost {
            source: 3,
            platform: "blog".into(),
            url: None,
            title: None,
            text: Some(text),
            published: None,
            author: None,
        };
        let large = post("x".repeat(100_000));
        let small = post("short".into());
        for payload in [&small, &large, &small, &small] {
            let data = EventData::of(payload);
            assert_eq!(data.as_str(), serde_json::to_string(payload).unwrap());
            assert_eq!(data.0.capacity(), data.0.len(), "made at its size");
        }
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::of(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::of("linkedin.comment"), None);
    }
}
