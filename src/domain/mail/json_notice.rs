//! Bounce, complaint and delivery notifications sent as JSON in a mail body (the cloud
//! e-mail services' notification topics), optionally wrapped in a notification envelope.

use serde_json::Value;

use super::bounce::{BounceReason, FailedRecipient};
use super::command::failed_command;
use super::reasons::{find_status, reason_for};

/// What a JSON notification reports.
pub enum JsonNotice {
    Bounce(Vec<FailedRecipient>),
    Complaint(Vec<FailedRecipient>),
    Delivery(Vec<FailedRecipient>),
}

/// Reads a JSON notification from the body, if the body is one.
pub fn read_json_notice(body: &str) -> Option<JsonNotice> {
    let start = body.find('{')?;
    let end = body.rfind('}')?;
    // Notification bodies are often wrapped at a fixed width; the breaks are not part of the JSON.
    let json: String = body
        .get(start..=end)?
        .chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .collect();
    let mut value: Value = serde_json::from_str(&json).ok()?;
    // An envelope carries the notification as a JSON string in "Message".
    if let Some(inner) = value.get("Message").and_then(Value::as_str) {
        value = serde_json::from_str(inner).ok()?;
    }
    let kind = value
        .get("notificationType")
        .or_else(|| value.get("eventType"))?
        .as_str()?
        .to_ascii_lowercase();
    match kind.as_str() {
        "bounce" => Some(JsonNotice::Bounce(bounced(&value))),
        "complaint" => Some(JsonNotice::Complaint(listed(
            &value,
            "complaint",
            "complainedRecipients",
            BounceReason::Feedback,
        ))),
        "delivery" => Some(JsonNotice::Delivery(delivered(&value))),
        _ => None,
    }
}

fn bounced(value: &Value) -> Vec<FailedRecipient> {
    let entries = value
        .pointer("/bounce/bouncedRecipients")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    entries
        .iter()
        .filter_map(|entry| {
            let address = entry.get("emailAddress")?.as_str()?.to_lowercase();
            let diagnostic = entry.get("diagnosticCode").and_then(Value::as_str).unwrap_or_default();
            let status = entry
                .get("status")
                .and_then(Value::as_str)
                .and_then(find_status)
                .or_else(|| find_status(diagnostic));
            let reason = reason_for(status.as_deref(), diagnostic, failed_command(&address, diagnostic, ""));
            Some(FailedRecipient {
                hard: reason.is_hard(status.as_deref()),
                address,
                status,
                reason,
                diagnostic: (!diagnostic.is_empty()).then(|| diagnostic.to_string()),
                aliases: Vec::new(),
            })
        })
        .collect()
}

fn listed(value: &Value, section: &str, list: &str, reason: BounceReason) -> Vec<FailedRecipient> {
    let entries = value
        .get(section)
        .and_then(|s| s.get(list))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    entries
        .iter()
        .filter_map(|entry| entry.get("emailAddress").and_then(Value::as_str))
        .map(|address| plain_recipient(address, reason))
        .collect()
}

fn delivered(value: &Value) -> Vec<FailedRecipient> {
    let entries = value
        .pointer("/delivery/recipients")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    entries
        .iter()
        .filter_map(Value::as_str)
        .map(|a| plain_recipient(a, BounceReason::Delivered))
        .collect()
}

fn plain_recipient(address: &str, reason: BounceReason) -> FailedRecipient {
    FailedRecipient {
        address: address.to_lowercase(),
        status: None,
        reason,
        hard: false,
        diagnostic: None,
        aliases: Vec::new(),
    }
}
