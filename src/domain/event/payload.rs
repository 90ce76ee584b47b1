//! What each kind of event rapport records carries, as types: written by
//! the producers (`NewEvent::with`), read back by scores, rules, stop rules
//! and the digest (`Event::read`). Events from before a field existed read
//! with that field at its default. A kind a rep declares carries a logged
//! note ([`Logged`]).

use super::EventKind;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A payload and the kind it belongs to.
pub trait Payload: Serialize {
    const KIND: EventKind;
}

/// `prospect.created`: where the prospect started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Created {
    pub pipeline: String,
    pub stage: String,
}

impl Payload for Created {
    const KIND: EventKind = EventKind::ProspectCreated;
}

/// `stage.changed`: from (none for the first stage), to, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StageChanged {
    pub from: Option<String>,
    pub to: String,
    pub reason: Option<String>,
}

impl Payload for StageChanged {
    const KIND: EventKind = EventKind::StageChanged;
}

/// `post` from a feed: the item as rapport normalised it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedPost {
    pub source: i64,
    pub platform: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
}

impl Payload for FeedPost {
    const KIND: EventKind = EventKind::Post;
}

/// Which step of which enrolment an event is about (all three, or none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SequenceStep {
    pub sequence: String,
    /// 1-based.
    pub step: u32,
    pub enrolment: i64,
}

/// `email.sent`: a message to the prospect, from the outbox (with its
/// sequence step) or read in the rep's Sent folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sent {
    pub message_id: String,
    pub subject: String,
    pub to: Vec<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<SequenceStep>,
}

impl Payload for Sent {
    const KIND: EventKind = EventKind::EmailSent;
}

/// What every event read from a received message says of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Received {
    pub message_id: String,
    pub subject: String,
    pub from: String,
    /// The sender's Date header (shown, never trusted).
    pub date: Option<DateTime<Utc>>,
    /// How rapport classified it, and the signals that decided.
    pub class: String,
    pub reasons: Vec<String>,
}

/// `email.replied`: a person's answer, its fresh text (or a reply logged by hand).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Replied {
    #[serde(flatten)]
    pub mail: Received,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// What the reply means, with the words that decided it (replies
    /// recorded before intents were read have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<crate::domain::intent::ReplyIntent>,
}

impl Payload for Replied {
    const KIND: EventKind = EventKind::EmailReplied;
}

/// `email.auto_replied`: an out-of-office answer and the return date it gave
/// (`return_date` only when believed: within a year of arrival).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoReplied {
    #[serde(flatten)]
    pub mail: Received,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stated_return_date: Option<NaiveDate>,
}

impl Payload for AutoReplied {
    const KIND: EventKind = EventKind::EmailAutoReplied;
}

/// `email.challenged`: a challenge/response filter holds mail to the prospect
/// until the rep verifies; the link is shown to the rep, never followed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Challenged {
    #[serde(flatten)]
    pub mail: Received,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Payload for Challenged {
    const KIND: EventKind = EventKind::EmailChallenged;
}

/// `email.bounced` (or `email.complained`): a failed delivery, from a
/// report in the mailbox (with what the report said and how it was tied to
/// mail sent) or from the SMTP server's refusal while sending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bounced {
    pub message_id: String,
    /// The address that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The address cannot receive mail: it is suppressed.
    pub hard: bool,
    /// Why, as a reason's snake_case name (`user_unknown`, `mailbox_full`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The server refused the sender (5.7.x) in mail rapport sent: the mailbox pauses.
    pub sender_problem: bool,
    /// The report refused the sender's policy (noted; acted on only when tied to the outbox).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub policy_refusal: bool,
    /// How the report was tied to mail sent to the prospect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    /// The report's sender, subject and Date header (shown, never trusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
    /// The Message-ID of the message that bounced, as the report quotes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The SMTP server's reply, when it refused while sending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_reply: Option<String>,
    /// `sending` when the refusal came in the SMTP session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub during: Option<String>,
}

impl Payload for Bounced {
    const KIND: EventKind = EventKind::EmailBounced;
}

/// `email.unverified`: a report (a bounce, a complaint, an out-of-office
/// answer) that named a prospect but could not be tied to mail sent to
/// them: the report's own fields, and these.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Unverified {
    /// `bounce`, `complaint` or `out_of_office`.
    pub report: String,
    /// Why it could not be tied.
    pub unverified: String,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// The report's Date header as it was written (shown, never trusted).
    pub date: Option<String>,
}

/// `sequence.enrolled`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Enrolled {
    pub sequence: String,
    pub variant: u32,
    pub enrolment: i64,
}

impl Payload for Enrolled {
    const KIND: EventKind = EventKind::SequenceEnrolled;
}

/// `sequence.stopped`: why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stopped {
    #[serde(flatten)]
    pub at: SequenceStep,
    pub reason: String,
}

impl Payload for Stopped {
    const KIND: EventKind = EventKind::SequenceStopped;
}

/// `sequence.snoozed`: held until the prospect is back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snoozed {
    #[serde(flatten)]
    pub at: SequenceStep,
    pub until: Option<DateTime<Utc>>,
}

impl Payload for Snoozed {
    const KIND: EventKind = EventKind::SequenceSnoozed;
}

/// `email.unsubscribed` by the one-click link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OneClickUnsubscribe {
    pub via: String,
    pub enrolment: i64,
}

impl Payload for OneClickUnsubscribe {
    const KIND: EventKind = EventKind::EmailUnsubscribed;
}

/// Engagement logged by a person (any kind they may log): a note and a link;
/// a reply logged by hand also carries its text and is marked as such.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Logged {
    pub note: Option<String>,
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hand_logged: bool,
    /// A reply logged by hand is read for intent like a synced one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<crate::domain::intent::ReplyIntent>,
}

/// What a verified webhook recorded (`meeting.booked`, `proposal.signed`,
/// ...): its line for the timeline (`note`, as a logged event shows), the
/// provider, when a booked meeting starts, and who organised or sent it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hooked {
    pub note: String,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizer: Option<String>,
}

/// The engagement a done task logs: which task, what it said, and the rep's note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskDone {
    pub task: i64,
    pub instruction: String,
    pub sequence: Option<String>,
    pub note: Option<String>,
}

/// A payload as stored (a JSON object).
pub fn to_data(payload: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(payload).unwrap_or_else(|_| serde_json::Value::Object(Default::default()))
}

/// A stored payload read as `T`; what does not fit reads as the default.
pub fn from_data<T: for<'de> Deserialize<'de> + Default>(data: &serde_json::Value) -> T {
    T::deserialize(data).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_store_what_the_producers_stored_before() {
        let sent = Sent {
            message_id: "a@b".into(),
            subject: "Hi".into(),
            to: vec!["jane@acme.io".into()],
            sequence: Some(SequenceStep {
                sequence: "intro".into(),
                step: 1,
                enrolment: 9,
            }),
        };
        assert_eq!(
            to_data(&sent),
            json!({ "message_id": "a@b", "subject": "Hi", "to": ["jane@acme.io"], "sequence": "intro", "step": 1, "enrolment": 9 })
        );
        let read: Sent = from_data(&json!({ "message_id": "x", "subject": "s", "to": [] }));
        assert_eq!(read.sequence, None);
        let auto = AutoReplied {
            return_date: None,
            ..AutoReplied::default()
        };
        assert!(
            to_data(&auto).get("return_date").is_none(),
            "an unbelieved date is left out"
        );
        let bounce: Bounced = from_data(&json!({ "hard": true, "reason": "user_unknown" }));
        assert!(bounce.hard);
        assert_eq!(bounce.reason.as_deref(), Some("user_unknown"));
        let odd: Bounced = from_data(&json!({ "hard": "yes" }));
        assert!(!odd.hard, "what does not fit reads as the default");
    }
}
