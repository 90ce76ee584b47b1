//! When a due step may actually go out (inside the recipient's window, within
//! the sending mailbox's daily cap and gap), and when the step after it is
//! due: timed from the real send, so a late step shifts the ones after it
//! instead of bunching them up. Pure: the clock and the randomness are passed in.

use super::pacing::{Pacing, Slot};
use super::timing::{resolve, SendingWindow};
use super::Sequence;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// What a sending mailbox has done on its current local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub sent_today: u32,
    pub last_sent: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTime {
    Now,
    Later(DateTime<Utc>),
    /// The window never opens within a year (every day a holiday).
    Never,
}

/// Where an enrolment goes after a step is done at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Step(usize, DateTime<Utc>),
    Finished,
    Never,
}

/// The instants a local day starts and ends in `zone`.
pub fn local_day(day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = resolve(day.and_time(NaiveTime::MIN), zone);
    let end = day.succ_opt().map_or(start + chrono::Duration::days(1), |next| {
        resolve(next.and_time(NaiveTime::MIN), zone)
    });
    (start, end)
}

/// When an email due now may go: `zone` is the recipient's (the window's),
/// `mailbox_zone` the sending rep's (the cap's day); `jitter` is in [0, 1).
pub fn send_time(
    now: DateTime<Utc>,
    window: &SendingWindow,
    zone: Tz,
    pacing: &Pacing,
    load: Load,
    mailbox_zone: Tz,
    jitter: f64,
) -> SendTime {
    let later = |at: DateTime<Utc>| window.next_open(at, zone).map_or(SendTime::Never, SendTime::Later);
    if !window.contains(now, zone) {
        return later(now);
    }
    let day = now.with_timezone(&mailbox_zone).date_naive();
    match pacing.next_slot(now, load.last_sent, load.sent_today, day, jitter) {
        Slot::CapReached => later(local_day(day, mailbox_zone).1),
        Slot::At(at) if at <= now => SendTime::Now,
        Slot::At(at) => later(at),
    }
}

/// The step after `done` (a step finished at `at`), due by its delay.
pub fn after_step(sequence: &Sequence, done: usize, at: DateTime<Utc>, window: &SendingWindow, zone: Tz) -> Next {
    let next = done + 1;
    match sequence.steps.get(next) {
        None => Next::Finished,
        Some(step) => window
            .due_at(at, step.after, zone)
            .map_or(Next::Never, |due| Next::Step(next, due)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sequence::timing::SendingWindow;
    use chrono::{Duration, Weekday};
    use proptest::prelude::*;

    fn window() -> SendingWindow {
        let days = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
        let time = |t| NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        SendingWindow::new(&days, time("08:00"), time("17:00"), Default::default()).unwrap()
    }

    fn pacing(cap: u32) -> Pacing {
        Pacing {
            daily_cap: cap,
            min_gap: Duration::seconds(90),
            max_jitter: Duration::seconds(60),
            ramp_up: None,
        }
    }

    const ZONES: [Tz; 5] = [
        chrono_tz::Europe::Oslo,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Tokyo,
        chrono_tz::Australia::Sydney,
        chrono_tz::UTC,
    ];

    #[test]
    fn outside_the_window_it_waits_for_the_recipients_morning() {
        // Friday 18:00 in Oslo: Monday 08:00 Oslo time.
        let now: DateTime<Utc> = "2026-11-27T17:00:00Z".parse().unwrap();
        let load = Load {
            sent_today: 0,
            last_sent: None,
        };
        let oslo = chrono_tz::Europe::Oslo;
        assert_eq!(
            send_time(now, &window(), oslo, &pacing(40), load, oslo, 0.5),
            SendTime::Later("2026-11-30T07:00:00Z".parse().unwrap())
        );
        // The same instant is 12:00 in New York: it goes now.
        let new_york = chrono_tz::America::New_York;
        assert_eq!(
            send_time(now, &window(), new_york, &pacing(40), load, oslo, 0.5),
            SendTime::Now
        );
    }

    #[test]
    fn a_full_day_rolls_over_to_the_next_window() {
        let oslo = chrono_tz::Europe::Oslo;
        let now: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let load = Load {
            sent_today: 40,
            last_sent: Some(now - Duration::minutes(5)),
        };
        assert_eq!(
            send_time(now, &window(), oslo, &pacing(40), load, oslo, 0.5),
            SendTime::Later("2026-11-26T07:00:00Z".parse().unwrap())
        );
    }

    proptest! {
        /// Whatever the zones, the load and the moment: a send happens only
        /// inside the recipient's window and under the cap, and a later time
        /// is inside the window too.
        #[test]
        fn sends_are_inside_the_window_and_under_the_cap(
            minutes in 0i64..(60 * 24 * 400),
            zone in 0usize..5,
            mailbox_zone in 0usize..5,
            sent_today in 0u32..50,
            since_last in 0i64..1_000,
            jitter in 0.0f64..1.0,
        ) {
            let now = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes);
            let (zone, mailbox_zone) = (ZONES[zone], ZONES[mailbox_zone]);
            let load = Load { sent_today, last_sent: Some(now - Duration::seconds(since_last)) };
            match send_time(now, &window(), zone, &pacing(40), load, mailbox_zone, jitter) {
                SendTime::Now => {
                    prop_assert!(window().contains(now, zone));
                    prop_assert!(sent_today < 40);
                    prop_assert!(since_last >= 90);
                }
                SendTime::Later(at) => {
                    prop_assert!(at > now);
                    prop_assert!(window().contains(at, zone));
                }
                SendTime::Never => prop_assert!(false, "the window always opens"),
            }
        }

        /// The next step is never due before the previous one was done, and always inside the window.
        #[test]
        fn the_next_step_follows_the_real_send(minutes in 0i64..(60 * 24 * 400), zone in 0usize..5) {
            let sequence = Sequence::from_toml(
                "example",
                include_str!("../../../config/sequences/example.toml"),
                &crate::domain::pipeline::Pipelines::shipped(),
                "default",
            )
            .unwrap();
            let at = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes);
            match after_step(&sequence, 0, at, &window(), ZONES[zone]) {
                Next::Step(1, due) => {
                    prop_assert!(due > at);
                    prop_assert!(window().contains(due, ZONES[zone]));
                }
                other => prop_assert!(false, "{other:?}"),
            }
            prop_assert_eq!(after_step(&sequence, 2, at, &window(), ZONES[zone]), Next::Finished);
        }
    }
}
