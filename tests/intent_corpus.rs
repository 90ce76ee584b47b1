//! Reply intent on the project's labelled sets (`fixtures/intent/`: 171
//! replies written with the tables, 130 written apart and since learnt
//! from, and 120 written apart and kept held out, in nine languages and
//! every intent, some with quoted history and signatures). Each row
//! goes through the mail path a reply takes — a message classified, its
//! fresh text cut — then the intent classifier.
//! Prints precision and recall per intent and fails below 90 % macro F1 or
//! on any refusal read as interest.

use chrono::NaiveDate;
use rapport::domain::intent::{reply_intent, Intent};
use rapport::domain::mail::classify;
use std::collections::BTreeMap;

struct Row {
    line: usize,
    language: String,
    expected: Intent,
    text: String,
}

fn rows(file: &str) -> Vec<Row> {
    let path = format!("{}/tests/fixtures/intent/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(path).expect("the labelled replies");
    data.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.starts_with("language\t") && !l.trim().is_empty())
        .map(|(i, l)| {
            let mut fields = l.splitn(3, '\t');
            let (language, intent, text) = (fields.next(), fields.next(), fields.next());
            let (Some(language), Some(intent), Some(text)) = (language, intent, text) else {
                panic!("line {}: language, intent and text, tab-separated", i + 1)
            };
            Row {
                line: i + 1,
                language: language.to_string(),
                expected: Intent::parse(intent).unwrap_or_else(|| panic!("line {}: no intent {intent}", i + 1)),
                text: text.replace("\\n", "\n"),
            }
        })
        .collect()
}

/// The reply as a prospect's mail program would send it.
fn message(text: &str) -> Vec<u8> {
    format!(
        "From: Prospect <p@prospect.example>\r\nTo: Ann <ann@seller.example>\r\nSubject: Re: A quick question\r\n\
         Date: Tue, 1 Dec 2026 09:30:00 +0100\r\nMessage-ID: <r1@prospect.example>\r\nIn-Reply-To: <s1@seller.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        text.replace('\n', "\r\n")
    )
    .into_bytes()
}

#[test]
fn intents_of_the_labelled_replies() {
    measure("replies.tsv", 150);
}

/// Written apart, without sight of the tables. Read first as a held-out
/// set (macro F1 0.722); the tables were then widened by general phrases
/// where it misread, so it shows what was learnt, not what generalises: a
/// new held-out set is the next measure.
#[test]
fn intents_of_the_held_out_replies() {
    measure("held_out.tsv", 120);
}

/// Written apart, without sight of the tables, and never tuned to: its
/// figure (macro F1 0.913 at its first reading) is what generalises.
#[test]
fn intents_of_the_second_held_out_set() {
    measure("held_out_2.tsv", 120);
}

fn measure(file: &str, at_least: usize) {
    let sent: NaiveDate = "2026-12-01".parse().expect("date");
    let rows = rows(file);
    assert!(
        rows.len() >= at_least,
        "{file}: at least {at_least} labelled replies ({})",
        rows.len()
    );
    let mut confusion: BTreeMap<(Intent, Intent), usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut false_interest = 0;
    let mut languages = std::collections::BTreeSet::new();
    for row in &rows {
        languages.insert(row.language.clone());
        let classified = classify(&message(&row.text), sent).expect("a message");
        let fresh = classified.text.unwrap_or_default();
        let got = reply_intent(&fresh, sent);
        *confusion.entry((row.expected, got.intent)).or_default() += 1;
        if got.intent == Intent::Interested && matches!(row.expected, Intent::NotInterested | Intent::Unsubscribe) {
            false_interest += 1;
        }
        if got.intent != row.expected {
            wrong.push(format!(
                "  line {} ({}): expected {}, got {}: {:?}",
                row.line,
                row.language,
                row.expected.as_str(),
                got.explain(),
                row.text
            ));
        }
    }
    let mut f1s = Vec::new();
    println!("{file}: {} replies in {} languages", rows.len(), languages.len());
    println!(
        "{:<15} {:>9} {:>9} {:>6} {:>6}",
        "intent", "precision", "recall", "F1", "rows"
    );
    for intent in Intent::ALL {
        let count = |f: &dyn Fn(Intent, Intent) -> bool| -> usize {
            confusion.iter().filter(|((e, g), _)| f(*e, *g)).map(|(_, n)| n).sum()
        };
        let truth = count(&|e, _| e == intent);
        if truth == 0 {
            continue;
        }
        let predicted = count(&|_, g| g == intent);
        let hit = count(&|e, g| e == intent && g == intent);
        let precision = if predicted == 0 {
            0.0
        } else {
            hit as f64 / predicted as f64
        };
        let recall = hit as f64 / truth as f64;
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        f1s.push(f1);
        println!(
            "{:<15} {:>8.1}% {:>8.1}% {:>6.3} {:>6}",
            intent.as_str(),
            100.0 * precision,
            100.0 * recall,
            f1,
            truth
        );
    }
    let macro_f1 = f1s.iter().sum::<f64>() / f1s.len() as f64;
    println!("macro F1 {macro_f1:.3} (target >= 0.90); refusals read as interest: {false_interest} (target 0)");
    if !wrong.is_empty() {
        println!("misread:\n{}", wrong.join("\n"));
    }
    assert!(languages.len() >= 8, "the set covers at least eight languages");
    assert_eq!(false_interest, 0, "no refusal is read as interest");
    assert!(macro_f1 >= 0.90, "macro F1 {macro_f1:.3} below 0.90");
}
