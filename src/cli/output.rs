//! Plain-text tables and JSON printing.

use crate::domain::text::printable;
use serde::Serialize;

/// Prints rows under a header, each column as wide as its widest cell.
/// Cells hold text from feeds, mail and imports: escape sequences and
/// control characters are removed so nothing can drive the terminal.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| printable(cell).replace(['\n', '\t'], " "))
                .collect()
        })
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A count and its noun, singular for one: "1 feed", "3 feeds", "0 feeds".
pub fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_string()
}

/// A moment as a person reads it: in `zone`, with the zone's abbreviation
/// shown (`2026-12-01 09:00 CET`). JSON output keeps RFC 3339 UTC.
pub fn at(moment: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    moment.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_count_of_one_takes_the_singular() {
        assert_eq!(super::counted(1, "feed", "feeds"), "1 feed");
        assert_eq!(super::counted(0, "feed", "feeds"), "0 feeds");
        assert_eq!(super::counted(2, "mailbox", "mailboxes"), "2 mailboxes");
    }
}
