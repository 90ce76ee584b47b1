//! What a message means for the rep's prospects: which prospect it concerns
//! and which events, suppressions and away-notes follow. Pure: sync looks the
//! prospects up and stores the result.
//!
//! Matching order: a message answering a Message-ID sent to a prospect is that
//! prospect's; else one from (or with Reply-To) a prospect's address; a bounce
//! is matched by its failed recipient or by the Message-ID of the bounced
//! message. Anything else is ignored and not stored.

use super::envelope::Envelope;
use super::{Classification, MailClass};
use crate::domain::event::{Actor, NewEvent};
use crate::domain::prospect::ProspectId;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use std::collections::HashMap;

pub const EMAIL_SENT: &str = "email.sent";
pub const EMAIL_REPLIED: &str = "email.replied";
pub const EMAIL_AUTO_REPLIED: &str = "email.auto_replied";
pub const EMAIL_BOUNCED: &str = "email.bounced";
pub const EMAIL_UNSUBSCRIBED: &str = "email.unsubscribed";
pub const EMAIL_COMPLAINED: &str = "email.complained";

/// Which prospect owns an address, and which prospect a sent Message-ID went to.
#[derive(Debug, Clone, Default)]
pub struct MailContacts {
    pub by_email: HashMap<String, ProspectId>,
    pub by_sent_id: HashMap<String, ProspectId>,
}

/// One consequence of a message, stored together in one transaction.
#[derive(Debug, Clone)]
pub struct MailEffect {
    pub event: NewEvent,
    /// A Message-ID the rep sent to this prospect, so replies to it match.
    pub sent_id: Option<(String, ProspectId)>,
    /// An address no later send may pass, and why.
    pub suppress: Option<(String, String)>,
    /// The prospect is away (out of office) until this date.
    pub away_until: Option<(ProspectId, NaiveDate)>,
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
        emails.extend(envelope.from.iter().chain(&envelope.reply_to).chain(&envelope.to_and_cc).cloned());
        ids.extend(envelope.answers.iter().cloned());
    }
    for reading in readings {
        emails.extend(reading.recipients.iter().map(|r| r.address.to_lowercase()));
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
    envelope.may_be_report || answered_prospect(envelope, contacts).is_some() || sender_prospect(envelope, contacts).is_some()
}

/// `email.sent` for each prospect the rep wrote to.
pub fn sent_effects(envelope: &Envelope, contacts: &MailContacts, actor: &Actor, now: DateTime<Utc>) -> Vec<MailEffect> {
    let mut prospects: Vec<ProspectId> =
        envelope.to_and_cc.iter().filter_map(|a| contacts.by_email.get(a).copied()).collect();
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
                json!({ "message_id": envelope.message_id, "subject": envelope.subject, "to": envelope.to_and_cc }),
            ),
            sent_id: Some((envelope.message_id.clone(), prospect)),
            suppress: None,
            away_until: None,
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
    let Some(prospect) = answered_prospect(envelope, contacts).or_else(|| sender_prospect(envelope, contacts)) else {
        return Vec::new();
    };
    let sender = envelope.from.first().cloned().unwrap_or_default();
    let base = json!({
        "message_id": envelope.message_id,
        "subject": envelope.subject,
        "from": sender,
        "class": reading.class.as_str(),
        "reasons": reading.reasons,
    });
    let effect = |kind: &str, extra: serde_json::Value| MailEffect {
        event: event(prospect, kind, envelope, actor, now, merge(base.clone(), extra)),
        sent_id: None,
        suppress: None,
        away_until: None,
    };
    match reading.class {
        MailClass::Human | MailClass::HumanReply => vec![effect(EMAIL_REPLIED, json!({ "text": reading.text }))],
        MailClass::AutoReply => vec![MailEffect {
            away_until: reading.return_date.map(|date| (prospect, date)),
            ..effect(EMAIL_AUTO_REPLIED, json!({ "return_date": reading.return_date }))
        }],
        MailClass::Unsubscribe => vec![MailEffect {
            suppress: Some((sender, "unsubscribed by reply".into())),
            ..effect(EMAIL_UNSUBSCRIBED, json!({}))
        }],
        // Delays, receipts, notifications and challenge/response mail ask nothing of the rep.
        _ => Vec::new(),
    }
}

/// A bounce or spam complaint: one event per failed recipient who is a prospect.
fn report_effects(
    envelope: &Envelope,
    reading: &Classification,
    contacts: &MailContacts,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    let by_original = reading
        .original_message_id
        .as_ref()
        .and_then(|id| contacts.by_sent_id.get(id).copied());
    let mut effects: Vec<MailEffect> = Vec::new();
    for recipient in &reading.recipients {
        let address = recipient.address.to_lowercase();
        let Some(prospect) = contacts.by_email.get(&address).copied().or(by_original) else {
            continue;
        };
        if effects.iter().any(|e| e.event.prospect_id == prospect) {
            continue;
        }
        let complaint = reading.class == MailClass::FeedbackReport;
        let (kind, suppress) = if complaint {
            (EMAIL_COMPLAINED, Some((address.clone(), "marked as spam".to_string())))
        } else if recipient.hard {
            (EMAIL_BOUNCED, Some((address.clone(), format!("hard bounce ({})", name_of(&recipient.reason)))))
        } else {
            (EMAIL_BOUNCED, None)
        };
        let data = json!({
            "message_id": envelope.message_id,
            "recipient": address,
            "status": recipient.status,
            "hard": recipient.hard && !complaint,
            "reason": recipient.reason,
            "sender_problem": reading.sender_problem,
            "original_message_id": reading.original_message_id,
            "reasons": reading.reasons,
        });
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress,
            away_until: None,
        });
    }
    effects
}

fn answered_prospect(envelope: &Envelope, contacts: &MailContacts) -> Option<ProspectId> {
    envelope.answers.iter().find_map(|id| contacts.by_sent_id.get(id).copied())
}

fn sender_prospect(envelope: &Envelope, contacts: &MailContacts) -> Option<ProspectId> {
    envelope
        .from
        .iter()
        .chain(&envelope.reply_to)
        .find_map(|a| contacts.by_email.get(a).copied())
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
        occurred_at: envelope.date.unwrap_or(now),
        source_key: format!("mail:{prospect}:{}", envelope.message_id),
        actor: actor.clone(),
        data,
    }
}

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra.into_iter().filter(|(_, v)| !v.is_null()));
    }
    base
}

/// The serialized (snake_case) name of a reason.
fn name_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
