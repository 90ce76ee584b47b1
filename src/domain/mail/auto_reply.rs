//! Out-of-office and vacation replies: the header and subject signals, and the stated return
//! date. The words, in 32 languages, are data: `lang/*.toml` (loaded by `lang.rs`).

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::content::MailContent;
use super::lang::words;

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

/// The subject of an automatic reply, in any language of `lang/` (Outlook's
/// "Automatic reply:", "Abwesenheitsnotiz:", "Risposta automatica:", ...).
fn subject_signal(subject: &str) -> Option<String> {
    let words = words();
    // Spaces as a person reads them: runs of spaces and tabs are one.
    let lower = subject.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if let Some(pattern) = words.subjects.iter().find(|p| lower.starts_with(p.as_str())) {
        let shown: String = subject.trim().chars().take(pattern.chars().count()).collect();
        return Some(format!("subject starts with \"{shown}\""));
    }
    let pattern = words.subjects_anywhere.iter().find(|p| lower.contains(p.as_str()))?;
    Some(format!("subject says \"{pattern}\""))
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
    words().phrase_in(&head).map(|w| format!("body says \"{w}\""))
}

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
        let words = words();
        let led = before.iter().any(|t| words.leads.contains(t));
        let trailed = after.iter().any(|t| words.trails.contains(t));
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

/// "3 December [2026]", "3. desember", "3rd of December", "8 de enero".
fn day_month(tokens: &[String], start: usize, base: NaiveDate) -> Option<(NaiveDate, usize)> {
    let day = day_number(tokens.get(start)?)?;
    let mut next = start + 1;
    if tokens.get(next).is_some_and(|t| words().connectors.contains(t)) {
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

fn month(token: &str) -> Option<u32> {
    words().month(token)
}

fn weekday(token: &str) -> Option<Weekday> {
    words().weekday(token)
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

    /// The examples, one per language, and the forms around them.
    #[test]
    fn reads_return_dates_in_the_european_languages() {
        let base = date(2026, 12, 20);
        let cases = [
            ("Ich bin wieder im Büro am 12.1.", date(2027, 1, 12)),
            ("Je serai de retour le 3 janvier.", date(2027, 1, 3)),
            ("Jeg er tilbake 2. januar.", date(2027, 1, 2)),
            ("Ik ben terug op 5 januari.", date(2027, 1, 5)),
            ("Sarò di ritorno il 7 gennaio.", date(2027, 1, 7)),
            ("Estaré fuera de la oficina hasta el 8 de enero.", date(2027, 1, 8)),
            ("Jestem na urlopie, powrót 9 stycznia.", date(2027, 1, 9)),
            ("Jag är tillbaka den 4 januari.", date(2027, 1, 4)),
            ("Jeg er tilbage den 6. januar.", date(2027, 1, 6)),
            ("Estarei de volta até 11 de janeiro.", date(2027, 1, 11)),
            ("Vrátím se 13. ledna.", date(2027, 1, 13)),
            ("Vrátim sa 14. januára.", date(2027, 1, 14)),
            ("Mă întorc pe 15 ianuarie.", date(2027, 1, 15)),
            ("Vraćam se 16. siječnja.", date(2027, 1, 16)),
            ("Vrnem se 17. januarja.", date(2027, 1, 17)),
            ("Вернусь 18 января.", date(2027, 1, 18)),
            ("Повернуся 19 січня.", date(2027, 1, 19)),
            ("Ще се върна на 20 януари.", date(2027, 1, 20)),
            ("Θα επιστρέψω στις 21 Ιανουαρίου.", date(2027, 1, 21)),
            ("Atgriezīšos 22. janvārī.", date(2027, 1, 22)),
            ("Grįšiu sausio 23 d.", date(2027, 1, 23)),
            ("Olen tagasi 24. jaanuaril.", date(2027, 1, 24)),
            ("Palaan toimistolle 25. tammikuuta.", date(2027, 1, 25)),
            ("Január 26-ig szabadságon vagyok.", date(2027, 1, 26)),
            ("27 Ocak tarihine kadar izindeyim.", date(2027, 1, 27)),
        ];
        for (text, expected) in cases {
            assert_eq!(return_date(text, base), Some(expected), "{text}");
        }
    }

    #[test]
    fn knows_automatic_reply_subjects_in_at_least_25_languages() {
        let subjects = [
            "Automatic reply: Hello",
            "Automatisk svar: Hei",
            "Autosvar: Hej",
            "Automaattinen vastaus: Hei",
            "Sjálfvirkt svar: Halló",
            "Abwesenheitsnotiz: Hallo",
            "Automatisch antwoord: Hallo",
            "Réponse automatique : Bonjour",
            "Respuesta automática: Hola",
            "Risposta automatica: Ciao",
            "Resposta automática: Olá",
            "Odpowiedź automatyczna: Cześć",
            "Automatická odpověď: Ahoj",
            "Automatická odpoveď: Ahoj",
            "Automatikus válasz: Szia",
            "Răspuns automat: Salut",
            "Automatski odgovor: Bok",
            "Samodejni odgovor: Živjo",
            "Автоматичен отговор: Здравей",
            "Automaatne vastus: Tere",
            "Automātiskā atbilde: Sveiki",
            "Automatinis atsakymas: Labas",
            "Otomatik yanıt: Merhaba",
            "Αυτόματη απάντηση: Γεια",
            "Автоматический ответ: Привет",
            "Автоматична відповідь: Привіт",
            "رد تلقائي: مرحبا",
            "תשובה אוטומטית: שלום",
            "自動応答: こんにちは",
            "自动回复: 你好",
            "자동 회신: 안녕하세요",
            "Ann Example is out of the office.",
        ];
        for subject in subjects {
            assert!(subject_signal(subject).is_some(), "{subject}");
        }
        assert!(subject_signal("Absent minded idea").is_none(), "a person's subject");
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
