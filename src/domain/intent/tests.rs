//! The intent classifier on the issue's own examples and the rules of its
//! decision order; the labelled set is `tests/intent_corpus.rs`.

use super::*;

fn sent() -> NaiveDate {
    "2026-12-01".parse().expect("date")
}

fn of(text: &str) -> ReplyIntent {
    reply_intent(text, sent())
}

#[test]
fn the_three_replies_of_the_issue_differ() {
    assert_eq!(of("Sounds great, Tuesday works").intent, Intent::Interested);
    assert_eq!(of("Not interested, please stop").intent, Intent::NotInterested);
    let left = of("I've left the company, talk to Maria");
    assert_eq!(left.intent, Intent::LeftCompany);
    assert_eq!(left.contact.and_then(|c| c.name).as_deref(), Some("Maria"));
}

#[test]
fn negation_turns_interest_into_a_refusal() {
    let r = of("We are not really interested at this point.");
    assert_eq!(r.intent, Intent::NotInterested, "{r:?}");
    assert_eq!(of("Dette er ikke aktuelt for oss").intent, Intent::NotInterested);
    assert_eq!(of("Vi er ikke interessert").intent, Intent::NotInterested);
    assert_eq!(of("Das ist für uns nicht interessant").intent, Intent::NotInterested);
    assert_eq!(of("Ça ne m'intéresse pas").intent, Intent::NotInterested);
    assert_eq!(of("Dette høres interessant ut!").intent, Intent::Interested);
    assert_eq!(
        of("We're no longer interested in this.").intent,
        Intent::NotInterested,
        "a two-word negator"
    );
    assert_eq!(
        of("No. Interesting idea though, let's talk.").intent,
        Intent::Interested,
        "another sentence"
    );
}

#[test]
fn the_evidence_names_the_words_that_decided() {
    let r = of("No thanks, we're all set.");
    assert_eq!(r.intent, Intent::NotInterested);
    assert!(
        r.evidence.iter().any(|e| e.words == "No thanks" && e.strong),
        "{:?}",
        r.evidence
    );
    assert!(
        r.explain().starts_with("not_interested (\"No thanks\""),
        "{}",
        r.explain()
    );
}

#[test]
fn an_unsubscribe_outranks_a_refusal() {
    let r = of("Not interested. Please remove me from your list.");
    assert_eq!(r.intent, Intent::Unsubscribe);
    assert!(r.actionable());
}

#[test]
fn interest_against_refusal_is_a_contest_left_to_the_rep() {
    let r = of("Not interested in the CRM part, but I'm interested in the reporting. Unsubscribe me from the newsletter though.");
    assert_eq!(r.intent, Intent::Unsubscribe);
    assert_eq!(r.contested_by, Some(Intent::Interested));
    assert!(!r.actionable());
    assert!(r.explain().contains("also reads as interested"), "{}", r.explain());
}

#[test]
fn not_now_carries_the_date_it_names() {
    let cases = [
        ("Please reach out in Q3", "2027-07-01", "Q3"),
        ("Try me again after the summer.", "2027-09-01", "after the summer"),
        ("Ta kontakt igjen i januar", "2027-01-01", "i januar"),
        ("Melden Sie sich bitte nach Ostern wieder", "2027-03-30", "nach Ostern"),
        ("Pas pour le moment, recontactez-moi en mars", "2027-03-01", "en mars"),
        ("Ahora no, escríbeme en febrero", "2027-02-01", "en febrero"),
        ("Nu niet, volgend jaar misschien", "2027-01-04", "volgend jaar"),
        ("Not right now - ping me in 3 weeks", "2026-12-22", "3 weeks"),
        ("Inte just nu, hör av dig om två månader", "2027-02-01", "två månader"),
    ];
    for (text, on, said) in cases {
        let r = of(text);
        assert_eq!(r.intent, Intent::NotNow, "{text}: {r:?}");
        let follow = r.follow_up.unwrap_or_else(|| panic!("{text}: a date"));
        assert_eq!(follow.on.to_string(), on, "{text}");
        assert_eq!(follow.said, said, "{text}");
    }
    assert_eq!(of("Not right now, sorry.").follow_up, None);
}

#[test]
fn a_referral_names_the_person_and_their_address() {
    let r =
        of("I'm not the right person for this. Please talk to Maria Olsen (maria.olsen@acme.io), she runs sales ops.");
    assert_eq!(r.intent, Intent::Referral);
    let contact = r.contact.expect("contact");
    assert_eq!(contact.name.as_deref(), Some("Maria Olsen"));
    assert_eq!(contact.email.as_deref(), Some("maria.olsen@acme.io"));
    // "Talk to" without anyone named is not a referral.
    assert_eq!(of("Happy to talk to you next week").intent, Intent::Interested);
    assert_eq!(of("I'm not the right person for this.").intent, Intent::WrongPerson);
}

#[test]
fn a_question_without_a_clear_answer_is_a_question() {
    assert_eq!(of("How does this integrate with HubSpot?").intent, Intent::Question);
    assert_eq!(of("Thanks for the note.").intent, Intent::Other);
    assert_eq!(of("").intent, Intent::Other);
}

#[test]
fn intents_round_trip_their_names() {
    for intent in Intent::ALL {
        assert_eq!(Intent::parse(intent.as_str()), Some(intent));
        assert_eq!(serde_json::to_value(intent).expect("json"), intent.as_str());
    }
}

#[test]
fn a_huge_hostile_reply_is_read_in_its_first_pages() {
    // Megabytes of phrases: read as far as the bound, decided all the same.
    let flood = "no thanks not interested no ".repeat(200_000);
    let r = of(&flood);
    assert_eq!(r.intent, Intent::NotInterested);
    assert!(r.evidence.len() <= MOST_FOUND, "{}", r.evidence.len());
    let tail = format!("{}Sounds great, Tuesday works.", "x".repeat(5 * 1024 * 1024));
    assert_eq!(of(&tail).intent, Intent::Other, "text past the bound is not read");
    let multibyte = "æøå ".repeat(10_000);
    assert_eq!(of(&multibyte).intent, Intent::Other, "cut on a character boundary");
}

proptest::proptest! {
    /// Any text, any length: a result, never a panic.
    #[test]
    fn any_text_is_classified(text in "\\PC{0,300}") {
        let r = reply_intent(&text, sent());
        proptest::prop_assert!(Intent::ALL.contains(&r.intent));
    }
}
