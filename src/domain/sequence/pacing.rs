//! How fast one sending mailbox may go: a daily cap (optionally ramped up
//! for a new mailbox), and a minimum gap between sends with random jitter,
//! so mail never leaves as a burst. Pure: the random part is passed in.

use chrono::{DateTime, Duration, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    pub daily_cap: u32,
    pub min_gap: Duration,
    /// Up to this much is added to each gap, at random.
    pub max_jitter: Duration,
    pub ramp_up: Option<RampUp>,
}

/// A new mailbox starts low and earns its full cap day by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RampUp {
    pub first_day: NaiveDate,
    pub start: u32,
    pub increase_per_day: u32,
}

/// When the mailbox may send next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    At(DateTime<Utc>),
    /// Today's cap is used up; wait for the mailbox's next day.
    CapReached,
}

impl Pacing {
    /// The number of messages the mailbox may send on `day`.
    pub fn cap_on(&self, day: NaiveDate) -> u32 {
        match self.ramp_up {
            Some(ramp) if day >= ramp.first_day => {
                let days = u32::try_from((day - ramp.first_day).num_days()).unwrap_or(u32::MAX);
                ramp.start
                    .saturating_add(ramp.increase_per_day.saturating_mul(days))
                    .min(self.daily_cap)
            }
            Some(ramp) => ramp.start.min(self.daily_cap),
            None => self.daily_cap,
        }
    }

    /// The earliest moment for the next send, given the last send, how many
    /// went out on `day` (the mailbox's local day), and a random `jitter` in [0, 1).
    pub fn next_slot(
        &self,
        now: DateTime<Utc>,
        last_sent: Option<DateTime<Utc>>,
        sent_on_day: u32,
        day: NaiveDate,
        jitter: f64,
    ) -> Slot {
        if sent_on_day >= self.cap_on(day) {
            return Slot::CapReached;
        }
        let Some(last) = last_sent else {
            return Slot::At(now);
        };
        let jitter = jitter.clamp(0.0, 1.0);
        let extra = Duration::milliseconds((self.max_jitter.num_milliseconds() as f64 * jitter) as i64);
        Slot::At((last + self.min_gap + extra).max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn pacing(ramp_up: Option<RampUp>) -> Pacing {
        Pacing {
            daily_cap: 40,
            min_gap: Duration::seconds(90),
            max_jitter: Duration::seconds(60),
            ramp_up,
        }
    }

    #[test]
    fn the_cap_ramps_up_for_a_new_mailbox() {
        let ramp = RampUp {
            first_day: day("2026-11-02"),
            start: 10,
            increase_per_day: 5,
        };
        let pacing = pacing(Some(ramp));
        assert_eq!(pacing.cap_on(day("2026-11-01")), 10);
        assert_eq!(pacing.cap_on(day("2026-11-02")), 10);
        assert_eq!(pacing.cap_on(day("2026-11-04")), 20);
        assert_eq!(pacing.cap_on(day("2027-01-01")), 40, "never above the daily cap");
    }

    #[test]
    fn the_cap_stops_the_day_and_the_gap_spaces_sends() {
        let pacing = pacing(None);
        let now: DateTime<Utc> = "2026-11-27T10:00:00Z".parse().unwrap();
        assert_eq!(pacing.next_slot(now, None, 39, day("2026-11-27"), 0.5), Slot::At(now));
        assert_eq!(
            pacing.next_slot(now, None, 40, day("2026-11-27"), 0.5),
            Slot::CapReached
        );
        let last = now - Duration::seconds(30);
        assert_eq!(
            pacing.next_slot(now, Some(last), 1, day("2026-11-27"), 0.5),
            Slot::At(last + Duration::seconds(120))
        );
        let long_ago = now - Duration::hours(3);
        assert_eq!(
            pacing.next_slot(now, Some(long_ago), 1, day("2026-11-27"), 0.9),
            Slot::At(now)
        );
    }

    proptest! {
        /// Sends are never closer than the minimum gap, nor further than gap + jitter
        /// after the previous one (unless that moment has passed), and never over the cap.
        #[test]
        fn slots_keep_the_gap_and_the_cap(
            since_last in 0i64..10_000,
            sent in 0u32..60,
            jitter in 0.0f64..1.0,
        ) {
            let pacing = pacing(None);
            let now: DateTime<Utc> = "2026-11-27T10:00:00Z".parse().unwrap();
            let last = now - Duration::seconds(since_last);
            match pacing.next_slot(now, Some(last), sent, day("2026-11-27"), jitter) {
                Slot::CapReached => prop_assert!(sent >= 40),
                Slot::At(at) => {
                    prop_assert!(sent < 40);
                    prop_assert!(at >= now);
                    prop_assert!(at - last >= pacing.min_gap);
                    prop_assert!(at == now || at - last <= pacing.min_gap + pacing.max_jitter);
                }
            }
        }
    }
}
