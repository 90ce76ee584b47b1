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

/// A spinner saying what is going on, ticking by itself, or a hidden one.
pub fn working(what: &str) -> indicatif::ProgressBar {
    let bar = spinner(what);
    if !bar.is_hidden() {
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    bar
}

/// A bar of `unit` for a use case that says how long its work is once it knows.
pub struct Steps {
    unit: &'static str,
    bar: std::sync::OnceLock<indicatif::ProgressBar>,
}

pub fn steps(unit: &'static str) -> Steps {
    Steps {
        unit,
        bar: std::sync::OnceLock::new(),
    }
}

impl crate::app::Progress for Steps {
    fn start(&self, total: u64) {
        let _ = self.bar.set(bar(total, self.unit));
    }

    fn advance(&self, steps: u64) {
        if let Some(bar) = self.bar.get() {
            bar.inc(steps);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// A spinner counting `unit` for a use case of unknown length.
pub struct Counting(indicatif::ProgressBar);

pub fn counting(unit: &str) -> Counting {
    Counting(spinner(unit))
}

impl crate::app::Progress for Counting {
    fn advance(&self, steps: u64) {
        self.0.inc(steps);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
