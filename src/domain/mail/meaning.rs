//! What a message means for the rep's prospects: which prospect it concerns
//! and which events, suppressions and away-notes follow. Pure: sync looks the
//! prospects up and stores the result.
//!
//! Matching order: a message answering a Message-ID sent to a prospect is that
//! prospect's; else one from (or with Reply-To) a prospect's address; a bounce
//! is matched by its failed recipient or by the Message-ID of the bounced
//! message. Anything else is ignored and not stored.
//!
//! Bounces, complaints and out-of-office answers act only when `verify`
//! ties them to mail really sent; the others are recorded as
//! `email.unverified`, with the reason, and change nothing. An event's time
//! is when the server received the message, never the sender's `Date:` and
//! never later than now.

mod reports;

use super::envelope::Envelope;
use super::verify::{quoted_ids, tie, tie_by_ids, SentEvidence, Tie};
use super::{Classification, MailClass};
use crate::domain::event::payload::{to_data, AutoReplied, Bounced, Challenged, Received, Replied, Sent};
use crate::domain::event::{keys, Actor, NewEvent};
use crate::domain::intent::Intent;
use crate::domain::prospect::ProspectId;
use chrono::{DateTime, NaiveDate, Utc};
use reports::{challenge_effects, report_effects, unverified};
use serde_json::json;
use std::collections::HashMap;

// The kinds mail becomes: named once, in the event vocabulary. An unverified
// report (not tied to mail sent to the address) is shown, acted on by nothing.
pub use crate::domain::event::kinds::{
    EMAIL_AUTO_REPLIED, EMAIL_BOUNCED, EMAIL_CHALLENGED, EMAIL_COMPLAINED, EMAIL_REPLIED, EMAIL_SENT,
    EMAIL_UNSUBSCRIBED, EMAIL_UNVERIFIED, EMAIL_VERIFIED,
};

/// Which prospect owns an address, which prospect a sent Message-ID went to,
/// and what was really sent: the evidence reports are checked against.
#[derive(Debug, Clone, Default)]
pub struct MailContacts {
    pub by_email: HashMap<String, ProspectId>,
    pub by_sent_id: HashMap<String, ProspectId>,
    pub evidence: SentEvidence,
}

impl MailContacts {
    /// Adds what a second look-up found.
    pub fn merge(&mut self, more: MailContacts) {
        self.by_email.extend(more.by_email);
        self.by_sent_id.extend(more.by_sent_id);
        self.evidence.merge(more.evidence);
    }

    /// A message the rep's Sent folder holds: evidence from now on.
    pub fn add_sent(&mut self, message_id: &str, prospect: ProspectId, address: Option<&str>, at: DateTime<Utc>) {
        self.by_sent_id.insert(message_id.to_string(), prospect);
        self.evidence.sent.insert((message_id.to_string(), prospect));
        if let Some(address) = address {
            self.evidence.sends_to.entry(address.to_string()).or_default().push(at);
        }
    }
}

/// A stated return more than this long after the answer arrived is not
/// believed (the year came from a forged or broken `Date:`).
const MAX_AWAY_DAYS: i64 = 365;

/// One consequence of a message, stored together in one transaction.
#[derive(Debug, Clone)]
pub struct MailEffect {
    pub event: NewEvent,
    /// A Message-ID the rep sent to this prospect, so replies to it match.
    pub sent_id: Option<(String, ProspectId)>,
    /// Addresses no later send may pass, and why.
    pub suppress: Vec<(String, String)>,
    /// The prospect is away (out of office) until this date.
    pub away_until: Option<(ProspectId, NaiveDate)>,
    /// A task for the rep (verifying with a challenge/response filter).
    pub task: Option<MailTask>,
}

/// A task a message asks of the rep, made once (its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTask {
    pub prospect: ProspectId,
    pub instruction: String,
    pub link: Option<String>,
    /// What doing it logs.
    pub logs: String,
    pub key: String,
}

/// The messages a mailbox owner wrote: the rep's touches.
pub fn is_from_rep(envelope: &Envelope, own_addresses: &[String]) -> bool {
    envelope.from.iter().any(|a| own_addresses.contains(a))
}

/// Addresses and Message-IDs whose owners must be looked up for these messages.
pub fn lookups<'a>(
    envelopes: impl Iterator<Item = &'a Envelope>,
    readings: impl Iterator<Item = &'a Classification>,
) -> (Vec<String>, Vec<String>) {
    let mut emails = Vec::new();
    let mut ids = Vec::new();
    for envelope in envelopes {
        emails.extend(
            envelope
                .from
                .iter()
                .chain(&envelope.reply_to)
                .chain(&envelope.to_and_cc)
                .cloned(),
        );
        ids.extend(envelope.answers.iter().cloned());
    }
    for reading in readings {
        emails.extend(
            reading
                .recipients
                .iter()
                .flat_map(|r| std::iter::once(&r.address).chain(&r.aliases))
                .map(|a| a.to_lowercase()),
        );
        emails.extend(reading.challenged.iter().map(|a| a.to_lowercase()));
        ids.extend(reading.original_message_id.iter().cloned());
    }
    emails.sort();
    emails.dedup();
    ids.sort();
    ids.dedup();
    (emails, ids)
}

/// Whether the whole message is needed: the headers tie it to a prospect, or it may be a bounce.
pub fn needs_body(envelope: &Envelope, contacts: &MailContacts) -> bool {
    envelope.may_be_report
        || answered_prospect(envelope, contacts).is_some()
        || sender_prospect(envelope, contacts).is_some()
}

/// `email.sent` for each prospect the rep wrote to. Only mail from the Sent
/// folder (`in_sent`) is remembered as sent, so replies and reports can be
/// tied to it: a message in INBOX that claims to be from the rep may be forged.
pub fn sent_effects(
    envelope: &Envelope,
    contacts: &MailContacts,
    in_sent: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    let mut prospects: Vec<ProspectId> = envelope
        .to_and_cc
        .iter()
        .filter_map(|a| contacts.by_email.get(a).copied())
        .collect();
    prospects.sort();
    prospects.dedup();
    prospects
        .into_iter()
        .map(|prospect| MailEffect {
            event: event(
                prospect,
                EMAIL_SENT,
                envelope,
                actor,
                now,
                to_data(&Sent {
                    message_id: envelope.message_id.clone(),
                    subject: envelope.subject.clone(),
                    to: envelope.to_and_cc.clone(),
                    sequence: None,
                }),
            ),
            sent_id: in_sent.then(|| (envelope.message_id.clone(), prospect)),
            suppress: Vec::new(),
            away_until: None,
            task: None,
        })
        .collect()
}

/// The events a received message gives, by what it is.
pub fn received_effects(
    envelope: &Envelope,
    reading: &Classification,
    contacts: &MailContacts,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    if matches!(reading.class, MailClass::Bounce | MailClass::FeedbackReport) {
        return report_effects(envelope, reading, contacts, actor, now);
    }
    if reading.class == MailClass::ChallengeResponse {
        return challenge_effects(envelope, reading, contacts, actor, now);
    }
    let Some(prospect) = answered_prospect(envelope, contacts).or_else(|| sender_prospect(envelope, contacts)) else {
        return Vec::new();
    };
    let sender = envelope.from.first().cloned().unwrap_or_default();
    let base = received(envelope, reading);
    let effect = |kind: &str, data: serde_json::Value| MailEffect {
        event: event(prospect, kind, envelope, actor, now, data),
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
        task: None,
    };
    // The prospect's own address, and the sender's when a colleague wrote on their thread.
    let removal = |reason: &str| -> Vec<(String, String)> {
        [
            prospect_address(contacts, prospect),
            Some(sender.clone()).filter(|s| s.contains('@')),
        ]
        .into_iter()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|address| (address, reason.to_string()))
        .collect()
    };
    match reading.class {
        MailClass::Human | MailClass::HumanReply => {
            // A removal request in words the unsubscribe signal does not
            // know ("nehmen Sie mich aus Ihrem Verteiler") is honoured too.
            let asked_removal = reading
                .intent
                .as_ref()
                .filter(|read| read.intent == Intent::Unsubscribe && read.actionable());
            let replied = Replied {
                mail: base,
                text: reading.text.clone(),
                intent: reading.intent.clone(),
            };
            vec![MailEffect {
                suppress: asked_removal.map_or_else(Vec::new, |read| {
                    removal(&format!("asked to be removed in a reply: {}", read.explain()))
                }),
                ..effect(EMAIL_REPLIED, to_data(&replied))
            }]
        }
        MailClass::AutoReply => {
            let address = prospect_address(contacts, prospect).unwrap_or_else(|| sender.clone());
            let arrived = received_at(envelope, now);
            let quoted = quoted_ids(envelope, reading);
            if let Tie::Unverified(why) = tie(&contacts.evidence, &quoted, prospect, &address, arrived) {
                return vec![unverified(
                    prospect,
                    "out_of_office",
                    &why,
                    envelope,
                    actor,
                    now,
                    to_data(&base),
                )];
            }
            let arrived_on = arrived.date_naive();
            let believed = reading
                .return_date
                .filter(|date| (*date - arrived_on).num_days() <= MAX_AWAY_DAYS);
            vec![MailEffect {
                away_until: believed.map(|date| (prospect, date)),
                task: None,
                ..effect(
                    EMAIL_AUTO_REPLIED,
                    to_data(&AutoReplied {
                        mail: base,
                        return_date: believed,
                        stated_return_date: reading.return_date,
                    }),
                )
            }]
        }
        MailClass::Unsubscribe => vec![MailEffect {
            suppress: removal("unsubscribed by reply"),
            ..effect(EMAIL_UNSUBSCRIBED, to_data(&base))
        }],
        // Delays, receipts, notifications and challenge/response mail ask nothing of the rep.
        _ => Vec::new(),
    }
}

/// The address on file for a prospect (the contacts hold it when their mail was looked up).
fn prospect_address(contacts: &MailContacts, prospect: ProspectId) -> Option<String> {
    contacts
        .by_email
        .iter()
        .find(|(_, id)| **id == prospect)
        .map(|(address, _)| address.clone())
}

fn answered_prospect(envelope: &Envelope, contacts: &MailContacts) -> Option<ProspectId> {
    envelope
        .answers
        .iter()
        .find_map(|id| contacts.by_sent_id.get(id).copied())
}

fn sender_prospect(envelope: &Envelope, contacts: &MailContacts) -> Option<ProspectId> {
    envelope
        .from
        .iter()
        .chain(&envelope.reply_to)
        .find_map(|a| contacts.by_email.get(a).copied())
}

/// What every event of a received message records about it.
fn received(envelope: &Envelope, reading: &Classification) -> Received {
    Received {
        message_id: envelope.message_id.clone(),
        subject: envelope.subject.clone(),
        from: envelope.from.first().cloned().unwrap_or_default(),
        date: envelope.date,
        class: reading.class.as_str().into(),
        reasons: reading.reasons.clone(),
    }
}

/// When the server received the message (never later than now): what the
/// sender wrote in `Date:` is shown, but decides nothing.
fn received_at(envelope: &Envelope, now: DateTime<Utc>) -> DateTime<Utc> {
    envelope.received_at.unwrap_or(now).min(now)
}

/// One event per prospect and Message-ID, so reading a message again adds nothing.
fn event(
    prospect: ProspectId,
    kind: &str,
    envelope: &Envelope,
    actor: &Actor,
    now: DateTime<Utc>,
    data: serde_json::Value,
) -> NewEvent {
    NewEvent {
        prospect_id: prospect,
        kind: kind.into(),
        occurred_at: received_at(envelope, now),
        source_key: keys::mail(prospect, &envelope.message_id),
        actor: actor.clone(),
        data: data.into(),
    }
}

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra.into_iter().filter(|(_, v)| !v.is_null()));
    }
    base
}

/// The serialized (snake_case) name of a reason.
pub fn name_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "meaning_tests.rs"]
mod tests;
