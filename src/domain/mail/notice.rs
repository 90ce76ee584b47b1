//! Plain-text delivery failure notices (no DSN part): how one is known
//! (subject, sender and wording), where its failed recipients are named,
//! and the original message it quotes. The DSN reading is `bounce.rs`.

use super::bounce::{DeliveryReport, FailedRecipient, Outcome};
use super::content::{header_block, MailContent};
use super::headers::{addresses_in, field, header_fields};
use super::reasons::find_status;

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
