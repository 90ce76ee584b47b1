//! The rules' evaluation on the shipped rules file and on rules written
//! for one case: what fires, what it does, and the reason it gives.

use super::*;
use crate::domain::pipeline::Pipelines;
use serde_json::json;

fn rules() -> RuleSet {
    RuleSet::from_toml(include_str!("../../../config/rules.toml"), &Pipelines::shipped()).unwrap()
}

fn pipeline() -> Pipeline {
    Pipelines::shipped().get("default").unwrap().clone()
}

fn event(id: i64, kind: &str, at: &str, data: serde_json::Value) -> Event {
    Event {
        id,
        prospect_id: 7,
        kind: kind.into(),
        occurred_at: at.parse().unwrap(),
        recorded_at: at.parse().unwrap(),
        actor: Actor::System("test".into()),
        data,
    }
}

fn fired_on(stage: &str, history: &[Event], new: &Event) -> Vec<Fired> {
    on_event(&rules(), &pipeline(), stage, history, new)
}

#[test]
fn an_interested_reply_in_prospecting_advances_to_qualification() {
    let reply = reply(1, "Sounds great, let's talk Tuesday.");
    let fired = fired_on("prospecting", &[], &reply);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(
        fired[0].outcome,
        Outcome::Advance {
            from: "prospecting".into(),
            to: "qualification".into()
        }
    );
    assert_eq!(fired[0].events, vec![1]);
    assert!(
        fired[0].reason.starts_with(
            "rule 'reply-qualifies' (a reply that wants to talk means the conversation has started): \
             email.replied at 2026-11-30 16:00 UTC, read as interested (\"Sounds great\""
        ),
        "{}",
        fired[0].reason
    );
    assert!(fired_on("proposal", &[], &reply).is_empty(), "only in prospecting");
}

#[test]
fn the_shipped_rules_act_on_what_a_reply_meant() {
    let outcomes = |text: &str| -> Vec<Outcome> {
        fired_on("qualification", &[], &reply(1, text))
            .into_iter()
            .map(|f| f.outcome)
            .collect()
    };
    let lost = Outcome::Suggest {
        from: "qualification".into(),
        to: "lost".into(),
    };
    assert_eq!(outcomes("No thanks, we're all set."), vec![lost.clone()]);
    let gone = outcomes("I've left the company, talk to Maria.");
    assert!(gone.contains(&lost), "{gone:?}");
    assert!(
        gone.iter()
            .any(|o| matches!(o, Outcome::Remind { note, .. } if note.starts_with("find the right person"))),
        "{gone:?}"
    );
    assert_eq!(
        outcomes("How does this integrate with HubSpot?"),
        vec![Outcome::Remind {
            note: "answer their question".into(),
            on: None
        }]
    );
    assert!(
        gone.contains(&Outcome::SuggestProspect {
            name: Some("Maria".into()),
            email: None
        }),
        "the person named, to add: {gone:?}"
    );
    let referred = outcomes("Please talk to Maria Berg (maria.berg@acme.example), she runs purchasing.");
    assert_eq!(
        referred,
        vec![Outcome::SuggestProspect {
            name: Some("Maria Berg".into()),
            email: Some("maria.berg@acme.example".into())
        }],
        "a referral suggests the person, and no task to find them"
    );
    assert!(
        !outcomes("I'm not the right person for this.")
            .iter()
            .any(|o| matches!(o, Outcome::SuggestProspect { .. })),
        "nobody named: nobody suggested"
    );
    assert!(outcomes("Thanks for the note.").is_empty(), "a remark changes nothing");
    assert!(
        fired_on(
            "prospecting",
            &[],
            &event(2, "email.replied", "2026-11-30T16:00:00Z", json!({}))
        )
        .is_empty(),
        "a reply whose meaning was not read moves nothing"
    );
}

#[test]
fn a_single_event_rule_fires_on_every_matching_event() {
    let first = reply_at(5, "2026-11-02T10:00:00Z", "Sounds great.");
    let second = reply_at(6, "2026-11-20T10:00:00Z", "Sounds great.");
    let fired = fired_on("prospecting", &[first], &second);
    assert_eq!(
        fired.len(),
        1,
        "an earlier reply in another stage does not use it up: {fired:?}"
    );
    let post = |id| event(id, "post", "2026-11-29T10:00:00Z", json!({}));
    let same_moment = [post(7), post(8)];
    assert_eq!(
        fired_on("prospecting", &same_moment, &post(9)).len(),
        1,
        "three at one moment are three"
    );
    assert!(fired_on("prospecting", &same_moment[..1], &post(8)).is_empty());
}

#[test]
fn a_booked_meeting_advances_to_meeting_but_never_backwards() {
    let booked = event(2, "meeting.booked", "2026-12-01T09:00:00Z", json!({}));
    let fired = fired_on("qualification", &[], &booked);
    assert!(
        matches!(&fired[0].outcome, Outcome::Advance { to, .. } if to == "meeting"),
        "{fired:?}"
    );
    assert!(fired_on("negotiation", &[], &booked).is_empty(), "a later stage stays");
}

#[test]
fn a_signed_proposal_wins_the_deal() {
    let signed = event(3, "proposal.signed", "2026-12-02T09:00:00Z", json!({}));
    let fired = fired_on("negotiation", &[], &signed);
    assert!(
        matches!(&fired[0].outcome, Outcome::Advance { to, .. } if to == "won"),
        "{fired:?}"
    );
}

#[test]
fn an_unsubscribe_suggests_lost() {
    let unsubscribed = event(4, "email.unsubscribed", "2026-12-02T09:00:00Z", json!({}));
    let fired = fired_on("qualification", &[], &unsubscribed);
    assert_eq!(
        fired[0].outcome,
        Outcome::Suggest {
            from: "qualification".into(),
            to: "lost".into()
        }
    );
}

#[test]
fn three_posts_in_a_week_while_prospecting_is_warm_once() {
    let post = |id, at: &str| event(id, "post", at, json!({ "platform": "mastodon" }));
    let posts = [
        post(10, "2026-11-23T10:00:00Z"),
        post(11, "2026-11-26T10:00:00Z"),
        post(12, "2026-11-29T10:00:00Z"),
        post(13, "2026-11-29T18:00:00Z"),
    ];
    assert!(fired_on("prospecting", &posts[..1], &posts[1]).is_empty());
    let warm = fired_on("prospecting", &posts[..2], &posts[2]);
    assert_eq!(
        warm[0].outcome,
        Outcome::Remind {
            note: "warm — engage now".into(),
            on: None
        }
    );
    assert_eq!(warm[0].events, vec![10, 11, 12]);
    assert!(warm[0].reason.contains("3 posts within 7 days"), "{}", warm[0].reason);
    assert!(
        fired_on("prospecting", &posts[..3], &posts[3]).is_empty(),
        "not again for the fourth"
    );
    let spread = [post(20, "2026-11-01T10:00:00Z"), post(21, "2026-11-05T10:00:00Z")];
    assert!(
        fired_on("prospecting", &spread, &post(22, "2026-11-12T10:00:00Z")).is_empty(),
        "the first is out of the week"
    );
}

#[test]
fn a_proposal_idle_for_five_days_raises_a_reminder_once() {
    let moved = Event {
        actor: Actor::User("ann".into()),
        ..event(
            30,
            STAGE_CHANGED,
            "2026-11-20T10:00:00Z",
            json!({ "from": "meeting", "to": "proposal" }),
        )
    };
    let history = [moved];
    let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
    assert!(on_idle(&rules(), &pipeline(), "proposal", &history, at("2026-11-24T10:00:00Z")).is_empty());
    let due = on_idle(&rules(), &pipeline(), "proposal", &history, at("2026-11-25T10:00:00Z"));
    assert!(
        matches!(&due[0].outcome, Outcome::Remind { note, .. } if note.contains("idle")),
        "{due:?}"
    );
    assert_eq!(
        due[0].key, "rule:proposal-rotting:idle:30",
        "one firing per quiet spell"
    );
    let later = on_idle(&rules(), &pipeline(), "proposal", &history, at("2026-11-28T10:00:00Z"));
    assert_eq!(later[0].key, due[0].key);
}

#[test]
fn stay_in_touch_counts_touches_and_the_prospects_own_posts() {
    let rules = rules();
    let pipeline = pipeline();
    let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
    let won = Event {
        actor: Actor::User("ann".into()),
        ..event(
            50,
            STAGE_CHANGED,
            "2026-10-01T10:00:00Z",
            json!({ "to": "post-purchase" }),
        )
    };
    let touch = event(51, EMAIL_SENT, "2026-10-05T10:00:00Z", json!({}));
    let quiet = [won.clone(), touch.clone()];
    let fired = |history: &[Event], now: &str| on_idle(&rules, &pipeline, "post-purchase", history, at(now));
    assert!(
        fired(&quiet, "2026-11-03T10:00:00Z").is_empty(),
        "29 days after the touch"
    );
    let due = fired(&quiet, "2026-11-05T10:00:00Z");
    assert!(
        matches!(&due[0].outcome, Outcome::Remind { note, .. } if note.starts_with("stay in touch")),
        "{due:?}"
    );
    assert_eq!(due[0].events, vec![51], "counted from the rep's touch");
    // The customer's own post resets the clock.
    let posted = [won, touch, event(52, "post", "2026-10-20T10:00:00Z", json!({}))];
    assert!(fired(&posted, "2026-11-05T10:00:00Z").is_empty(), "the post reset it");
    assert_eq!(fired(&posted, "2026-11-20T10:00:00Z")[0].events, vec![52]);
}

#[test]
fn a_clock_reset_only_by_touches_ignores_posts() {
    let text = r#"
        [[rules]]
        name = "touch-base"
        idle = "10d"
        reset_by = ["touches"]
        then = "remind"
        note = "touch base"
    "#;
    let rules = RuleSet::from_toml(text, &Pipelines::shipped()).unwrap();
    let history = [
        event(60, EMAIL_SENT, "2026-11-01T10:00:00Z", json!({})),
        event(61, "post", "2026-11-08T10:00:00Z", json!({})),
    ];
    let now = "2026-11-12T10:00:00Z".parse().unwrap();
    let fired = on_idle(&rules, &pipeline(), "qualification", &history, now);
    assert_eq!(fired[0].events, vec![60], "{fired:?}");
}

#[test]
fn a_dry_run_replays_history_with_the_stage_moving() {
    let history = [
        event(
            40,
            "prospect.created",
            "2026-11-01T10:00:00Z",
            json!({ "stage": "prospecting" }),
        ),
        reply_at(41, "2026-11-02T10:00:00Z", "Happy to chat."),
        event(42, "meeting.booked", "2026-11-03T10:00:00Z", json!({})),
        reply_at(43, "2026-11-04T10:00:00Z", "Happy to chat."),
    ];
    let fired = replay(&rules(), &pipeline(), "qualification", &history);
    let moves: Vec<(&str, &str)> = fired
        .iter()
        .filter_map(|f| match &f.outcome {
            Outcome::Advance { from, to } => Some((from.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        moves,
        vec![("prospecting", "qualification"), ("qualification", "meeting")]
    );
    assert!(
        fired.iter().all(|f| f.reason.starts_with("rule '")),
        "every action explains itself"
    );
}

/// A reply as the mail path records it: its fresh text read for intent.
fn reply(id: i64, text: &str) -> Event {
    reply_at(id, "2026-11-30T16:00:00Z", text)
}

fn reply_at(id: i64, at: &str, text: &str) -> Event {
    let intent = crate::domain::intent::reply_intent(text, at[..10].parse().unwrap());
    event(id, "email.replied", at, json!({ "text": text, "intent": intent }))
}

#[test]
fn an_intent_rule_fires_on_that_intent_only_and_says_why() {
    let rules = RuleSet::from_toml(
        "[[rules]]\nname = \"interest-qualifies\"\ndescription = \"they want to talk\"\non = [\"email.replied\"]\n\
         intent = [\"interested\"]\nstages = [\"prospecting\"]\nthen = \"advance\"\nto = \"qualification\"\n",
        &Pipelines::shipped(),
    )
    .unwrap();
    let fired = |e: &Event| on_event(&rules, &pipeline(), "prospecting", &[], e);
    let yes = fired(&reply(1, "Sounds great, Tuesday works."));
    assert_eq!(yes.len(), 1, "{yes:?}");
    assert!(
        yes[0].reason.contains("read as interested (\"Sounds great\""),
        "{}",
        yes[0].reason
    );
    assert!(fired(&reply(2, "Not interested, please stop.")).is_empty());
    assert!(
        fired(&event(3, "email.replied", "2026-11-30T16:00:00Z", json!({}))).is_empty(),
        "a reply with no intent read"
    );
    // Contested: interest and a request to be removed, both plainly said.
    let contested = reply(
        4,
        "I'm interested in the report, but unsubscribe me from the newsletter.",
    );
    assert!(fired(&contested).is_empty(), "a contested reply is left to the rep");
}

#[test]
fn an_intent_must_be_known_and_read_from_replies() {
    let parse = |extra: &str| {
        RuleSet::from_toml(
            &format!("[[rules]]\nname = \"x\"\non = [\"post\"]\n{extra}then = \"tag\"\ntag = \"t\"\n"),
            &Pipelines::shipped(),
        )
    };
    let err = format!("{:?}", parse("intent = [\"keen\"]\n").unwrap_err());
    assert!(
        err.contains("'keen' is not an intent") && err.contains("not_now"),
        "{err}"
    );
    let err = format!("{:?}", parse("intent = [\"interested\"]\n").unwrap_err());
    assert!(err.contains("from replies only"), "{err}");
}

#[test]
fn a_not_now_reply_is_followed_up_on_the_day_it_names_or_in_ninety_days() {
    let on = |text: &str| -> Vec<Option<NaiveDate>> {
        fired_on("qualification", &[], &reply(1, text))
            .into_iter()
            .filter_map(|f| match f.outcome {
                Outcome::Remind { on, .. } => Some(on),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        on("Not right now, reach out in Q3."),
        vec![Some("2027-07-01".parse().unwrap())]
    );
    assert_eq!(
        on("Not right now, sorry."),
        vec![Some("2027-02-28".parse().unwrap())],
        "90 days after 2026-11-30"
    );
    let fired = fired_on(
        "qualification",
        &[],
        &reply(1, "Ikke akkurat nå, ta kontakt igjen etter sommeren."),
    );
    assert!(
        fired[0].reason.contains("read as not_now (\"Ikke akkurat nå\""),
        "{}",
        fired[0].reason
    );
}

#[test]
fn a_follow_up_day_is_read_from_replies_only() {
    let parse = |rule: &str| RuleSet::from_toml(&format!("[[rules]]\nname = \"x\"\n{rule}"), &Pipelines::shipped());
    let err = format!(
        "{:?}",
        parse("on = [\"post\"]\nthen = \"remind\"\nnote = \"n\"\ndue = \"follow-up\"\n").unwrap_err()
    );
    assert!(err.contains("from replies only"), "{err}");
    let err = format!(
        "{:?}",
        parse("on = [\"email.replied\"]\nthen = \"remind\"\nnote = \"n\"\ndue = \"soon\"\n").unwrap_err()
    );
    assert!(err.contains("'soon' is not a due day"), "{err}");
    let err = format!(
        "{:?}",
        parse("idle = \"5d\"\nthen = \"remind\"\nnote = \"n\"\ndue = \"follow-up\"\n").unwrap_err()
    );
    assert!(
        err.contains("from replies only"),
        "an idle rule has no reply to read: {err}"
    );
    let err = format!(
        "{:?}",
        parse("on = [\"post\"]\nthen = \"suggest-prospect\"\n").unwrap_err()
    );
    assert!(err.contains("person to suggest is read from replies only"), "{err}");
    assert!(parse("on = [\"email.replied\"]\nintent = [\"referral\"]\nthen = \"suggest-prospect\"\n").is_ok());
}
