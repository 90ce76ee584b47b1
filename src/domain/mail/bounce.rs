//! Delivery reports: RFC 3464 DSNs and the free-text bounce formats of the common mail systems.
//!
//! Like the established bounce analysers, detection looks at who sent the report and its subject;
//! the recipient, status and diagnostic are then read from the DSN fields when present, else
//! from the notice text that precedes the returned original message.

use serde::Serialize;

use super::command::failed_command;
use super::content::{header_block, MailContent};
use super::headers::{addresses_in, field, first_address_in, header_fields};
pub use super::reasons::BounceReason;
use super::reasons::{find_status, reason_for};

/// One recipient named by a delivery report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRecipient {
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub reason: BounceReason,
    pub hard: bool,
    /// The remote server's or reporting system's explanation, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
}

impl FailedRecipient {
    /// `diagnostic` is the text about this recipient; `notice` is the whole human-readable report,
    /// read for the refused SMTP command and, when the diagnostic says nothing, for the reason.
    fn new(address: String, status: Option<String>, diagnostic: &str, notice: &str) -> Self {
        let status = specific_status(status, diagnostic);
        let command = failed_command(&address, diagnostic, notice);
        let mut reason = reason_for(status.as_deref(), diagnostic, command);
        if reason == BounceReason::Undefined && !notice.is_empty() {
            reason = reason_for(status.as_deref(), notice, command);
        }
        let diagnostic = diagnostic.trim();
        FailedRecipient {
            hard: reason.is_hard(status.as_deref()),
            address,
            status,
            reason,
            diagnostic: (!diagnostic.is_empty()).then(|| truncate_chars(diagnostic, 500)),
        }
    }
}

/// A reported `x.0.0` ("other or undefined") says less than the code the remote server gave in
/// its diagnostic, so the diagnostic's code is preferred then.
fn specific_status(reported: Option<String>, diagnostic: &str) -> Option<String> {
    match reported {
        Some(code) if !code.ends_with(".0.0") => Some(code),
        other => find_status(diagnostic).or(other),
    }
}

/// What the report says happened to the recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Failed,
    Delayed,
    Delivered,
}

/// A parsed delivery report.
pub struct DeliveryReport {
    pub outcome: Outcome,
    pub recipients: Vec<FailedRecipient>,
    pub reason: String,
}

/// Reads an RFC 3464 delivery-status part.
pub fn read_dsn(content: &MailContent, status_part: &str) -> DeliveryReport {
    let notice = notice_text(&content.body);
    let mut failed = Vec::new();
    let mut delayed = Vec::new();
    let mut delivered = Vec::new();
    for fields in recipient_blocks(status_part) {
        let Some(address) = dsn_address(&fields) else { continue };
        let status = field(&fields, "status").and_then(find_status);
        let diagnostic = field(&fields, "diagnostic-code")
            .map(strip_type_prefix)
            .unwrap_or_default();
        let action = field(&fields, "action").unwrap_or_default().to_ascii_lowercase();
        let outcome = action_outcome(&action, status.as_deref());
        let mut recipient = FailedRecipient::new(address, status, diagnostic, notice);
        match outcome {
            Outcome::Failed => failed.push(recipient),
            Outcome::Delayed => delayed.push(recipient),
            Outcome::Delivered => {
                recipient.reason = BounceReason::Delivered;
                recipient.hard = false;
                delivered.push(recipient)
            }
        }
    }
    let (outcome, recipients, action) = if !failed.is_empty() {
        (Outcome::Failed, failed, "failed")
    } else if !delayed.is_empty() {
        (Outcome::Delayed, delayed, "delayed")
    } else if !delivered.is_empty() {
        (Outcome::Delivered, delivered, "delivered")
    } else {
        // A report without usable recipient blocks: fall back to the notice text.
        return read_notice(content);
    };
    let report_type = content.header_lower("content-type").contains("report-type");
    let container = if report_type {
        "multipart/report; report-type=delivery-status"
    } else {
        "message/delivery-status"
    };
    DeliveryReport {
        outcome,
        recipients,
        reason: format!("{container}, Action: {action}"),
    }
}

fn action_outcome(action: &str, status: Option<&str>) -> Outcome {
    match action {
        a if a.starts_with("failed") => Outcome::Failed,
        a if a.starts_with("delayed") => Outcome::Delayed,
        a if a.starts_with("delivered") || a.starts_with("relayed") || a.starts_with("expanded") => Outcome::Delivered,
        _ => match status.and_then(|s| s.chars().next()) {
            Some('2') => Outcome::Delivered,
            Some('4') => Outcome::Delayed,
            _ => Outcome::Failed,
        },
    }
}

/// Splits the per-recipient blocks of a delivery-status part: a new block starts at a blank line
/// or at a second recipient field, whichever comes first.
fn recipient_blocks(status_part: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks: Vec<Vec<(String, String)>> = Vec::new();
    for paragraph in status_part.replace("\r\n", "\n").split("\n\n") {
        let mut current: Vec<(String, String)> = Vec::new();
        for (name, value) in header_fields(paragraph) {
            let starts_recipient = name == "final-recipient" || name == "original-recipient";
            if starts_recipient && field(&current, &name).is_some() {
                blocks.push(std::mem::take(&mut current));
            }
            current.push((name, value));
        }
        if dsn_address(&current).is_some() {
            blocks.push(current);
        }
    }
    blocks
}

fn dsn_address(fields: &[(String, String)]) -> Option<String> {
    ["final-recipient", "original-recipient", "x-actual-recipient"]
        .iter()
        .filter_map(|name| field(fields, name))
        .find_map(first_address_in)
}

/// `smtp; 550 ...` → `550 ...`. The `X-Unix` type is kept: it says a local delivery program
/// failed, which decides the reason.
fn strip_type_prefix(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest)) if kind.len() < 12 && !kind.contains(' ') && !kind.eq_ignore_ascii_case("x-unix") => {
            rest.trim()
        }
        _ => value.trim(),
    }
}

/// Subject wording of delivery failure notices, lower-case.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status notification",
    "returned mail",
    "mail delivery failed",
    "delivery failure",
    "failure notice",
    "delivery has failed",
    "could not be delivered",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "nicht zustellbar",
    "delivery notification",
    "mail system error",
    "mail failure",
    "delivery report",
    "failed delivery",
    "failure delivery",
    "returning message to sender",
    "error sending your mail",
    "message delivery has failed",
    "delivery problem",
    "postmaster notify",
    "see transcript",
    "non-delivery",
    "nondeliverable",
    "message you sent blocked",
    "mail delivery status",
    "delivery status",
    "mail could not",
    "returned to sender",
    "rejected:",
    "メールエラー",
    "не доставлено",
    "недоставленное",
    "mail delivery failure",
    "delivery failed",
    "delayed mail",
    "could not send message",
    "could not send mail",
    "errors from",
    "are not member",
    "loop alert",
    "message delayed",
    "delivery delayed",
    "(delay)",
    "mail delivery status",
];

/// Senders of delivery reports, lower-case substrings of the From header.
const BOUNCE_SENDERS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "post_master",
    "mail delivery",
    "mail-daemon",
    "mailer daemon",
    "maildelivery",
    "mailerdaemon",
];

/// Notice wording that only delivery failure reports use, lower-case.
const BOUNCE_PHRASES: &[&str] = &[
    "could not be delivered",
    "this is a permanent error",
    "delivery to the following recipient",
    "wasn't able to deliver",
    "permanent fatal errors",
    "unable to deliver",
    "delivery has failed",
    "message was not delivered",
    "not be delivered",
    "delivery failed",
    "undeliverable",
    "was undeliverable",
    "the original message was received",
    "could not deliver",
    "delivery to the following recipients failed",
    "failed to deliver",
    "message was rejected",
    "returned to the sender",
    "this message was created automatically by mail delivery",
    "your message did not reach",
    "following address failed",
    "failed recipient",
    "couldn't be delivered",
    "delivery failure",
    "permanently rejected",
    "has been delayed",
    "could not be sent",
    "mail delivery failed",
    "not delivered to",
    "error occurred during delivery",
    "non-delivery",
    "bounced",
    "following recipient",
    "requested action not taken",
    "transcript of session follows",
    "invalid user address",
];

/// Why a message without a delivery-status part is a delivery report, if it is one.
pub fn plain_bounce_signal(content: &MailContent) -> Option<String> {
    let subject = content.subject.to_lowercase();
    if let Some(pattern) = BOUNCE_SUBJECTS.iter().find(|p| subject.contains(*p)) {
        return Some(format!("subject contains \"{pattern}\""));
    }
    let from = content.header_lower("from");
    let sender = BOUNCE_SENDERS.iter().find(|p| from.contains(*p));
    let notice = notice_text(&content.body).to_lowercase();
    let phrase = BOUNCE_PHRASES.iter().find(|p| notice.contains(*p));
    match (sender, phrase) {
        (Some(sender), Some(phrase)) => Some(format!("sender \"{sender}\" and notice \"{phrase}\"")),
        (Some(sender), None) if content.original.is_some() => {
            Some(format!("sender \"{sender}\" returned the original message"))
        }
        (None, Some(phrase)) if content.original.is_some() => {
            Some(format!("notice \"{phrase}\" with the original message returned"))
        }
        _ => None,
    }
}

/// Subject wording of a delay warning. Only a DSN whose recipients are all `Action: delayed` is a
/// `dsn_delayed`; a free-text delay notice is reported as a bounce (soft, with the delay named in
/// the reasons) because such notices usually mean the system has given up or soon will, and the
/// public mail corpora label them so.
const DELAY_WORDING: &[&str] = &[
    "delayed",
    "(delay)",
    "could not send message for past",
    "could not send mail for past",
    "still being retried",
    "has not yet been delivered",
    "will continue trying",
    "delivery has been delayed",
];

/// Reads a free-text bounce: recipients from the notice, reasons from the text around them.
pub fn read_notice(content: &MailContent) -> DeliveryReport {
    let notice = notice_text(&content.body);
    let mut recipients = notice_recipients(content, notice);
    if recipients.is_empty() {
        recipients = content
            .original_recipients
            .iter()
            .map(|address| FailedRecipient::new(address.clone(), None, notice, notice))
            .collect();
    }
    let subject = content.subject.to_lowercase();
    let is_delay = DELAY_WORDING.iter().any(|w| subject.contains(w));
    let reason = if is_delay {
        "free-text delay warning"
    } else {
        "delivery failure notice"
    };
    DeliveryReport {
        outcome: Outcome::Failed,
        recipients,
        reason: reason.to_string(),
    }
}

/// Markers of the returned original message inside a notice, lower-case.
const ORIGINAL_MARKERS: &[&str] = &[
    "original message",
    "copy of the message",
    "copy of your message",
    "returned message",
    "unsent message",
    "message headers follow",
    "header of the original",
    "headers of the original",
    "original mail",
    "content-type: message/rfc822",
    "text/rfc822-headers",
    "-- message header",
    "original text follows",
    "below is the message",
    "your message reads",
    "message text follows",
    "undelivered message",
];

/// The notice part of a report body: everything before the returned original message.
pub fn notice_text(body: &str) -> &str {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let lower = line.trim().to_lowercase();
        let is_marker = lower.starts_with(['-', '=', '*', '_']) && ORIGINAL_MARKERS.iter().any(|m| lower.contains(m))
            || lower.starts_with("received: ")
            || lower.starts_with("return-path:");
        if is_marker && offset > 0 {
            return body.get(..offset).unwrap_or(body);
        }
        offset += line.len();
    }
    body
}

/// The quoted original headers after the notice, when the report carries them in its body.
pub fn quoted_original(body: &str) -> Option<Vec<(String, String)>> {
    let notice_len = notice_text(body).len();
    let rest = body.get(notice_len..)?;
    // Skip the marker line itself, then read the header block that follows.
    let after_marker = match rest.trim_start().starts_with(['-', '=', '*', '_']) {
        true => rest.split_once('\n').map(|(_, tail)| tail).unwrap_or_default(),
        false => rest,
    };
    let fields = header_fields(header_block(after_marker));
    fields
        .iter()
        .any(|(name, _)| name == "message-id" || name == "to" || name == "subject")
        .then_some(fields)
}

/// Lines that never name a failed recipient.
const NON_RECIPIENT_LINES: &[&str] = &[
    "from:",
    "sender:",
    "reporting-mta",
    "received-from-mta",
    "message-id",
    "return-path",
    "received:",
    "x-",
    "date:",
    "subject:",
    "reply-to",
    "in-reply-to",
    "references:",
    "envelope-from",
    "mail from",
];

fn notice_recipients(content: &MailContent, notice: &str) -> Vec<FailedRecipient> {
    let lines: Vec<&str> = notice.lines().collect();
    let chosen = prefer_originals(content, named_addresses(content, &lines), &lines);
    let starts: Vec<usize> = chosen.iter().map(|(_, line)| *line).collect();
    // With a single recipient, a status code anywhere in the notice is about it.
    let notice_status = (chosen.len() == 1).then(|| find_status(notice)).flatten();
    chosen
        .iter()
        .map(|(address, start)| {
            let segment = recipient_segment(&lines, *start, &starts);
            FailedRecipient::new(address.clone(), notice_status.clone(), &segment, notice)
        })
        .collect()
}

/// Every address the notice names outside header-like lines, with the line it first appears on.
fn named_addresses(content: &MailContent, lines: &[&str]) -> Vec<(String, usize)> {
    let excluded = excluded_addresses(content);
    let mut found: Vec<(String, usize)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let lower = line.trim_start().to_lowercase();
        if NON_RECIPIENT_LINES.iter().any(|prefix| lower.starts_with(prefix)) {
            continue;
        }
        for address in addresses_in(line) {
            let is_new = !found.iter().any(|(known, _)| *known == address);
            if is_new && !excluded.contains(&address) && !is_daemon_address(&address) {
                found.push((address, index));
            }
        }
    }
    found
}

/// Prefers the addresses the original was sent to, when the notice names some of them; an
/// address on a failure line of its own (`550 <a@example.org>... User unknown`) is kept too,
/// because the original's headers often list only some of the envelope recipients.
fn prefer_originals(content: &MailContent, found: Vec<(String, usize)>, lines: &[&str]) -> Vec<(String, usize)> {
    let kept: Vec<(String, usize)> = found
        .iter()
        .filter(|(address, line)| {
            content.original_recipients.contains(address)
                || lines.iter().skip(*line).any(|text| is_failure_line(text, address))
        })
        .cloned()
        .collect();
    if kept
        .iter()
        .any(|(address, _)| content.original_recipients.contains(address))
    {
        kept
    } else {
        found
    }
}

/// A Sendmail-style failure line: a reply code, then the address in angle brackets and `...`.
fn is_failure_line(line: &str, address: &str) -> bool {
    let lower = line.trim().to_lowercase();
    let Some((code, rest)) = lower.split_once(' ') else {
        return false;
    };
    code.len() == 3
        && code.starts_with(['4', '5'])
        && code.chars().all(|c| c.is_ascii_digit())
        && rest.starts_with(&format!("<{address}>..."))
}

/// The lines about the recipient whose address first appears on line `start`: up to the next
/// recipient's line (at most eight lines), or that single line when it is a failure line.
fn recipient_segment(lines: &[&str], start: usize, starts: &[usize]) -> String {
    let first = lines.get(start).copied().unwrap_or_default();
    if addresses_in(first)
        .iter()
        .any(|address| is_failure_line(first, address))
    {
        return first.to_string();
    }
    let end = starts
        .iter()
        .copied()
        .filter(|s| *s > start)
        .min()
        .unwrap_or(lines.len())
        .min(start + 8);
    lines.get(start..end.max(start + 1)).unwrap_or_default().join("\n")
}

fn excluded_addresses(content: &MailContent) -> Vec<String> {
    let mut excluded: Vec<String> = content.from.iter().cloned().collect();
    if let Some(original) = &content.original {
        for name in ["from", "sender", "return-path", "message-id", "reply-to"] {
            excluded.extend(addresses_in(field(original, name).unwrap_or_default()));
        }
    }
    for name in ["to", "message-id", "in-reply-to", "references"] {
        excluded.extend(addresses_in(content.header(name).unwrap_or_default()));
    }
    excluded
}

fn is_daemon_address(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default();
    [
        "mailer-daemon",
        "postmaster",
        "root",
        "mail-daemon",
        "noreply",
        "no-reply",
    ]
    .contains(&local)
}

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// What an SMTP server's refusal while rapport sends says, read like a bounce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub status: Option<String>,
    pub reason: BounceReason,
    /// The address itself cannot receive mail: suppress it.
    pub hard: bool,
    /// The server refused the sender for good (policy, reputation, 5.7.x):
    /// pause the mailbox. A temporary 4.7.x (greylisting) only waits.
    pub sender_problem: bool,
    /// A 5xx reply; a 4xx one may work later.
    pub permanent: bool,
}

/// Reads the reply code and text the server refused a message with.
pub fn read_refusal(code: u16, text: &str) -> Refusal {
    let permanent = code >= 500;
    let status = find_status(text).filter(|s| s.starts_with(if permanent { '5' } else { '4' }));
    let reason = reason_for(status.as_deref(), text, None);
    let policy = status.as_deref().is_some_and(|s| s.starts_with("5.7."));
    let hard = permanent && reason.is_hard(status.as_deref());
    Refusal {
        hard,
        sender_problem: permanent && !hard && (reason.is_sender_problem() || policy),
        permanent,
        status,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_while_sending_read_like_bounces() {
        let unknown = read_refusal(550, "5.1.1 <jane@acme.io>: Recipient address rejected: User unknown");
        assert!(
            unknown.hard && unknown.permanent && !unknown.sender_problem,
            "{unknown:?}"
        );
        let policy = read_refusal(554, "5.7.1 Message rejected due to local policy");
        assert!(!policy.hard && policy.sender_problem, "{policy:?}");
        let later = read_refusal(451, "4.3.0 Try again later");
        assert!(!later.hard && !later.permanent && !later.sender_problem, "{later:?}");
        let greylisted = read_refusal(450, "4.7.1 Greylisted, please try again in 300 seconds");
        assert!(
            !greylisted.sender_problem,
            "greylisting waits, it does not pause: {greylisted:?}"
        );
    }
}
