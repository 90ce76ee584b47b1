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

use super::envelope::Envelope;
use super::verify::{quoted_ids, tie, tie_by_ids, SentEvidence, Tie};
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
/// A bounce, complaint or out-of-office answer that could not be tied to mail
/// sent to the address: shown to the rep, acted on by nothing.
pub const EMAIL_UNVERIFIED: &str = "email.unverified";

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
                json!({ "message_id": envelope.message_id, "subject": envelope.subject, "to": envelope.to_and_cc }),
            ),
            sent_id: in_sent.then(|| (envelope.message_id.clone(), prospect)),
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
        "date": envelope.date,
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
        MailClass::AutoReply => {
            let address = prospect_address(contacts, prospect).unwrap_or_else(|| sender.clone());
            let arrived = received_at(envelope, now);
            let quoted = quoted_ids(envelope, reading);
            if let Tie::Unverified(why) = tie(&contacts.evidence, &quoted, prospect, &address, arrived) {
                return vec![unverified(prospect, "out_of_office", &why, envelope, actor, now, base)];
            }
            let arrived_on = arrived.date_naive();
            let believed = reading
                .return_date
                .filter(|date| (*date - arrived_on).num_days() <= MAX_AWAY_DAYS);
            vec![MailEffect {
                away_until: believed.map(|date| (prospect, date)),
                ..effect(
                    EMAIL_AUTO_REPLIED,
                    json!({ "return_date": believed, "stated_return_date": reading.return_date }),
                )
            }]
        }
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

/// A report that changes nothing: recorded for the rep to look at.
fn unverified(
    prospect: ProspectId,
    report: &str,
    why: &str,
    envelope: &Envelope,
    actor: &Actor,
    now: DateTime<Utc>,
    details: serde_json::Value,
) -> MailEffect {
    let data = merge(details, json!({ "report": report, "unverified": why }));
    MailEffect {
        event: event(prospect, EMAIL_UNVERIFIED, envelope, actor, now, data),
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
    }
}

/// A bounce or spam complaint: one event per failed recipient who is a
/// prospect, acting only when the report is tied to mail sent to them.
fn report_effects(
    envelope: &Envelope,
    reading: &Classification,
    contacts: &MailContacts,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    let quoted = quoted_ids(envelope, reading);
    // The bounced message tells whose it was only when the report names no
    // address: a named address that is no prospect's (a colleague in Cc) is not theirs.
    let by_original = quoted
        .iter()
        .find_map(|id| contacts.by_sent_id.get(id).copied())
        .filter(|_| reading.recipients.is_empty());
    let complaint = reading.class == MailClass::FeedbackReport;
    let kind = if complaint { EMAIL_COMPLAINED } else { EMAIL_BOUNCED };
    let report = if complaint { "complaint" } else { "bounce" };
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
        let data = json!({
            "message_id": envelope.message_id,
            "from": envelope.from.first(),
            "subject": envelope.subject,
            "date": envelope.date,
            "recipient": address,
            "status": recipient.status,
            "hard": hard,
            "reason": recipient.reason,
            "original_message_id": reading.original_message_id,
            "reasons": reading.reasons,
        });
        let tied = tie(
            &contacts.evidence,
            &quoted,
            prospect,
            &address,
            received_at(envelope, now),
        );
        if let Tie::Unverified(why) = &tied {
            effects.push(unverified(prospect, report, why, envelope, actor, now, data));
            continue;
        }
        let suppress = match (complaint, hard) {
            (true, _) => vec![(address.clone(), "marked as spam".to_string())],
            (false, true) => vec![(address.clone(), format!("hard bounce ({})", name_of(&recipient.reason)))],
            (false, false) => Vec::new(),
        };
        let data = merge(data, sender_problem(reading, &tied));
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress,
            away_until: None,
        });
    }
    if let Some((prospect, tied)) =
        by_original.and_then(|prospect| tie_by_ids(&contacts.evidence, &quoted, prospect).map(|t| (prospect, t)))
    {
        let data = json!({
            "message_id": envelope.message_id,
            "from": envelope.from.first(),
            "subject": envelope.subject,
            "date": envelope.date,
            "hard": false,
            "original_message_id": reading.original_message_id,
            "reasons": reading.reasons,
        });
        let data = merge(data, sender_problem(reading, &tied));
        effects.push(MailEffect {
            event: event(prospect, kind, envelope, actor, now, data),
            sent_id: None,
            suppress: Vec::new(),
            away_until: None,
        });
    }
    effects
}

/// A policy or reputation refusal pauses the whole mailbox only when the
/// report quotes mail rapport itself sent; otherwise it is only noted.
fn sender_problem(reading: &Classification, tie: &Tie) -> serde_json::Value {
    let pauses = reading.sender_problem && *tie == Tie::Outbox;
    json!({
        "sender_problem": pauses,
        "policy_refusal": reading.sender_problem,
        "verified_by": tie.described(),
    })
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
            by_sent_id: [
                ("s1@us.example".to_string(), JANE),
                ("o1@rapport.us.example".to_string(), RAJ),
            ]
            .into(),
            evidence: SentEvidence {
                sent: [
                    ("s1@us.example".to_string(), JANE),
                    ("o1@rapport.us.example".to_string(), RAJ),
                ]
                .into(),
                outbox: [("o1@rapport.us.example".to_string(), RAJ)].into(),
                sends_to: [("raj@globex.com".to_string(), vec![at("2026-11-20T09:00:00Z")])].into(),
            },
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn effects_of(raw: &str) -> Vec<MailEffect> {
        effects_at(
            raw,
            &contacts(),
            Some(at("2026-11-27T10:00:00Z")),
            at("2026-11-27T10:05:00Z"),
        )
    }

    /// The effects of `raw`, received by the server at `received`, read at `now`.
    fn effects_at(
        raw: &str,
        contacts: &MailContacts,
        received: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<MailEffect> {
        let mut envelope = Envelope::parse(raw.as_bytes()).expect("headers");
        envelope.received_at = received;
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let reading = classify(raw.as_bytes(), day).expect("classified");
        let actor = Actor::System("mail-sync:test".into());
        received_effects(&envelope, &reading, contacts, &actor, now)
    }

    /// A DSN for `recipient` with `status`, quoting `original` (a Message-ID) when given.
    fn dsn(recipient: &str, status: &str, original: Option<&str>, date: &str) -> String {
        let quoted = original.map_or(String::new(), |id| {
            format!("--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{id}>\r\nTo: {recipient}\r\n")
        });
        format!(
            "From: MAILER-DAEMON@mx.example\r\nTo: ann@us.example\r\nDate: {date}\r\n\
             Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{status}@mx.example>\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
             Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n\
             Diagnostic-Code: smtp; 550 {status} refused\r\n{quoted}--B--\r\n"
        )
    }

    const FUTURE: &str = "Fri, 1 Jan 2100 00:00:00 +0000";
    const TODAY: &str = "Fri, 27 Nov 2026 10:00:00 +0000";

    #[test]
    fn a_forged_hard_bounce_changes_nothing_and_says_why() {
        // Nothing was ever sent to Jane's address, and the report quotes nothing.
        let effects = effects_of(&dsn("jane@acme.io", "5.1.1", None, TODAY));
        assert_eq!(effects.len(), 1, "{effects:?}");
        assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED);
        assert!(effects[0].suppress.is_empty());
        assert_eq!(effects[0].event.data["report"], "bounce");
        assert!(
            effects[0].event.data["unverified"]
                .as_str()
                .unwrap()
                .contains("nothing was ever sent"),
            "{}",
            effects[0].event.data
        );
    }

    #[test]
    fn a_bounce_quoting_a_message_nobody_sent_changes_nothing() {
        let effects = effects_of(&dsn("raj@globex.com", "5.1.1", Some("made-up@evil.example"), TODAY));
        assert_eq!(effects.len(), 1, "{effects:?}");
        assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED);
        assert!(effects[0].suppress.is_empty());
    }

    #[test]
    fn a_bounce_that_arrived_before_anything_was_sent_changes_nothing() {
        let raw = dsn("raj@globex.com", "5.1.1", None, TODAY);
        let effects = effects_at(
            &raw,
            &contacts(),
            Some(at("2026-11-19T09:00:00Z")),
            at("2026-11-27T10:00:00Z"),
        );
        assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED, "{effects:?}");
        assert!(effects[0].suppress.is_empty());
    }

    #[test]
    fn a_hard_bounce_after_a_send_to_the_address_suppresses_it() {
        let effects = effects_of(&dsn("raj@globex.com", "5.1.1", None, TODAY));
        assert_eq!(effects[0].event.kind, EMAIL_BOUNCED, "{effects:?}");
        assert_eq!(effects[0].event.data["hard"], true);
        assert_eq!(effects[0].suppress.len(), 1);
        assert_eq!(effects[0].event.data["verified_by"], "an earlier send to the address");
    }

    #[test]
    fn only_a_policy_refusal_of_rapports_own_mail_pauses_the_mailbox() {
        let forged = effects_of(&dsn("raj@globex.com", "5.7.1", None, FUTURE));
        assert_eq!(
            forged[0].event.kind, EMAIL_BOUNCED,
            "tied by the earlier send: {forged:?}"
        );
        assert_eq!(
            forged[0].event.data["sender_problem"], false,
            "{}",
            forged[0].event.data
        );
        assert_eq!(forged[0].event.data["policy_refusal"], true);
        let own = effects_of(&dsn("raj@globex.com", "5.7.1", Some("o1@rapport.us.example"), TODAY));
        assert_eq!(own[0].event.data["sender_problem"], true, "{}", own[0].event.data);
        assert_eq!(own[0].event.data["verified_by"], "a message rapport sent");
    }

    #[test]
    fn an_events_time_is_when_the_server_received_it_never_later_than_now() {
        let raw = dsn("raj@globex.com", "5.7.1", Some("o1@rapport.us.example"), FUTURE);
        let now = at("2026-11-27T10:05:00Z");
        let received = effects_at(&raw, &contacts(), Some(at("2026-11-27T10:00:00Z")), now);
        assert_eq!(received[0].event.occurred_at, at("2026-11-27T10:00:00Z"));
        assert_eq!(
            received[0].event.data["date"], "2100-01-01T00:00:00Z",
            "the Date header is shown"
        );
        let unknown = effects_at(&raw, &contacts(), None, now);
        assert_eq!(unknown[0].event.occurred_at, now);
        let skewed = effects_at(&raw, &contacts(), Some(at("2030-01-01T00:00:00Z")), now);
        assert_eq!(skewed[0].event.occurred_at, now);
    }

    #[test]
    fn an_out_of_office_acts_only_when_tied_to_mail_sent() {
        let ooo = |extra: &str, from: &str| {
            format!(
                "From: {from}\r\nTo: ann@us.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\
                 Message-ID: <ooo-{from}>\r\n{extra}\r\nI am away until 8 December 2026.\r\n"
            )
        };
        let forged = effects_of(&ooo("", "jane@acme.io"));
        assert_eq!(forged[0].event.kind, EMAIL_UNVERIFIED, "{forged:?}");
        assert!(forged[0].away_until.is_none());
        assert_eq!(forged[0].event.data["report"], "out_of_office");
        let answering = effects_of(&ooo("In-Reply-To: <s1@us.example>\r\n", "jane@acme.io"));
        assert_eq!(answering[0].event.kind, EMAIL_AUTO_REPLIED, "{answering:?}");
        assert!(answering[0].away_until.is_some());
        let after_a_send = effects_of(&ooo("", "raj@globex.com"));
        assert_eq!(after_a_send[0].event.kind, EMAIL_AUTO_REPLIED, "{after_a_send:?}");
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
        let effects = sent_effects(&envelope, &contacts(), true, &Actor::System("t".into()), Utc::now());
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

    #[test]
    fn a_report_quoting_another_prospects_mail_changes_nothing() {
        // Raj received o1 from rapport; a bounce quoting it that names Jane is forged.
        let effects = effects_of(&dsn("jane@acme.io", "5.7.1", Some("o1@rapport.us.example"), TODAY));
        assert_eq!(effects.len(), 1, "{effects:?}");
        assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED);
        assert!(effects[0].suppress.is_empty());
    }

    #[test]
    fn only_mail_from_the_sent_folder_is_remembered_as_sent() {
        let raw = b"From: ann@us.example\r\nTo: jane@acme.io\r\nMessage-ID: <f1@evil>\r\nSubject: x\r\n\r\nHi\r\n";
        let envelope = Envelope::parse(raw).unwrap();
        let actor = Actor::System("t".into());
        let in_inbox = sent_effects(&envelope, &contacts(), false, &actor, Utc::now());
        assert_eq!(in_inbox.len(), 1, "still the rep's touch");
        assert!(
            in_inbox[0].sent_id.is_none(),
            "but no evidence a report could be tied to"
        );
        assert!(sent_effects(&envelope, &contacts(), true, &actor, Utc::now())[0]
            .sent_id
            .is_some());
    }

    #[test]
    fn a_return_date_years_away_is_not_believed() {
        let raw = "From: raj@globex.com\r\nTo: ann@us.example\r\nSubject: Out of office\r\n\
                   Auto-Submitted: auto-replied\r\nMessage-ID: <ooo-far@globex.com>\r\n\
                   Date: Fri, 1 Jan 2100 00:00:00 +0000\r\n\r\nI am away until 8 December.\r\n";
        let effects = effects_of(raw);
        assert_eq!(effects[0].event.kind, EMAIL_AUTO_REPLIED, "{effects:?}");
        assert!(effects[0].away_until.is_none(), "{effects:?}");
    }
}
