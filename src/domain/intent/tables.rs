//! The intent words, one data table per language (`lang/*.toml`, compiled
//! in), turned once into two automata: the intent phrases with each
//! language's negators, and the phrases that say when ("after the summer",
//! "i januar"). A reply is scanned once by each, whatever its language.

use super::Intent;
use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The tables, by language code; a new language is a file and a line here.
const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("lang/en.toml")),
    ("nb", include_str!("lang/nb.toml")),
    ("nn", include_str!("lang/nn.toml")),
    ("sv", include_str!("lang/sv.toml")),
    ("da", include_str!("lang/da.toml")),
    ("de", include_str!("lang/de.toml")),
    ("fr", include_str!("lang/fr.toml")),
    ("es", include_str!("lang/es.toml")),
    ("nl", include_str!("lang/nl.toml")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    negators: Vec<String>,
    strong: BTreeMap<Intent, Vec<String>>,
    weak: BTreeMap<Intent, Vec<String>>,
    when: WhenTable,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhenTable {
    month_before: Vec<String>,
    months: Vec<String>,
    after_summer: Vec<String>,
    after_new_year: Vec<String>,
    easter: Vec<String>,
    next_year: Vec<String>,
    next_month: Vec<String>,
    next_quarter: Vec<String>,
    week_units: Vec<String>,
    month_units: Vec<String>,
    numbers: BTreeMap<String, u32>,
    /// "the second quarter": the four quarters' names, first to fourth.
    #[serde(default)]
    quarters: Vec<String>,
}

/// What a phrase of the intent automaton stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cue {
    Intent { intent: Intent, strong: bool },
    Negator,
}

/// What a phrase of the time automaton says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    /// A month (1–12); counts only after one of its language's `month_before` words.
    Month(u32),
    MonthBefore,
    AfterSummer,
    AfterNewYear,
    Easter,
    NextYear,
    NextMonth,
    NextQuarter,
    /// A number of weeks or months: the unit; the number is the word before.
    Weeks,
    Months,
    /// A number word and its value (`a few` is three).
    Number(u32),
    /// "Q3": the quarter, in any language.
    Quarter(u32),
}

pub(super) struct Phrase<T> {
    pub cue: T,
    pub language: &'static str,
    pub text: String,
    /// Matches longer words too (the table wrote `interest*`).
    pub prefix: bool,
}

pub(super) struct Tables {
    pub cues: AhoCorasick,
    pub cue_phrases: Vec<Phrase<Cue>>,
    pub times: AhoCorasick,
    pub time_phrases: Vec<Phrase<When>>,
}

pub(super) static TABLES: LazyLock<Tables> = LazyLock::new(build);

fn phrase<T>(cue: T, language: &'static str, raw: &str) -> Phrase<T> {
    let lower: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !super::is_apostrophe(*c))
        .collect();
    let (text, prefix) = match lower.strip_suffix('*') {
        Some(stem) => (stem.to_string(), true),
        None => (lower, false),
    };
    Phrase {
        cue,
        language,
        text,
        prefix,
    }
}

fn build() -> Tables {
    let mut cue_phrases = Vec::new();
    let mut time_phrases = Vec::new();
    for (language, text) in LANGUAGES {
        // The tables are compiled in and checked by the tests below: a
        // broken one is a build defect, not input.
        let table: Table = toml::from_str(text).unwrap_or_else(|e| panic!("intent table {language}: {e}"));
        for negator in &table.negators {
            cue_phrases.push(phrase(Cue::Negator, language, negator));
        }
        for (strong, intents) in [(true, &table.strong), (false, &table.weak)] {
            for (intent, phrases) in intents {
                for text in phrases {
                    cue_phrases.push(phrase(
                        Cue::Intent {
                            intent: *intent,
                            strong,
                        },
                        language,
                        text,
                    ));
                }
            }
        }
        let when = &table.when;
        for (i, month) in when.months.iter().enumerate() {
            time_phrases.push(phrase(When::Month(i as u32 + 1), language, month));
        }
        let lists: [(When, &Vec<String>); 9] = [
            (When::MonthBefore, &when.month_before),
            (When::AfterSummer, &when.after_summer),
            (When::AfterNewYear, &when.after_new_year),
            (When::Easter, &when.easter),
            (When::NextYear, &when.next_year),
            (When::NextMonth, &when.next_month),
            (When::NextQuarter, &when.next_quarter),
            (When::Weeks, &when.week_units),
            (When::Months, &when.month_units),
        ];
        for (cue, words) in lists {
            time_phrases.extend(words.iter().map(|w| phrase(cue, language, w)));
        }
        for (i, quarter) in when.quarters.iter().enumerate().take(4) {
            time_phrases.push(phrase(When::Quarter(i as u32 + 1), language, quarter));
        }
        for (number, value) in &when.numbers {
            time_phrases.push(phrase(When::Number(*value), language, number));
        }
    }
    for q in 1..=4u32 {
        time_phrases.push(phrase(When::Quarter(q), "all", &format!("q{q}")));
    }
    let automaton = |patterns: Vec<&str>| {
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap_or_else(|e| panic!("intent automaton: {e}"))
    };
    Tables {
        cues: automaton(cue_phrases.iter().map(|p| p.text.as_str()).collect()),
        times: automaton(time_phrases.iter().map(|p| p.text.as_str()).collect()),
        cue_phrases,
        time_phrases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_loads_and_has_every_intent_it_needs() {
        let tables = &*TABLES;
        for (language, _) in LANGUAGES {
            for intent in [
                Intent::Interested,
                Intent::NotNow,
                Intent::NotInterested,
                Intent::Unsubscribe,
            ] {
                assert!(
                    tables
                        .cue_phrases
                        .iter()
                        .any(|p| p.language == *language && p.cue == Cue::Intent { intent, strong: true }),
                    "{language} has strong {intent:?} phrases"
                );
            }
            let months = tables
                .time_phrases
                .iter()
                .filter(|p| p.language == *language && matches!(p.cue, When::Month(m) if m <= 12))
                .count();
            assert_eq!(months, 12, "{language} names twelve months");
        }
    }

    #[test]
    fn number_words_have_their_values() {
        let value = |language: &str, word: &str| {
            TABLES
                .time_phrases
                .iter()
                .find(|p| p.language == language && p.text == word)
                .map(|p| p.cue)
        };
        assert_eq!(value("en", "one"), Some(When::Number(1)));
        assert_eq!(value("en", "three"), Some(When::Number(3)));
        assert_eq!(value("en", "six"), Some(When::Number(6)));
        assert_eq!(value("en", "a couple of"), Some(When::Number(2)));
        assert_eq!(value("en", "a few"), Some(When::Number(3)));
        assert_eq!(value("nb", "en"), Some(When::Number(1)));
        assert_eq!(value("nb", "ett"), Some(When::Number(1)));
        assert_eq!(value("nb", "to"), Some(When::Number(2)));
        assert_eq!(value("de", "zwei"), Some(When::Number(2)));
        assert_eq!(value("fr", "mois"), Some(When::Months));
    }
}
