//! The words of mail in each language, one data table per language
//! (`lang/*.toml`, compiled in; `lang/en.toml` says what each list means):
//! out-of-office subject openings and wording, what a return date is written
//! with (lead and trail words, month and weekday names), and how quoted
//! history starts in a reply. Read once into one lookup for all languages,
//! since a message's language is not known before it is read.

use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use chrono::Weekday;
use serde::Deserialize;

/// The tables; a new language is a file and a line here. Where two languages
/// write the same word for different months, the earlier table wins.
const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("lang/en.toml")),
    ("nb", include_str!("lang/nb.toml")),
    ("sv", include_str!("lang/sv.toml")),
    ("da", include_str!("lang/da.toml")),
    ("fi", include_str!("lang/fi.toml")),
    ("is", include_str!("lang/is.toml")),
    ("de", include_str!("lang/de.toml")),
    ("nl", include_str!("lang/nl.toml")),
    ("fr", include_str!("lang/fr.toml")),
    ("es", include_str!("lang/es.toml")),
    ("it", include_str!("lang/it.toml")),
    ("pt", include_str!("lang/pt.toml")),
    ("pl", include_str!("lang/pl.toml")),
    ("cs", include_str!("lang/cs.toml")),
    ("sk", include_str!("lang/sk.toml")),
    ("hu", include_str!("lang/hu.toml")),
    ("ro", include_str!("lang/ro.toml")),
    ("hr", include_str!("lang/hr.toml")),
    ("sl", include_str!("lang/sl.toml")),
    ("bg", include_str!("lang/bg.toml")),
    ("et", include_str!("lang/et.toml")),
    ("lv", include_str!("lang/lv.toml")),
    ("lt", include_str!("lang/lt.toml")),
    ("tr", include_str!("lang/tr.toml")),
    ("el", include_str!("lang/el.toml")),
    ("ru", include_str!("lang/ru.toml")),
    ("uk", include_str!("lang/uk.toml")),
    ("ar", include_str!("lang/ar.toml")),
    ("he", include_str!("lang/he.toml")),
    ("ja", include_str!("lang/ja.toml")),
    ("zh", include_str!("lang/zh.toml")),
    ("ko", include_str!("lang/ko.toml")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    subjects: Vec<String>,
    subjects_anywhere: Vec<String>,
    phrases: Vec<String>,
    leads: Vec<String>,
    trails: Vec<String>,
    connectors: Vec<String>,
    months: Vec<Vec<String>>,
    weekdays: Vec<Vec<String>>,
    quote: QuoteTable,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct QuoteTable {
    pub attribution_starts: Vec<String>,
    pub attribution_verbs: Vec<String>,
    pub separators: Vec<String>,
    pub header_from: Vec<String>,
    pub header_sent: Vec<String>,
}

/// Every language's words together.
pub struct MailWords {
    pub subjects: Vec<String>,
    pub subjects_anywhere: Vec<String>,
    phrases: Vec<String>,
    phrase_automaton: Option<AhoCorasick>,
    pub leads: Vec<String>,
    pub trails: Vec<String>,
    pub connectors: Vec<String>,
    months: HashMap<String, u32>,
    weekdays: HashMap<String, Weekday>,
    /// How quoted history starts, every language's together.
    pub quote: QuoteTable,
}

impl MailWords {
    /// The first out-of-office phrase in `lower` (lower-case text), in any language.
    pub fn phrase_in(&self, lower: &str) -> Option<&str> {
        match &self.phrase_automaton {
            Some(automaton) => automaton
                .find(lower)
                .and_then(|found| self.phrases.get(found.pattern().as_usize()))
                .map(String::as_str),
            None => self
                .phrases
                .iter()
                .find(|p| lower.contains(p.as_str()))
                .map(String::as_str),
        }
    }

    /// The month (1–12) a lower-case word names, in any language.
    pub fn month(&self, word: &str) -> Option<u32> {
        self.months.get(word).copied()
    }

    pub fn weekday(&self, word: &str) -> Option<Weekday> {
        self.weekdays.get(word).copied()
    }
}

/// The tables that parse and are whole (twelve months, seven weekdays, or none),
/// and the names of those that are not (a test keeps this list empty).
fn load() -> (MailWords, Vec<String>) {
    let mut words = MailWords {
        subjects: Vec::new(),
        subjects_anywhere: Vec::new(),
        phrases: Vec::new(),
        phrase_automaton: None,
        leads: Vec::new(),
        trails: Vec::new(),
        connectors: Vec::new(),
        months: HashMap::new(),
        weekdays: HashMap::new(),
        quote: QuoteTable::default(),
    };
    let mut broken = Vec::new();
    for (language, text) in LANGUAGES {
        let table: Table = match toml::from_str(text) {
            Ok(table) => table,
            Err(e) => {
                broken.push(format!("{language}: {e}"));
                continue;
            }
        };
        if !(table.months.is_empty() || table.months.len() == 12)
            || !(table.weekdays.is_empty() || table.weekdays.len() == 7)
        {
            broken.push(format!("{language}: months need 12 lists and weekdays 7 (or none)"));
            continue;
        }
        words.subjects.extend(table.subjects);
        words.subjects_anywhere.extend(table.subjects_anywhere);
        words.phrases.extend(table.phrases);
        words.leads.extend(table.leads);
        words.trails.extend(table.trails);
        words.connectors.extend(table.connectors);
        words.quote.attribution_starts.extend(table.quote.attribution_starts);
        words.quote.attribution_verbs.extend(table.quote.attribution_verbs);
        words.quote.separators.extend(table.quote.separators);
        words.quote.header_from.extend(table.quote.header_from);
        words.quote.header_sent.extend(table.quote.header_sent);
        for (index, names) in (1u32..).zip(&table.months) {
            for name in names {
                words.months.entry(name.clone()).or_insert(index);
            }
        }
        for (index, names) in (0u8..).zip(&table.weekdays) {
            let Ok(day) = Weekday::try_from(index) else { continue };
            for name in names {
                words.weekdays.entry(name.clone()).or_insert(day);
            }
        }
    }
    words.phrase_automaton = AhoCorasick::new(&words.phrases).ok();
    (words, broken)
}

static WORDS: LazyLock<MailWords> = LazyLock::new(|| load().0);

/// Every language's words.
pub fn words() -> &'static MailWords {
    &WORDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_loads_whole_and_in_lower_case() {
        let (words, broken) = load();
        assert!(broken.is_empty(), "{broken:?}");
        assert!(LANGUAGES.len() >= 25);
        for word in words
            .subjects
            .iter()
            .chain(&words.phrases)
            .chain(&words.leads)
            .chain(words.months.keys())
        {
            assert_eq!(*word, word.to_lowercase(), "tables are lower-case: {word}");
        }
        assert_eq!(words.month("stycznia"), Some(1));
        assert_eq!(words.month("gennaio"), Some(1));
        assert_eq!(words.weekday("torstai"), Some(Weekday::Thu));
    }
}
