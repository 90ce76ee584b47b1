//! Every event's source key, in one place. The key is what makes a re-poll,
//! a retry, a redelivery or a crash add nothing: the store refuses a second
//! event with the same key. Two producers of the same fact (the outbox and
//! mail sync reading the Sent folder) must spell its key alike, so each
//! format is written here once.

use super::super::prospect::ProspectId;
use chrono::{DateTime, Utc};

/// A prospect's creation (one per prospect).
pub fn created(prospect: ProspectId) -> String {
    format!("created:{prospect}")
}

/// A stage change, at its moment to the nanosecond.
pub fn stage_change(prospect: ProspectId, from: Option<&str>, to: &str, at: DateTime<Utc>) -> String {
    format!(
        "stage:{prospect}:{}:{to}:{}",
        from.unwrap_or("-"),
        at.timestamp_nanos_opt().unwrap_or_default()
    )
}

/// A message to or from a prospect, by its Message-ID: the same whether the
/// outbox sent it or mail sync read it in a folder.
pub fn mail(prospect: ProspectId, message_id: &str) -> String {
    format!("mail:{prospect}:{message_id}")
}

/// An SMTP server's refusal of one outbox row.
pub fn refusal(outbox_id: i64) -> String {
    format!("refusal:{outbox_id}")
}

/// A feed item: by its id when that is a URL or URN (the same item in two
/// feeds of the prospect is one post), else within its source.
pub fn post(prospect: ProspectId, source: i64, item_id: &str) -> String {
    if item_id.contains(':') {
        format!("post:{prospect}:{item_id}")
    } else {
        format!("post:{prospect}:source-{source}:{item_id}")
    }
}

/// A webhook's fact (its provider's key) for one prospect it names: a
/// retry, a replay or the same address twice adds nothing.
pub fn hook(prospect: ProspectId, delivery_key: &str) -> String {
    format!("hook:{prospect}:{delivery_key}")
}

/// Engagement a tool logged with its own id (a digest of it): a retried
/// delivery is the same event.
pub fn external(prospect: ProspectId, id_digest: &str) -> String {
    format!("external:{prospect}:{id_digest}")
}

/// An enrolment in a sequence.
pub fn enrolled(enrolment: i64) -> String {
    format!("enrolment:{enrolment}")
}

/// An enrolment's end (one per enrolment, whoever stops it first).
pub fn sequence_stopped(enrolment: i64) -> String {
    format!("sequence-stop:{enrolment}")
}

/// An enrolment held until a prospect is back.
pub fn sequence_snoozed(enrolment: i64, until: DateTime<Utc>) -> String {
    format!("snooze:{enrolment}:{until}")
}

/// A one-click unsubscribe from an enrolment's mail.
pub fn unsubscribed(enrolment: i64) -> String {
    format!("unsubscribe:{enrolment}")
}

/// The engagement a done task logs.
pub fn task_done(task: i64) -> String {
    format!("task:{task}")
}

/// Engagement logged by hand: the same kind at the same moment with the
/// same note and link (`digest` is a short digest of those) is logged once.
pub fn logged(prospect: ProspectId, kind: &str, at: DateTime<Utc>, digest: &str) -> String {
    format!("log:{prospect}:{kind}:{}:{digest}", at.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_and_mail_sync_key_a_message_alike() {
        assert_eq!(mail(7, "a@b"), "mail:7:a@b");
        assert_eq!(post(7, 3, "https://x/1"), "post:7:https://x/1");
        assert_eq!(post(7, 3, "42"), "post:7:source-3:42");
    }
}
