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
    /// Addresses no later send may pass, and why.
    pub suppress: Vec<(String, String)>,
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
    envelope.may_be_report
        || answered_prospect(envelope, contacts).is_some()
        || sender_prospect(envelope, contacts).is_some()
}

/// `email.sent` for each prospect the rep wrote to.
pub fn sent_effects(
    envelope: &Envelope,
    contacts: &MailContacts,
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
                json!({ "message_id": envelope.message_id, "subject": envelope.subject, "to": envelope.to_and_cc }),
            ),
            sent_id: Some((envelope.message_id.clone(), prospect)),
            suppress: Vec::new(),
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
        suppress: Vec::new(),
        away_until: None,
    };
    match reading.class {
        MailClass::Human | MailClass::HumanReply => vec![effect(EMAIL_REPLIED, json!({ "text": reading.text }))],
        MailClass::AutoReply => vec![MailEffect {
            away_until: reading.return_date.map(|date| (prospect, date)),
            ..effect(EMAIL_AUTO_REPLIED, json!({ "return_date": reading.return_date }))
        }],
        MailClass::Unsubscribe => vec![MailEffect {
            // The prospect's own address, and the sender's when a colleague wrote on their thread.
            suppress: [
                prospect_address(contacts, prospect),
                Some(sender).filter(|s| s.contains('@')),
            ]
            .into_iter()
            .flatten()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|address| (address, "unsubscribed by reply".to_string()))
            .collect(),
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
    // The bounced message tells whose it was only when the report names no
    // address: a named address that is no prospect's (a colleague in Cc) is not theirs.
    let by_original = reading
        .original_message_id
        .as_ref()
        .and_then(|id| contacts.by_sent_id.get(id).copied())
        .filter(|_| reading.recipients.is_empty());
    let complaint = reading.class == MailClass::FeedbackReport;
    let mut effects: Vec<MailEffect> = Vec::new();
    for recipient in &reading.recipients {
        let address = recipient.address.to_lowercase();
        let Some(prospect) = contacts.by_email.get(&address).copied() else {
            continue;
        };
        if effects.iter().any(|e| e.event.prospect_id == prospect) {
            continue;
        }
        let hard = recipient.hard && !complaint;
        let suppress = match (complaint, hard) {
            (true, _) => vec![(address.clone(), "marked as spam".to_string())],
            (false, true) => vec![(address.clone(), format!("hard bounce ({})", name_of(&recipient.reason)))],
            (false, false) => Vec::new(),
        };
        let data = json!({
            "message_id": envelope.message_id,
            "recipient": address,
            "status": recipient.status,
            "hard": hard,
            "reason": recipient.reason,
            "sender_problem": reading.sender_problem,
            "original_message_id": reading.original_message_id,
            "reasons": reading.reasons,
        });
        let kind = if complaint { EMAIL_COMPLAINED } else { EMAIL_BOUNCED };
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress,
            away_until: None,
        });
    }
    if let Some(prospect) = by_original {
        let kind = if complaint { EMAIL_COMPLAINED } else { EMAIL_BOUNCED };
        let data = json!({
            "message_id": envelope.message_id,
            "hard": false,
            "sender_problem": reading.sender_problem,
            "original_message_id": reading.original_message_id,
            "reasons": reading.reasons,
        });
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress: Vec::new(),
            away_until: None,
        });
    }
    effects
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
pub fn name_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mail::classify;

    const JANE: ProspectId = 1;
    const RAJ: ProspectId = 2;

    fn contacts() -> MailContacts {
        MailContacts {
            by_email: [("jane@acme.io".to_string(), JANE), ("raj@globex.com".to_string(), RAJ)].into(),
            by_sent_id: [("s1@us.example".to_string(), JANE)].into(),
        }
    }

    fn effects_of(raw: &str) -> Vec<MailEffect> {
        let envelope = Envelope::parse(raw.as_bytes()).expect("headers");
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let reading = classify(raw.as_bytes(), day).expect("classified");
        let actor = Actor::System("mail-sync:test".into());
        received_effects(&envelope, &reading, &contacts(), &actor, Utc::now())
    }

    #[test]
    fn an_answer_to_sent_mail_belongs_to_that_prospect_even_from_a_colleague() {
        let effects = effects_of(
            "From: Kim <kim@acme.io>\r\nTo: ann@us.example\r\nSubject: Re: hello\r\nMessage-ID: <r9@acme.io>\r\n\
             In-Reply-To: <s1@us.example>\r\n\r\nJane asked me to answer: yes, let's talk.\r\n",
        );
        assert_eq!(effects.len(), 1);
        assert_eq!(effects[0].event.prospect_id, JANE);
        assert_eq!(effects[0].event.kind, EMAIL_REPLIED);
        assert_eq!(effects[0].event.source_key, "mail:1:r9@acme.io");
    }

    #[test]
    fn mail_from_nobody_we_know_is_ignored() {
        let effects = effects_of("From: x@elsewhere.example\r\nSubject: hi\r\nMessage-ID: <x1@e>\r\n\r\nHello\r\n");
        assert!(effects.is_empty());
    }

    #[test]
    fn the_reps_sent_mail_is_a_touch_and_remembers_its_message_id() {
        let raw = b"From: ann@us.example\r\nTo: Jane <jane@acme.io>, bob@other.example\r\nCc: raj@globex.com\r\n\
Message-ID: <s2@us.example>\r\nSubject: Notes\r\n\r\nHi\r\n";
        let envelope = Envelope::parse(raw).unwrap();
        assert!(is_from_rep(&envelope, &["ann@us.example".to_string()]));
        let effects = sent_effects(&envelope, &contacts(), &Actor::System("t".into()), Utc::now());
        let prospects: Vec<ProspectId> = effects.iter().map(|e| e.event.prospect_id).collect();
        assert_eq!(prospects, [JANE, RAJ]);
        assert!(effects.iter().all(|e| e.event.kind == EMAIL_SENT));
        assert_eq!(effects[0].sent_id, Some(("s2@us.example".to_string(), JANE)));
    }

    #[test]
    fn an_unsubscribe_suppresses_the_sender() {
        let effects = effects_of(
            "From: raj@globex.com\r\nSubject: unsubscribe\r\nMessage-ID: <u1@globex.com>\r\n\r\nunsubscribe\r\n",
        );
        assert_eq!(effects.len(), 1);
        assert_eq!(effects[0].event.kind, EMAIL_UNSUBSCRIBED);
        assert_eq!(
            effects[0].suppress,
            [("raj@globex.com".to_string(), "unsubscribed by reply".to_string())]
        );
    }

    #[test]
    fn an_unsubscribe_on_the_thread_suppresses_the_prospect_and_the_writer() {
        let effects = effects_of(
            "From: kim@acme.io\r\nSubject: Re: hello\r\nMessage-ID: <u2@acme.io>\r\nIn-Reply-To: <s1@us.example>\r\n\r\n\
             Please remove me from your list.\r\n",
        );
        assert_eq!(effects.len(), 1, "{effects:?}");
        let suppressed: Vec<&str> = effects[0].suppress.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(suppressed, ["jane@acme.io", "kim@acme.io"]);
    }

    #[test]
    fn a_bounce_for_a_colleague_in_cc_is_not_the_prospects() {
        let effects = effects_of(
            "From: MAILER-DAEMON@mx.us.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b2@mx>\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\n\
             Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; bob@acme.io\r\n\
             Action: failed\r\nStatus: 5.1.1\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n\
             Message-ID: <s1@us.example>\r\nTo: jane@acme.io\r\nCc: bob@acme.io\r\n--B--\r\n",
        );
        assert!(effects.is_empty(), "{effects:?}");
    }

    #[test]
    fn a_soft_bounce_is_recorded_without_suppressing() {
        let effects = effects_of(
            "From: MAILER-DAEMON@mx.us.example\r\nTo: ann@us.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
             Message-ID: <b1@mx.us.example>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\nThe mailbox is full.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; mx.us.example\r\n\r\nFinal-Recipient: rfc822; raj@globex.com\r\nAction: failed\r\n\
             Status: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n--B--\r\n",
        );
        assert_eq!(effects.len(), 1, "{effects:?}");
        assert_eq!(effects[0].event.kind, EMAIL_BOUNCED);
        assert_eq!(effects[0].event.prospect_id, RAJ);
        assert_eq!(effects[0].event.data["hard"], false);
        assert!(effects[0].suppress.is_empty());
    }
}
