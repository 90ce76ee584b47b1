//! When a rep's digest is due: at their digest hour, local time. A local
//! date's digest is due from that moment on; the store makes sure each date
//! is sent once. Across DST changes a skipped hour moves to the first moment
//! after the gap and a repeated hour counts at its first occurrence.

use crate::domain::sequence::timing::resolve;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// The moment the digest of `date` is due.
pub fn moment(date: NaiveDate, hour: u8, zone: Tz) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(u32::from(hour.min(23)), 0, 0).unwrap_or(NaiveTime::MIN);
    resolve(date.and_time(time), zone)
}

/// The local date whose digest is due at `now`, once its moment has come.
pub fn due_date(now: DateTime<Utc>, hour: u8, zone: Tz) -> Option<NaiveDate> {
    let date = now.with_timezone(&zone).date_naive();
    (now >= moment(date, hour, zone)).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const ZONES: [Tz; 4] = [
        chrono_tz::Europe::Oslo,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Sydney,
        chrono_tz::America::Santiago,
    ];

    /// A worker checking every minute from `start` for `days`: each local
    /// date's digest is taken once, in the minute its moment falls in.
    fn claims(start: DateTime<Utc>, days: i64, hour: u8, zone: Tz) -> BTreeMap<NaiveDate, DateTime<Utc>> {
        let mut claimed = BTreeMap::new();
        let mut now = start;
        while now < start + Duration::days(days) {
            if let Some(date) = due_date(now, hour, zone) {
                claimed.entry(date).or_insert(now);
            }
            now += Duration::minutes(1);
        }
        claimed
    }

    #[test]
    fn the_spring_forward_gap_moves_the_digest_to_just_after_it() {
        // Oslo skips 02:00-03:00 on 29 March 2026: a 02:00 digest comes at 03:00 local (01:00 UTC).
        let oslo = chrono_tz::Europe::Oslo;
        assert_eq!(
            moment("2026-03-29".parse().unwrap(), 2, oslo),
            "2026-03-29T01:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // 25 October repeats 02:00-03:00: the first occurrence, 00:00 UTC.
        assert_eq!(
            moment("2026-10-25".parse().unwrap(), 2, oslo),
            "2026-10-25T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    proptest! {
        /// Over both DST changes of a year, every local date gets exactly one
        /// digest, at its moment, whatever the hour and zone.
        #[test]
        fn one_digest_per_local_date_across_dst(hour in 0u8..24, zone in 0usize..4, spring in proptest::bool::ANY) {
            let zone = ZONES[zone];
            let start: DateTime<Utc> = if spring { "2026-03-26T00:00:00Z" } else { "2026-10-22T00:00:00Z" }.parse().unwrap();
            let claimed = claims(start, 6, hour, zone);
            let first = start.with_timezone(&zone).date_naive();
            for (date, at) in &claimed {
                prop_assert!(*at >= moment(*date, hour, zone));
                prop_assert!(*at - moment(*date, hour, zone) < Duration::minutes(1) || *date == first);
            }
            let dates: Vec<&NaiveDate> = claimed.keys().collect();
            for pair in dates.windows(2) {
                prop_assert_eq!(pair[0].succ_opt(), Some(*pair[1]), "no date skipped");
            }
            prop_assert!(claimed.len() >= 5);
        }
    }
}
