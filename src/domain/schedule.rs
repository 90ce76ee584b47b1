//! Cron schedules in a time zone, with defined behaviour across DST changes.
//!
//! Expressions are standard 5-field crontab lines (`30 2 * * *`), or 6/7-field
//! lines with seconds (and years) in the `cron` crate's own syntax. 5-field
//! lines are translated: a `0` seconds field is prepended and numeric weekdays
//! (crontab: 0 or 7 = Sunday) become names, since the crate counts Sunday as 1.
//!
//! Wall-clock times are matched in the job's zone:
//! - a time that does not exist (the spring-forward gap) fires once, shifted
//!   forward by the gap's length (02:30 → 03:30 in Europe/Oslo), when the job
//!   names a fixed hour; jobs that run every hour simply carry on after the gap;
//! - a time that occurs twice (fall-back) fires once, at its first occurrence,
//!   for jobs that name a fixed hour; jobs that run every hour fire at both, as
//!   they would on any other hour.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use cron::TimeUnitSpec;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct CronSchedule {
    expression: String,
    schedule: cron::Schedule,
    zone: Tz,
}

/// Longest DST shift searched around a candidate: no zone in use shifts more.
const MAX_DST_SHIFT_HOURS: i64 = 3;

impl CronSchedule {
    pub fn parse(expression: &str, zone: &str) -> Result<CronSchedule, String> {
        let zone: Tz = zone
            .parse()
            .map_err(|_| format!("'{zone}' is not a time zone; use an IANA name such as Europe/Oslo or UTC"))?;
        let translated = translate_crontab(expression)?;
        let schedule = cron::Schedule::from_str(&translated).map_err(|e| {
            format!("'{expression}' is not a cron expression ({e}); use 5 fields: minute hour day-of-month month day-of-week, e.g. \"30 2 * * *\"")
        })?;
        Ok(CronSchedule {
            expression: expression.trim().to_string(),
            schedule,
            zone,
        })
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first firing strictly after `after`, or `None` if the expression
    /// never matches again (e.g. a year in the past).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let every_hour = self.schedule.hours().is_all();
        let local_after = after.with_timezone(&self.zone).naive_local();
        // Start the search a DST shift early: after a fall-back, wall-clock
        // times already passed once come round again.
        let search_from = naive_as_utc(local_after - Duration::hours(MAX_DST_SHIFT_HOURS));
        let mut best: Option<DateTime<Utc>> = None;
        for candidate in self.schedule.after(&search_from).take(100_000) {
            let wall = candidate.naive_utc();
            if let Some(found) = best {
                let found_wall = found.with_timezone(&self.zone).naive_local();
                if wall > found_wall + Duration::hours(MAX_DST_SHIFT_HOURS) {
                    break;
                }
            }
            for instant in self.instants_of(wall, every_hour) {
                if instant > after && best.is_none_or(|b| instant < b) {
                    best = Some(instant);
                }
            }
        }
        best
    }

    /// The real instants at which a wall-clock time fires.
    fn instants_of(&self, wall: NaiveDateTime, every_hour: bool) -> Vec<DateTime<Utc>> {
        match self.zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
            LocalResult::Ambiguous(first, second) if every_hour => {
                vec![first.with_timezone(&Utc), second.with_timezone(&Utc)]
            }
            LocalResult::Ambiguous(first, _) => vec![first.with_timezone(&Utc)],
            LocalResult::None if every_hour => vec![],
            LocalResult::None => self.shifted_past_gap(wall).into_iter().collect(),
        }
    }

    /// A wall-clock time inside a gap, moved forward by the gap's length.
    fn shifted_past_gap(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        let before = self
            .zone
            .from_local_datetime(&(wall - Duration::hours(MAX_DST_SHIFT_HOURS)))
            .earliest()?;
        let after = self
            .zone
            .from_local_datetime(&(wall + Duration::hours(MAX_DST_SHIFT_HOURS)))
            .latest()?;
        let gap = after.naive_local() - before.naive_local() - (after.with_timezone(&Utc) - before.with_timezone(&Utc));
        self.zone
            .from_local_datetime(&(wall + gap))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

fn naive_as_utc(wall: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&wall)
}

const WEEKDAYS: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// Turns a 5-field crontab line into the `cron` crate's 6-field syntax.
fn translate_crontab(expression: &str) -> Result<String, String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    match fields.len() {
        5 => {
            let weekday = translate_weekdays(fields[4])?;
            Ok(format!(
                "0 {} {} {} {} {weekday}",
                fields[0], fields[1], fields[2], fields[3]
            ))
        }
        6 | 7 => Ok(fields.join(" ")),
        n => Err(format!(
            "'{expression}' has {n} fields; use 5 (minute hour day-of-month month day-of-week), e.g. \"30 2 * * *\""
        )),
    }
}

/// Crontab weekdays (0–7, Sunday = 0 or 7) as names, which mean the same to
/// every cron dialect.
fn translate_weekdays(field: &str) -> Result<String, String> {
    let name = |token: &str| -> Result<String, String> {
        match token.parse::<usize>() {
            Ok(n) if n < WEEKDAYS.len() => Ok(WEEKDAYS[n].to_string()),
            Ok(n) => Err(format!(
                "day of week {n} is out of range; use 0-7 (0 and 7 are Sunday) or MON-SUN"
            )),
            Err(_) => Ok(token.to_string()),
        }
    };
    let mut items = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let (Some(step), "*") = (step, range) {
            let step: usize = step.parse().map_err(|_| format!("'{item}' has a bad step"))?;
            if step == 0 {
                return Err(format!("'{item}' has a step of 0"));
            }
            items.extend((0..7).step_by(step).map(|d| WEEKDAYS[d].to_string()));
            continue;
        }
        let translated = match range.split_once('-') {
            // Sunday as 7 ends a crontab range; the cron crate counts Sunday
            // first, so the range becomes "…-SAT,SUN".
            Some((from, "7")) if from != "0" && from != "7" => format!("{}-SAT,SUN", name(from)?),
            Some((from, to)) => format!("{}-{}", name(from)?, name(to)?),
            None => name(range)?,
        };
        items.push(match step {
            Some(step) => format!("{translated}/{step}"),
            None => translated,
        });
    }
    Ok(items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn firings(s: &CronSchedule, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = from;
        while let Some(next) = s.next_after(t) {
            if next > until {
                break;
            }
            out.push(next);
            t = next;
        }
        out
    }

    #[test]
    fn oslo_0230_fires_once_on_spring_forward_day() {
        let s = CronSchedule::parse("30 2 * * *", "Europe/Oslo").unwrap();
        let runs = firings(&s, utc("2026-03-28T12:00:00Z"), utc("2026-03-30T12:00:00Z"));
        // 28 Mar 02:30 CET is already past; 29 Mar 02:30 does not exist and
        // runs at 03:30 CEST (01:30 UTC); 30 Mar 02:30 CEST.
        assert_eq!(runs, vec![utc("2026-03-29T01:30:00Z"), utc("2026-03-30T00:30:00Z")]);
    }

    #[test]
    fn oslo_0230_fires_once_on_fall_back_day() {
        let s = CronSchedule::parse("30 2 * * *", "Europe/Oslo").unwrap();
        let runs = firings(&s, utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z"));
        assert_eq!(runs, vec![utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")]);
    }

    #[test]
    fn hourly_jobs_fire_every_real_hour_across_fall_back() {
        let s = CronSchedule::parse("0 * * * *", "Europe/Oslo").unwrap();
        let runs = firings(&s, utc("2026-10-24T22:30:00Z"), utc("2026-10-25T03:30:00Z"));
        assert_eq!(runs.len(), 5, "{runs:?}");
        let spring = firings(&s, utc("2026-03-28T23:30:00Z"), utc("2026-03-29T03:30:00Z"));
        assert_eq!(spring.len(), 4, "{spring:?}");
    }

    #[test]
    fn crontab_weekdays_mean_what_crontab_says() {
        let s = CronSchedule::parse("0 9 * * 1-5", "UTC").unwrap();
        // 2026-11-27 is a Friday: next are Friday 09:00, then Monday.
        let runs = firings(&s, utc("2026-11-27T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
        assert_eq!(runs, vec![utc("2026-11-27T09:00:00Z"), utc("2026-11-30T09:00:00Z")]);
        let sunday = CronSchedule::parse("0 9 * * 0", "UTC").unwrap();
        assert_eq!(
            sunday.next_after(utc("2026-11-27T00:00:00Z")),
            Some(utc("2026-11-29T09:00:00Z"))
        );
        assert_eq!(
            CronSchedule::parse("0 9 * * 7", "UTC")
                .unwrap()
                .next_after(utc("2026-11-27T00:00:00Z")),
            Some(utc("2026-11-29T09:00:00Z"))
        );
        let weekend = CronSchedule::parse("0 9 * * 6-7", "UTC").unwrap();
        let runs = firings(&weekend, utc("2026-11-27T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
        assert_eq!(runs, vec![utc("2026-11-28T09:00:00Z"), utc("2026-11-29T09:00:00Z")]);
        assert!(CronSchedule::parse("0 9 * * 1-7", "UTC").is_ok());
    }

    #[test]
    fn bad_expressions_say_what_is_expected() {
        assert!(CronSchedule::parse("30 2 * *", "UTC")
            .unwrap_err()
            .contains("5 (minute"));
        assert!(CronSchedule::parse("61 2 * * *", "UTC").is_err());
        assert!(CronSchedule::parse("0 9 * * 9", "UTC").is_err());
        assert!(CronSchedule::parse("30 2 * * *", "Mars/Base")
            .unwrap_err()
            .contains("time zone"));
        assert!(CronSchedule::parse("0 0 0 30 2 * 2020", "UTC")
            .unwrap()
            .next_after(utc("2026-01-01T00:00:00Z"))
            .is_none());
    }

    const ZONES: [&str; 6] = [
        "Europe/Oslo",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "UTC",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A daily job at a fixed local time fires exactly once on every local date.
        #[test]
        fn daily_jobs_fire_once_per_local_day(zone in 0..ZONES.len(), hour in 0u32..24, minute in 0u32..60, start_day in 0i64..365) {
            let s = CronSchedule::parse(&format!("{minute} {hour} * * *"), ZONES[zone]).unwrap();
            let tz = s.zone();
            let start = utc("2026-01-01T00:00:00Z") + Duration::days(start_day);
            let runs = firings(&s, start, start + Duration::days(400));
            let dates: Vec<NaiveDate> = runs.iter().map(|r| r.with_timezone(&tz).date_naive()).collect();
            for pair in dates.windows(2) {
                prop_assert_eq!(pair[1], pair[0].succ_opt().unwrap(), "runs {:?}", runs);
            }
            prop_assert!(dates.len() >= 399);
        }

        /// Firings strictly increase and each is after the instant asked about.
        #[test]
        fn next_after_moves_forward(zone in 0..ZONES.len(), expr in 0usize..4, offset_minutes in 0i64..(60 * 24 * 366)) {
            let exprs = ["*/15 * * * *", "0 * * * *", "30 2 * * *", "0 9 * * 1-5"];
            let s = CronSchedule::parse(exprs[expr], ZONES[zone]).unwrap();
            let t = utc("2026-01-01T00:00:00Z") + Duration::minutes(offset_minutes);
            let next = s.next_after(t).unwrap();
            prop_assert!(next > t);
            prop_assert!(next - t <= Duration::days(4));
            prop_assert!(s.next_after(next).unwrap() > next);
        }
    }
}
