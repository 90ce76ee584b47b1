//! The board's pages: server-rendered HTML (minijinja, HTML-escaped by the
//! `.html` name of every template), in the signed-in rep's language and
//! time zone, each action a plain form so nothing needs JavaScript; the one
//! script (`assets/board.js`) only adds dragging cards. Words per language
//! are data (`words/*.toml`).

pub mod assets;
pub mod board;
pub mod forecast;
pub mod live;
pub mod login;
pub mod prospect;
pub mod sequences;
pub mod settings;
pub mod team;
pub mod today;
pub mod transfer;

use crate::app::accounts::SignedIn;
use crate::app::AppError;
use crate::domain::money::Amount;
use crate::domain::prospect::Language;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::value::Kwargs;
use minijinja::{context, Environment, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const TEMPLATES: [(&str, &str); 12] = [
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    ("board.html", include_str!("templates/board.html")),
    ("move.html", include_str!("templates/move.html")),
    ("prospect.html", include_str!("templates/prospect.html")),
    ("message.html", include_str!("templates/message.html")),
    ("today.html", include_str!("templates/today.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("sequences.html", include_str!("templates/sequences.html")),
    ("forecast.html", include_str!("templates/forecast.html")),
    ("import.html", include_str!("templates/import.html")),
    ("team.html", include_str!("templates/team.html")),
];

const WORDS: [(Language, &str); 2] = [
    (Language::En, include_str!("words/en.toml")),
    (Language::Nb, include_str!("words/nb.toml")),
];

/// A language's words, by key (a missing key renders empty; a unit test
/// keeps every language's file complete).
pub fn words(language: Language) -> &'static BTreeMap<String, String> {
    static LOADED: OnceLock<[BTreeMap<String, String>; 2]> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| WORDS.map(|(_, text)| toml::from_str(text).unwrap_or_default()));
    match language {
        Language::En => &loaded[0],
        Language::Nb => &loaded[1],
    }
}

/// `{name}` placeholders filled in (a template filter: `t.key | fill(name=...)`).
pub fn fill(text: String, values: Kwargs) -> Result<String, minijinja::Error> {
    let mut out = text;
    for key in values.args() {
        let value: Value = values.get(key)?;
        out = out.replace(&format!("{{{key}}}"), &value.to_string());
    }
    Ok(out)
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("fill", fill);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a page template does not parse");
            }
        }
        env
    })
}

/// A page rendered with `status`; a template that fails is logged and the
/// user told to try again (never a panic).
pub fn render(status: StatusCode, template: &str, context: Value) -> Response {
    let rendered = environment().get_template(template).and_then(|t| t.render(context));
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template, error = %e, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown; try again in a minute\n",
            )
                .into_response()
        }
    }
}

/// An amount as a rep reads it: whole units grouped the way their language
/// writes numbers, cents only when there are any.
pub fn money(amount: Amount, currency: &str, language: Language) -> String {
    let text = amount.to_string();
    match language {
        Language::En => format!("{currency} {text}"),
        // Bokmål groups thousands with a (no-break) space and uses a decimal comma.
        Language::Nb => {
            let local: String = text
                .chars()
                .map(|c| match c {
                    ',' => '\u{a0}',
                    '.' => ',',
                    other => other,
                })
                .collect();
            format!("{local}\u{a0}{currency}")
        }
    }
}

/// A moment in the rep's zone, the way their language writes it.
pub fn local_time(at: DateTime<Utc>, zone: chrono_tz::Tz, language: Language) -> String {
    let local = at.with_timezone(&zone);
    match language {
        Language::En => local.format("%Y-%m-%d %H:%M").to_string(),
        Language::Nb => local.format("%d.%m.%Y kl. %H:%M").to_string(),
    }
}

/// A date the way the rep's language writes it.
pub fn local_date(date: chrono::NaiveDate, language: Language) -> String {
    match language {
        Language::En => date.format("%Y-%m-%d").to_string(),
        Language::Nb => date.format("%d.%m.%Y").to_string(),
    }
}

/// The zone a rep's times are shown in (UTC if theirs is unknown).
pub fn zone_of(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// A path on this site to go to after a form (never `//host` or another
/// site), else `fallback`.
pub fn local_path(path: Option<&str>, fallback: &str) -> String {
    match path {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => fallback.to_string(),
    }
}

pub fn see_other(path: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path.to_string())]).into_response()
}

/// A use case's refusal as a page: 404 for anything not the actor's to
/// see, the message for bad input, "try again" for the system's failures.
pub fn failure(me: &SignedIn, error: AppError) -> Response {
    let language: Language = me.rep.language;
    let t = words(language);
    let (status, title, text) = if error.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            t["not_found_title"].clone(),
            t["not_found"].clone(),
        )
    } else if error.is_input_error() {
        (StatusCode::BAD_REQUEST, t["error_title"].clone(), error.to_string())
    } else {
        tracing::error!(error = %error, "a page's use case failed");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            t["error_title"].clone(),
            t["try_again"].clone(),
        )
    };
    render(
        status,
        "message.html",
        context! { t => t, me => &me.rep.name, csrf => &me.csrf_token, title => title, text => text },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_word() {
        let english = words(Language::En);
        assert!(english.len() > 40);
        assert_eq!(
            (
                words(Language::En)["lang"].as_str(),
                words(Language::Nb)["lang"].as_str()
            ),
            ("en", "nb")
        );
        for (language, _) in WORDS {
            let theirs = words(language);
            let missing: Vec<_> = english.keys().filter(|k| !theirs.contains_key(*k)).collect();
            let extra: Vec<_> = theirs.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{language:?}: missing {missing:?}, extra {extra:?}"
            );
        }
    }

    #[test]
    fn every_template_parses() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn money_reads_as_each_language_writes_it() {
        assert_eq!(money(Amount(12_000_050), "USD", Language::En), "USD 120,000.50");
        assert_eq!(money(Amount(12_000_000), "NOK", Language::Nb), "120\u{a0}000\u{a0}NOK");
        assert_eq!(money(Amount(-150), "NOK", Language::Nb), "-1,50\u{a0}NOK");
    }
}
