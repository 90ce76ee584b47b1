//! What the prospect's events since enrolment mean for their sequence: go
//! on, stop (and why), wait until they are back, retry a soft bounce, or
//! pause the whole sending mailbox. Pure: the caller passes the events.

use super::timing::SendingWindow;
use super::Sequence;
use crate::domain::event::payload::{AutoReplied, Bounced};
use crate::domain::event::Event;
use crate::domain::mail::{
    EMAIL_AUTO_REPLIED, EMAIL_BOUNCED, EMAIL_CHALLENGED, EMAIL_COMPLAINED, EMAIL_REPLIED, EMAIL_SENT,
    EMAIL_UNSUBSCRIBED, EMAIL_VERIFIED,
};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Domains shared by unrelated people: a reply from one of them says nothing
/// about a colleague.
const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "zoho.com",
    "fastmail.com",
    "hey.com",
];

/// The company domain of an address, for the colleague rule; `None` for
/// free-mail addresses.
pub fn company_domain(email: &str) -> Option<String> {
    let domain = email.trim().rsplit_once('@')?.1.to_lowercase();
    (!domain.is_empty() && !FREE_MAIL_DOMAINS.contains(&domain.as_str())).then_some(domain)
}

// Hand-logged (or webhook) kind for a booked meeting.
use crate::domain::event::kinds::MEETING_BOOKED;
/// Soft bounces of one enrolment before the sequence gives up.
pub const MAX_SOFT_BOUNCES: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Continue,
    Stop(String),
    /// Out of office: nothing goes out before this moment.
    SnoozeUntil(DateTime<Utc>),
    /// The last email soft-bounced: send the same step again (attempt n of the limit).
    RetryStep(usize),
    /// The receiving side refused the sender (5.7.x policy or reputation):
    /// every sequence from this mailbox waits for the rep.
    PauseMailbox(String),
    /// This prospect's sequence waits for the rep to do something (verify
    /// with the prospect's challenge/response filter); nothing is sent before.
    WaitForRep(String),
}

/// What one prospect's situation says about their next step.
pub struct Situation<'a> {
    pub sequence: &'a Sequence,
    pub enrolled_at: DateTime<Utc>,
    pub pipeline: &'a str,
    pub stage: &'a str,
    pub suppressed: bool,
    /// Someone else at the prospect's company domain replied since enrolment.
    pub colleague_replied: bool,
    /// The prospect's events, oldest first.
    pub events: &'a [Event],
}

/// Decides in the order that protects the prospect first.
pub fn decide(situation: &Situation, window: &SendingWindow, zone: Tz) -> Decision {
    let sequence = situation.sequence;
    let since: Vec<&Event> = situation
        .events
        .iter()
        .filter(|e| e.occurred_at >= situation.enrolled_at)
        .collect();
    // What the prospect did comes first: it says why better than the suppression it caused.
    if let Some(reason) = since.iter().find_map(|e| stop_reason(e)) {
        return Decision::Stop(reason);
    }
    if situation.suppressed {
        return Decision::Stop("the address is on the suppression list".into());
    }
    if situation.pipeline != sequence.pipeline || !sequence.stages.iter().any(|s| s == situation.stage) {
        return Decision::Stop(format!("moved to {}/{}", situation.pipeline, situation.stage));
    }
    if sequence.stop_on_colleague_reply && situation.colleague_replied {
        return Decision::Stop("a colleague at the same company replied".into());
    }
    // A challenge/response filter holds mail to them until the rep verifies.
    let challenged = since.iter().rposition(|e| e.kind == EMAIL_CHALLENGED);
    let verified = since.iter().rposition(|e| e.kind == EMAIL_VERIFIED);
    if challenged.is_some_and(|c| verified.is_none_or(|v| v < c)) {
        return Decision::WaitForRep("their spam filter holds the mail until you verify (see your tasks)".into());
    }
    // A policy refusal that does not quote mail rapport sent is only noted: it
    // neither pauses the mailbox nor counts as a soft bounce to retry.
    let since: Vec<&Event> = since.into_iter().filter(|e| !is_noted_refusal(e)).collect();
    if let Some(bounce) = since.iter().rev().find(|e| e.kind == EMAIL_BOUNCED) {
        let bounced: Bounced = bounce.read();
        if bounced.sender_problem {
            return Decision::PauseMailbox(format!(
                "the receiving server refused the sender ({}); check the sending domain's reputation and authentication",
                bounced.status.as_deref().unwrap_or("5.7.x")
            ));
        }
        let soft = since
            .iter()
            .filter(|e| e.kind == EMAIL_BOUNCED && !e.read::<Bounced>().hard)
            .count();
        if soft >= MAX_SOFT_BOUNCES {
            return Decision::Stop(format!("{soft} soft bounces"));
        }
        // The last email bounced (nothing was sent after the bounce): send that step again.
        let last_mail = since
            .iter()
            .rev()
            .find(|e| e.kind == EMAIL_SENT || e.kind == EMAIL_BOUNCED);
        if last_mail.is_some_and(|e| e.kind == EMAIL_BOUNCED) {
            return Decision::RetryStep(soft);
        }
    }
    if let Some(back) = since.iter().rev().find_map(|e| return_date(e)) {
        // One sending day after the stated return, at the window's opening.
        if let Some(until) = window
            .add_sending_days(back, 1)
            .and_then(|day| window.next_open(day_start(day, zone), zone))
        {
            if until > situation.enrolled_at {
                return Decision::SnoozeUntil(until);
            }
        }
    }
    Decision::Continue
}

fn is_noted_refusal(event: &Event) -> bool {
    event.kind == EMAIL_BOUNCED && {
        let bounced: Bounced = event.read();
        bounced.policy_refusal && !bounced.sender_problem
    }
}

/// Whether an event of this kind can be a reason to stop a sequence (what
/// records one checks the prospect's sequences at once).
pub fn may_stop(kind: &str) -> bool {
    matches!(
        kind,
        EMAIL_REPLIED | MEETING_BOOKED | EMAIL_UNSUBSCRIBED | EMAIL_COMPLAINED | EMAIL_BOUNCED
    )
}

fn stop_reason(event: &Event) -> Option<String> {
    match event.kind.as_str() {
        EMAIL_REPLIED => Some("replied".into()),
        MEETING_BOOKED => Some("a meeting was booked".into()),
        EMAIL_UNSUBSCRIBED => Some("asked to unsubscribe".into()),
        EMAIL_COMPLAINED => Some("marked the mail as spam".into()),
        EMAIL_BOUNCED => {
            let bounced: Bounced = event.read();
            bounced.hard.then(|| {
                format!(
                    "hard bounce ({})",
                    bounced.reason.as_deref().unwrap_or("address does not exist")
                )
            })
        }
        _ => None,
    }
}

fn return_date(event: &Event) -> Option<NaiveDate> {
    (event.kind == EMAIL_AUTO_REPLIED)
        .then(|| event.read::<AutoReplied>().return_date)
        .flatten()
}

fn day_start(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    super::timing::resolve(day.and_time(chrono::NaiveTime::MIN), zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Actor;
    use crate::domain::pipeline::Pipelines;
    use chrono::{NaiveTime, Weekday};
    use serde_json::json;

    fn sequence() -> Sequence {
        let text = include_str!("../../../config/sequences/example.toml");
        Sequence::from_toml("example", text, &Pipelines::shipped(), "default").unwrap()
    }

    fn window() -> SendingWindow {
        let days = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
        let time = |t| NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        SendingWindow::new(&days, time("08:00"), time("17:00"), Default::default()).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn event(kind: &str, when: &str, data: serde_json::Value) -> Event {
        Event {
            id: 1,
            prospect_id: 7,
            kind: kind.into(),
            occurred_at: at(when),
            recorded_at: at(when),
            actor: Actor::System("test".into()),
            data,
        }
    }

    fn decide_with(events: &[Event], stage: &str) -> Decision {
        let sequence = sequence();
        let situation = Situation {
            sequence: &sequence,
            enrolled_at: at("2026-11-02T09:00:00Z"),
            pipeline: "default",
            stage,
            suppressed: false,
            colleague_replied: false,
            events,
        };
        decide(&situation, &window(), chrono_tz::Europe::Oslo)
    }

    #[test]
    fn replies_meetings_unsubscribes_and_hard_bounces_stop_it() {
        let cases = [
            (EMAIL_REPLIED, json!({}), "replied"),
            (MEETING_BOOKED, json!({}), "meeting"),
            (EMAIL_UNSUBSCRIBED, json!({}), "unsubscribe"),
            (
                EMAIL_BOUNCED,
                json!({ "hard": true, "reason": "user_unknown" }),
                "hard bounce (user_unknown)",
            ),
        ];
        for (kind, data, reason) in cases {
            let decision = decide_with(&[event(kind, "2026-11-03T10:00:00Z", data)], "prospecting");
            assert!(
                matches!(&decision, Decision::Stop(r) if r.contains(reason)),
                "{kind}: {decision:?}"
            );
        }
    }

    #[test]
    fn a_challenge_holds_the_sequence_until_the_rep_verifies() {
        let challenged = event(
            EMAIL_CHALLENGED,
            "2026-11-03T10:00:00Z",
            json!({ "link": "https://f.example/v" }),
        );
        assert!(matches!(
            decide_with(std::slice::from_ref(&challenged), "prospecting"),
            Decision::WaitForRep(_)
        ));
        let verified = event(EMAIL_VERIFIED, "2026-11-03T12:00:00Z", json!({}));
        assert_eq!(
            decide_with(&[challenged.clone(), verified.clone()], "prospecting"),
            Decision::Continue
        );
        // A new challenge after verifying holds it again.
        let again = event(EMAIL_CHALLENGED, "2026-11-04T10:00:00Z", json!({}));
        assert!(matches!(
            decide_with(&[challenged, verified, again], "prospecting"),
            Decision::WaitForRep(_)
        ));
    }

    #[test]
    fn free_mail_is_nobodys_company() {
        assert_eq!(company_domain("Jane@Acme.IO").as_deref(), Some("acme.io"));
        assert_eq!(company_domain("jane@gmail.com"), None);
        assert_eq!(company_domain("not an address"), None);
    }

    #[test]
    fn only_events_since_enrolment_count() {
        let old_reply = event(EMAIL_REPLIED, "2026-10-01T10:00:00Z", json!({}));
        assert_eq!(decide_with(&[old_reply], "prospecting"), Decision::Continue);
    }

    #[test]
    fn leaving_the_stages_stops_it() {
        assert_eq!(
            decide_with(&[], "proposal"),
            Decision::Stop("moved to default/proposal".into())
        );
    }

    #[test]
    fn out_of_office_snoozes_until_a_sending_day_after_the_return() {
        // Back on Friday 6 November: the next sending day is Monday 9th, 08:00 in Oslo.
        let away = event(
            EMAIL_AUTO_REPLIED,
            "2026-11-03T10:00:00Z",
            json!({ "return_date": "2026-11-06" }),
        );
        assert_eq!(
            decide_with(&[away], "prospecting"),
            Decision::SnoozeUntil(at("2026-11-09T07:00:00Z"))
        );
    }

    #[test]
    fn soft_bounces_are_retried_then_stop_it_and_policy_pauses_the_mailbox() {
        let soft = |when| event(EMAIL_BOUNCED, when, json!({ "hard": false, "reason": "mailbox_full" }));
        let sent = |when| event(EMAIL_SENT, when, json!({}));
        let two = [soft("2026-11-03T10:00:00Z"), soft("2026-11-04T10:00:00Z")];
        assert_eq!(decide_with(&two, "prospecting"), Decision::RetryStep(2));
        let resent = [soft("2026-11-03T10:00:00Z"), sent("2026-11-04T09:00:00Z")];
        assert_eq!(
            decide_with(&resent, "prospecting"),
            Decision::Continue,
            "the retry went out"
        );
        let three = [
            soft("2026-11-03T10:00:00Z"),
            soft("2026-11-04T10:00:00Z"),
            soft("2026-11-05T10:00:00Z"),
        ];
        assert_eq!(
            decide_with(&three, "prospecting"),
            Decision::Stop("3 soft bounces".into())
        );
        let policy = event(
            EMAIL_BOUNCED,
            "2026-11-03T10:00:00Z",
            json!({ "hard": false, "sender_problem": true, "status": "5.7.1" }),
        );
        assert!(matches!(decide_with(&[policy], "prospecting"), Decision::PauseMailbox(r) if r.contains("5.7.1")));
    }
}
