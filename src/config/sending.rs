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
        SendingWindow::new(&days, time("start", &self.start)?, time("end", &self.end)?, holidays)
            .map_err(|m| key("end", m))
    }

    pub fn pacing(&self) -> Result<Pacing, (String, String)> {
        if self.daily_cap == 0 {
            return Err(key("daily_cap", "0 would never send; set at least 1".into()));
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
            min_gap: Duration::seconds(i64::try_from(self.min_gap_secs).unwrap_or(i64::MAX / 1000)),
            max_jitter: Duration::seconds(i64::try_from(self.max_jitter_secs).unwrap_or(i64::MAX / 1000)),
            ramp_up,
        })
    }
}

fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("'{text}' is not a date; write it like 2026-12-25"))
}

fn key(name: &str, message: String) -> (String, String) {
    (format!("sending.{name}"), message)
}
