//! The paths hostile input takes through rapport, each as one function of
//! bytes: feed parsing, mail reading, CSV import, sequence templates, the
//! unsubscribe token and the config loader. The fuzz targets (`fuzz/`) call
//! these, and `tests/fuzz_regressions.rs` replays every input a fuzzer ever
//! crashed them with. Each must return, never panic, whatever the bytes.

use crate::domain::event::Actor;
use crate::domain::import::{parse_csv, ImportDefaults};
use crate::domain::mail::envelope::Envelope;
use crate::domain::mail::verify::SentEvidence;
use crate::domain::mail::{classify, received_effects, MailContacts};
use crate::domain::pipeline::Pipelines;
use crate::domain::sequence::enrolment::render_step;
use crate::domain::sequence::template::TemplateContext;
use crate::domain::sequence::unsubscribe::{token, verify};
use crate::domain::sequence::Sequence;

/// Feed bytes from anyone's server; the first byte picks the Content-Type.
/// False when the parser under feed-rs panicked (caught, but a bug).
pub fn feed_parse(data: &[u8]) -> bool {
    let (content_type, body) = match data.split_first() {
        Some((0, rest)) => (Some("application/json"), rest),
        Some((1, rest)) => (Some("text/html; charset=iso-8859-1"), rest),
        Some((2, rest)) => (Some("application/atom+xml; charset=utf-16"), rest),
        _ => (None, data),
    };
    !crate::sources::feed::parse_feed(body, Some("https://jane.example/feed.xml"), content_type)
        .is_err_and(|e| e.parser_panicked())
}

/// Mail anyone can send: its headers alone (as sync reads them first), the
/// whole message classified, and what it means for a known prospect.
pub fn mail_classify(data: &[u8]) {
    let Some(day) = chrono::NaiveDate::from_ymd_opt(2026, 11, 30) else {
        return;
    };
    let Some(now) = chrono::DateTime::from_timestamp(1_796_000_000, 0) else {
        return;
    };
    let envelope = Envelope::parse(data);
    if let (Ok(reading), Some(envelope)) = (classify(data, day), envelope) {
        let contacts = MailContacts {
            by_email: [("jane@acme.io".to_string(), 1)].into(),
            by_sent_id: [("s1@us.example".to_string(), 1)].into(),
            evidence: SentEvidence {
                sent: [("s1@us.example".to_string(), 1)].into(),
                outbox: [("s1@us.example".to_string(), 1)].into(),
                sends_to: [("jane@acme.io".to_string(), vec![now])].into(),
            },
        };
        let _ = received_effects(&envelope, &reading, &contacts, &Actor::System("fuzz".into()), now);
    }
}

/// A CSV file from another tool, or from nowhere.
pub fn csv_import(data: &[u8]) {
    let pipelines = Pipelines::shipped();
    let defaults = ImportDefaults::plain(&pipelines);
    let _ = parse_csv(data, &defaults);
}

/// A sequence file, templates included, and after a NUL byte what the
/// prospect's fields hold: checked, then every step rendered.
pub fn sequence_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (file, field) = text.split_once('\0').unwrap_or((&text, "Jane"));
    let pipelines = Pipelines::shipped();
    let Ok(sequence) = Sequence::from_toml("fuzz", file, &pipelines, "default") else {
        return;
    };
    let fields = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let context = TemplateContext {
        prospect: fields(&[
            ("name", field),
            ("first_name", field),
            ("company", field),
            ("email", "jane@acme.io"),
        ]),
        custom: fields(&[("note", field)]),
        rep: fields(&[("name", "Ann Rep"), ("first_name", "Ann"), ("email", "ann@example.com")]),
        latest_post: Some(fields(&[("title", field), ("url", "https://jane.example/p/1")])),
    };
    for step in 0..sequence.steps.len() {
        for variant in 0..3 {
            let _ = render_step(&sequence, step, variant, &context);
        }
    }
}

/// The token at the end of an unsubscribe link. Returns false if a token
/// verified that the key did not sign (a forgery got through).
pub fn unsubscribe_token(data: &[u8]) -> bool {
    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let text = String::from_utf8_lossy(data);
    verify(KEY, &text).is_none_or(|enrolment| token(KEY, enrolment) == text)
}

/// A config file's text, beside a folder where nothing else exists.
pub fn config_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("/nonexistent/rapport-fuzz/rapport.toml");
    let _ = crate::config::load_text(Some(text), Some(path));
}
