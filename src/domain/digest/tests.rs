//! Golden tests: a fixture world's digest, text and HTML, in English and
//! Norwegian, compared with the files in `golden/`. After a deliberate
//! change, write them anew with `UPDATE_GOLDEN=1 cargo test --lib digest`.

use super::*;
use std::path::PathBuf;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn who(id: i64, name: &str, company: Option<&str>, score: f64) -> Who {
    Who {
        id,
        name: name.into(),
        company: company.map(String::from),
        score,
    }
}

/// Ann's Tuesday: two replies, two posts, a task and a reminder, a
/// suggestion, a paused sequence, a broken feed, and a pipeline that grew.
fn world(language: Language) -> DigestInput {
    let jane = who(1, "Jane Doe", Some("Acme"), 9.5);
    let raj = who(2, "Raj Patel", Some("Globex"), 3.2);
    let nia = who(3, "Nia Obi", None, 5.0);
    let lee = who(4, "Lee Chen", Some("Bluepeak <R&D>"), 1.0);
    DigestInput {
        rep_name: "Ann".into(),
        language,
        zone: chrono_tz::Europe::Oslo,
        date: "2026-12-01".parse().unwrap(),
        sent_at: at("2026-12-01T06:00:00Z"),
        replies: vec![
            Reply {
                who: raj.clone(),
                at: at("2026-11-30T15:10:00Z"),
                text: "Send me the pricing, please.".into(),
                intent: Some(Intent::Interested),
            },
            Reply {
                who: jane.clone(),
                at: at("2026-11-30T16:00:00Z"),
                text: "Thursday at 10 works for me.".into(),
                intent: Some(Intent::Interested),
            },
        ],
        posts: vec![
            Post {
                who: nia.clone(),
                at: at("2026-11-30T09:00:00Z"),
                title: "Why we moved to trunk-based development".into(),
                url: "https://nia.example/trunk".into(),
                excerpt: "Three teams, one branch, and half the merge pain.".into(),
                stage: "qualification".into(),
                value: None,
            },
            Post {
                who: jane.clone(),
                at: at("2026-11-30T12:00:00Z"),
                title: "Acme is hiring platform engineers".into(),
                url: "https://mastodon.example/@jane/1".into(),
                excerpt: String::new(),
                stage: "proposal".into(),
                value: Some("100,000 USD".into()),
            },
        ],
        tasks: vec![
            Task {
                who: lee.clone(),
                what: "Like or comment on Lee's latest post".into(),
                due_at: at("2026-12-01T07:00:00Z"),
                link: Some("https://linkedin.com/in/leechen".into()),
                reason: None,
            },
            Task {
                who: jane.clone(),
                what: "proposal idle 5 days — follow up".into(),
                due_at: at("2026-11-30T10:00:00Z"),
                link: None,
                reason: Some(
                    "rule 'proposal-rotting': nothing since 2026-11-25 10:00 UTC (5 days), while in proposal".into(),
                ),
            },
        ],
        suggestions: vec![Suggestion {
            id: 7,
            who: lee.clone(),
            from: "qualification".into(),
            to: "lost".into(),
            reason:
                "rule 'unsubscribe-suggests-lost': email.unsubscribed at 2026-11-30 11:00 UTC, while in qualification"
                    .into(),
            person: None,
        }, Suggestion {
            id: 8,
            who: lee.clone(),
            from: "qualification".into(),
            to: String::new(),
            reason: "rule 'referral-suggests-prospect': email.replied at 2026-11-30 12:00 UTC, read as referral (\"talk to\"), while in qualification".into(),
            person: Some("Maria Berg <maria@acme.example>".into()),
        }],
        paused: vec![Paused {
            who: raj.clone(),
            sequence: "intro".into(),
            why: "out of office until 2026-12-08".into(),
        }],
        broken_sources: vec![BrokenSource {
            who: nia,
            url: "https://nia.example/feed.xml".into(),
            error: "HTTP 410 Gone".into(),
        }],
        needs_look: vec![Unverified {
            who: raj.clone(),
            at: "2026-11-30T21:15:00Z".parse().unwrap(),
            report: "bounce".into(),
            from: "mailer-daemon@mx.globex.example".into(),
            why: "it quotes no Message-ID and nothing was ever sent to raj@globex.example".into(),
        }],
        setup: vec!["config/rules.toml: rules[2] (reply-qualifies).stages: there is no stage 'prospectng'".into()],
        pipeline: Some(PipelineSummary {
            currency: "USD".into(),
            weighted: Amount(60_000_000),
            previous: Some(Amount(54_000_000)),
        }),
    }
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/domain/digest/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1 to write it", path.display()));
    assert_eq!(actual, expected, "{name} differs from the golden file");
}

#[test]
fn english_digest_matches_the_golden_files() {
    let digest = render(world(Language::En)).unwrap();
    assert_eq!(digest.subject, "Whom to engage today — Tuesday 1 December 2026");
    golden("en.txt", &digest.text);
    golden("en.html", &digest.html);
}

#[test]
fn norwegian_digest_matches_the_golden_files() {
    let digest = render(world(Language::Nb)).unwrap();
    assert_eq!(digest.subject, "Hvem du bør kontakte i dag — tirsdag 1. desember 2026");
    golden("nb.txt", &digest.text);
    golden("nb.html", &digest.html);
}

#[test]
fn the_most_engaged_come_first_and_empty_sections_are_left_out() {
    let mut input = world(Language::En);
    input.paused.clear();
    input.broken_sources.clear();
    input.replies[0].text = "<b>Pricing</b> & terms?".into();
    let digest = render(input).unwrap();
    let jane = digest.text.find("- Jane Doe (Acme), 2026-11-30 17:00").unwrap();
    let raj = digest.text.find("- Raj Patel (Globex)").unwrap();
    assert!(jane < raj, "higher engagement first:\n{}", digest.text);
    assert!(!digest.text.contains("Sequences paused") && !digest.text.contains("Broken sources"));
    assert!(
        digest.html.contains("&lt;b&gt;Pricing&lt;&#x2f;b&gt; &amp; terms?"),
        "HTML is escaped:\n{}",
        digest.html
    );
    assert!(digest.text.contains("\"<b>Pricing</b> & terms?\""), "text is not");
}

#[test]
fn replies_come_by_what_they_meant_before_how_engaged() {
    let mut input = world(Language::En);
    // Jane is the more engaged; her reply declines, Raj's wants to talk.
    input.replies[1].intent = Some(Intent::NotInterested);
    let digest = render(input).unwrap();
    let raj = digest
        .text
        .find("- Raj Patel (Globex), 2026-11-30 16:10: wants to talk")
        .unwrap();
    let jane = digest
        .text
        .find("- Jane Doe (Acme), 2026-11-30 17:00: declined")
        .unwrap();
    assert!(raj < jane, "a reply that wants to talk first:\n{}", digest.text);
    let mut input = world(Language::Nb);
    input.replies[0].intent = Some(Intent::NotNow);
    input.replies[1].intent = None;
    let digest = render(input).unwrap();
    assert!(digest.text.contains(": senere ["), "{}", digest.text);
}

#[test]
fn a_day_with_nothing_is_one_line() {
    let mut input = world(Language::En);
    input.replies.clear();
    input.posts.clear();
    input.tasks.clear();
    input.suggestions.clear();
    input.paused.clear();
    input.broken_sources.clear();
    input.needs_look.clear();
    input.setup.clear();
    input.pipeline = None;
    let digest = render(input).unwrap();
    assert!(digest.empty);
    assert_eq!(
        digest.text.trim(),
        "Good morning, Ann. Tuesday 1 December 2026 (times in Europe/Oslo)\nNothing needs you today.\n\nSent by rapport."
    );
}

#[test]
fn a_busy_day_shows_the_most_deserving_and_counts_the_rest() {
    let mut input = world(Language::En);
    let template = input.posts[0].clone();
    input.posts = (0..25)
        .map(|n| Post {
            who: who(100 + n, &format!("Poster {n}"), None, n as f64),
            ..template.clone()
        })
        .collect();
    let digest = render(input).unwrap();
    assert!(
        digest.text.contains("== New posts to engage with (10)"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("- Poster 24:"), "the most engaged are shown");
    assert!(!digest.text.contains("- Poster 14:"), "the rest are not");
    assert!(digest.text.contains("… and 15 more"), "{}", digest.text);
    assert!(digest.html.contains("<li>… and 15 more</li>"));
}

#[test]
fn untrusted_links_and_escape_sequences_are_made_harmless() {
    let mut input = world(Language::En);
    input.posts[0].url = "javascript:alert(document.cookie)".into();
    input.posts[0].title = "\u{1b}[31mRed\u{1b}[0m \u{1b}]0;owned\u{7}title".into();
    input.tasks[0].link = Some("data:text/html,<script>alert(1)</script>".into());
    input.replies[0].text = "ok\u{1b}[2J\u{8}\u{8}".into();
    let digest = render(input).unwrap();
    assert!(!digest.html.contains("href=\"javascript:"), "{}", digest.html);
    assert!(!digest.html.contains("href=\"data:"), "{}", digest.html);
    assert!(
        digest.html.contains("javascript:alert(document.cookie)"),
        "shown as text"
    );
    for rendered in [&digest.text, &digest.html] {
        assert!(
            !rendered.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{rendered:?}"
        );
    }
    assert!(digest.text.contains("Red title"), "{}", digest.text);
    assert!(digest.text.contains("\"ok\""), "{}", digest.text);
}

#[test]
fn the_greeting_fits_the_local_hour_it_is_sent_at() {
    for (sent_at, en, nb) in [
        ("2026-12-01T06:00:00Z", "Good morning", "God morgen"),
        ("2026-12-01T12:30:00Z", "Good afternoon", "God ettermiddag"),
        ("2026-12-01T19:00:00Z", "Good evening", "God kveld"),
        ("2026-12-01T02:00:00Z", "Good evening", "God kveld"),
    ] {
        let mut input = world(Language::En);
        input.sent_at = at(sent_at);
        let text = render(input).unwrap().text;
        assert!(text.starts_with(&format!("{en}, Ann.")), "{sent_at}: {text}");
        assert!(
            text.lines().next().unwrap().ends_with("(times in Europe/Oslo)"),
            "{text}"
        );
        let mut input = world(Language::Nb);
        input.sent_at = at(sent_at);
        assert!(
            render(input).unwrap().text.starts_with(&format!("{nb}, Ann.")),
            "{sent_at}"
        );
    }
}
