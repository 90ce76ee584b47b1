//! Out-of-office and vacation replies: the header and subject signals, and the stated return date.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::content::MailContent;

/// Subject openings of automatic replies (lower-case), in English, Norwegian, German and French.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "auto:",
    "autosvar",
    "automatisk svar",
    "out of office",
    "out of the office",
    "fraværende",
    "fravær",
    "abwesenheitsnotiz",
    "abwesend",
    "réponse automatique",
    "reponse automatique",
    "automatische antwort",
    "i am away",
    "i'm away",
    "on vacation",
    "away until",
    "vacation",
    "autoresponse",
    "autorespons",
    "absence",
    "ikke på kontoret",
    "out of the office",
    "away from the office",
    "auto response",
    "abwesenheit",
];

/// Body wording of automatic replies, lower-case.
const AUTO_REPLY_WORDING: &[&str] = &[
    "out of the office",
    "out of office",
    "on vacation",
    "away from the office",
    "i am away",
    "i'm away",
    "i am currently away",
    "will be back",
    "limited access to email",
    "abwesend",
    "nicht im büro",
    "fraværende",
    "ikke på kontoret",
    "er på ferie",
    "en congé",
    "absent du bureau",
    "de retour",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "this is an automated reply",
    "on leave",
    "on holiday",
];

/// A header or subject that marks the message as an automatic reply, with a readable reason.
pub fn strong_signal(content: &MailContent) -> Option<String> {
    let auto_submitted = content.header_lower("auto-submitted");
    if auto_submitted.starts_with("auto-replied") {
        return Some(format!("header Auto-Submitted: {auto_submitted}"));
    }
    for name in ["x-autoreply", "x-autorespond", "x-autoresponder"] {
        if let Some(value) = content.header(name) {
            return Some(format!("header {name}: {value}"));
        }
    }
    if content.header_lower("precedence") == "auto_reply" {
        return Some("header Precedence: auto_reply".to_string());
    }
    subject_signal(&content.subject)
}

fn subject_signal(subject: &str) -> Option<String> {
    let lower = subject.trim().to_lowercase();
    let pattern = AUTO_REPLY_SUBJECTS.iter().find(|p| lower.starts_with(*p))?;
    let shown: String = subject.trim().chars().take(pattern.chars().count()).collect();
    Some(format!("subject starts with \"{shown}\""))
}

/// Headers that machine mail carries but that alone do not make it an out-of-office reply.
pub fn weak_signal(content: &MailContent) -> Option<String> {
    let precedence = content.header_lower("precedence");
    if precedence == "bulk" || precedence == "junk" {
        return Some(format!("header Precedence: {precedence}"));
    }
    let return_path = content.header("return-path").unwrap_or("x");
    if return_path.trim() == "<>" {
        return Some("null Return-Path <>".to_string());
    }
    None
}

/// Out-of-office wording in the first lines of the body.
pub fn body_wording(body: &str) -> Option<String> {
    let head: String = body.chars().take(1500).collect::<String>().to_lowercase();
    AUTO_REPLY_WORDING
        .iter()
        .find(|w| head.contains(*w))
        .map(|w| format!("body says \"{w}\""))
}

/// Words after which a return date follows ("back on 3 December", "until", "tilbake", ...).
const DATE_LEADS: &[&str] = &[
    "back",
    "return",
    "returning",
    "returns",
    "until",
    "till",
    "til",
    "through",
    "to",
    "tilbake",
    "med",
    "bis",
    "zurück",
    "zurueck",
    "retour",
    "jusqu",
    "au",
    "ab",
    "from",
];

/// Words after which a return date precedes ("ab dem 3. Dezember wieder").
const DATE_TRAILS: &[&str] = &["wieder", "zurück", "zurueck", "tilbake", "back"];

/// The return date stated in an out-of-office text, if any.
///
/// Convention: the date is returned as written. "Back on 3 December" gives 3 December, and
/// "away until 5 December" or "from 1 to 5 December" gives 5 December ("away until Y"); the
/// caller resumes one business day after it. Only a date after `message_date` counts; a date
/// without a year is placed in the first year that puts it after the message date.
pub fn return_date(text: &str, message_date: NaiveDate) -> Option<NaiveDate> {
    let tokens = tokenize(&text.chars().take(4000).collect::<String>());
    (0..tokens.len()).find_map(|start| {
        let (date, end) = date_at(&tokens, start, message_date)?;
        let before = tokens.get(start.saturating_sub(6)..start).unwrap_or_default();
        let after = tokens.get(end..(end + 4).min(tokens.len())).unwrap_or_default();
        let led = before.iter().any(|t| DATE_LEADS.contains(&t.as_str()));
        let trailed = after.iter().any(|t| DATE_TRAILS.contains(&t.as_str()));
        ((led || trailed) && date > message_date).then_some(date)
    })
}

/// Lower-case words and numbers; digits joined by `.`, `/` or `-` stay one token ("12/03/2026").
fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let joins_digits = matches!(c, '.' | '/' | '-')
            && current.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || joins_digits {
            current.extend(c.to_lowercase());
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// A date starting at token `start`, with the index after its last token.
fn date_at(tokens: &[String], start: usize, base: NaiveDate) -> Option<(NaiveDate, usize)> {
    let token = tokens.get(start)?;
    if let Some(date) = numeric_date(token, base) {
        return Some((date, start + 1));
    }
    if let Some(weekday) = weekday(token) {
        return date_at(tokens, start + 1, base)
            .or_else(|| day_only(tokens, start + 1, base))
            .or_else(|| Some((next_weekday(base, weekday), start + 1)));
    }
    day_month(tokens, start, base).or_else(|| month_day(tokens, start, base))
}

/// "3 December [2026]", "3. desember", "3rd of December".
fn day_month(tokens: &[String], start: usize, base: NaiveDate) -> Option<(NaiveDate, usize)> {
    let day = day_number(tokens.get(start)?)?;
    let mut next = start + 1;
    if tokens.get(next).is_some_and(|t| t == "of") {
        next += 1;
    }
    let month = month(tokens.get(next)?)?;
    let (year, end) = year_at(tokens, next + 1);
    Some((place(year, month, day, base)?, end))
}

/// "December 3[rd] [2026]".
fn month_day(tokens: &[String], start: usize, base: NaiveDate) -> Option<(NaiveDate, usize)> {
    let month = month(tokens.get(start)?)?;
    let day = day_number(tokens.get(start + 1)?)?;
    let (year, end) = year_at(tokens, start + 2);
    Some((place(year, month, day, base)?, end))
}

/// "Monday 7th": a day of the month without a month, in this or the next month.
fn day_only(tokens: &[String], start: usize, base: NaiveDate) -> Option<(NaiveDate, usize)> {
    let day = day_number(tokens.get(start)?)?;
    let this_month = NaiveDate::from_ymd_opt(base.year(), base.month(), day).filter(|d| *d > base);
    let date = this_month.or_else(|| {
        let next = base.checked_add_months(chrono::Months::new(1))?;
        NaiveDate::from_ymd_opt(next.year(), next.month(), day)
    })?;
    Some((date, start + 1))
}

fn year_at(tokens: &[String], index: usize) -> (Option<i32>, usize) {
    match tokens
        .get(index)
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|y| (2000..2100).contains(y))
    {
        Some(year) => (Some(year), index + 1),
        None => (None, index),
    }
}

/// ISO `2026-12-03`, or day-first `3.12.2026`, `12/03/2026`, `3.12.` (month-first when the
/// second number cannot be a month).
fn numeric_date(token: &str, base: NaiveDate) -> Option<NaiveDate> {
    let separator = token.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    let parts: Vec<u32> = token
        .split(separator)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [year, month, day] if *year > 999 => NaiveDate::from_ymd_opt(i32::try_from(*year).ok()?, *month, *day),
        [first, second, year] => {
            let year = if *year < 100 { 2000 + year } else { *year };
            day_first(*first, *second, Some(i32::try_from(year).ok()?), base)
        }
        [first, second] if separator != '-' => day_first(*first, *second, None, base),
        _ => None,
    }
}

fn day_first(first: u32, second: u32, year: Option<i32>, base: NaiveDate) -> Option<NaiveDate> {
    if second > 12 {
        place(year, first, second, base)
    } else {
        place(year, second, first, base)
    }
}

/// Builds the date, choosing the year after `base` when none is written.
fn place(year: Option<i32>, month: u32, day: u32, base: NaiveDate) -> Option<NaiveDate> {
    if let Some(year) = year {
        return NaiveDate::from_ymd_opt(year, month, day);
    }
    let this_year = NaiveDate::from_ymd_opt(base.year(), month, day);
    match this_year {
        Some(date) if date > base => Some(date),
        _ => NaiveDate::from_ymd_opt(base.year() + 1, month, day),
    }
}

fn day_number(token: &str) -> Option<u32> {
    let digits = token.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &token[digits.len()..];
    if !["", "st", "nd", "rd", "th", "er", "e"].contains(&suffix) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// Month names and abbreviations in English, Norwegian, German and French, lower-case.
const MONTHS: [&[&str]; 12] = [
    &["january", "jan", "januar", "janvier", "janv"],
    &["february", "feb", "februar", "février", "fevrier", "févr", "fév"],
    &["march", "mar", "mars", "märz", "maerz", "mär"],
    &["april", "apr", "avril", "avr"],
    &["may", "mai"],
    &["june", "jun", "juni", "juin"],
    &["july", "jul", "juli", "juillet", "juil"],
    &["august", "aug", "août", "aout"],
    &["september", "sep", "sept", "septembre"],
    &["october", "oct", "oktober", "okt", "octobre"],
    &["november", "nov", "novembre"],
    &[
        "december",
        "dec",
        "desember",
        "des",
        "dezember",
        "dez",
        "décembre",
        "decembre",
        "déc",
    ],
];

fn month(token: &str) -> Option<u32> {
    let index = MONTHS.iter().position(|names| names.contains(&token))?;
    u32::try_from(index + 1).ok()
}

/// Weekday names in English, Norwegian, German and French, lower-case, Monday first.
const WEEKDAYS: [&[&str]; 7] = [
    &["monday", "mandag", "montag", "lundi"],
    &["tuesday", "tirsdag", "dienstag", "mardi"],
    &["wednesday", "onsdag", "mittwoch", "mercredi"],
    &["thursday", "torsdag", "donnerstag", "jeudi"],
    &["friday", "fredag", "freitag", "vendredi"],
    &["saturday", "lørdag", "samstag", "samedi"],
    &["sunday", "søndag", "sonntag", "dimanche"],
];

fn weekday(token: &str) -> Option<Weekday> {
    let index = WEEKDAYS.iter().position(|names| names.contains(&token))?;
    Weekday::try_from(u8::try_from(index).ok()?).ok()
}

fn next_weekday(base: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - base.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    base.checked_add_days(Days::new(u64::from(ahead))).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn reads_return_dates_in_four_languages() {
        let base = date(2026, 11, 20);
        assert_eq!(
            return_date("I will be back on 3 December.", base),
            Some(date(2026, 12, 3))
        );
        assert_eq!(
            return_date("Jeg er tilbake 3. desember.", base),
            Some(date(2026, 12, 3))
        );
        assert_eq!(
            return_date("Ich bin ab dem 3. Dezember wieder im Büro.", base),
            Some(date(2026, 12, 3))
        );
        assert_eq!(
            return_date("Je serai de retour le 3 décembre.", base),
            Some(date(2026, 12, 3))
        );
        assert_eq!(return_date("back 12/03/2027", base), Some(date(2027, 3, 12)));
        assert_eq!(return_date("Away until 2026-12-05", base), Some(date(2026, 12, 5)));
        assert_eq!(return_date("returning Monday 7th", base), Some(date(2026, 12, 7)));
        assert_eq!(
            return_date("I was back on 3 January", date(2026, 1, 10)),
            Some(date(2027, 1, 3))
        );
    }
}
