//! When sequence steps may go out: delays counted in business days or hours,
//! and the sending window (days of the week, hours, holidays) in the
//! recipient's time zone. Pure: every function takes the moment it reasons
//! about.
//!
//! Across DST changes a window edge that does not exist locally (the
//! spring-forward gap) opens at the first instant after the gap; an edge that
//! occurs twice opens at its first occurrence.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// The longest delays a step may have: a year either way.
const MAX_BUSINESS_DAYS: u32 = 261;
const MAX_HOURS: u32 = 366 * 24;

/// How long after the previous step (or the enrolment) a step is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    /// Counted on the window's sending days, skipping holidays, at the same local time.
    BusinessDays(u32),
    Hours(u32),
}

impl Delay {
    /// Reads `0`, `3 business days`, `3bd`, `48 hours`, `48h`.
    pub fn parse(text: &str) -> Result<Delay, String> {
        let text = text.trim().to_lowercase();
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        let unit = text[digits.len()..].trim();
        let hint = "write it like \"3 business days\" (or 3bd) or \"48 hours\" (or 48h)";
        let count: u32 = digits.parse().map_err(|_| format!("'{text}' is not a delay; {hint}"))?;
        let at_most = |limit: u32, delay: Delay| match count <= limit {
            true => Ok(delay),
            false => Err(format!(
                "'{text}' is longer than a year; a step waits at most {limit} of those"
            )),
        };
        match unit {
            "" if count == 0 => Ok(Delay::Hours(0)),
            "bd" | "business day" | "business days" => at_most(MAX_BUSINESS_DAYS, Delay::BusinessDays(count)),
            "h" | "hour" | "hours" => at_most(MAX_HOURS, Delay::Hours(count)),
            "d" | "day" | "days" => Err(format!(
                "'{text}' is ambiguous: say business days (skipping weekends and holidays) or hours; {hint}"
            )),
            _ => Err(format!("'{text}' is not a delay; {hint}")),
        }
    }
}

/// When mail may go out, in the recipient's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingWindow {
    /// Indexed by days from Monday.
    days: [bool; 7],
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub holidays: BTreeSet<NaiveDate>,
}

/// Days searched for an open window before giving up (holidays cannot close a whole year).
const SEARCH_DAYS: u32 = 400;

impl SendingWindow {
    pub fn new(
        weekdays: &[Weekday],
        start: NaiveTime,
        end: NaiveTime,
        holidays: BTreeSet<NaiveDate>,
    ) -> Result<SendingWindow, String> {
        let mut days = [false; 7];
        for day in weekdays {
            days[day.num_days_from_monday() as usize] = true;
        }
        if weekdays.is_empty() {
            return Err("the sending window has no days; name at least one, e.g. [\"mon\", \"tue\"]".into());
        }
        if start >= end {
            return Err(format!(
                "the sending window starts at {start} but ends at {end}; the start must come first"
            ));
        }
        Ok(SendingWindow {
            days,
            start,
            end,
            holidays,
        })
    }

    /// A day on which mail may go out.
    pub fn is_sending_day(&self, day: NaiveDate) -> bool {
        self.days[day.weekday().num_days_from_monday() as usize] && !self.holidays.contains(&day)
    }

    /// Whether `at` lies inside the window in `zone`.
    pub fn contains(&self, at: DateTime<Utc>, zone: Tz) -> bool {
        let local = at.with_timezone(&zone);
        let day = local.date_naive();
        self.is_sending_day(day)
            && self
                .open_interval(day, zone)
                .is_some_and(|(open, close)| open <= at && at < close)
    }

    /// The earliest moment at or after `at` inside the window, or `None` if
    /// none comes within a year (every day a holiday).
    pub fn next_open(&self, at: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let first_day = at.with_timezone(&zone).date_naive();
        first_day
            .iter_days()
            .take(SEARCH_DAYS as usize)
            .filter(|day| self.is_sending_day(*day))
            .filter_map(|day| self.open_interval(day, zone))
            .find(|(_, close)| at < *close)
            .map(|(open, _)| open.max(at))
    }

    /// `n` sending days after `day`.
    pub fn add_sending_days(&self, day: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return Some(day);
        }
        day.iter_days()
            .skip(1)
            .take(SEARCH_DAYS as usize * (n as usize).max(1))
            .filter(|d| self.is_sending_day(*d))
            .nth(n as usize - 1)
    }

    /// When a step delayed by `delay` after `previous` may go out: the delay
    /// in the recipient's zone, then the next open moment of the window.
    pub fn due_at(&self, previous: DateTime<Utc>, delay: Delay, zone: Tz) -> Option<DateTime<Utc>> {
        let earliest = match delay {
            Delay::Hours(hours) => previous + Duration::hours(i64::from(hours)),
            Delay::BusinessDays(days) => {
                let local = previous.with_timezone(&zone).naive_local();
                let day = self.add_sending_days(local.date(), days)?;
                resolve(day.and_time(local.time()), zone)
            }
        };
        self.next_open(earliest, zone)
    }

    /// The window's open and close instants on a day; `None` when the zone
    /// skips the whole window (a DST gap longer than it).
    fn open_interval(&self, day: NaiveDate, zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let open = resolve(day.and_time(self.start), zone);
        let close = resolve(day.and_time(self.end), zone);
        (open < close).then_some((open, close))
    }
}

/// A local wall-clock time as an instant: the first occurrence when it is
/// repeated, the first instant after the gap when it is skipped.
pub fn resolve(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // The gap is at most a few hours: walk to the first valid minute after it.
            (1..=24 * 60)
                .find_map(
                    |minutes| match zone.from_local_datetime(&(local + Duration::minutes(minutes))) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
                        LocalResult::None => None,
                    },
                )
                .unwrap_or_else(|| Utc.from_utc_datetime(&local))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn office_hours(holidays: &[&str]) -> SendingWindow {
        let days = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
        let holidays = holidays.iter().map(|d| d.parse().unwrap()).collect();
        SendingWindow::new(&days, time("08:00"), time("17:00"), holidays).unwrap()
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    const OSLO: Tz = chrono_tz::Europe::Oslo;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    #[test]
    fn delays_are_read_in_business_days_or_hours() {
        assert_eq!(Delay::parse("3 business days"), Ok(Delay::BusinessDays(3)));
        assert_eq!(Delay::parse("2bd"), Ok(Delay::BusinessDays(2)));
        assert_eq!(Delay::parse("48h"), Ok(Delay::Hours(48)));
        assert_eq!(Delay::parse("0"), Ok(Delay::Hours(0)));
        assert!(Delay::parse("3 days").unwrap_err().contains("business days"));
        assert!(Delay::parse("soon").is_err());
        assert!(Delay::parse("99999999999h").is_err());
        assert!(Delay::parse("4000000000h").unwrap_err().contains("longer than a year"));
        assert!(Delay::parse("300bd").is_err());
    }

    #[test]
    fn outside_the_window_waits_for_the_next_sending_morning() {
        let window = office_hours(&[]);
        // Friday 2026-11-27 16:30 in Oslo is inside; 17:30 waits for Monday 08:00.
        assert_eq!(
            window.next_open(at("2026-11-27T16:30:00+01:00"), OSLO),
            Some(at("2026-11-27T16:30:00+01:00"))
        );
        assert_eq!(
            window.next_open(at("2026-11-27T17:30:00+01:00"), OSLO),
            Some(at("2026-11-30T08:00:00+01:00"))
        );
        // The same instant is 11:30 in New York: inside the prospect's window there.
        assert_eq!(
            window.next_open(at("2026-11-27T17:30:00+01:00"), NEW_YORK),
            Some(at("2026-11-27T17:30:00+01:00"))
        );
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let window = office_hours(&["2026-12-24", "2026-12-25"]);
        let wednesday = at("2026-12-23T10:00:00+01:00");
        assert_eq!(
            window.due_at(wednesday, Delay::BusinessDays(1), OSLO),
            Some(at("2026-12-28T10:00:00+01:00"))
        );
        assert_eq!(
            window.due_at(wednesday, Delay::BusinessDays(2), OSLO),
            Some(at("2026-12-29T10:00:00+01:00"))
        );
        assert_eq!(
            window.due_at(wednesday, Delay::Hours(30), OSLO),
            Some(at("2026-12-28T08:00:00+01:00"))
        );
    }

    #[test]
    fn a_window_edge_in_the_spring_gap_opens_when_the_gap_ends() {
        let window = SendingWindow::new(&[Weekday::Sun], time("02:30"), time("04:00"), BTreeSet::new()).unwrap();
        // 2026-03-29 02:30 does not exist in Oslo: clocks jump from 02:00 to 03:00 (01:00 UTC).
        assert_eq!(
            window.next_open(at("2026-03-28T12:00:00Z"), OSLO),
            Some(at("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn bad_windows_are_refused() {
        assert!(SendingWindow::new(&[], time("08:00"), time("17:00"), BTreeSet::new()).is_err());
        assert!(SendingWindow::new(&[Weekday::Mon], time("17:00"), time("08:00"), BTreeSet::new()).is_err());
    }

    const ZONES: [Tz; 7] = [
        chrono_tz::UTC,
        chrono_tz::Europe::Oslo,
        chrono_tz::America::New_York,
        chrono_tz::America::Sao_Paulo,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Pacific::Chatham,
    ];

    fn any_window() -> impl Strategy<Value = SendingWindow> {
        (prop::collection::btree_set(0u8..7, 1..=7), 0u32..23 * 60, 1u32..6 * 60).prop_map(|(days, start, length)| {
            let days: Vec<Weekday> = days.into_iter().map(|d| Weekday::try_from(d).unwrap()).collect();
            let start_time = NaiveTime::from_num_seconds_from_midnight_opt(start * 60, 0).unwrap();
            let end = (start + length).min(24 * 60 - 1);
            let end_time = NaiveTime::from_num_seconds_from_midnight_opt(end * 60, 0).unwrap();
            SendingWindow::new(&days, start_time, end_time, BTreeSet::new()).unwrap()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The next open moment is inside the window, not before the asked moment,
        /// and the earliest such: a minute earlier is outside or before it.
        #[test]
        fn next_open_is_the_earliest_moment_inside(
            window in any_window(),
            zone in prop::sample::select(&ZONES[..]),
            minutes in 0i64..2 * 366 * 24 * 60,
        ) {
            let asked = at("2026-01-01T00:00:00Z") + Duration::minutes(minutes);
            let open = window.next_open(asked, zone).expect("a weekly window always opens");
            prop_assert!(open >= asked);
            prop_assert!(window.contains(open, zone), "{open} not inside in {zone}");
            let just_before = open - Duration::minutes(1);
            prop_assert!(just_before < asked || !window.contains(just_before, zone));
        }

        /// A step is never due before its delay has passed, and always inside the window.
        #[test]
        fn due_steps_respect_delay_and_window(
            window in any_window(),
            zone in prop::sample::select(&ZONES[..]),
            minutes in 0i64..2 * 366 * 24 * 60,
            hours in 0u32..200,
            business_days in 0u32..15,
        ) {
            let previous = at("2026-01-01T00:00:00Z") + Duration::minutes(minutes);
            let by_hours = window.due_at(previous, Delay::Hours(hours), zone).unwrap();
            prop_assert!(by_hours >= previous + Duration::hours(i64::from(hours)));
            prop_assert!(window.contains(by_hours, zone));
            let by_days = window.due_at(previous, Delay::BusinessDays(business_days), zone).unwrap();
            prop_assert!(window.contains(by_days, zone));
            let days_later = (by_days.with_timezone(&zone).date_naive() - previous.with_timezone(&zone).date_naive()).num_days();
            prop_assert!(days_later >= i64::from(business_days));
        }
    }
}
