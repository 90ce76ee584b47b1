//! Progress on a terminal for long work (import, enrol, rules, poll, mail
//! sync): a bar on stderr when it is a terminal, nothing otherwise, so
//! scripts and pipes see only the result.

use std::io::IsTerminal;

/// A bar of `total` steps of `unit` (rows, prospects, events), or a hidden one.
pub fn bar(total: u64, unit: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || total == 0 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let template = format!("{{bar:40}} {{pos}}/{{len}} {unit} {{elapsed}}");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// A spinner counting steps of unknown total, or a hidden one.
pub fn spinner(unit: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let template = format!("{{spinner}} {{pos}} {unit} {{elapsed}}");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
