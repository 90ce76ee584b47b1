//! What a message's headers alone say: who it is from and to, what it answers,
//! and whether it may be a delivery report. Sync reads only the headers of new
//! messages first and fetches a whole message only when these say it may
//! concern a prospect.

use chrono::{DateTime, Utc};
use mail_parser::{Address, HeaderValue, MessageParser};

/// Header fields sync asks the server for (`BODY.PEEK[HEADER.FIELDS (...)]`).
pub const ENVELOPE_FIELDS: &str =
    "FROM REPLY-TO TO CC MESSAGE-ID IN-REPLY-TO REFERENCES DATE SUBJECT CONTENT-TYPE RETURN-PATH X-FAILED-RECIPIENTS";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Without angle brackets; for a message without one, a digest of its
    /// headers, so that reading it again gives the same id.
    pub message_id: String,
    /// Lower-cased addresses.
    pub from: Vec<String>,
    pub reply_to: Vec<String>,
    pub to_and_cc: Vec<String>,
    /// Message-IDs this message answers (In-Reply-To, then References).
    pub answers: Vec<String>,
    pub subject: String,
    /// What the sender wrote in `Date:`: shown, never trusted for timing.
    pub date: Option<DateTime<Utc>>,
    /// When the receiving server got it (IMAP INTERNALDATE), set by whoever
    /// fetched the message; the time of its events.
    pub received_at: Option<DateTime<Utc>>,
    /// Could be a bounce or delivery report: whole message needed to know.
    pub may_be_report: bool,
}

impl Envelope {
    /// Reads the header block (or a whole message); `None` when there are no headers at all.
    pub fn parse(raw: &[u8]) -> Option<Envelope> {
        let message = MessageParser::default().parse_headers(raw)?;
        let from = addresses(message.from());
        let subject = message.subject().unwrap_or_default().to_string();
        let content_type = message
            .header("Content-Type")
            .and_then(HeaderValue::as_content_type)
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_lowercase())
            .unwrap_or_default();
        let null_return_path = message
            .header_raw("Return-Path")
            .is_some_and(|raw| raw.trim().trim_matches(['<', '>']).trim().is_empty());
        let may_be_report = content_type == "multipart/report"
            || null_return_path
            || message.header_raw("X-Failed-Recipients").is_some()
            || from.iter().any(|a| is_system_sender(a))
            || looks_like_failure_subject(&subject);
        let mut answers = id_list(message.in_reply_to());
        for id in id_list(message.references()) {
            if !answers.contains(&id) {
                answers.push(id);
            }
        }
        Some(Envelope {
            message_id: message
                .message_id()
                .map(clean_id)
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| synthetic_id(raw)),
            from,
            reply_to: addresses(message.reply_to()),
            to_and_cc: addresses(message.to())
                .into_iter()
                .chain(addresses(message.cc()))
                .collect(),
            answers,
            subject,
            date: message
                .date()
                .and_then(|d| DateTime::parse_from_rfc3339(&d.to_rfc3339()).ok())
                .map(|d| d.with_timezone(&Utc)),
            received_at: None,
            may_be_report,
        })
    }
}

fn addresses(address: Option<&Address>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address())
                .map(|s| s.trim().to_lowercase())
                .filter(|s| s.contains('@'))
                .collect()
        })
        .unwrap_or_default()
}

fn id_list(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![clean_id(id)],
        HeaderValue::TextList(ids) => ids.iter().map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|id| !id.is_empty())
    .collect()
}

/// Message-IDs are compared without brackets or surrounding space.
pub fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

fn synthetic_id(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let headers_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    format!("no-id.{}", hex::encode(&Sha256::digest(&raw[..headers_end])[..16]))
}

fn is_system_sender(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default();
    [
        "mailer-daemon",
        "postmaster",
        "mail-daemon",
        "mailerdaemon",
        "bounce",
        "bounces",
        "mdaemon",
    ]
    .iter()
    .any(|system| local == *system || local.starts_with(&format!("{system}-")))
}

fn looks_like_failure_subject(subject: &str) -> bool {
    let subject = subject.to_lowercase();
    [
        "undeliver",
        "delivery",
        "returned mail",
        "failure notice",
        "mail delivery",
        "not delivered",
        "non remis",
        "unzustellbar",
        "nicht zugestellt",
        "rejected",
        "bounce",
        "failed",
        "returned to sender",
        // Challenge/response filters ("Please verify your email", "Approval required").
        "verif",
        "challenge",
        "approval",
        "guest list",
    ]
    .iter()
    .any(|word| subject.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_who_and_what_it_answers() {
        let raw = b"From: Jane Doe <Jane@Acme.io>\r\nTo: ann@us.example, Bob <bob@us.example>\r\nCc: c@acme.io\r\n\
Message-ID: <r1@acme.io>\r\nIn-Reply-To: <s1@us.example>\r\nReferences: <s0@us.example> <s1@us.example>\r\n\
Subject: Re: hello\r\nDate: Tue, 3 Nov 2026 10:00:00 +0100\r\n\r\n";
        let envelope = Envelope::parse(raw).unwrap();
        assert_eq!(envelope.from, ["jane@acme.io"]);
        assert_eq!(envelope.to_and_cc, ["ann@us.example", "bob@us.example", "c@acme.io"]);
        assert_eq!(envelope.message_id, "r1@acme.io");
        assert_eq!(envelope.answers, ["s1@us.example", "s0@us.example"]);
        assert_eq!(envelope.date.unwrap().to_rfc3339(), "2026-11-03T09:00:00+00:00");
        assert!(!envelope.may_be_report);
    }

    #[test]
    fn delivery_reports_are_flagged_for_a_full_read() {
        let raw = b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nSubject: Undelivered Mail\r\n\r\n";
        assert!(Envelope::parse(raw).unwrap().may_be_report);
        let raw =
            b"From: x@y.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n";
        assert!(Envelope::parse(raw).unwrap().may_be_report);
    }

    #[test]
    fn garbage_gives_no_panic() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"\xff\xfe\x00",
            b"From: <<<@@>>>\r\nMessage-ID: <\r\n\r\n",
        ] {
            let _ = Envelope::parse(raw);
        }
    }
}
