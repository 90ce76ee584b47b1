//! Delivery reports: RFC 3464 DSNs and the free-text bounce formats of the common mail systems.
//!
//! Like the established bounce analysers, detection looks at who sent the report and its subject;
//! the recipient, status and diagnostic are then read from the DSN fields when present, else
//! from the notice text that precedes the returned original message.

use serde::Serialize;

use super::command::failed_command;
use super::content::MailContent;
use super::headers::{field, first_address_in, header_fields};
pub use super::notice::{notice_text, plain_bounce_signal, quoted_original, read_notice};
pub use super::reasons::BounceReason;
use super::reasons::{find_status, reason_for, reply_code_status, worded_status};

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
    /// Other addresses the report gives for this recipient (`Original-Recipient`
    /// when the mail was forwarded, `X-Actual-Recipient`): whichever the rep sent
    /// to is the one matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl FailedRecipient {
    /// `diagnostic` is the text about this recipient; `notice` is the whole human-readable report,
    /// read for the refused SMTP command and, when the diagnostic says nothing, for the reason.
    pub(super) fn new(address: String, status: Option<String>, diagnostic: &str, notice: &str) -> Self {
        let status = specific_status(status, diagnostic);
        let command = failed_command(&address, diagnostic, notice);
        let mut reason = reason_for(status.as_deref(), diagnostic, command);
        // Nothing said about this recipient (an empty Diagnostic-Code): the
        // notice's words say more than the status class alone.
        if (reason == BounceReason::Undefined || diagnostic.trim().is_empty()) && !notice.is_empty() {
            let from_notice = reason_for(status.as_deref(), notice, command);
            if from_notice != BounceReason::Undefined {
                reason = from_notice;
            }
        }
        // Without an enhanced code, the basic reply code's class, then the notice's words.
        let status = status
            .or_else(|| reply_code_status(diagnostic))
            .or_else(|| worded_status(diagnostic))
            .or_else(|| worded_status(notice));
        let diagnostic = diagnostic.trim();
        FailedRecipient {
            hard: reason.is_hard(status.as_deref()),
            address,
            status,
            reason,
            diagnostic: (!diagnostic.is_empty()).then(|| truncate_chars(diagnostic, 500)),
            aliases: Vec::new(),
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
        let aliases = dsn_addresses(&fields).into_iter().filter(|a| *a != address).collect();
        let mut recipient = FailedRecipient::new(address, status, diagnostic, notice);
        recipient.aliases = aliases;
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

/// Every address a recipient block names, Final-Recipient first, once each.
fn dsn_addresses(fields: &[(String, String)]) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for name in ["final-recipient", "original-recipient", "x-actual-recipient"] {
        for (_, value) in fields.iter().filter(|(n, _)| n == name) {
            if let Some(address) = first_address_in(value) {
                if !all.contains(&address) {
                    all.push(address);
                }
            }
        }
    }
    all
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

/// At most `max` characters of a diagnostic.
pub(super) fn truncate_chars(text: &str, max: usize) -> String {
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

/// A delivery-status block written into a plain body: a report whose MIME
/// header was lost (`This is a MIME-encapsulated message` without a
/// Content-Type) still carries its `Final-Recipient:` and `Action:` fields.
/// The block runs from its first field line to the next boundary (`--`) line;
/// a quoted one (`> Final-Recipient:`) is someone's reply, not a report.
pub fn embedded_delivery_status(body: &str) -> Option<&str> {
    let mut start = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let lower = line.trim_end().to_ascii_lowercase();
        match start {
            None if lower.starts_with("reporting-mta:") || lower.starts_with("final-recipient:") => {
                start = Some(offset)
            }
            Some(begin) if lower.starts_with("--") => {
                let block = body.get(begin..offset)?;
                return has_recipient_and_action(block).then_some(block);
            }
            _ => {}
        }
        offset += line.len();
    }
    let block = body.get(start?..)?;
    has_recipient_and_action(block).then_some(block)
}

fn has_recipient_and_action(block: &str) -> bool {
    let lower = block.to_ascii_lowercase();
    lower.contains("\nfinal-recipient:") || lower.starts_with("final-recipient:") && lower.contains("\naction:")
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
