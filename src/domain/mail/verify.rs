//! Whether a bounce, complaint or out-of-office answer is tied to mail that
//! was really sent to the address it names. Anyone can send such a report,
//! so it acts (suppress, stop, snooze, pause the mailbox) only when:
//! - a Message-ID it quotes (the original's headers in the report,
//!   `In-Reply-To`, `References`) is one rapport's outbox or the rep's Sent
//!   folder sent *to that prospect* (a Message-ID one prospect received
//!   proves nothing about another); or
//! - it quotes none, and mail went to the address in the two weeks before
//!   the report arrived (a bounce comes within days of the send).
//!
//! Only a Message-ID from rapport's own outbox lets a policy refusal pause
//! the whole mailbox. Mail in INBOX that merely claims to be from the rep is
//! no evidence: only the Sent folder and the outbox are. Pure.

use super::envelope::Envelope;
use super::Classification;
use crate::domain::prospect::ProspectId;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};

/// How long after a send a report quoting no Message-ID can be about it.
pub const EARLIER_SEND_WINDOW_DAYS: i64 = 14;
/// Server clocks and INTERNALDATE's whole seconds: a report may seem to
/// arrive a little before the send it answers.
const CLOCK_TOLERANCE_MINUTES: i64 = 5;

/// What was really sent, among the Message-IDs and addresses looked up.
#[derive(Debug, Clone, Default)]
pub struct SentEvidence {
    /// (Message-ID, prospect) for mail the rep's Sent folder or the outbox holds.
    pub sent: HashSet<(String, ProspectId)>,
    /// (Message-ID, prospect) for mail rapport itself sent.
    pub outbox: HashSet<(String, ProspectId)>,
    /// When mail went to each address.
    pub sends_to: HashMap<String, Vec<DateTime<Utc>>>,
}

impl SentEvidence {
    pub fn merge(&mut self, more: SentEvidence) {
        self.sent.extend(more.sent);
        self.outbox.extend(more.outbox);
        for (address, times) in more.sends_to {
            let known = self.sends_to.entry(address).or_default();
            known.extend(times);
            known.sort_unstable();
            known.dedup();
        }
    }
}

/// Whether a report is tied to mail really sent, and by what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tie {
    /// It quotes a Message-ID rapport sent to the prospect: may pause the mailbox.
    Outbox,
    /// It quotes a Message-ID the rep sent to the prospect (their Sent folder).
    RepSent,
    /// It quotes none, and mail went to the address shortly before it arrived.
    EarlierSend,
    /// Not tied; the reason, for the rep.
    Unverified(String),
}

impl Tie {
    pub fn described(&self) -> &'static str {
        match self {
            Tie::Outbox => "a message rapport sent",
            Tie::RepSent => "a message the rep sent",
            Tie::EarlierSend => "an earlier send to the address",
            Tie::Unverified(_) => "",
        }
    }
}

/// The Message-IDs a report quotes: the original's (from its attached
/// headers or message) and those it answers.
pub fn quoted_ids(envelope: &Envelope, reading: &Classification) -> Vec<String> {
    let mut ids: Vec<String> = reading.original_message_id.iter().cloned().collect();
    for id in &envelope.answers {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

/// Ties a report about `prospect` (at `address`) that arrived at `arrived`.
pub fn tie(
    evidence: &SentEvidence,
    quoted: &[String],
    prospect: ProspectId,
    address: &str,
    arrived: DateTime<Utc>,
) -> Tie {
    if let Some(tie) = tie_by_ids(evidence, quoted, prospect) {
        return tie;
    }
    if let Some(first) = quoted.first() {
        return Tie::Unverified(format!(
            "it refers to <{first}>, which neither rapport nor the rep sent to {address}"
        ));
    }
    let sends = evidence.sends_to.get(address).map(Vec::as_slice).unwrap_or_default();
    let window = Duration::days(EARLIER_SEND_WINDOW_DAYS);
    let tolerance = Duration::minutes(CLOCK_TOLERANCE_MINUTES);
    let before: Vec<&DateTime<Utc>> = sends.iter().filter(|sent| **sent <= arrived + tolerance).collect();
    match before.iter().max() {
        Some(last) if arrived - **last <= window => Tie::EarlierSend,
        Some(last) => Tie::Unverified(format!(
            "it quotes no Message-ID, and the last mail to {address} went on {} (more than {EARLIER_SEND_WINDOW_DAYS} days before)",
            last.format("%Y-%m-%d")
        )),
        None if sends.is_empty() => Tie::Unverified(format!(
            "it quotes no Message-ID and nothing was ever sent to {address}"
        )),
        None => Tie::Unverified(format!("it arrived before anything was sent to {address}")),
    }
}

/// Tied by a quoted Message-ID that went to this prospect.
pub fn tie_by_ids(evidence: &SentEvidence, quoted: &[String], prospect: ProspectId) -> Option<Tie> {
    let to_prospect =
        |set: &HashSet<(String, ProspectId)>| quoted.iter().any(|id| set.contains(&(id.clone(), prospect)));
    if to_prospect(&evidence.outbox) {
        Some(Tie::Outbox)
    } else if to_prospect(&evidence.sent) {
        Some(Tie::RepSent)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn evidence() -> SentEvidence {
        SentEvidence {
            sent: [("s1@us".to_string(), 1), ("o1@us".to_string(), 2)].into(),
            outbox: [("o1@us".to_string(), 2)].into(),
            sends_to: [("raj@globex.com".to_string(), vec![at("2026-11-20T09:00:00Z")])].into(),
        }
    }

    #[test]
    fn a_message_id_proves_a_send_only_to_the_prospect_it_went_to() {
        let e = evidence();
        assert_eq!(
            tie(&e, &["o1@us".into()], 2, "raj@globex.com", at("2026-11-21T09:00:00Z")),
            Tie::Outbox
        );
        assert_eq!(
            tie(&e, &["s1@us".into()], 1, "jane@acme.io", at("2026-11-21T09:00:00Z")),
            Tie::RepSent
        );
        // Raj received o1; a report quoting it about Jane is forged.
        assert!(matches!(
            tie(&e, &["o1@us".into()], 1, "jane@acme.io", at("2026-11-21T09:00:00Z")),
            Tie::Unverified(_)
        ));
    }

    #[test]
    fn without_a_message_id_only_a_recent_send_ties() {
        let e = evidence();
        let raj = |when: &str| tie(&e, &[], 2, "raj@globex.com", at(when));
        assert_eq!(raj("2026-11-21T09:00:00Z"), Tie::EarlierSend);
        assert_eq!(
            raj("2026-11-20T08:57:00Z"),
            Tie::EarlierSend,
            "within the clocks' tolerance"
        );
        assert!(matches!(raj("2026-11-19T09:00:00Z"), Tie::Unverified(why) if why.contains("arrived before")));
        assert!(matches!(raj("2026-12-20T09:00:00Z"), Tie::Unverified(why) if why.contains("more than 14 days")));
        assert!(matches!(
            tie(&e, &[], 1, "jane@acme.io", at("2026-11-21T09:00:00Z")),
            Tie::Unverified(why) if why.contains("nothing was ever sent")
        ));
    }
}
