//! How each step of a sequence does, per A/B variant: mails sent, and the
//! enrolments that ended in a reply (or a booked meeting), a hard bounce or
//! an unsubscribe (or a spam complaint), each counted at the last step sent
//! to them before they stopped; the reply rate is replies per mail sent.

use crate::domain::records::{Enrolment, OutboxEntry};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StepStat {
    pub sequence: String,
    /// 0-based, as the outbox numbers steps.
    pub step: u32,
    pub variant: u32,
    pub sent: u32,
    pub replied: u32,
    pub bounced: u32,
    pub unsubscribed: u32,
}

impl StepStat {
    /// Replies per mail sent, 0–1 (0 when nothing was sent).
    pub fn reply_rate(&self) -> f64 {
        match self.sent {
            0 => 0.0,
            sent => f64::from(self.replied) / f64::from(sent),
        }
    }
}

/// What ended an enrolment, read from its stop reason.
fn outcome(reason: &str) -> Option<fn(&mut StepStat)> {
    let reason = reason.trim();
    if reason == "replied" || reason == "a meeting was booked" {
        Some(|s| s.replied += 1)
    } else if reason.starts_with("hard bounce") {
        Some(|s| s.bounced += 1)
    } else if reason == "asked to unsubscribe" || reason == "marked the mail as spam" {
        Some(|s| s.unsubscribed += 1)
    } else {
        None
    }
}

/// Per (sequence, step, variant), from the enrolments and their outbox rows
/// (only rows that went out count as sent).
pub fn step_stats(enrolments: &[Enrolment], outbox: &[OutboxEntry]) -> Vec<StepStat> {
    let variant_of: HashMap<i64, u32> = enrolments.iter().map(|e| (e.id, e.variant)).collect();
    let mut stats: BTreeMap<(String, u32, u32), StepStat> = BTreeMap::new();
    let mut last_sent: HashMap<i64, u32> = HashMap::new();
    for row in outbox.iter().filter(|r| r.state == "sent") {
        let Some(variant) = variant_of.get(&row.enrolment_id).copied() else {
            continue;
        };
        let stat = stats
            .entry((row.sequence.clone(), row.step, variant))
            .or_insert_with(|| StepStat {
                sequence: row.sequence.clone(),
                step: row.step,
                variant,
                ..StepStat::default()
            });
        stat.sent += 1;
        let last = last_sent.entry(row.enrolment_id).or_insert(row.step);
        *last = (*last).max(row.step);
    }
    for enrolment in enrolments {
        let (Some(reason), Some(step)) = (enrolment.stop_reason.as_deref(), last_sent.get(&enrolment.id)) else {
            continue;
        };
        if let (Some(count), Some(stat)) = (
            outcome(reason),
            stats.get_mut(&(enrolment.sequence.clone(), *step, enrolment.variant)),
        ) {
            count(stat);
        }
    }
    stats.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn enrolment(id: i64, variant: u32, stop: Option<&str>) -> Enrolment {
        Enrolment {
            id,
            fence: 0,
            prospect_id: id,
            rep_id: 1,
            prospect_name: format!("p{id}"),
            prospect_email: None,
            sequence: "intro".into(),
            variant,
            step: 2,
            state: if stop.is_some() {
                "stopped".into()
            } else {
                "active".into()
            },
            next_due_at: None,
            stop_reason: stop.map(str::to_string),
            snoozed_until: None,
            enrolled_at: at(),
        }
    }

    fn sent(id: i64, enrolment: i64, step: u32, state: &str) -> OutboxEntry {
        OutboxEntry {
            id,
            enrolment_id: enrolment,
            prospect_id: enrolment,
            rep_id: 1,
            sequence: "intro".into(),
            step,
            attempt: 1,
            message_id: format!("<m{id}@x>"),
            to_email: "x@example.org".into(),
            subject: "hi".into(),
            transport: "file".into(),
            state: state.into(),
            started_at: at(),
            sent_at: Some(at()),
            error: None,
        }
    }

    #[test]
    fn outcomes_count_at_the_last_step_sent_per_variant() {
        let enrolments = [
            enrolment(1, 0, Some("replied")),
            enrolment(2, 0, Some("hard bounce (5.1.1)")),
            enrolment(3, 1, Some("asked to unsubscribe")),
            enrolment(4, 1, None),
            enrolment(5, 1, Some("a meeting was booked")),
        ];
        let outbox = [
            sent(1, 1, 0, "sent"),
            sent(2, 1, 1, "sent"),
            sent(3, 2, 0, "sent"),
            sent(4, 3, 0, "sent"),
            sent(5, 4, 0, "sent"),
            sent(6, 4, 1, "unknown"),
            sent(7, 5, 0, "sent"),
        ];
        let stats = step_stats(&enrolments, &outbox);
        let view: Vec<_> = stats
            .iter()
            .map(|s| (s.step, s.variant, s.sent, s.replied, s.bounced, s.unsubscribed))
            .collect();
        assert_eq!(view, [(0, 0, 2, 0, 1, 0), (0, 1, 3, 1, 0, 1), (1, 0, 1, 1, 0, 0)]);
        assert!((stats[1].reply_rate() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(StepStat::default().reply_rate(), 0.0);
    }
}
