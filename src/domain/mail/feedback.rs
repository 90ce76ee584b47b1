//! Complaint (feedback) reports: how one is known (the ARF container, a
//! provider's header or subject, a mail client's opt-out) and whom it is
//! about. Matching a complaint whose addresses are redacted goes through the
//! quoted original's Message-ID (`meaning.rs`).

use super::bounce::{BounceReason, FailedRecipient};
use super::content::MailContent;
use super::headers::{addresses_in, field};

/// Subjects of complaint reports that do not use the ARF container, lower-case.
const FEEDBACK_SUBJECTS: &[&str] = &[
    "complaint about message",
    "abuse report",
    "feedback report",
    "dmarc forensic",
    "spamtraphit",
    "fbl report",
];

/// Why the message is a complaint (feedback) report, if it is one.
pub fn feedback_signal(content: &MailContent) -> Option<String> {
    let content_type = content.header_lower("content-type");
    if content.feedback_report.is_some() || content_type.contains("feedback-report") {
        return Some("multipart/report; report-type=feedback-report".to_string());
    }
    if content.header("x-hmxmroriginalrecipient").is_some() {
        return Some("complaint header X-HmXmrOriginalRecipient".to_string());
    }
    let subject = content.subject.to_lowercase();
    if let Some(pattern) = FEEDBACK_SUBJECTS.iter().find(|p| subject.contains(*p)) {
        return Some(format!("subject contains \"{pattern}\""));
    }
    is_client_opt_out(content).then(|| "client opt-out report".to_string())
}

/// Mail clients send an opt-out report on the user's behalf ("... sent this email to unsubscribe").
fn is_client_opt_out(content: &MailContent) -> bool {
    let opening: String = content.body.chars().take(300).collect::<String>().to_lowercase();
    opening.contains("sent this email to unsubscribe")
}

/// Complaint reports name the recipients of the original message.
pub fn feedback_recipients(content: &MailContent) -> Vec<FailedRecipient> {
    let report = super::headers::header_fields(content.feedback_report.as_deref().unwrap_or_default());
    // A report about mail to several recipients repeats the field once per recipient.
    let mut addresses: Vec<String> = report
        .iter()
        .filter(|(name, _)| name == "original-rcpt-to" || name == "removal-recipient")
        .flat_map(|(_, value)| addresses_in(value))
        .collect();
    for name in ["x-hmxmroriginalrecipient", "x-original-to"] {
        addresses.extend(addresses_in(
            content
                .original
                .as_deref()
                .and_then(|o| field(o, name))
                .unwrap_or_default(),
        ));
    }
    if addresses.is_empty() {
        addresses.clone_from(&content.original_recipients);
    }
    // A mail client's opt-out report is sent from the user's own address.
    if addresses.is_empty() && is_client_opt_out(content) {
        addresses.extend(content.from.iter().cloned());
    }
    addresses
        .into_iter()
        .map(|address| FailedRecipient {
            address,
            status: None,
            reason: BounceReason::Feedback,
            hard: false,
            diagnostic: None,
            aliases: Vec::new(),
        })
        .collect()
}
