//! What a prospect meant by a reply: a pure, explainable intent classifier
//! for the fresh text of a human reply (quoted history and signature
//! already cut, `mail::reply_text`). The words live in data tables, one per
//! language (`lang/*.toml`); this file decides between what they found.
//!
//! The decision, in order:
//! 1. Every table phrase found on word boundaries is evidence for its
//!    intent, strong or weak. An `interested` phrase with a negator of its
//!    language up to three words before it in the same sentence ("not
//!    really interested", "ikke så interessert") counts for `not_interested`.
//! 2. A `referral` counts only when the reply names someone: a capitalised
//!    name right after the phrase, or an email address in the text; an
//!    address alone, in a reply that says nothing else, is a weak referral.
//! 3. If anything strong was found, weak evidence is set aside.
//! 4. Of the intents left, the first in `PRECEDENCE` wins: an unsubscribe
//!    request outranks a refusal, "left the company, talk to Maria" is a
//!    departure that carries a referral, "not now, maybe in Q3" is a later.
//! 5. `interested` against `not_interested` or `unsubscribe`, both strong,
//!    is a contest: the result names both and is not acted on.
//! 6. Nothing found: a question mark makes it a `question`, else `other`.
//! 7. A refusal or an `other` that names a day to come back ("no budget
//!    until April", `when.rs`) is a `not_now` with that day.
//!
//! Only the first 16 KB and 256 phrases of a reply are read.

mod tables;
mod when;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tables::{Cue, TABLES};

pub use when::FollowUp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Interested,
    NotNow,
    NotInterested,
    Unsubscribe,
    Referral,
    WrongPerson,
    LeftCompany,
    Question,
    Other,
}

impl Intent {
    pub const ALL: [Intent; 9] = [
        Intent::Interested,
        Intent::NotNow,
        Intent::NotInterested,
        Intent::Unsubscribe,
        Intent::Referral,
        Intent::WrongPerson,
        Intent::LeftCompany,
        Intent::Question,
        Intent::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Interested => "interested",
            Intent::NotNow => "not_now",
            Intent::NotInterested => "not_interested",
            Intent::Unsubscribe => "unsubscribe",
            Intent::Referral => "referral",
            Intent::WrongPerson => "wrong_person",
            Intent::LeftCompany => "left_company",
            Intent::Question => "question",
            Intent::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == text)
    }
}

/// The most of a reply's fresh text read, in bytes.
const MOST_READ: usize = 16 * 1024;
/// The most phrases taken from one reply.
const MOST_FOUND: usize = 256;

/// Which intent wins when several are found (step 4 above).
const PRECEDENCE: [Intent; 7] = [
    Intent::Unsubscribe,
    Intent::LeftCompany,
    Intent::Referral,
    Intent::WrongPerson,
    Intent::NotNow,
    Intent::NotInterested,
    Intent::Interested,
];

/// One phrase that counted, as the reply wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub intent: Intent,
    /// The words in the reply ("not interested", "ikke aktuelt").
    pub words: String,
    /// The table's language.
    pub language: String,
    pub strong: bool,
    /// An `interested` phrase after a negator, counted as a refusal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negated: bool,
}

/// Someone the reply sends the rep to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyIntent {
    pub intent: Intent,
    /// What decided it (and what else was found), in the reply's order.
    pub evidence: Vec<Evidence>,
    /// Another intent as strong as the winner: the reply is ambiguous and
    /// nothing is done with it automatically.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contested_by: Option<Intent>,
    /// For `not_now`: when the reply says to come back, if it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// For `referral`, `wrong_person` and `left_company`: the person named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

impl ReplyIntent {
    /// Whether rules may act on it: decided, and not contested.
    pub fn actionable(&self) -> bool {
        self.contested_by.is_none()
    }

    /// One line for a reason or a digest: `not_interested ("no thanks")`,
    /// `not_now ("not right now"), to come back on 2027-07-01 ("Q3")`.
    pub fn explain(&self) -> String {
        let deciding: Vec<String> = self
            .evidence
            .iter()
            .filter(|e| e.intent == self.intent)
            .map(|e| format!("\"{}\"", e.words))
            .collect();
        let mut text = self.intent.as_str().to_string();
        if !deciding.is_empty() {
            text.push_str(&format!(" ({})", deciding.join(", ")));
        }
        if let Some(follow) = &self.follow_up {
            text.push_str(&format!(", to come back on {} (\"{}\")", follow.on, follow.said));
        }
        if let Some(contact) = &self.contact {
            let named: Vec<&str> = [contact.name.as_deref(), contact.email.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            text.push_str(&format!(", naming {}", named.join(" ")));
        }
        if let Some(other) = self.contested_by {
            text.push_str(&format!("; also reads as {}: left to the rep", other.as_str()));
        }
        text
    }
}

pub(crate) fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | '`')
}

/// The reply's text lower-cased, apostrophes dropped and whitespace
/// collapsed, with each byte's place in the original (to quote it back).
pub(crate) struct Normalized {
    pub text: String,
    origin: Vec<usize>,
}

impl Normalized {
    pub(crate) fn of(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len() + 1);
        let mut space = true;
        for (at, c) in original.char_indices() {
            if c.is_whitespace() {
                if !space {
                    text.push(' ');
                    origin.push(at);
                    space = true;
                }
                continue;
            }
            space = false;
            // "isn't" and "isnt", "m'intéresse" and "m’intéresse" read alike.
            if is_apostrophe(c) {
                continue;
            }
            for lower in c.to_lowercase() {
                let before = text.len();
                text.push(lower);
                origin.extend(std::iter::repeat_n(at, text.len() - before));
            }
        }
        origin.push(original.len());
        Normalized { text, origin }
    }

    /// The original text of a normalized range.
    pub(crate) fn original<'a>(&self, original: &'a str, start: usize, end: usize) -> &'a str {
        let (from, to) = (self.origin[start], self.origin[end.min(self.origin.len() - 1)]);
        original.get(from..to).unwrap_or_default().trim_end()
    }

    pub(crate) fn origin_of(&self, at: usize) -> usize {
        self.origin[at.min(self.origin.len() - 1)]
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

/// Whether `start..end` of `text` stands on word boundaries (a prefix
/// phrase may run on into a longer word).
pub(crate) fn on_boundaries(text: &str, start: usize, end: usize, prefix: bool, phrase: &str) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let starts_word = phrase.chars().next().is_some_and(is_word);
    let ends_word = phrase.chars().next_back().is_some_and(is_word);
    (!starts_word || !before.is_some_and(is_word)) && (prefix || !ends_word || !after.is_some_and(is_word))
}

/// Where the `most` words before `at` in its sentence begin.
fn words_before(text: &str, at: usize, most: usize) -> usize {
    let sentence_start = text[..at].rfind(['.', '!', '?', ';', ',']).map_or(0, |i| i + 1);
    let mut start = at;
    for _ in 0..most {
        let before = text[sentence_start..start].trim_end();
        match before.rfind(' ') {
            Some(space) => start = sentence_start + space + 1,
            None => return sentence_start,
        }
    }
    start
}

/// Classifies the fresh text of a human reply sent on `sent_on` (the
/// message's date in the rep's zone, for "after the summer").
pub fn reply_intent(fresh_text: &str, sent_on: NaiveDate) -> ReplyIntent {
    // Mail is hostile: a "reply" may be megabytes. What a person wrote
    // fresh fits in the first pages; phrases found are bounded too.
    let cut = (0..=fresh_text.len().min(MOST_READ))
        .rev()
        .find(|i| fresh_text.is_char_boundary(*i))
        .unwrap_or(0);
    let fresh_text = &fresh_text[..cut];
    let normalized = Normalized::of(fresh_text);
    let text = normalized.text.as_str();
    let tables = &*TABLES;
    let mut negators: Vec<(usize, usize, &str)> = Vec::new();
    let mut found: Vec<(usize, usize, Intent, bool, &str)> = Vec::new();
    for m in tables.cues.find_overlapping_iter(text).take(MOST_FOUND) {
        let phrase = &tables.cue_phrases[m.pattern().as_usize()];
        if !on_boundaries(text, m.start(), m.end(), phrase.prefix, &phrase.text) {
            continue;
        }
        match phrase.cue {
            Cue::Negator => negators.push((m.start(), m.end(), phrase.language)),
            Cue::Intent { intent, strong } => found.push((m.start(), m.end(), intent, strong, phrase.language)),
        }
    }
    // A shorter phrase inside a longer one of the same intent says nothing more.
    let inside = |a: &(usize, usize, Intent, bool, &str), b: &(usize, usize, Intent, bool, &str)| {
        a.2 == b.2 && b.0 <= a.0 && a.1 <= b.1 && (b.1 - b.0) > (a.1 - a.0)
    };
    let kept: Vec<_> = found
        .iter()
        .filter(|a| !found.iter().any(|b| inside(a, b)))
        .copied()
        .collect();
    let contact = contact_of(fresh_text, &normalized, &kept);
    let mut evidence = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (start, end, intent, strong, language) in kept {
        let mut intent = intent;
        let mut negated = false;
        if intent == Intent::Interested {
            let window = words_before(text, start, 3);
            negated = negators
                .iter()
                .any(|(n_start, n_end, n_language)| *n_language == language && *n_start >= window && *n_end <= start);
            if negated {
                intent = Intent::NotInterested;
            }
        }
        if intent == Intent::Referral && contact.is_none() {
            continue;
        }
        let words = normalized.original(fresh_text, start, end).to_string();
        if !seen.insert((intent, start, end)) {
            continue;
        }
        evidence.push(Evidence {
            intent,
            words,
            language: language.to_string(),
            strong,
            negated,
        });
    }
    // An address of someone else in a reply that says nothing else points
    // the rep to them ("quien lleva esto es Lucía: lucia@…").
    let answered = |e: &Evidence| !matches!(e.intent, Intent::Referral | Intent::WrongPerson | Intent::LeftCompany);
    if let Some(email) = contact.as_ref().and_then(|c| c.email.clone()) {
        if !evidence.iter().any(answered) && !evidence.iter().any(|e| e.intent == Intent::Referral) {
            evidence.push(Evidence {
                intent: Intent::Referral,
                words: email,
                language: "all".into(),
                strong: false,
                negated: false,
            });
        }
    }
    decide(evidence, contact, text, fresh_text, &normalized, sent_on)
}

fn decide(
    mut evidence: Vec<Evidence>,
    contact: Option<Contact>,
    text: &str,
    original: &str,
    normalized: &Normalized,
    sent_on: NaiveDate,
) -> ReplyIntent {
    let any_strong = evidence.iter().any(|e| e.strong);
    if any_strong {
        evidence.retain(|e| e.strong);
    }
    let present = |intent: Intent| evidence.iter().any(|e| e.intent == intent);
    let intent = PRECEDENCE.into_iter().find(|i| present(*i)).unwrap_or_else(|| {
        if text.contains('?') {
            Intent::Question
        } else {
            Intent::Other
        }
    });
    let contested_by = (any_strong && intent != Intent::Interested && present(Intent::Interested))
        .then_some(intent)
        .filter(|i| matches!(i, Intent::NotInterested | Intent::Unsubscribe))
        .map(|_| Intent::Interested);
    let mut intent = intent;
    let follow_up = matches!(intent, Intent::NotNow | Intent::NotInterested | Intent::Other)
        .then(|| when::follow_up(text, original, normalized, sent_on))
        .flatten();
    // A refusal or a remark that names a time to come back is a "not now"
    // ("no budget until April", "meld dich im Januar nochmal").
    if let Some(said) = follow_up.as_ref().filter(|_| intent != Intent::NotNow) {
        intent = Intent::NotNow;
        evidence.push(Evidence {
            intent,
            words: said.said.clone(),
            language: "all".into(),
            strong: false,
            negated: false,
        });
    }
    let contested_by = contested_by.filter(|_| intent != Intent::NotNow);
    let contact = contact.filter(|_| matches!(intent, Intent::Referral | Intent::WrongPerson | Intent::LeftCompany));
    if intent == Intent::Question {
        evidence.push(Evidence {
            intent,
            words: "?".into(),
            language: "all".into(),
            strong: false,
            negated: false,
        });
    }
    ReplyIntent {
        intent,
        evidence,
        contested_by,
        follow_up,
        contact,
    }
}

/// The person a reply names: a capitalised name right after a referral
/// phrase ("talk to Maria Olsen"), and an email address anywhere in it.
fn contact_of(
    original: &str,
    normalized: &Normalized,
    found: &[(usize, usize, Intent, bool, &str)],
) -> Option<Contact> {
    let email = original
        .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | '"'))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '\'' | '!' | '?')))
        .find(|w| {
            w.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.contains('@')
            })
        })
        .map(str::to_string);
    let name = found
        .iter()
        .filter(|f| f.2 == Intent::Referral)
        .find_map(|f| name_after(&original[normalized.origin_of(f.1)..]));
    (email.is_some() || name.is_some()).then_some(Contact { name, email })
}

/// Up to three capitalised words at the start of `rest` ("Maria Olsen").
fn name_after(rest: &str) -> Option<String> {
    let mut words = Vec::new();
    for word in rest.split_whitespace().take(3) {
        let clean = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        let capital = clean.chars().next().is_some_and(char::is_uppercase);
        let shouted = clean.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
        if !capital || clean.chars().count() < 2 || shouted {
            break;
        }
        words.push(clean);
        if clean.len() != word.len() {
            break;
        }
    }
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests;
