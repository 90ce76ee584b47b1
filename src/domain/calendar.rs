//! A rep's calendar feed (RFC 5545): their open tasks and reminders at the
//! time they are due, and their booked meetings, as events with stable UIDs
//! (a task's or an event's id), SEQUENCE and LAST-MODIFIED raised when one
//! changes, DTSTAMP, a one-hour REFRESH-INTERVAL / X-PUBLISHED-TTL, lines
//! folded at 75 octets with CRLF (the `icalendar` crate writes the text:
//! folding and escaping). Pure: what to show and the time are passed in.

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike};

/// One entry of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable for the thing it shows, across every fetch.
    pub uid: String,
    /// Raised each time the thing changes.
    pub sequence: u32,
    pub last_modified: Option<DateTime<Utc>>,
    pub starts: DateTime<Utc>,
    pub minutes: i64,
    pub summary: String,
    pub description: Option<String>,
    /// The prospect's page on the board.
    pub url: Option<String>,
}

/// The feed's text.
pub fn render(name: &str, entries: &[Entry], now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name).ttl(&Duration::hours(1));
    for entry in entries {
        let mut event = Event::new();
        event
            .uid(&entry.uid)
            .timestamp(now)
            .sequence(entry.sequence)
            .starts(entry.starts)
            .ends(entry.starts + Duration::minutes(entry.minutes))
            .summary(&entry.summary);
        if let Some(modified) = entry.last_modified {
            event.last_modified(modified);
        }
        if let Some(description) = &entry.description {
            event.description(description);
        }
        if let Some(url) = &entry.url {
            event.url(url);
        }
        calendar.push(event.done());
    }
    calendar
        .done()
        .to_string()
        .replace("PRODID:ICALENDAR-RS", "PRODID:-//rapport//calendar feed//EN")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                uid: "task-7@rapport".into(),
                sequence: 2,
                last_modified: Some(at("2026-12-01T08:00:00Z")),
                starts: at("2026-12-02T08:00:00Z"),
                minutes: 15,
                summary: "Pia Lund: send the deck, the pricing; and the case study".into(),
                description: Some(
                    "rule 'proposal-rotting': nothing since 2026-11-25 10:00 UTC (5 days), while in proposal \
                     — a line long enough to be folded, with æøå and 老虎 across the fold"
                        .into(),
                ),
                url: Some("https://rapport.example.com/prospects/3".into()),
            },
            Entry {
                uid: "meeting-42@rapport".into(),
                sequence: 0,
                last_modified: None,
                starts: at("2026-12-03T13:00:00Z"),
                minutes: 30,
                summary: "Meeting: Pia Lund".into(),
                description: Some("Intro call at 2026-12-03T13:00:00Z (Calendly)".into()),
                url: None,
            },
        ]
    }

    #[test]
    fn the_feed_matches_its_golden_file_with_every_line_folded_at_75_octets() {
        let text = render("rapport — Ann", &entries(), at("2026-12-01T09:00:00Z"));
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/domain/golden/calendar.ics");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", path.display()));
        assert_eq!(text, expected, "the calendar differs from its golden file");
        assert!(
            text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
            "CRLF only"
        );
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(
            unfolded.contains("æøå and 老虎 across the fold"),
            "folding keeps the text"
        );
        assert!(unfolded.contains("SUMMARY:Pia Lund: send the deck\\, the pricing\\; and the case study"));
        for line in [
            "REFRESH-INTERVAL;VALUE=DURATION:PT3600S",
            "X-PUBLISHED-TTL:PT3600S",
            "SEQUENCE:2",
            "LAST-MODIFIED:20261201T080000Z",
            "DTSTAMP:20261201T090000Z",
        ] {
            assert!(unfolded.contains(line), "{line} in:\n{unfolded}");
        }
    }
}
