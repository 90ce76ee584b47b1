//! CSV cells that spreadsheets cannot run. A cell starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice and
//! Google Sheets as a formula (OWASP "CSV injection"), so an export writes it
//! behind a single quote, which spreadsheets show as text. An import takes
//! that quote off again, so exporting and importing gives back the value.

use std::borrow::Cow;

fn starts_a_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Whether the cell, or the cell behind its leading quotes, starts a formula:
/// then one more quote is needed, so the import can take exactly one off.
fn needs_quote(text: &str) -> bool {
    starts_a_formula(text.trim_start_matches('\''))
}

/// The cell as an export writes it.
pub fn guard(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The value of a cell an export guarded.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_read_back() {
        for value in [
            "=HYPERLINK(\"http://evil.example\",\"Click\")",
            "+47 22 00 00 00",
            "-2+3",
            "@SUM(A1:A9)",
            "\t=1+1",
            "\r=1+1",
            "'=1+1",
            "''=1+1",
            "'quoted",
            "plain",
            "",
            "a=b",
        ] {
            let written = guard(value);
            assert!(!starts_a_formula(&written), "{value:?} written as {written:?}");
            assert_eq!(unguard(&written), value, "{value:?} round trip");
        }
        assert_eq!(guard("=1+1"), "'=1+1");
        assert_eq!(guard("plain"), "plain");
        assert_eq!(
            unguard("'plain"),
            "'plain",
            "a quote that guards nothing is the value's own"
        );
    }
}
