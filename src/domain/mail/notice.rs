//! Plain-text delivery failure notices (no DSN part): how one is known
//! (subject, sender and wording), where its failed recipients are named,
//! and the original message it quotes. The DSN reading is `bounce.rs`.

use super::bounce::{DeliveryReport, FailedRecipient, Outcome};
use super::content::{header_block, MailContent};
use super::delay::is_delay_notice;
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
    "message status - ",
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

/// How far into a notice its opening reaches: a mail system's wording there
/// is its own; further down it may be a person quoting a bounce.
pub(super) const OPENING_CHARS: usize = 1200;

/// Wording that only mail systems write at the top of a failure or delay
/// notice (Postfix, Exim, qmail, Sendmail, Exchange and Office 365 in several
/// languages, Gmail, Symantec, Domino, GroupWise), lower-case. One of these in
/// the opening decides alone: a notice forwarded without its headers, or sent
/// from an address that does not look like a daemon, is still a notice.
const MTA_NOTICES: &[&str] = &[
    "this is the mail system at host",
    "i'm sorry to have to inform you that your message could not",
    "this message was created automatically by mail delivery software",
    "this is the qmail-send program",
    "this is the mail delivery agent at",
    "delivery has failed to these recipients or groups",
    "delivery is delayed to these recipients or groups",
    "rejected your message to the following e",
    "couldn't be delivered.",
    "** address not found **",
    "** delivery incomplete **",
    "** message not delivered **",
    "** message blocked **",
    "delivery to the following recipient failed permanently",
    "delivery to the following recipient has been delayed",
    "delivery to the following recipients failed",
    "the original message was received at",
    "i was unable to deliver your message",
    "the following message to <",
    "the following addresses had permanent fatal errors",
    "could not be delivered to one or more of its recipients",
    "has not yet been delivered to one or more of its recipients",
    "this is a warning message only",
    "kan niet worden bezorgd",
    "konnte nicht zugestellt werden",
    "n'a pas pu être remis",
    "no se pudo entregar",
    "non è stato possibile recapitare",
    "kunde inte levereras",
    "kunne ikke leveres",
    "nie można dostarczyć",
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
    let opening: String = notice.chars().take(OPENING_CHARS).collect();
    if let Some(signature) = MTA_NOTICES.iter().find(|p| opening.contains(*p)) {
        return Some(format!("mail system's notice \"{signature}\""));
    }
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

/// Reads a free-text notice: recipients from the notice, reasons from the text around them.
pub fn read_notice(content: &MailContent) -> DeliveryReport {
    let notice = notice_text(&content.body);
    let mut recipients = notice_recipients(content, notice);
    if recipients.is_empty() {
        recipients = local_part_recipients(content, notice);
    }
    // Exim names every failed recipient in X-Failed-Recipients: none is left out.
    for address in addresses_in(content.header("x-failed-recipients").unwrap_or_default()) {
        if !recipients.iter().any(|r| r.address == address) && !is_daemon_address(&address) {
            recipients.push(FailedRecipient::new(address, None, notice, notice));
        }
    }
    if recipients.is_empty() {
        recipients = content
            .original_recipients
            .iter()
            .map(|address| FailedRecipient::new(address.clone(), None, notice, notice))
            .collect();
    }
    let subject = content.subject.to_lowercase();
    if is_delay_notice(&subject, notice) {
        for recipient in &mut recipients {
            recipient.hard = false;
        }
        return DeliveryReport {
            outcome: Outcome::Delayed,
            recipients,
            reason: "free-text delay warning (still being retried)".to_string(),
        };
    }
    DeliveryReport {
        outcome: Outcome::Failed,
        recipients,
        reason: "delivery failure notice".to_string(),
    }
}

/// Headings after which Exim and Sendmail list the failed addresses, one per line, lower-case.
const FAILED_LIST_HEADINGS: &[&str] = &["address(es) failed:", "addresses had permanent fatal errors"];

/// Exim and Sendmail sometimes list a local address without its domain (`  ann`): the
/// original's recipient with that local part (from its headers or the `for <...>` of its
/// Received line) is the one that failed.
fn local_part_recipients(content: &MailContent, notice: &str) -> Vec<FailedRecipient> {
    // ASCII lower-casing keeps byte offsets, so `heading` indexes `notice` too.
    let lower = notice.to_ascii_lowercase();
    let Some(heading) = FAILED_LIST_HEADINGS
        .iter()
        .find_map(|h| lower.find(h).map(|at| at + h.len()))
    else {
        return Vec::new();
    };
    let after = notice.get(heading..).unwrap_or_default();
    let Some(local) = after
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('-'))
        .and_then(|line| line.split_whitespace().next())
        .filter(|word| !word.contains('@') && word.chars().all(|c| c.is_alphanumeric() || "._+-".contains(c)))
    else {
        return Vec::new();
    };
    let candidates = content
        .original_recipients
        .iter()
        .cloned()
        .chain(addresses_in(&content.body));
    candidates
        .filter(|address| address.split('@').next().is_some_and(|l| l.eq_ignore_ascii_case(local)))
        .take(1)
        .map(|address| FailedRecipient::new(address, None, after, notice))
        .collect()
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
    "sender address",
    "envelope sender",
    "original sender",
];

fn notice_recipients(content: &MailContent, notice: &str) -> Vec<FailedRecipient> {
    let lines: Vec<&str> = notice.lines().collect();
    let mut chosen = paragraph_recipients(&lines);
    if chosen.is_empty() {
        chosen = prefer_originals(content, named_addresses(content, &lines), &lines);
    }
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

/// Postfix and qmail open each failed recipient's paragraph with the address in angle brackets
/// and a colon (`<ann@example.org>: host mx said: 550 ...`, Postfix also
/// `<ann@example.org> (expanded from <sales@example.org>): ...`). When a notice has such lines,
/// their addresses are the failed recipients, and an address further down a paragraph (the
/// remote server echoing another form of it, a bounce address) is not one.
///
/// Exchange 2003 lists them as `ann@example.org on <date>` under "did not reach
/// the following recipient(s)". An address marked so is a recipient even when
/// it is also the report's own To (mail a rep sent to themselves).
fn paragraph_recipients(lines: &[&str]) -> Vec<(String, usize)> {
    let mut found: Vec<(String, usize)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(inside) = marked_recipient(line) else { continue };
        for address in addresses_in(inside) {
            if !found.iter().any(|(known, _)| *known == address) && !is_daemon_address(&address) {
                found.push((address, index));
            }
        }
    }
    found
}

/// The address part of a line that opens a recipient's paragraph, if it is one.
fn marked_recipient(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix('<') {
        let (inside, after) = rest.split_once('>')?;
        let after = after.trim_start();
        return (after.starts_with(':') || after.starts_with("(expanded from")).then_some(inside);
    }
    let (first, after) = line.split_once(' ')?;
    let dated = after
        .strip_prefix("on ")
        .is_some_and(|date| date.chars().any(|c| c.is_ascii_digit()));
    (dated && first.contains('@') && !first.ends_with(':')).then_some(first)
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
        // The sender in every form, and a mailing list's own addresses.
        for name in [
            "from",
            "sender",
            "return-path",
            "message-id",
            "reply-to",
            "errors-to",
            "list-post",
            "list-owner",
            "list-help",
            "list-unsubscribe",
            "list-subscribe",
        ] {
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

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
