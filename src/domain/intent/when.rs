//! When a "not now" reply says to come back: a month after a preposition of
//! its language ("in March", "i januar", "début mars"), a quarter ("Q3"), a
//! season or holiday ("after the summer", "nach Ostern"), "next year / month
//! / quarter", or a count ("in 3 weeks", "om to måneder"). Dates are counted
//! from the day the reply was sent, in the rep's zone; one that falls on a
//! weekend moves to the Monday. Nothing said: no date (the rules default).

use super::tables::{When, TABLES};
use super::{on_boundaries, Normalized};
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The day to come back, and the words that said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub on: NaiveDate,
    pub said: String,
}

struct Found {
    start: usize,
    end: usize,
    cue: When,
    language: &'static str,
}

/// The first time expression of the reply that names a day, resolved.
pub(super) fn follow_up(text: &str, original: &str, normalized: &Normalized, sent_on: NaiveDate) -> Option<FollowUp> {
    let tables = &*TABLES;
    let found: Vec<Found> = tables
        .times
        .find_overlapping_iter(text)
        .take(super::MOST_FOUND)
        .filter_map(|m| {
            let phrase = &tables.time_phrases[m.pattern().as_usize()];
            on_boundaries(text, m.start(), m.end(), phrase.prefix, &phrase.text).then_some(Found {
                start: m.start(),
                end: m.end(),
                cue: phrase.cue,
                language: phrase.language,
            })
        })
        .collect();
    let mut candidates: Vec<(usize, usize, NaiveDate)> = Vec::new();
    for f in &found {
        let resolved = match f.cue {
            When::Month(month) => just_before(&found, f.start, f.language, |c| c == When::MonthBefore)
                .map(|before| (before.start, next_first_of(sent_on, month))),
            When::Quarter(q) => Some((f.start, next_first_of(sent_on, 3 * (q - 1) + 1))),
            When::AfterSummer => Some((f.start, next_on(sent_on, 9, 1))),
            When::AfterNewYear => Some((f.start, next_on(sent_on, 1, 7))),
            When::Easter => Some((f.start, after_easter(sent_on))),
            When::NextYear => NaiveDate::from_ymd_opt(sent_on.year() + 1, 1, 2).map(|d| (f.start, d)),
            When::NextMonth => first_of_month(sent_on)
                .checked_add_months(Months::new(1))
                .map(|d| (f.start, d)),
            When::NextQuarter => {
                let quarter_start = 3 * ((sent_on.month() - 1) / 3) + 1;
                NaiveDate::from_ymd_opt(sent_on.year(), quarter_start, 1)
                    .and_then(|d| d.checked_add_months(Months::new(3)))
                    .map(|d| (f.start, d))
            }
            When::Weeks | When::Months => count_before(text, f, &found).and_then(|(start, n)| {
                let day = if f.cue == When::Weeks {
                    sent_on.checked_add_days(Days::new(7 * u64::from(n)))
                } else {
                    sent_on.checked_add_months(Months::new(n))
                };
                day.map(|d| (start, d))
            }),
            When::MonthBefore | When::Number(_) => None,
        };
        if let Some((start, on)) = resolved {
            candidates.push((start, f.end, on));
        }
    }
    let (start, end, on) = candidates
        .into_iter()
        .min_by_key(|(start, end, _)| (*start, usize::MAX - end))?;
    Some(FollowUp {
        on: weekday(on),
        said: normalized.original(original, start, end).to_string(),
    })
}

/// "3 weeks", "two months": the number before a unit, and where it starts.
fn count_before(text: &str, unit: &Found, found: &[Found]) -> Option<(usize, u32)> {
    if let Some(word) = just_before(found, unit.start, unit.language, |c| matches!(c, When::Number(_))) {
        if let When::Number(n) = word.cue {
            return Some((word.start, n));
        }
    }
    let before = text[..unit.start].trim_end();
    let digits_start = before
        .char_indices()
        .rfind(|(_, c)| !c.is_ascii_digit())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let n: u32 = before[digits_start..].parse().ok()?;
    (1..=60).contains(&n).then_some((digits_start, n))
}

/// The phrase of a `wanted` kind (and of `language`) that ends right before `start`, one space between.
fn just_before<'a>(found: &'a [Found], start: usize, language: &str, wanted: fn(When) -> bool) -> Option<&'a Found> {
    found
        .iter()
        .filter(|f| f.end + 1 == start && wanted(f.cue) && (f.language == language || language == "all"))
        .max_by_key(|f| f.end - f.start)
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The next `month`/`day` after `sent_on` (this year's or next year's).
fn next_on(sent_on: NaiveDate, month: u32, day: u32) -> NaiveDate {
    [sent_on.year(), sent_on.year() + 1]
        .into_iter()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .find(|d| *d > sent_on)
        .unwrap_or(sent_on)
}

fn next_first_of(sent_on: NaiveDate, month: u32) -> NaiveDate {
    next_on(sent_on, month, 1)
}

/// The Tuesday after Easter Monday of the next Easter after `sent_on`.
fn after_easter(sent_on: NaiveDate) -> NaiveDate {
    [sent_on.year(), sent_on.year() + 1]
        .into_iter()
        .filter_map(|year| easter_sunday(year).checked_add_days(Days::new(2)))
        .find(|d| *d > sent_on)
        .unwrap_or(sent_on)
}

/// Easter Sunday in the Gregorian calendar (the anonymous algorithm).
fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// A weekend day moves to the Monday after.
fn weekday(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day + Days::new(2),
        Weekday::Sun => day + Days::new(1),
        _ => day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    #[test]
    fn easter_sundays_are_right() {
        assert_eq!(easter_sunday(2024), day("2024-03-31"));
        assert_eq!(easter_sunday(2025), day("2025-04-20"));
        assert_eq!(easter_sunday(2026), day("2026-04-05"));
        assert_eq!(easter_sunday(2027), day("2027-03-28"));
        assert_eq!(easter_sunday(2038), day("2038-04-25"));
    }

    #[test]
    fn weekends_move_to_monday() {
        assert_eq!(weekday(day("2027-01-02")), day("2027-01-04"));
        assert_eq!(weekday(day("2027-01-03")), day("2027-01-04"));
        assert_eq!(weekday(day("2027-01-05")), day("2027-01-05"));
    }

    proptest::proptest! {
        /// Whatever the day sent, a follow-up is after it and within about
        /// a year and a half; no date of the calendar panics.
        #[test]
        fn follow_ups_come_after_the_reply(days in 0u32..20_000, month in 1u32..=12, q in 1u32..=4) {
            let sent = day("2000-01-01") + Days::new(u64::from(days));
            for on in [next_first_of(sent, month), next_first_of(sent, 3 * (q - 1) + 1), next_on(sent, 9, 1), after_easter(sent)] {
                let on = weekday(on);
                proptest::prop_assert!(on > sent);
                proptest::prop_assert!(on <= sent + Days::new(400));
            }
        }
    }
}
