//! `[sending]`: when and how fast sequence mail may go out.

use crate::domain::sequence::pacing::{Pacing, RampUp};
use crate::domain::sequence::timing::SendingWindow;
use chrono::{Duration, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SendingConfig {
    /// Days mail may go out, in the prospect's time zone (else the rep's).
    pub days: Vec<String>,
    /// Local opening and closing times, "HH:MM".
    pub start: String,
    pub end: String,
    /// Dates (YYYY-MM-DD) when nothing is sent.
    pub holidays: Vec<String>,
    /// Per sending mailbox.
    pub daily_cap: u32,
    pub min_gap_secs: u64,
    pub max_jitter_secs: u64,
    /// A new mailbox: from this date, start at `ramp_up_start` a day and add `ramp_up_per_day`.
    pub ramp_up_from: Option<String>,
    pub ramp_up_start: u32,
    pub ramp_up_per_day: u32,
    /// CAN-SPAM: the sender's postal address, in every email's footer. Sequence
    /// mail waits until it is set.
    pub postal_address: Option<String>,
    /// A sending pass holds the enrolments it took this long; a crashed
    /// worker's are taken over after it.
    pub lease_secs: u64,
    /// Enrolments taken per pass.
    pub batch: u32,
}

impl Default for SendingConfig {
    fn default() -> Self {
        SendingConfig {
            days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
            start: "08:00".into(),
            end: "17:00".into(),
            holidays: Vec::new(),
            daily_cap: 40,
            min_gap_secs: 90,
            max_jitter_secs: 60,
            ramp_up_from: None,
            ramp_up_start: 10,
            ramp_up_per_day: 5,
            postal_address: None,
            lease_secs: 300,
            batch: 500,
        }
    }
}

impl SendingConfig {
    /// The sending window; errors name the key.
    pub fn window(&self) -> Result<SendingWindow, (String, String)> {
        let days = self
            .days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| key("days", format!("'{d}' is not a day; use mon, tue, ... sun")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let time = |name: &str, text: &str| {
            NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| key(name, format!("'{text}' is not a time; write it like 08:00")))
        };
        let holidays = self
            .holidays
            .iter()
            .map(|d| date(d).map_err(|m| key("holidays", m)))
            .collect::<Result<_, _>>()?;
        let blamed = if days.is_empty() { "days" } else { "end" };
        SendingWindow::new(&days, time("start", &self.start)?, time("end", &self.end)?, holidays)
            .map_err(|m| key(blamed, m))
    }

    pub fn pacing(&self) -> Result<Pacing, (String, String)> {
        if !(1..=10_000).contains(&self.daily_cap) {
            return Err(key(
                "daily_cap",
                format!("{} is not between 1 and 10000 messages a day", self.daily_cap),
            ));
        }
        for (name, secs) in [
            ("min_gap_secs", self.min_gap_secs),
            ("max_jitter_secs", self.max_jitter_secs),
        ] {
            if secs > 86_400 {
                return Err(key(name, format!("{secs} is more than a day (86400 seconds)")));
            }
        }
        let ramp_up = self
            .ramp_up_from
            .as_deref()
            .map(|d| {
                date(d).map(|first_day| RampUp {
                    first_day,
                    start: self.ramp_up_start.max(1),
                    increase_per_day: self.ramp_up_per_day,
                })
            })
            .transpose()
            .map_err(|m| key("ramp_up_from", m))?;
        Ok(Pacing {
            daily_cap: self.daily_cap,
            // Both checked above to be at most a day.
            min_gap: Duration::seconds(self.min_gap_secs as i64),
            max_jitter: Duration::seconds(self.max_jitter_secs as i64),
            ramp_up,
        })
    }
}

fn date(text: &str) -> Result<NaiveDate, String> {
    crate::domain::prospect::parse_date(text)
}

fn key(name: &str, message: String) -> (String, String) {
    (format!("sending.{name}"), message)
}
