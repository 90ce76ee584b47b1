//! The project's own hand-written messages, always present.

use chrono::NaiveDate;
use rapport::domain::mail::{classify, BounceReason, Classification, MailClass};

fn fixture(name: &str) -> Classification {
    let path = format!("{}/tests/fixtures/mail/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let received_on = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
    classify(&raw, received_on).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn december_3() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 12, 3)
}

#[test]
fn out_of_office_replies_give_return_dates() {
    for name in ["ooo_en.eml", "ooo_nb.eml", "ooo_de.eml", "ooo_fr.eml"] {
        let result = fixture(name);
        assert_eq!(result.class, MailClass::AutoReply, "{name}: {:?}", result.reasons);
        assert_eq!(result.return_date, december_3(), "{name}");
    }
}

#[test]
fn unsubscribe_requests() {
    for name in ["unsubscribe_subject.eml", "unsubscribe_body.eml"] {
        let result = fixture(name);
        assert_eq!(result.class, MailClass::Unsubscribe, "{name}: {:?}", result.reasons);
    }
}

#[test]
fn human_replies_keep_only_fresh_text() {
    let cases = [
        (
            "reply_gmail.eml",
            "Hi Sam,\n\nThursday at 14:00 works for me. Please send an invite.",
        ),
        (
            "reply_outlook.eml",
            "Hi Sam,\n\nWe are interested. Can you send the contract draft?\n\nBest regards\nTom",
        ),
        ("reply_apple.eml", "Not right now, but try me again in March."),
    ];
    for (name, text) in cases {
        let result = fixture(name);
        assert_eq!(result.class, MailClass::HumanReply, "{name}: {:?}", result.reasons);
        assert_eq!(result.text.as_deref(), Some(text), "{name}");
        assert!(!result.in_reply_to.is_empty(), "{name}");
    }
}

#[test]
fn hard_bounce_names_recipient_and_original() {
    let result = fixture("bounce_hard_5_1_1.eml");
    assert_eq!(result.class, MailClass::Bounce, "{:?}", result.reasons);
    assert_eq!(result.recipient.as_deref(), Some("old.contact@gone.example"));
    assert_eq!(result.status.as_deref(), Some("5.1.1"));
    assert_eq!(result.hard, Some(true));
    assert!(!result.sender_problem);
    assert_eq!(
        result.recipients.first().map(|r| r.reason),
        Some(BounceReason::UserUnknown)
    );
    assert_eq!(
        result.original_message_id.as_deref(),
        Some("outreach-200@ourcompany.example")
    );
}

#[test]
fn policy_rejection_is_soft_and_the_senders_problem() {
    let result = fixture("bounce_policy_5_7_1.eml");
    assert_eq!(result.class, MailClass::Bounce);
    assert_eq!(result.status.as_deref(), Some("5.7.1"));
    assert_eq!(result.hard, Some(false));
    assert!(result.sender_problem, "{:?}", result.recipients);
    assert_eq!(
        result.original_message_id.as_deref(),
        Some("outreach-201@ourcompany.example")
    );
}

#[test]
fn delay_warning_is_not_a_bounce() {
    let result = fixture("dsn_delayed.eml");
    assert_eq!(result.class, MailClass::DsnDelayed, "{:?}", result.reasons);
    assert_eq!(result.recipient.as_deref(), Some("slow@busyhost.example"));
}

#[test]
fn challenge_response() {
    assert_eq!(fixture("challenge.eml").class, MailClass::ChallengeResponse);
}

#[test]
fn json_output_has_the_convenience_fields() {
    let json = serde_json::to_value(fixture("bounce_hard_5_1_1.eml")).unwrap_or_default();
    for key in ["class", "reasons", "recipient", "status", "hard"] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
    assert_eq!(json.get("class").and_then(|v| v.as_str()), Some("bounce"));
}
