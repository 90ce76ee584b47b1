//! When a reminder is due: `--in 3d` counts the rep's working days (the
//! `[sending]` days, holidays left out) at the same local time, `--in 4h`
//! counts clock time, and `--on 2026-12-04[T14:00]` is a local date (at the
//! start of the working day unless a time is given). Pure: the caller passes
//! now, the window and the rep's zone.

use super::rules::parse_span;
use super::sequence::timing::{resolve, SendingWindow};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// `--in SPAN` from `now`: days and weeks in working days, hours and minutes in clock time.
pub fn due_in(span: &str, now: DateTime<Utc>, window: &SendingWindow, zone: Tz) -> Result<DateTime<Utc>, String> {
    let duration = parse_span(span)?;
    let text = span.trim().to_lowercase();
    let counts_days = text.ends_with('d') || text.ends_with("day") || text.ends_with("days");
    let counts_weeks = text.ends_with('w') || text.ends_with("week") || text.ends_with("weeks");
    if !counts_days && !counts_weeks {
        return Ok(now + duration);
    }
    let local = now.with_timezone(&zone).naive_local();
    let day = if counts_days {
        let days = u32::try_from(duration.num_days()).map_err(|_| format!("'{span}' is too long"))?;
        window
            .add_sending_days(local.date(), days)
            .ok_or_else(|| format!("no working day comes within {span}; check [sending] days and holidays"))?
    } else {
        // A week is a calendar week; landing on a day off, the next working day.
        let target = local.date() + Duration::days(duration.num_days());
        next_working_day(window, target)
            .ok_or_else(|| format!("no working day comes after {target}; check [sending] days and holidays"))?
    };
    Ok(resolve(day.and_time(local.time()), zone))
}

/// `--on DATE` or `--on DATE'T'HH:MM` in the rep's zone; a date alone is at
/// the start of that day's window. Past moments are refused.
pub fn due_on(text: &str, now: DateTime<Utc>, window: &SendingWindow, zone: Tz) -> Result<DateTime<Utc>, String> {
    let trimmed = text.trim();
    let hint = "write it as 2026-12-04 or 2026-12-04T14:00 (your local time)";
    let local = match NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        Ok(date) => date.and_time(window.start),
        Err(_) => ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(trimmed, format).ok())
            .ok_or_else(|| format!("'{trimmed}' is not a date or a date and time; {hint}"))?,
    };
    let at = resolve(local, zone);
    if at <= now {
        return Err(format!(
            "{} is already past in {}; give a later date",
            local.format("%Y-%m-%d %H:%M"),
            zone.name()
        ));
    }
    Ok(at)
}

fn next_working_day(window: &SendingWindow, from: NaiveDate) -> Option<NaiveDate> {
    from.iter_days().take(400).find(|d| window.is_sending_day(*d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveTime, Weekday};
    use proptest::prelude::*;

    fn window() -> SendingWindow {
        use Weekday::*;
        let holidays = ["2026-12-25".parse().unwrap()].into_iter().collect();
        SendingWindow::new(
            &[Mon, Tue, Wed, Thu, Fri],
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            holidays,
        )
        .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const OSLO: Tz = chrono_tz::Europe::Oslo;

    #[test]
    fn three_days_from_a_friday_is_the_next_wednesday() {
        // Friday 4 December 2026, 10:30 in Oslo.
        let due = due_in("3d", at("2026-12-04T09:30:00Z"), &window(), OSLO).unwrap();
        assert_eq!(due, at("2026-12-09T09:30:00Z"));
    }

    #[test]
    fn holidays_are_not_working_days() {
        // Thursday 24 December + 1 working day: not Christmas Day, not the weekend.
        let due = due_in("1d", at("2026-12-24T09:00:00Z"), &window(), OSLO).unwrap();
        assert_eq!(due, at("2026-12-28T09:00:00Z"));
    }

    #[test]
    fn hours_are_clock_time() {
        let due = due_in("4h", at("2026-12-04T15:00:00Z"), &window(), OSLO).unwrap();
        assert_eq!(due, at("2026-12-04T19:00:00Z"));
    }

    #[test]
    fn a_week_landing_on_a_holiday_moves_to_the_next_working_day() {
        let due = due_in("1w", at("2026-12-18T09:00:00Z"), &window(), OSLO).unwrap();
        assert_eq!(due, at("2026-12-28T09:00:00Z"));
    }

    #[test]
    fn on_a_date_is_the_start_of_that_working_day_in_the_reps_zone() {
        let now = at("2026-12-01T09:00:00Z");
        assert_eq!(
            due_on("2026-12-04", now, &window(), OSLO).unwrap(),
            at("2026-12-04T07:00:00Z")
        );
        assert_eq!(
            due_on("2026-12-04T14:00", now, &window(), OSLO).unwrap(),
            at("2026-12-04T13:00:00Z")
        );
        // Summer time: 14:00 in Oslo is 12:00 UTC.
        assert_eq!(
            due_on("2027-06-04T14:00", now, &window(), OSLO).unwrap(),
            at("2027-06-04T12:00:00Z")
        );
        let error = due_on("2026-11-30", now, &window(), OSLO).unwrap_err();
        assert!(error.contains("already past"), "{error}");
        let error = due_on("4 Dec", now, &window(), OSLO).unwrap_err();
        assert!(error.contains("2026-12-04T14:00"), "{error}");
    }

    proptest! {
        /// In any zone and at any moment, `--in Nd` lands on a working day,
        /// N working days later, at the same local time when it exists.
        #[test]
        fn days_land_on_working_days(
            seconds in 1_700_000_000i64..1_900_000_000,
            days in 1u32..30,
            zone in prop::sample::select(vec![
                chrono_tz::Europe::Oslo, chrono_tz::America::New_York,
                chrono_tz::Australia::Sydney, chrono_tz::Asia::Kolkata, chrono_tz::America::Santiago,
            ]),
        ) {
            let now = DateTime::from_timestamp(seconds, 0).unwrap();
            let due = due_in(&format!("{days}d"), now, &window(), zone).unwrap();
            let local = due.with_timezone(&zone).date_naive();
            prop_assert!(due > now);
            prop_assert!(window().is_sending_day(local));
            let start = now.with_timezone(&zone).date_naive();
            let between = start.iter_days().skip(1).take_while(|d| *d <= local)
                .filter(|d| window().is_sending_day(*d)).count();
            prop_assert_eq!(between, days as usize);
            prop_assert!(!matches!(local.weekday(), Weekday::Sat | Weekday::Sun));
        }
    }
}
